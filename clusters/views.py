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
from clusters.engine.params import Params
from clusters.engine.scoring import COMPONENTS
from clusters.labels import label
from clusters.models import ACTIONS, EngineRun, RegionParams
from core.basemap import basemap_config
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
        "today": timezone.localdate().isoformat(), "basemap": basemap_config()}, status=422 if errors else 200)


# How each run total is counted (the labels are clusters.labels.TOTAL_LABELS).
TOTAL_UNITS = {"assets": "count", "acting": "count", "clusters": "count", "cross_municipal_clusters": "count",
               "cost_total": "yen", "risk_removed": ""}


def yen_text(x) -> str:
    """Money as people read it: 億円 from a hundred million, 百万円 below, with separators."""
    if x is None:
        return "—"
    if abs(x) >= 1e8:
        return _("%(value)s hundred million yen") % {"value": f"{x / 1e8:,.2f}"}
    return _("%(value)s million yen") % {"value": f"{x / 1e6:,.1f}"}


def _value_text(key: str, v) -> str:
    if v is None:
        return "—"
    if key.startswith("budget.") or key.startswith("cost_") or key == "mobilization_per_contract":
        return yen_text(v)
    if isinstance(v, str):
        return label("choice", v)
    return f"{v:,g}" if isinstance(v, int | float) else str(v)


def _param_rows(diff: dict) -> list[dict]:
    """The parameters that differ, labelled, dicts opened up (one row per changed weight or budget)."""
    from clusters.labels import COMPONENT_LABELS
    from clusters.param_form import label_of

    names = {}
    rows = []
    for k, v in diff.items():
        if isinstance(v["a"], dict) or isinstance(v["b"], dict):
            old, new = v["a"] or {}, v["b"] or {}
            if k == "budget_by_municipality" and not names:
                from assets.models import Municipality

                names = dict(Municipality.objects.filter(code__in=set(old) | set(new)).values_list("code", "name"))
            for sub in sorted(set(old) | set(new)):
                if old.get(sub) == new.get(sub):
                    continue
                if k == "weights":
                    text = _("Weight: %(component)s") % {"component": COMPONENT_LABELS.get(sub, sub)}
                elif k == "budget_by_municipality":
                    text = _("Yearly budget: %(municipality)s") % {"municipality": names.get(sub, sub)}
                else:
                    text = f"{label_of(k)}：{label('kind', sub) if k == 'structure_costs' else sub}"
                key = "budget." if k == "budget_by_municipality" else k
                rows.append({"label": text, "a": _value_text(key, old.get(sub)), "b": _value_text(key, new.get(sub))})
        else:
            rows.append({"label": label_of(k), "a": _value_text(k, v["a"]), "b": _value_text(k, v["b"])})
    return rows


@login_required
def compare(request, a: int, b: int):
    """Two runs, the older one first, so every arrow reads old → new."""
    ra, rb = run_or_404(request, a), run_or_404(request, b)
    if (ra.created_at, ra.pk) > (rb.created_at, rb.pk):
        ra, rb = rb, ra
    if rb.status != EngineRun.Status.DONE:
        return render(request, "clusters/compare.html", {"a": ra, "b": rb, "pending": True})
    diff = selectors.run_compare(a=ra, b=rb)
    totals = [{"label": label("total", k), "a": _total_text(k, v["a"]), "b": _total_text(k, v["b"])}
              for k, v in diff["totals"].items()]
    changed = [{**c, "from": label("action", c["from"]), "to": label("action", c["to"])}
               for c in diff["actions_changed"]]
    movers = [{**m, "action": {s: label("action", m["action"][s]) for s in ("a", "b")}}
              for m in diff["top_risk_moves"]]
    ranks = [{**r, "work_type": label("work_type", r["work_type"])} for r in diff["rank_changes"]]
    return render(request, "clusters/compare.html", {
        "a": ra, "b": rb, "diff": diff, "params": _param_rows(diff["params"]), "totals": totals,
        "changed": changed, "movers": movers, "ranks": ranks})


