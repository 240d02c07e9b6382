"""Measures (措置) API: record, list, retrieve, change (with version → 409), bulk CSV import, the catalogue of
measure kinds, and the 措置着手率 / 措置完了率. A measure for a whole lot of an engine run is in clusters/api.py."""

import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from assets import access
from assets import selectors as asset_selectors
from assets.history import Actor
from assets.models import Via
from core.pagination import Paged
from inspections import measure_selectors as selectors
from inspections import measure_services as services
from inspections.importing import import_upload
from inspections.measure_importing import import_measures_csv
from inspections.models import Measure

_principal = access.principal_of

router = Router(tags=["measures"])



class MeasureIn(Schema):
    asset: str = Field(..., max_length=40)
    kind: str = Field(..., max_length=64, description="code or Japanese label, e.g. repair / 補修・修繕")
    started_on: str = Field(..., max_length=40, description="2024-05-01, 2024/5/1 or 和暦 R6.5.1")
    completed_on: str | None = Field(None, max_length=40)
    cost_yen: int | None = Field(None, ge=0, le=services.MAX_COST_YEN)
    contractor: str = Field("", max_length=100)
    notes: str = Field("", max_length=4000)
    cluster: int | None = Field(None, ge=1, le=2**31 - 1, description="id of the lot (engine cluster)")


class MeasurePatch(Schema):
    kind: str | None = Field(None, max_length=64)
    started_on: str | None = Field(None, max_length=40)
    completed_on: str | None = Field(None, max_length=40)
    cost_yen: int | None = Field(None, ge=0, le=services.MAX_COST_YEN)
    contractor: str | None = Field(None, max_length=100)
    notes: str | None = Field(None, max_length=4000)
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class MeasureOut(Schema):
    id: int
    asset: str = Field(..., alias="asset.global_id")
    asset_kind: str = Field(..., alias="asset.kind")
    owner: str = Field(..., alias="asset.owner_id")
    kind: str = Field(..., alias="kind.code")
    kind_label: str = Field(..., alias="kind.label")
    effect: str = Field(..., alias="kind.effect")
    cluster: int | None = Field(None, alias="cluster_id")
    started_on: datetime.date
    completed_on: datetime.date | None
    cost_yen: int | None
    contractor: str
    notes: str
    version: int


class MeasureKindOut(Schema):
    code: str
    label: str
    label_en: str
    effect: str
    changes_condition: bool
    kinds: list[str]


class RateOut(Schema):
    municipality: str | None
    municipality_name: str
    kind: str | None
    kind_label: str
    judged: int
    started: int
    completed: int
    interim_only: int
    started_rate: float | None
    completed_rate: float | None


class ImportOut(Schema):
    rows: int
    created: int
    dry_run: bool
    encoding: str
    errors: list[str]
    error_count: int = 0


@router.get("/measures/kinds", response=list[MeasureKindOut])
def list_measure_kinds(request):
    return list(selectors.measure_kinds())


@router.get("/measures/rates", response={200: list[RateOut], 404: dict})
def measure_rates(request, region: str | None = Query(None, max_length=40),
                  municipality: str | None = Query(None, max_length=6), on: datetime.date | None = None):
    principal = _principal(request)
    codes = None
    if region:
        r = access.regions_visible(principal).filter(slug=region).first()
        if r is None:
            return Status(404, {"detail": f"no region {region!r} that you may see"})
        codes = list(r.members.values_list("code", flat=True))
    if municipality:
        codes = [municipality] if codes is None else [c for c in codes if c == municipality]
    return selectors.measure_rates(principal=principal, codes=codes, on=on, total_label="計")


@router.post("/measures", response={201: MeasureOut})
def create_measure(request, payload: MeasureIn):
    principal = _principal(request)
    asset = get_object_or_404(asset_selectors.asset_list(principal=principal), global_id=payload.asset)
    cluster = None
    if payload.cluster is not None:
        # The lot through the measure's own foreign key: inspections sits below the engine and does not import it.
        lots = Measure._meta.get_field("cluster").related_model.objects
        cluster = get_object_or_404(lots.filter(run__region__in=access.regions_visible(principal)), pk=payload.cluster)
    data = payload.dict(exclude={"asset", "cluster"})
    m = services.measure_record(actor=Actor(principal, Via.API), asset=asset, cluster=cluster, **data)
    return Status(201, m)


# 422 is either the import report (rows in error) or a file-level error ({"detail", "errors"}).
@router.post("/measures/import", response={200: ImportOut, 422: ImportOut | dict, 413: dict})
def import_measures(request, file: UploadedFile = File(...), dry_run: bool = Form(False),
                    municipality: str | None = Form(None)):
    return Status(*import_upload(_principal(request), file, import_measures_csv, what="measures", dry_run=dry_run,
                                 municipality=municipality))


@router.get("/measures", response=list[MeasureOut])
@paginate(Paged)
def list_measures(request, asset: str | None = None, municipality: str | None = None, kind: str | None = None,
                  asset_kind: str | None = None, completed: bool | None = None,
                  cluster: int | None = Query(None, ge=1, le=2**31 - 1)):
    return selectors.measure_list(principal=_principal(request), asset=asset, municipality=municipality, kind=kind,
                                  asset_kind=asset_kind, completed=completed, cluster=cluster)


def _get(request, pk: int) -> Measure:
    try:
        return selectors.measure_get(principal=_principal(request), pk=pk)
    except Measure.DoesNotExist:
        raise Http404 from None


@router.get("/measures/{pk}", response=MeasureOut)
def get_measure(request, pk: int):
    return _get(request, pk)


@router.patch("/measures/{pk}", response={200: MeasureOut, 409: dict})
def update_measure(request, pk: int, payload: MeasurePatch):
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    return services.measure_update(actor=Actor(_principal(request), Via.API), measure=_get(request, pk), data=data,
                                   expected_version=version)
