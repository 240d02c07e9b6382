"""Engine API: start a run (a django-q2 task), follow its progress, read ranked clusters, compare runs, record a
measure (措置) for a whole lot."""

import datetime
import json

from ninja import Body, Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from assets import access
from assets.history import Actor
from assets.models import Via
from clusters import selectors, services
from clusters.engine.params import Params
from clusters.labels import label
from clusters.models import ACTIONS, Cluster, EngineRun, RegionParams
from core.geo import simplified_geojson
from core.jobs import accepted
from core.pagination import Paged
from inspections import measure_services

_principal = access.principal_of

router = Router(tags=["engine"])


class RunIn(Schema):
    region: str
    params: dict = {}


class RunOut(Schema):
    id: int
    region: str = Field(..., alias="region.slug")
    status: str
    progress: int
    message: str
    progress_text: str  # status, percentage and step in the reader's language (core.jobs.progress_text)
    params: dict
    summary: dict
    data_timestamp: datetime.datetime | None
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    duration_s: float | None
    error: str = Field(..., alias="public_error")


class ClusterOut(Schema):
    id: int
    rank: int | None
    key: str  # the clustering's label: for machines; people read `name`
    name: str  # what people call the lot, 下水道-012（八潮市・草加市） (clusters.labels.lot_name)
    seq: int | None
    work_type: str
    work_type_label: str
    member_count: int
    municipality_count: int
    cost_shares: dict
    action_mix: dict
    drivers: dict
    cost_members: float
    mobilization: float
    dig_once_saving: float
    bundling_saving: float
    total_cost: float
    risk_removed: float
    risk_per_myen: float
    consolidation: dict
    bundling: dict
    geometry: dict | None

    @staticmethod
    def resolve_work_type_label(obj) -> str:
        return label("work_type", obj.work_type)

    @staticmethod
    def resolve_geometry(obj) -> dict | None:
        return json.loads(obj.geom.geojson) if obj.geom else None


class MemberOut(Schema):
    asset: str = Field(..., alias="asset.global_id")
    kind: str = Field(..., alias="asset.kind")
    owner: str = Field(..., alias="asset.owner_id")
    name: str = Field(..., alias="asset.name")
    action: str
    action_label: str
    cost: float
    lof: float
    cof: float
    risk: float
    risk_removed: float
    c_traffic: float
    c_emergency_route: float
    c_served: float
    c_depth: float
    c_road_above: float
    c_important_facility: float
    c_detour: float


    @staticmethod
    def resolve_action(obj) -> str:
        return ACTIONS[obj.action]

    @staticmethod
    def resolve_action_label(obj) -> str:
        return label("action", ACTIONS[obj.action])


class ClusterDetail(ClusterOut):
    members: list[MemberOut]

    @staticmethod
    def resolve_members(obj):
        return list(obj.members.select_related("asset").order_by("-risk_removed")[:500])


def _run(request, pk: int) -> EngineRun:
    return access.get_or_404(selectors.run_get, principal=_principal(request), pk=pk)


@router.post("/runs", response={202: RunOut})
def start_run(request, payload: RunIn):
    region = access.get_or_404(access.regions_visible(_principal(request)), slug=payload.region)
    run = services.run_create(principal=_principal(request), region=region, overrides=payload.params)
    return accepted(run)


@router.get("/runs", response=list[RunOut])
@paginate(Paged)
def list_runs(request, region: str | None = None):
    # A run whose process died says so at once, not 'running' for ever.
    return selectors.run_list(principal=_principal(request), region=region).reaped()


@router.get("/runs/{pk}", response=RunOut)
def get_run(request, pk: int):
    return _run(request, pk)


@router.get("/runs/{pk}/clusters", response=list[ClusterOut])
@paginate(Paged)
def list_clusters(request, pk: int, work_type: str | None = None, cross_municipal: bool | None = None,
                  municipality: str | None = None):
    return selectors.cluster_list(run=_run(request, pk), work_type=work_type, cross_municipal=cross_municipal,
                                  municipality=municipality)


