"""Ledger sync API: bulk upsert (JSON records or a file), the change feed, exports. Machine clients use a
token (one municipality, one ledger source); people use their session."""

import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from assets import access, selectors
from assets.access import principal_of
from assets.history import Actor
from assets.models import ApiToken, Via
from core.jobs import accepted
from core.pagination import Paged
from ledger.exporters import export_ledger
from ledger.feed import change_feed
from ledger.imports import import_list, start_import
from ledger.models import LedgerMapping
from ledger.national import export_bridges, import_national
from ledger.readers import MAX_UPLOAD_BYTES

router = Router(tags=["ledger sync"])


def _defaults(request, municipality: str | None, source: str | None) -> tuple[str | None, str]:
    p = principal_of(request)
    if isinstance(p, ApiToken):
        return municipality or p.municipality_id, source or p.source
    return municipality, source or "ledger"


class UpsertIn(Schema):
    kind: str
    municipality: str | None = None
    source: str | None = None
    srid: int | None = None
    dry_run: bool = False
    records: list[dict]


class LedgerImportOut(Schema):
    """One import as kept (ledger.LedgerImport): who, when, which file, the counts and the whole report."""
    id: int
    url: str
    municipality: str | None = Field(None, alias="municipality_id")
    municipalities: list[str] = Field(..., alias="owners")
    kind: str
    source: str
    filename: str
    dry_run: bool
    by: str
    via: str
    rows: int
    created: int = Field(..., alias="created_count")
    updated: int = Field(..., alias="updated_count")
    unchanged: int = Field(..., alias="unchanged_count")
    errors: int = Field(..., alias="error_count")
    warnings: int = Field(..., alias="warning_count")
    status: str
    progress: int
    message: str
    progress_text: str  # status, percentage and step in the reader's language (core.jobs.progress_text)
    error: str = Field(..., alias="public_error")
    report: dict = Field(..., alias="result")
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    duration_s: float | None

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/v1/ledger/imports/{obj.pk}"

    @staticmethod
    def resolve_by(obj) -> str:
        if obj.token_id:
            return f"token:{obj.token.name}"
        return obj.created_by.get_username() if obj.created_by_id else ""


def _answer(report, job=None):
    body = report.to_dict()
    if job is not None:
        body["import_id"], body["import_url"] = job.pk, f"/api/v1/ledger/imports/{job.pk}"
    return Status(200 if report.ok else 422, body)


@router.post("/ledger/upsert", response={200: dict, 202: LedgerImportOut, 422: dict, 413: dict, 409: dict})
def upsert(request, payload: UpsertIn):
    """Create or update by (owner, source, external id). Every record is checked first; with any error nothing
    is written (422 with the errors, the first 1,000 and their count). Sending the same batch twice changes
    nothing and says so; a batch sent while another import of the same ledger runs waits for it. Up to
    LEDGER_ASYNC_ROWS (10,000) records are imported at once (200/422 with the report); more run in the
    background as a file import does: 202 with the import, whose `url` shows its progress and then its report.
    A body over DATA_UPLOAD_MAX_MEMORY_SIZE (20 MB) is refused with 413 before it is read."""
    municipality, source = _defaults(request, payload.municipality, payload.source)
    job, report = start_import(actor=Actor(principal_of(request), Via.API), records=payload.records,
                               kind=payload.kind, municipality=municipality, source=source, srid=payload.srid,
                               dry_run=payload.dry_run)
    if report is None:
        return accepted(job)
    return _answer(report, job)


@router.post("/ledger/import", response={200: dict, 202: LedgerImportOut, 422: dict, 413: dict, 409: dict})
def import_file(request, file: File[UploadedFile], kind: Form[str], municipality: Form[str | None] = None,
                source: Form[str | None] = None, srid: Form[int | None] = None, dry_run: Form[bool] = False):
    """A file of up to LEDGER_ASYNC_ROWS (10,000) records is imported at once (200/422 with the report); a larger
    one runs in the background: 202 with the import, whose `url` shows its progress and then its report."""
    if file.size > MAX_UPLOAD_BYTES:
        return Status(413, {"detail": f"at most {MAX_UPLOAD_BYTES // 2**20} MB per file"})
    municipality, source = _defaults(request, municipality, source)
    job, report = start_import(actor=Actor(principal_of(request), Via.API), data=file.read(), filename=file.name,
                               kind=kind, municipality=municipality, source=source, srid=srid, dry_run=dry_run)
    if report is None:
        return accepted(job)
    return _answer(report, job)


@router.get("/ledger/imports", response=list[LedgerImportOut])
@paginate(Paged)
def list_imports(request, municipality: str | None = None):
    """Every import you may see (yours and your colleagues'), newest first; `municipality` narrows to one."""
    return import_list(principal=principal_of(request), municipality=municipality)


@router.get("/ledger/imports/{pk}", response=LedgerImportOut)
def get_import(request, pk: int):
    return access.get_or_404(import_list(principal=principal_of(request)), pk=pk)


