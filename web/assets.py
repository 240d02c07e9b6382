"""The asset pages: the list (registry rows with their condition) and one asset with all that is recorded for it
(details, condition, inspections, measures, history)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from assets import access
from assets import selectors as asset_selectors
from assets.kinds import ROAD_STRUCTURES
from assets.models import Asset, RoadStructure
from clusters.models import AssetScore
from inspections import selectors as inspection_selectors
from inspections.measure_selectors import measure_list
from inspections.models import AssetCondition
from inspections.views import asset_or_404
from ledger.completeness import completeness, totals


@login_required
def asset_list(request):
    f = {k: request.GET.get(k) or None for k in ("municipality", "kind", "status", "q")}
    qs = asset_selectors.asset_list(principal=access.principal_of(request), **f).select_related("condition__grade").order_by(
        "global_id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    kinds = [(k, str(v)) for k, v in Asset._meta.get_field("kind").flatchoices]
    statuses = [(k, str(v)) for k, v in Asset._meta.get_field("status").flatchoices]
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    municipalities = asset_selectors.municipality_choices(principal=access.principal_of(request))
    return render(request, "web/asset_list.html", {
        "page": page, "filters": f, "kinds": kinds, "statuses": statuses, "query": query,
        "municipalities": municipalities, "completeness": _completeness(f, municipalities)})


def _completeness(f: dict, municipalities) -> dict | None:
    """The data completeness line (issue 16) for the filtered municipality and/or kind: one grouped query, only
    once the list is narrowed (a municipality or a kind chosen) and only over municipalities the user may see."""
    if not (f["municipality"] or f["kind"]):
        return None
    visible = [m.code for m in municipalities]
    codes = [c for c in visible if c == f["municipality"]] if f["municipality"] else visible
    return totals(completeness(codes, [f["kind"]] if f["kind"] else None)) if codes else None


@login_required
def asset_detail(request, gid: str):
    asset = asset_or_404(request, gid)
    inspections = inspection_selectors.inspection_list(
        principal=access.principal_of(request), asset=asset.global_id).prefetch_related(
        "photos")[:50]
    history = asset_selectors.asset_history(principal=access.principal_of(request), asset=asset)[:30]
    # One query for the condition and what the page shows of it (grade, the measure that treated it).
    condition = AssetCondition.objects.select_related("grade", "treated_by__kind").filter(asset=asset).first()
    measures = measure_list(principal=access.principal_of(request), asset=asset.global_id)[:50]
    # A tunnel, shed/culvert, overpass or gantry sign shows its ledger facts (one query, for these kinds only).
    structure = (RoadStructure.objects.filter(asset=asset).first() if asset.kind in ROAD_STRUCTURES else None)
    # The latest finished run's view of it: which attributes it estimated from defaults (既定値で推計).
    score = (AssetScore.objects.filter(asset=asset, run__status="done").select_related("run").order_by("-run_id")
             .only("defaulted", "run__id").first())
    return render(request, "web/asset.html", {
        "asset": asset, "structure": structure, "inspections": inspections, "history": history,
        "condition": condition, "measures": measures, "score": score,
        "can_write": access.can_write_asset(access.principal_of(request), asset), "today": timezone.localdate(),
    })