@router.get("/runs/{pk}/clusters/{rank}", response=ClusterDetail)
def get_cluster(request, pk: int, rank: int):
    return access.get_or_404(selectors.cluster_list(run=_run(request, pk)), rank=rank)


@router.get("/runs/{a}/compare/{b}")
def compare_runs(request, a: int, b: int, top: int = Query(20, ge=1, le=200)):
    return selectors.run_compare(a=_run(request, a), b=_run(request, b), top=top)


@router.get("/regions/{slug}/params")
def get_region_params(request, slug: str):
    region = access.get_or_404(access.regions_visible(_principal(request)), slug=slug)
    stored = RegionParams.objects.filter(region=region).values_list("params", flat=True).first() or {}
    return {"defaults": Params().to_dict(), "region": stored, "effective": Params.from_dict(stored).to_dict()}


@router.put("/regions/{slug}/params")
def put_region_params(request, slug: str, payload: Body[dict]):
    """Replace the region's own parameters (a name left out is the default). Checked and recorded as on its
    parameters page (clusters.services.region_params_update): a value out of its range is a 422 naming the
    parameter and the range, keyed by its path (`weights.traffic`); the change shows in the page's history."""
    principal = _principal(request)
    region = access.get_or_404(access.regions_visible(principal), slug=slug)
    row = services.region_params_update(actor=Actor(principal, Via.API), region=region, values=payload,
                                        replace=True)
    return {"region": row.params, "effective": Params.from_dict(row.params).to_dict()}


@router.get("/runs/{pk}/clusters.geojson")
def clusters_geojson(request, pk: int, municipality: str | None = None, top: int = Query(5000, ge=1, le=50_000)):
    """Every lot's outline (simplified) with its rank, work type, cost and risk removed per million yen."""
    run = _run(request, pk)
    shown = selectors.cluster_list(run=run, municipality=municipality).values("id")[:top]
    rows = (Cluster.objects.filter(id__in=shown, geom__isnull=False).order_by("rank")
            .values_list("id", "rank", "key", "name", "work_type", "member_count", "municipality_count", "total_cost",
                         "risk_per_myen", simplified_geojson("geom", tolerance=0.00005, precision=6)))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": cid, "geometry": json.loads(g),
         "properties": {"rank": rank, "key": key, "name": name, "work_type": wt,
                        "work_type_label": label("work_type", wt), "members": n, "municipalities": nm,
                        "total_cost": cost, "risk_per_myen": rpy}}
        for cid, rank, key, name, wt, n, nm, cost, rpy, g in rows]}


class LotMeasureIn(Schema):
    kind: str = Field(..., max_length=64, description="code or Japanese label, e.g. repair / 補修・修繕")
    started_on: str = Field(..., max_length=40, description="2024-05-01, 2024/5/1 or 和暦 R6.5.1")
    completed_on: str | None = Field(None, max_length=40)
    cost_yen: int | None = Field(None, ge=0, le=measure_services.MAX_COST_YEN,
                                 description="the whole lot's cost; split over the members by their share")
    contractor: str = Field("", max_length=100)
    notes: str = Field("", max_length=4000)


class LotMeasuresOut(Schema):
    cluster: int
    count: int
    ids: list[int]


@router.post("/runs/{pk}/clusters/{rank}/measures", response={201: LotMeasuresOut}, tags=["measures"])
def create_lot_measures(request, payload: LotMeasureIn, pk: int = Path(..., ge=1, le=2**31 - 1),
                        rank: int = Path(..., ge=1, le=2**31 - 1)):
    """One measure for every member of the lot (inspections.measure_services.measure_record_for_lot)."""
    principal = _principal(request)
    run = access.get_or_404(selectors.run_get, principal=principal, pk=pk)
    cluster = access.get_or_404(selectors.cluster_list(run=run), rank=rank)
    measures = measure_services.measure_record_for_lot(actor=Actor(principal, Via.API), cluster=cluster,
                                                       **payload.dict())
    return Status(201, {"cluster": cluster.pk, "count": len(measures), "ids": [m.pk for m in measures]})