@router.get("/changes")
def changes(request, cursor: str | None = None, limit: int = 500, municipality: str | None = None,
            kind: str | None = None):
    """Everything created, changed or retired since `cursor`, oldest first; pass `next_cursor` back until
    `has_more` is false. Never misses or repeats a change, even while writes are going on."""
    return change_feed(principal=principal_of(request), cursor=cursor, limit=limit, municipality=municipality,
                       kind=kind)


@router.get("/ledger/export")
def export(request, kind: str, format: str = "csv", municipality: str | None = None, source: str | None = None):
    p = principal_of(request)
    if not access.scope_for(p).read and not access.scope_for(p).is_admin:
        raise PermissionDenied("No municipality is visible to you")
    qs = selectors.asset_list(principal=p, municipality=municipality, kind=kind)
    if source:
        qs = qs.filter(source=source)
    sql, params = qs.values("id").query.sql_with_params()
    body, content_type, ext = export_ledger(kind=kind, asset_ids_sql=sql, params=list(params), fmt=format)
    resp = HttpResponse(body, content_type=content_type)
    # Built by Django: quotes, CR/LF and non-ASCII in the query string cannot break the header.
    resp["Content-Disposition"] = content_disposition_header(True, f"{municipality or 'all'}-{kind}.{ext}")
    return resp


class MappingIn(Schema):
    columns: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}


@router.get("/ledger/mappings")
def list_mappings(request, municipality: str | None = None, kind: str | None = None):
    visible = access.municipalities_visible(principal_of(request)).values("code")
    qs = LedgerMapping.objects.filter(owner__in=visible)
    if municipality:
        qs = qs.filter(owner_id=municipality)
    if kind:
        qs = qs.filter(kind=kind)
    return [{"municipality": m.owner_id, "kind": m.kind, "source": m.source, "columns": m.columns,
             "values": m.value_mapping, "updated_at": m.updated_at} for m in qs.order_by("owner_id", "kind", "source")]


@router.put("/ledger/mappings/{municipality}/{kind}")
def put_mapping(request, municipality: str, kind: str, payload: MappingIn, source: str = "ledger"):
    """Save how this municipality's ledger names its columns ({ledger header: registry field}, "" to ignore one)
    and its words ({field: {ledger word: registry value}}). Replaces what was saved."""
    from ledger.mappings import clean_mapping

    p = principal_of(request)
    if not access.scope_for(p).can_write(municipality, source):
        raise PermissionDenied(f"You may not change {municipality}'s {source} ledger settings")
    columns, values = clean_mapping(kind, payload.columns, payload.values)
    m, _created = LedgerMapping.objects.update_or_create(owner_id=municipality, kind=kind, source=source,
                                                         defaults={"columns": columns, "value_mapping": values})
    return {"municipality": m.owner_id, "kind": m.kind, "source": m.source, "columns": m.columns,
            "values": m.value_mapping}



# ---- 全国道路施設点検データベース (ledger.national) and the 点検調書 (ledger.chousho) ---------------------------------
@router.get("/ledger/national/bridges")
def national_export(request, municipality: str | None = None, format: str = "csv"):
    """The bridges you may see in the layout of the 全国道路施設点検データベース, each with its latest 判定区分 (1–4)
    and 点検年月日. `format`: csv (UTF-8 with BOM) or csv-cp932."""
    body, content_type, name = export_bridges(principal=principal_of(request), municipality=municipality, fmt=format)
    resp = HttpResponse(body, content_type=content_type)
    resp["Content-Disposition"] = content_disposition_header(True, name)
    return resp


@router.post("/ledger/national/bridges", response={200: dict, 422: dict, 413: dict, 409: dict})
def national_import(request, file: File[UploadedFile], municipality: Form[str | None] = None,
                    dry_run: Form[bool] = False):
    """Bridges and their inspections from a file in the national layout: all checked first, then all written or
    none; a second import of the same file changes nothing."""
    if file.size > MAX_UPLOAD_BYTES:
        return Status(413, {"detail": f"at most {MAX_UPLOAD_BYTES // 2**20} MB per file"})
    report = import_national(actor=Actor(principal_of(request), Via.API), data=file.read(), filename=file.name,
                             municipality=municipality, dry_run=dry_run)
    return Status(200 if report.ok else 422, report.to_dict())


@router.get("/bridges/{global_id}/chousho", url_name="bridge-chousho")
def bridge_chousho_download(request, global_id: str):
    """The 点検調書 (様式1 諸元と総合検査結果, 様式2 状況写真・損傷の記録) of one bridge you may see, as xlsx."""
    from ledger.chousho import bridge_chousho, chousho_filename

    asset = access.get_or_404(selectors.asset_list(principal=principal_of(request), kind="bridge")
                              .select_related("bridge"), global_id=global_id)
    resp = HttpResponse(bridge_chousho(asset),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = content_disposition_header(True, chousho_filename(asset))
    return resp
