"""Plans API: start a plan (scenarios + PDF, a django-q2 task), follow it, download the PDF; the coordinators'
pins that steer the next plan (a lot pinned to a 年度 or excluded: list, set, take off)."""

import datetime

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status
from ninja.pagination import paginate

from assets import access
from assets.history import Actor
from assets.models import Via
from clusters import selectors as run_selectors
from clusters.labels import label
from core.files import stored_file_response
from core.jobs import accepted
from core.pagination import Paged
from core.wareki import format_fiscal_year
from reports import exports, selectors, services
from reports import pins as pin_services
from reports.models import Plan, PlanPin

_principal = access.principal_of

router = Router(tags=["plans"])


class PlanIn(Schema):
    region: str
    run: int | None = Field(None, description="engine run id; default: the region's latest finished run")
    municipality: str | None = Field(None, description="6-digit code: that municipality's plan and PDF")
    horizon_years: int = 10
    strategy: str = "preventive"
    budget_mode: str = "pooled"
    budget_per_year: float | None = Field(None, description="yen; default: the levelled need")
    budget_by_municipality: dict[str, float] = {}
    levels: list[float] | None = None


class PlanOut(Schema):
    id: int
    run: int = Field(..., alias="run_id")
    region: str = Field(..., alias="run.region.slug")
    municipality: str | None = Field(None, alias="municipality_id")
    horizon_years: int
    strategy: str
    budget_mode: str
    budget_per_year: float | None
    levels: list
    status: str
    progress: int
    message: str
    progress_text: str  # status, percentage and step in the reader's language (core.jobs.progress_text)
    error: str = Field(..., alias="public_error")
    result: dict
    pdf_url: str | None
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    duration_s: float | None

    @staticmethod
    def resolve_pdf_url(obj) -> str | None:
        return f"/api/v1/plans/{obj.pk}/pdf" if obj.status == Plan.Status.DONE and obj.pdf else None


def _plan(request, pk: int) -> Plan:
    return access.get_or_404(selectors.plan_get, principal=_principal(request), pk=pk)


@router.post("/plans", response={202: PlanOut})
def start_plan(request, payload: PlanIn):
    region = access.get_or_404(access.regions_visible(_principal(request)), slug=payload.region)
    runs = run_selectors.run_list(principal=_principal(request), region=region.slug)
    if payload.run is not None:
        run = access.get_or_404(runs, pk=payload.run)
    else:
        run = run_selectors.run_latest_done(runs)
        if run is None:
            raise ValidationError({"run": f"{region.slug} has no finished engine run yet; start one with POST /runs"})
    muni = None
    if payload.municipality:
        muni = access.get_or_404(access.municipalities_visible(_principal(request)), code=payload.municipality)
    plan = services.plan_create(principal=_principal(request), run=run, municipality=muni,
                                horizon_years=payload.horizon_years, strategy=payload.strategy,
                                budget_mode=payload.budget_mode, budget_per_year=payload.budget_per_year,
                                budget_by_municipality=payload.budget_by_municipality, levels=payload.levels)
    return accepted(plan)


@router.get("/plans", response=list[PlanOut])
@paginate(Paged)
def list_plans(request, region: str | None = None):
    return selectors.plan_list(principal=_principal(request), region=region).reaped()


@router.get("/plans/{pk}", response=PlanOut)
def get_plan(request, pk: int):
    return _plan(request, pk)


@router.get("/plans/{pk}/pdf", response={409: dict})
def get_plan_pdf(request, pk: int):
    plan = _plan(request, pk)
    if plan.status != Plan.Status.DONE or not plan.pdf:
        return Status(409, {"detail": f"plan #{plan.pk} is {plan.status} ({plan.progress} %); the PDF is not ready"})
    name = f"plan-{plan.run.region.slug}-{plan.municipality_id or 'region'}-{plan.pk}.pdf"
    return stored_file_response(plan.pdf, filename=name, as_attachment=True, content_type="application/pdf")


def facility_download(principal, plan: Plan, fmt: str) -> HttpResponse:
    """The plan's per-facility table, for the municipalities of the plan the principal may see (a region's plan
    read by one municipality's staff lists that municipality's facilities only)."""
    scope = ([plan.municipality_id] if plan.municipality_id
             else list(plan.run.region.members.values_list("code", flat=True)))
    codes = list(access.municipalities_visible(principal).filter(code__in=scope).values_list("code", flat=True))
    where = plan.municipality.name if plan.municipality_id else plan.run.region.name
    body, ctype, ext = exports.facility_table(plan, sorted(codes), fmt, f"{where} 個別施設計画")
    resp = HttpResponse(body, content_type=ctype)
    name = f"facilities-{plan.run.region.slug}-{plan.municipality_id or 'region'}-{plan.pk}.{ext}"
    resp["Content-Disposition"] = content_disposition_header(True, name)
    return resp


