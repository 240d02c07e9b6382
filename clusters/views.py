"""Coordinator workspace: runs (start one, watch it), the ranked lots with their reasons, one lot, two runs
compared, and the plans made from a run. Reads through the selectors; runs and plans start through the API."""

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from assets import access
from clusters import selectors
from clusters.engine.scoring import COMPONENTS
from clusters.models import ACTIONS, EngineRun

DRIVER_LABELS = {"traffic": "交通量", "emergency_route": "緊急輸送道路", "served": "処理人口・管径", "depth": "土被り",
                 "road_above": "上部道路", "important_facility": "重要施設", "detour": "迂回距離"}


def _run(request, pk: int) -> EngineRun:
    try:
        return selectors.run_get(principal=request.user, pk=pk)
    except EngineRun.DoesNotExist:
        raise Http404 from None


def _explained(cluster) -> list[tuple[str, float]]:
    total = sum(cluster.drivers.values()) or 1.0
    return [(DRIVER_LABELS.get(k, k), 100 * v / total) for k, v in sorted(cluster.drivers.items(), key=lambda kv: -kv[1])
            if v > 0]


@login_required
def runs(request):
    regions = access.regions_visible(request.user).order_by("name")
    coordinated = set(access.regions_coordinated(request.user).values_list("slug", flat=True))
    page = Paginator(selectors.run_list(principal=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "clusters/runs.html", {"page": page, "regions": regions, "coordinated": coordinated})


@login_required
def run_detail(request, pk: int):
    run = _run(request, pk)
    qs = selectors.cluster_list(run=run, work_type=request.GET.get("work_type") or None,
                                cross_municipal={"1": True, "0": False}.get(request.GET.get("cross", "")),
                                municipality=request.GET.get("municipality") or None)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [(c, _explained(c)) for c in page]
    others = selectors.run_list(principal=request.user, region=run.region.slug).exclude(pk=run.pk).filter(
        status=EngineRun.Status.DONE)[:20]
    can_plan = access.regions_coordinated(request.user).filter(pk=run.region_id).exists()
    from reports.selectors import plan_list

    plans = plan_list(principal=request.user).filter(run=run)[:20]
    return render(request, "clusters/run.html", {
        "run": run, "page": page, "rows": rows, "others": others, "plans": plans, "can_plan": can_plan,
        "members": run.region.members.exclude(kind="prefecture").order_by("code"), "filters": request.GET})


@login_required
def cluster_detail(request, pk: int, rank: int):
    run = _run(request, pk)
    cluster = get_object_or_404(selectors.cluster_list(run=run), rank=rank)
    members = list(cluster.members.select_related("asset", "asset__owner").order_by("-risk_removed")[:300])
    names = dict(run.region.members.values_list("code", "name"))
    shares = sorted(((names.get(k, k), v) for k, v in cluster.cost_shares.items()), key=lambda x: -x[1])
    total = sum(v for _n, v in shares) or 1.0
    return render(request, "clusters/cluster.html", {
        "run": run, "cluster": cluster, "members": members, "actions": ACTIONS, "explained": _explained(cluster),
        "shares": [(n, v, 100 * v / total) for n, v in shares], "components": COMPONENTS,
        # Parsed here so the page hands it to lotmap.js through json_script, never as markup.
        "outline_data": json.loads(cluster.geom.geojson) if cluster.geom else None,
        "points": [{"gid": m.asset.global_id, "kind": m.asset.kind, "geom": m.asset.geom.geojson} for m in members]})


@login_required
def compare(request, a: int, b: int):
    ra, rb = _run(request, a), _run(request, b)
    return render(request, "clusters/compare.html", {"a": ra, "b": rb, "diff": selectors.run_compare(a=ra, b=rb)})