def _total_text(key: str, v) -> str:
    if v is None:
        return "—"
    unit = TOTAL_UNITS.get(key, "")
    if unit == "yen":
        return yen_text(v)
    return f"{v:,.0f}" if unit == "count" else f"{v:,.1f}"


@login_required
def region_params(request, slug: str):
    """The region's engine parameters with Japanese labels, units and ranges; coordinators save them and may
    start a run with them at once, then see it compared with the last one."""
    from clusters.param_form import bound_text, fields_for, from_page, params_version, value_of
    from clusters.services import region_params_update, run_create
    from core.jobs import accepted

    principal = access.principal_of(request)
    region = access.get_or_404(access.regions_visible(principal), slug=slug)
    if not access.regions_coordinated(principal).filter(pk=region.pk).exists():
        raise PermissionDenied(_("Only the region's coordinators may change the engine parameters of %s") % region)
    members = list(region.members.order_by("code").values_list("code", "name"))
    fields = fields_for(members)
    errors: dict = {}
    posted: dict = {}
    if request.method == "POST":
        posted = {f.key: request.POST.get(f.key, "") for f in fields}
        try:
            region_params_update(actor=Actor(principal, Via.UI), region=region, values=from_page(fields, posted),
                                 expected_version=request.POST.get("version"))
        except ValidationError as exc:
            found = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            key_of = {f.path: f.key for f in fields}  # the service names paths; the page's inputs keys
            errors = {key_of.get(k, k): v for k, v in found.items()}
            if "version" in errors:
                posted = {}  # show what is saved now, which the person has not seen
        else:
            if "run" in request.POST:
                last = selectors.run_latest_done(EngineRun.objects.filter(region=region))
                run = run_create(principal=principal, region=region)
                accepted(run)
                if last is not None:
                    return redirect("run-compare", a=last.pk, b=run.pk)
                return redirect("run-detail", pk=run.pk)
            return redirect(f"{request.path}?saved=1")
    stored = RegionParams.objects.filter(region=region).values_list("params", flat=True).first() or {}
    effective = Params.from_dict(stored)
    groups: dict = {}
    for f in fields:
        value = posted.get(f.key) if posted else value_of(effective, f.key)
        groups.setdefault(f.group, []).append({"f": f, "value": "" if value is None else value,
                                               "error": " ".join(errors.get(f.key, [])),
                                               "range": f"{bound_text(f.lo)}〜{bound_text(f.hi)}"})
    return render(request, "clusters/params.html", {
        "region": region, "groups": groups, "errors": errors, "saved": request.GET.get("saved") == "1",
        "history": params_history(region), "version": params_version(stored)}, status=422 if errors else 200)


PARAMS_HISTORY_SHOWN = 20


def _effective(stored) -> dict:
    """Stored parameters with the defaults filled in, as a run would read them (what the history compares)."""
    try:
        return Params.from_dict(stored or {}).to_dict()
    except (ValueError, TypeError, AttributeError):
        return {**Params().to_dict(), **(stored if isinstance(stored, dict) else {})}


def params_history(region) -> list[dict]:
    """The region's parameter changes, newest first, whoever made them and however (the page or the API): when,
    who, through what, and each changed value old → new with its label."""
    from django.contrib.contenttypes.models import ContentType

    from assets.models import ChangeRecord

    records = ChangeRecord.objects.filter(content_type=ContentType.objects.get_for_model(RegionParams),
                                          object_id=str(region.pk)).order_by("-time", "-id")[:PARAMS_HISTORY_SHOWN]
    out = []
    for r in records:
        a, b = _effective((r.before or {}).get("params")), _effective((r.after or {}).get("params"))
        diff = {k: {"a": a.get(k), "b": b.get(k)} for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
        out.append({"time": r.time, "actor": r.actor_name, "via": r.get_via_display(), "rows": _param_rows(diff)})
    return out