@router.get("/plans/{pk}/facilities", response={409: dict})
def get_plan_facilities(request, pk: int, format: str = "xlsx"):  # noqa: A002 — the API's parameter name
    """個別施設の対策計画 as xlsx (bridges one by one, and pipes, roads, septic tanks per lot) or CP932 CSV."""
    plan = _plan(request, pk)
    if plan.status != Plan.Status.DONE:
        return Status(409, {"detail": f"plan #{plan.pk} is {plan.status} ({plan.progress} %); the table is not ready"})
    return facility_download(_principal(request), plan, format)


# --- pins: a coordinator's hand on the plan (reports/pins.py) ---------------------------------------------------
class PinIn(Schema):
    run: int = Field(..., ge=1, le=2**31 - 1, description="an engine run of this region (GET /runs?region=…)")
    rank: int = Field(..., ge=1, le=2**31 - 1, description="the lot's rank in that run (GET /runs/{run}/clusters)")
    mode: str = Field(..., max_length=16, description="pin: do the lot in `fiscal_year`; exclude: leave it out")
    fiscal_year: int | None = Field(None, ge=1, le=9999, description="西暦の年度 (2027 = 令和9年度); with mode=pin")
    reason: str = Field(..., max_length=2000, description="why; printed with the plan")


class PinOut(Schema):
    id: int
    region: str = Field(..., alias="region.slug")
    label: str  # the lot as it was named when pinned (下水道-012（八潮市・草加市）)
    work_type: str
    work_type_label: str
    member_count: int  # the lot's member assets when pinned: a later run's lot holding most of them is this one
    mode: str
    mode_label: str
    fiscal_year: int | None
    fiscal_year_label: str | None
    reason: str
    created_by: str | None = Field(None, alias="created_by.username")
    created_at: datetime.datetime
    ended_at: datetime.datetime | None
    ended_by: str | None = Field(None, alias="ended_by.username")
    active: bool

    @staticmethod
    def resolve_work_type_label(obj) -> str:
        return label("work_type", obj.work_type)

    @staticmethod
    def resolve_member_count(obj) -> int:
        return len(obj.asset_ids or [])

    @staticmethod
    def resolve_mode_label(obj) -> str:
        return str(PlanPin.Mode(obj.mode).label)

    @staticmethod
    def resolve_fiscal_year_label(obj) -> str | None:
        return format_fiscal_year(obj.fiscal_year) if obj.fiscal_year else None

    @staticmethod
    def resolve_active(obj) -> bool:
        return obj.ended_at is None


def _region(request, slug: str):
    return access.get_or_404(access.regions_visible(_principal(request)), slug=slug)


@router.get("/regions/{slug}/pins", response=list[PinOut], tags=["pins"])
@paginate(Paged)
def list_pins(request, slug: str, ended: bool = False):
    """The region's pins in force, newest first (`ended=true`: also those replaced or taken off). They apply to
    every plan made from now on (POST /plans); each plan's `result.pins` says how each one was applied."""
    return selectors.pin_list(principal=_principal(request), region=_region(request, slug).slug, ended=ended)


@router.post("/regions/{slug}/pins", response={201: PinOut}, tags=["pins"])
def create_pin(request, slug: str, payload: PinIn):
    """Pin the lot ranked `rank` in run `run` to a 年度, or exclude it (the region's coordinators only). A lot
    holding work with a legal deadline cannot be excluded nor pinned after its deadline's 年度 (422 naming the
    asset and the deadline). A new pin for the same lot replaces its pin in force."""
    principal = _principal(request)
    region = _region(request, slug)
    pin_services.ensure_coordinator(principal, region)
    run = access.get_or_404(run_selectors.run_list(principal=principal), pk=payload.run)
    if run.region_id != region.pk:
        raise ValidationError({"run": _("Run #%(run)s is a run of %(other)s, not of %(region)s") % {
            "run": run.pk, "other": run.region.name, "region": region.name}})
    pin = pin_services.pin_set(actor=Actor(principal, Via.API), cluster=pin_services.lot_of(run, payload.rank),
                               mode=payload.mode, reason=payload.reason, fiscal_year=payload.fiscal_year)
    return Status(201, selectors.pin_list(principal=principal, ended=True).get(pk=pin.pk))


@router.delete("/regions/{slug}/pins/{pk}", response=PinOut, tags=["pins"])
def delete_pin(request, slug: str, pk: int = Path(..., ge=1, le=2**31 - 1)):
    """Take a pin off: the lot goes back to the optimizer from the next plan. The pin is kept as history
    (`ended_at`, `ended_by`); taking off one already ended changes nothing."""
    principal = _principal(request)
    region = _region(request, slug)
    pin = access.get_or_404(selectors.pin_list(principal=principal, region=region.slug, ended=True), pk=pk)
    pin_services.pin_end(actor=Actor(principal, Via.API), pin_id=pin.pk, region=region)
    return selectors.pin_list(principal=principal, ended=True).get(pk=pin.pk)
