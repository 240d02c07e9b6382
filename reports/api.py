"""Plans API: start a plan (scenarios + PDF, a django-q2 task), follow it, download the PDF."""

import datetime

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from assets import access
from clusters import selectors as run_selectors
from core.files import stored_file_response
from core.jobs import accepted
from core.pagination import Paged
from reports import exports, selectors, services
from reports.models import Plan

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
            from django.core.exceptions import ValidationError

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
