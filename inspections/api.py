"""Inspections API: create, list, retrieve, filter, photos, bulk CSV import, the work list (overdue)."""

import datetime
from typing import Literal

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from assets import access
from assets import selectors as asset_selectors
from assets.history import Actor
from assets.models import Via
from core.pagination import Paged
from inspections import selectors, services
from inspections.importing import import_csv, import_upload
from inspections.models import Inspection

_principal = access.principal_of

router = Router(tags=["inspections"])


# Work types of the work list (inspections.selectors.WORK_TYPES).
WorkType = Literal["inspection", "measure", "maintenance", "cleaning", "guidance"]

class InspectionIn(Schema):
    asset: str
    inspected_on: str
    grade: str | None = None
    scheme: str | None = None
    method: str | None = None
    inspector: str = ""
    notes: str = ""
    legal_basis: str = ""
    observations: dict = {}


class InspectionPatch(Schema):
    inspected_on: str | None = None
    grade: str | None = None
    method: str | None = None
    inspector: str | None = None
    notes: str | None = None
    legal_basis: str | None = None
    observations: dict | None = None
    version: int | None = None


class PhotoOut(Schema):
    id: int
    original_name: str
    content_type: str
    width: int
    height: int
    url: str
    thumbnail_url: str

    # Served by a view that checks the asset's scope (session or the same bearer token), never from /media/.
    @staticmethod
    def resolve_url(obj) -> str:
        return obj.url

    @staticmethod
    def resolve_thumbnail_url(obj) -> str:
        return obj.thumbnail_url


class InspectionOut(Schema):
    id: int
    asset: str = Field(..., alias="asset.global_id")
    kind: str = Field(..., alias="asset.kind")
    owner: str = Field(..., alias="asset.owner_id")
    inspected_on: datetime.date
    scheme: str = Field(..., alias="scheme.code")
    scheme_version: str = Field(..., alias="scheme.version")
    grade: str = Field(..., alias="grade.code")
    grade_label: str = Field(..., alias="grade.label")
    grade_input: str
    method: str
    legal_basis: str
    inspector: str
    notes: str
    observations: dict
    version: int
    withdrawn_at: datetime.datetime | None = Field(None, description="set when withdrawn: kept on record, no longer "
                                                                      "counted for the condition")
    withdraw_reason: str = ""


class InspectionDetail(InspectionOut):
    photos: list[PhotoOut]

    @staticmethod
    def resolve_photos(obj: Inspection):
        return list(obj.photos.all())


class WorkItemOut(Schema):
    asset: str = Field(..., alias="global_id")
    name: str
    kind: str
    kind_label: str
    owner: str
    owner_name: str
    work: str = Field(..., description="inspection (点検), measure (措置), maintenance (保守点検), cleaning (清掃) or "
                                       "guidance (改善指導の目安, not a legal deadline)")
    due_on: datetime.date
    days_overdue: int = Field(..., description="days past due_on; negative = days left")
    never_inspected: bool = Field(..., description="未点検: no inspection on record")
    grade: str | None = Field(None, alias="grade_code")
    grade_label: str
    inspected_on: datetime.date | None
    legal_basis: str = Field(..., alias="legal_basis_ja")
    legal_basis_en: str


class ImportOut(Schema):
    rows: int
    created: int
    dry_run: bool
    encoding: str
    errors: list[str]
    error_count: int = 0


@router.post("/inspections", response={201: InspectionDetail})
def create_inspection(request, payload: InspectionIn):
    asset = access.get_or_404(asset_selectors.asset_list(principal=_principal(request)), global_id=payload.asset)
    data = payload.dict(exclude={"asset"})
    insp = services.inspection_record(actor=Actor(_principal(request), Via.API), asset=asset, **data)
    return Status(201, insp)


# 422 is either the import report (rows in error) or a file-level error ({"detail", "errors"}).
@router.post("/inspections/import", response={200: ImportOut, 422: ImportOut | dict, 413: dict})
def import_inspections(request, file: UploadedFile = File(...), dry_run: bool = Form(False),
                       municipality: str | None = Form(None)):
    return Status(*import_upload(_principal(request), file, import_csv, what="inspection", dry_run=dry_run,
                                 municipality=municipality))


@router.get("/inspections", response=list[InspectionOut])
@paginate(Paged)
def list_inspections(request, asset: str | None = None, municipality: str | None = None, kind: str | None = None,
                     date_from: datetime.date | None = None, date_to: datetime.date | None = None,
                     grade: str | None = None, scheme: str | None = None):
    return selectors.inspection_list(principal=_principal(request), asset=asset, municipality=municipality,
                                     kind=kind, date_from=date_from, date_to=date_to, grade=grade, scheme=scheme)


def _get(request, pk: int) -> Inspection:
    return access.get_or_404(selectors.inspection_get, principal=_principal(request), pk=pk)


@router.get("/inspections/{pk}", response=InspectionDetail)
def get_inspection(request, pk: int):
    return _get(request, pk)


@router.patch("/inspections/{pk}", response=InspectionDetail)
def update_inspection(request, pk: int, payload: InspectionPatch):
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    return services.inspection_update(actor=Actor(_principal(request), Via.API),
                                      inspection=_get(request, pk), data=data, expected_version=version)


@router.post("/inspections/{pk}/photos", response={201: list[PhotoOut]})
def add_photos(request, pk: int, photos: list[UploadedFile] = File(...)):
    return Status(201, services.photos_add(actor=Actor(_principal(request), Via.API), inspection=_get(request, pk),
                                           photos=photos))


_WITHIN = Query(0, ge=0, le=selectors.MAX_WITHIN_DAYS,
                description=f"0 = overdue only; N = also what falls due in the next N days (≤ {selectors.MAX_WITHIN_DAYS})")
_MUNI = Query(None, max_length=16, description="a municipality code, or 'all'; default: your own municipality "
                                                "(an engineer's), else everything you may see")


@router.get("/overdue", response=list[WorkItemOut])
@paginate(Paged)
def overdue(request, municipality: str | None = _MUNI, kind: str | None = Query(None, max_length=16),
            work: WorkType | None = None, within: int = _WITHIN,
            sort: Literal["due", "-due", "name", "municipality", "kind"] = "due"):
    """The work list: legal inspections and measures due on live assets, with days overdue and legal basis."""
    return _LazyItems(selectors.work_list(principal=_principal(request), municipality=municipality, kind=kind,
                                          work=work, within=within, sort=sort))


@router.get("/overdue/export")
def overdue_export(request, format: Literal["xlsx", "csv"] = "xlsx", municipality: str | None = _MUNI,
                   kind: str | None = Query(None, max_length=16), work: WorkType | None = None,
                   within: int = _WITHIN, sort: Literal["due", "-due", "name", "municipality", "kind"] = "due"):
    """The whole work list as xlsx or CP932 CSV with Japanese headers."""
    from inspections.exports import work_list_file

    body, content_type, filename = work_list_file(
        principal=_principal(request), fmt=format, municipality=municipality, kind=kind, work=work, within=within,
        sort=sort)
    resp = HttpResponse(body, content_type=content_type)
    resp["Content-Disposition"] = content_disposition_header(True, filename)
    return resp


class _LazyItems:
    """Lets the paginator count and slice the work list in SQL, then makes only the page's rows readable."""

    def __init__(self, qs):
        self.qs = qs

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        return selectors.work_items(self.qs[key])
