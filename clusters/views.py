"""Coordinator workspace: runs (start one, watch it), one lot (with the measures recorded for it), two runs
compared. The run page (the ranked lots with their reasons and the plans made from the run) is in web/run.py.
Reads through the selectors; runs and plans start through the API."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import access
from assets.history import Actor
from assets.models import Asset, Via
from clusters import selectors
from clusters.engine.scoring import COMPONENTS
from clusters.labels import label
from clusters.models import ACTIONS, EngineRun
from core.formatting import allocate


def municipality_names(cluster, names: dict) -> list[str]:
    """The lot's municipalities by name, largest cost share first (codes only where no name is known)."""
    return [names.get(k, k) for k, _v in sorted(cluster.cost_shares.items(), key=lambda kv: (-kv[1], kv[0]))]


def cost_shares(cluster, names: dict) -> list[tuple[str, float, float]]:
    """(municipality, share of the lot's cost in 百万円, %) largest first. The lot's whole cost (works, less the
    dig-once saving, plus the one mobilization) is split by each owner's share of the works, rounded so the shares
    add up to the rounded total shown above them (core.formatting.allocate)."""
    owners = sorted(cluster.cost_shares.items(), key=lambda kv: (-kv[1], kv[0]))
    works = sum(v for _k, v in owners) or 1.0
    amounts = allocate(cluster.total_cost / 1e6, [v for _k, v in owners])
    return [(names.get(k, k), amount, 100 * v / works) for (k, v), amount in zip(owners, amounts, strict=True)]


def run_or_404(request, pk: int) -> EngineRun:
    return access.get_or_404(selectors.run_get, principal=access.principal_of(request), pk=pk)


def explained(cluster) -> list[tuple[str, float]]:
    total = sum(cluster.drivers.values()) or 1.0
    return [(label("component", k), 100 * v / total) for k, v in sorted(cluster.drivers.items(), key=lambda kv: -kv[1])
            if v > 0]


@login_required
def runs(request):
    regions = access.regions_visible(access.principal_of(request)).order_by("name")
    coordinated = set(access.regions_coordinated(access.principal_of(request)).values_list("slug", flat=True))
    page = Paginator(selectors.run_list(principal=access.principal_of(request)), 20).get_page(request.GET.get("page"))
    return render(request, "clusters/runs.html", {"page": page, "regions": regions, "coordinated": coordinated})


LOT_MEASURE_FIELDS = ("kind", "started_on", "completed_on", "cost_yen", "contractor", "notes")


def _lot_measure_form(user, cluster) -> dict | None:
    """The whole-lot measure form, offered only to someone who may write every member, with the measure kinds
    that apply to every kind of asset in the lot."""
    from inspections.models import MeasureKind

    lot = Asset.objects.filter(scores__cluster=cluster)
    total = lot.count()
    if not total or access.assets_writable(user, lot).count() != total:
        return None
    asset_kinds = set(lot.values_list("kind", flat=True))
    kinds = [k for k in MeasureKind.objects.order_by("order", "code") if all(k.applies_to(a) for a in asset_kinds)]
    return {"kinds": kinds, "size": total}


@login_required
def cluster_detail(request, pk: int, rank: int):
    from inspections import measure_services
    from inspections.models import Measure

    run = run_or_404(request, pk)
    cluster = access.get_or_404(selectors.cluster_list(run=run), rank=rank)
    form = _lot_measure_form(access.principal_of(request), cluster)
    errors: dict = {}
    post: dict = {}
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("Recording a measure for a whole lot needs the right to write every member"))
        post = {f: request.POST.get(f, "").strip() for f in LOT_MEASURE_FIELDS}
        try:
            measure_services.measure_record_for_lot(
                actor=Actor(access.principal_of(request), Via.UI), cluster=cluster, kind=post["kind"],
                started_on=post["started_on"],
                completed_on=post["completed_on"] or None, cost_yen=post["cost_yen"] or None,
                contractor=post["contractor"], notes=post["notes"])
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        except PermissionDenied as exc:
            errors = {"__all__": [str(exc)]}
        else:
            return redirect("cluster-detail", pk=run.pk, rank=cluster.rank)
        form = _lot_measure_form(access.principal_of(request), cluster)
    members = list(cluster.members.select_related("asset", "asset__owner").order_by("-risk_removed")[:300])
    names = dict(run.region.members.values_list("code", "name"))
    # What has been recorded for the lot, grouped as it was entered (one row per whole-lot entry).
    recorded = (Measure.objects.filter(cluster=cluster, asset__in=access.assets_visible(access.principal_of(request)))
                .values("kind__label", "started_on", "completed_on", "contractor")
                .annotate(n=Count("id"), cost=Sum("cost_yen")).order_by("-started_on", "kind__label"))
    return render(request, "clusters/cluster.html", {
        "run": run, "cluster": cluster, "members": members, "actions": ACTIONS, "explained": explained(cluster),
        "shares": cost_shares(cluster, names), "components": COMPONENTS,
        # Parsed here so the page hands it to lotmap.js through json_script, never as markup.
        "outline_data": json.loads(cluster.geom.geojson) if cluster.geom else None,
        "points": [{"gid": m.asset.global_id, "kind": m.asset.kind, "geom": m.asset.geom.geojson} for m in members],
        "lot_form": form, "errors": errors, "post": post, "recorded": list(recorded),
        "today": timezone.localdate().isoformat()}, status=422 if errors else 200)


@login_required
def compare(request, a: int, b: int):
    ra, rb = run_or_404(request, a), run_or_404(request, b)
    return render(request, "clusters/compare.html", {"a": ra, "b": rb, "diff": selectors.run_compare(a=ra, b=rb)})
