"""Inspections API: create, list, retrieve, filter, photos, bulk CSV import, overdue list."""

import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from assets import access
from assets import selectors as asset_selectors
from assets.history import Actor
from assets.models import Via
from config.pagination import Paged
from inspections import selectors, services
from inspections.importing import MAX_UPLOAD_BYTES, import_csv
from inspections.models import Inspection

_principal = access.principal_of

router = Router(tags=["inspections"])


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


class InspectionDetail(InspectionOut):
    photos: list[PhotoOut]

    @staticmethod
    def resolve_photos(obj: Inspection):
        return list(obj.photos.all())


class ConditionOut(Schema):
    asset: str = Field(..., alias="asset.global_id")
    name: str = Field(..., alias="asset.name")
    kind: str = Field(..., alias="asset.kind")
    owner: str = Field(..., alias="asset.owner_id")
    grade: str | None = Field(None, alias="grade.code")
    grade_label: str | None = Field(None, alias="grade.label")
    inspected_on: datetime.date | None
    next_due_on: datetime.date | None
    action_due_on: datetime.date | None
    score: float | None


class ImportOut(Schema):
    rows: int
    created: int
    dry_run: bool
    encoding: str
    errors: list[str]
    error_count: int = 0


@router.post("/inspections", response={201: InspectionDetail})
def create_inspection(request, payload: InspectionIn):
    asset = get_object_or_404(asset_selectors.asset_list(principal=_principal(request)), global_id=payload.asset)
    data = payload.dict(exclude={"asset"})
    insp = services.inspection_record(actor=Actor(_principal(request), Via.API), asset=asset, **data)
    return Status(201, insp)


# 422 is either the import report (rows in error) or a file-level error ({"detail", "errors"}).
@router.post("/inspections/import", response={200: ImportOut, 422: ImportOut | dict, 413: dict})
def import_inspections(request, file: UploadedFile = File(...), dry_run: bool = Form(False),
                       municipality: str | None = Form(None)):
    if file.size > MAX_UPLOAD_BYTES:  # refused before the upload is read into memory
        return Status(413, {"detail": f"at most {MAX_UPLOAD_BYTES // 2**20} MB per inspection CSV"})
    report = import_csv(actor=Actor(_principal(request), Via.IMPORT), data=file.read(), dry_run=dry_run,
                        default_municipality=municipality)
    return Status(200 if report.ok else 422, report)


@router.get("/inspections", response=list[InspectionOut])
@paginate(Paged)
def list_inspections(request, asset: str | None = None, municipality: str | None = None, kind: str | None = None,
                     date_from: datetime.date | None = None, date_to: datetime.date | None = None,
                     grade: str | None = None, scheme: str | None = None):
    return selectors.inspection_list(principal=_principal(request), asset=asset, municipality=municipality, kind=kind,
                                     date_from=date_from, date_to=date_to, grade=grade, scheme=scheme)


def _get(request, pk: int) -> Inspection:
    try:
        return selectors.inspection_get(principal=_principal(request), pk=pk)
    except Inspection.DoesNotExist:
        from django.http import Http404

        raise Http404 from None


@router.get("/inspections/{pk}", response=InspectionDetail)
def get_inspection(request, pk: int):
    return _get(request, pk)


@router.patch("/inspections/{pk}", response=InspectionDetail)
def update_inspection(request, pk: int, payload: InspectionPatch):
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    return services.inspection_update(actor=Actor(_principal(request), Via.API), inspection=_get(request, pk), data=data,
                                      expected_version=version)


@router.post("/inspections/{pk}/photos", response={201: list[PhotoOut]})
def add_photos(request, pk: int, photos: list[UploadedFile] = File(...)):
    return Status(201, services.photos_add(actor=Actor(_principal(request), Via.API), inspection=_get(request, pk),
                                           photos=photos))


@router.get("/overdue", response=list[ConditionOut])
@paginate(Paged)
def overdue(request, municipality: str | None = None, kind: str | None = None):
    return selectors.overdue_list(principal=_principal(request), municipality=municipality, kind=kind)
