"""The run page: one engine run's ranked lots with their reasons (clusters), and the plans made from it (reports)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from assets import access
from clusters import selectors as cluster_selectors
from clusters.labels import WORK_TYPE_LABELS
from clusters.models import EngineRun
from clusters.views import explained, municipality_names, run_or_404
from reports.selectors import plan_list


@login_required
def run_detail(request, pk: int):
    run = run_or_404(request, pk)
    qs = cluster_selectors.cluster_list(run=run, work_type=request.GET.get("work_type") or None,
                                        cross_municipal={"1": True, "0": False}.get(request.GET.get("cross", "")),
                                        municipality=request.GET.get("municipality") or None)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    names = dict(run.region.members.values_list("code", "name"))
    rows = [(c, explained(c), municipality_names(c, names)) for c in page]
    others = cluster_selectors.run_list(
        principal=access.principal_of(request), region=run.region.slug).exclude(pk=run.pk).filter(
        status=EngineRun.Status.DONE)[:20]
    can_plan = access.regions_coordinated(access.principal_of(request)).filter(pk=run.region_id).exists()
    plans = plan_list(principal=access.principal_of(request)).filter(run=run)[:20]
    return render(request, "web/run.html", {
        "run": run, "page": page, "rows": rows, "others": others, "plans": plans, "can_plan": can_plan,
        "members": run.region.members.exclude(kind="prefecture").order_by("code"), "filters": request.GET,
        "work_types": list(WORK_TYPE_LABELS.items())})
