"""Plans: create (who may, with which budget), execute (scenarios, the chosen plan, the PDF), in one place."""

import datetime

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from assets import access
from assets.models import Municipality
from clusters.engine.params import Params
from clusters.models import EngineRun
from core.bulk import Clock
from core.formatting import allocate
from reports.models import Plan, PlanPin
from reports.planning.inputs import fiscal_year, outlooks_for
from reports.planning.scenarios import PINNED_OUT, STRATEGIES, default_budget, reduction, scenarios

__all__ = ["plan_create", "plan_execute", "plan_replan"]

DEFAULT_LEVELS = [0.5, 1.0, 1.5]
MAX_HORIZON = 30


def _can_plan(principal, run: EngineRun, municipality: Municipality | None) -> bool:
    if principal is None:  # management commands and the system
        return True
    if access.regions_coordinated(principal).filter(pk=run.region_id).exists():
        return True
    # A municipality may print its own plan from a run of a region it belongs to.
    return municipality is not None and access.scope_for(principal).can_write(municipality.code)


def plan_create(*, principal, run: EngineRun, municipality: Municipality | None = None, horizon_years: int = 10,
                strategy: str = "preventive", budget_mode: str = "pooled", budget_per_year: float | None = None,
                budget_by_municipality: dict | None = None, levels: list | None = None) -> Plan:
    errors = {}
    if run.status != EngineRun.Status.DONE:
        errors["run"] = _("Run #%(id)s is %(status)s; plans need a finished run") % {"id": run.pk, "status": run.status}
    if not 1 <= int(horizon_years) <= MAX_HORIZON:
        errors["horizon_years"] = _("Must be between 1 and %d years") % MAX_HORIZON
    if strategy not in STRATEGIES:
        errors["strategy"] = _("Must be one of: %s") % ", ".join(STRATEGIES)
    if budget_mode not in Plan.BudgetMode.values:
        errors["budget_mode"] = _("Must be one of: %s") % ", ".join(Plan.BudgetMode.values)
    if budget_per_year is not None and not budget_per_year > 0:
        errors["budget_per_year"] = _("Must be a positive amount of yen")
    members = set(run.region.members.values_list("code", flat=True))
    if municipality is not None and municipality.code not in members:
        errors["municipality"] = _("%(m)s is not a member of %(r)s") % {"m": municipality, "r": run.region}
    for code, amount in (budget_by_municipality or {}).items():
        if code not in members:
            errors.setdefault("budget_by_municipality", []).append(
                _("%(code)s is not a member; allowed: %(allowed)s") % {"code": code, "allowed": ", ".join(sorted(members))})
        elif not isinstance(amount, int | float) or amount < 0:
            errors.setdefault("budget_by_municipality", []).append(_("%s: must be a non-negative amount of yen") % code)
    levels = DEFAULT_LEVELS if levels is None else levels
    if not levels or not all(isinstance(x, int | float) and 0 < x <= 10 for x in levels):
        errors["levels"] = _("Budget levels are factors between 0 and 10, e.g. [0.5, 1, 1.5]")
    if errors:
        raise ValidationError(errors)
    Plan.objects.filter(run__region=run.region_id).reaped()  # the region's dead plans say so first
    if not _can_plan(principal, run, municipality):
        raise PermissionDenied(_("Only the region's coordinators, or the municipality's own staff, may make this plan"))
    user = principal if getattr(principal, "is_authenticated", False) and hasattr(principal, "username") else None
    return Plan.objects.create(run=run, municipality=municipality, horizon_years=horizon_years, strategy=strategy,
                               budget_mode=budget_mode, budget_per_year=budget_per_year,
                               budget_by_municipality=budget_by_municipality or {},
                               levels=sorted({float(x) for x in levels} | {1.0}), created_by=user)


def plan_replan(*, principal, plan: Plan) -> Plan:
    """The same plan made again (from the region's latest finished run if there is a newer one), around the pins
    as they stand now."""
    from clusters.selectors import run_latest_done

    run = run_latest_done(EngineRun.objects.filter(region=plan.run.region_id)) or plan.run
    return plan_create(principal=principal, run=run, municipality=plan.municipality,
                       horizon_years=plan.horizon_years, strategy=plan.strategy, budget_mode=plan.budget_mode,
                       budget_per_year=plan.budget_per_year, budget_by_municipality=plan.budget_by_municipality,
                       levels=plan.levels or None)


def _budget(plan: Plan, o, h: int) -> np.ndarray:
    need = default_budget(o, h, plan.strategy)  # H × M
    # The plan's own budgets first, then the region's (its parameters page, frozen in the run's parameters).
    if plan.budget_by_municipality and len(o.holders) > 1:
        return np.repeat(np.array([[float(plan.budget_by_municipality.get(m, 0.0)) for m in o.holders]]), h, axis=0)
    region = {} if plan.budget_per_year is not None else Params.from_dict(plan.run.params).budget_by_municipality
    if region and o.holders != ["pooled"]:  # per holder; one without a budget of its own keeps the levelled need
        return np.stack([np.full(h, float(region[m])) if m in region else need[:, j]
                         for j, m in enumerate(o.holders)], axis=1)
    members = set(plan.run.region.members.values_list("code", flat=True))
    if region and members <= set(region):  # pooled: the members' budgets together, when every member has one
        return np.full((h, 1), float(sum(region[m] for m in members)))
    if plan.budget_per_year is None:
        return need
    total = need.sum(axis=1, keepdims=True)
    split = need / np.where(total > 0, total, 1.0) if len(o.holders) > 1 else np.ones_like(need)
    return split * plan.budget_per_year


def _legal_detail(plan: Plan, o, scenario: dict, fys: list[int], interim: dict, names: dict) -> dict:
    """The scenario's shortfall asset by asset: which legally due assets its budget leaves undone by their
    deadline, per 年度 and per municipality (件数, 金額), each with the interim measure to take meanwhile."""
    legal = scenario["legal"]
    row_of = {int(cid): k for k, cid in enumerate(o.ids.tolist())}
    cost_key = "cost_preventive" if scenario["strategy"] == "preventive" else "cost_corrective"
    assets, per_year, per_muni = [], {}, {}
    for entry in legal["shortfall"]:
        for a in (o.mandatory_assets or {}).get(row_of[entry["cluster_id"]], []):
            if plan.municipality_id and a["owner"] != plan.municipality_id:
                continue
            fy = min(max(fiscal_year(datetime.date.fromisoformat(a["due"])), fys[0]), fys[-1])
            cost = float(a[cost_key])
            assets.append({"asset_id": a["id"], "global_id": a["global_id"], "name": a["name"], "kind": a["kind"],
                           "owner": a["owner"], "owner_name": names.get(a["owner"], a["owner"]),
                           "grade": a["grade"], "grade_label": a["grade_label"], "due": a["due"], "fiscal_year": fy,
                           "cost": round(cost), "cluster_id": entry["cluster_id"],
                           "interim_measure": interim.get(a["kind"], "")})
            y = per_year.setdefault(fy, {"fiscal_year": fy, "count": 0, "cost": 0})
            y["count"] += 1
            y["cost"] += round(cost)
            m = per_muni.setdefault(a["owner"], {"code": a["owner"], "name": names.get(a["owner"], a["owner"]),
                                                 "count": 0, "cost": 0})
            m["count"] += 1
            m["cost"] += round(cost)
    assets.sort(key=lambda a: (a["due"], a["owner"], a["asset_id"]))
    return {**legal, "shortfall_assets": assets,
            "shortfall_by_year": sorted(per_year.values(), key=lambda r: r["fiscal_year"]),
            "shortfall_by_municipality": sorted(per_muni.values(), key=lambda r: r["code"]),
            "shortfall_total": {"count": len(assets), "cost": sum(a["cost"] for a in assets)}}


def _urgent(o, fys: list[int], municipality: str | None, names: dict, year_of: dict, interim: dict) -> list[dict]:
    """Every asset with a measures deadline within the plan, most urgent first, with the 年度 the plan does it."""
    out = []
    for k, assets in (o.mandatory_assets or {}).items():
        cid = int(o.ids[k])
        for a in assets:
            if municipality and a["owner"] != municipality:
                continue
            due_fy = fiscal_year(datetime.date.fromisoformat(a["due"]))
            if due_fy > fys[-1]:
                continue
            out.append({"asset_id": a["id"], "global_id": a["global_id"], "name": a["name"], "kind": a["kind"],
                        "owner": a["owner"], "owner_name": names.get(a["owner"], a["owner"]), "grade": a["grade"],
                        "grade_label": a["grade_label"], "due": a["due"], "deadline_fy": max(due_fy, fys[0]),
                        "overdue": due_fy < fys[0], "cluster_id": cid, "scheduled_fy": year_of.get(cid),
                        "interim_measure": interim.get(a["kind"], "")})
    out.sort(key=lambda a: (a["due"], a["owner"], a["asset_id"]))
    return out


def plan_compute(plan: Plan) -> dict:
    """Scenarios and the chosen plan, as stored in `Plan.result`."""
    h = plan.horizon_years
    per_muni = plan.budget_mode == Plan.BudgetMode.PER_MUNICIPALITY and plan.municipality_id is None
    fy0 = fiscal_year(timezone.localdate()) + 1  # next 年度's budget
    o = outlooks_for(plan.run, municipality=plan.municipality_id, per_municipality=per_muni, first_fy=fy0)
    fys = list(range(fy0, fy0 + h))
    result = {"fiscal_years": fys, "holders": o.holders, "clusters": int(len(o.ids))}
    if not len(o.ids):
        return {**result, "scenarios": [], "main": None, "actions": [], "pins": [], "base_budget": [], "urgent": [],
                "reduction": None}
    budget = _budget(plan, o, h)
    fixed, pins = _pins_for(plan, o, fy0, h)
    runs = scenarios(o, h, budget, levels=plan.levels or DEFAULT_LEVELS, fixed=fixed)
    main = next(i for i, s in enumerate(runs) if s.strategy == plan.strategy and s.level == 1.0)
    chosen = runs[main]
    cost = chosen.problem.cost
    it = chosen.items
    pin_of = {p["cluster_id"]: p for p in pins if p["status"] == "applied"}
    actions = [{"cluster_id": int(it.o.ids[k]), "year": int(y), "fiscal_year": fy0 + int(y),
                "cost": round(float(cost[k, y])), "part": str(it.part[k]), "mandatory": bool(it.deadline[k] >= 0),
                # Which works a coordinator set by hand (the PDF prints it): "pinned" with its pin, or None.
                "set_by_hand": "pinned" if chosen.problem.fixed[k] >= 0 else None,
                "pin_id": pin_of[int(it.o.ids[k])]["pin_id"] if chosen.problem.fixed[k] >= 0 else None}
               for k, y in enumerate(chosen.plan.year) if y >= 0]
    _describe_actions(actions)
    names = dict(Municipality.objects.filter(code__in=list(plan.run.region.members.values_list("code", flat=True)))
                 .values_list("code", "name"))
    interim = Params.from_dict(plan.run.params).interim_measures
    dicts = [s.to_dict() for s in runs]
    for d in dicts:
        d["legal"] = _legal_detail(plan, o, d, fys, interim, names)
    year_of: dict = {}
    for a in actions:  # a split lot: its mandatory part's 年度
        if a["part"] != "rest":
            year_of[a["cluster_id"]] = a["fiscal_year"]
    overrun = (chosen.problem.effective_budget() - chosen.budget).sum(axis=1)
    return {**result, "base_budget": budget.round().tolist(), "scenarios": dicts, "main": main,
            "actions": actions, "pins": pins, "pinned_overrun": [round(float(x)) for x in overrun],
            "urgent": _urgent(o, fys, plan.municipality_id, names, year_of, interim),
            "reduction": reduction(runs)}


def _pins_for(plan: Plan, o, fy0: int, h: int) -> tuple[np.ndarray, list[dict]]:
    """The region's pins as the optimizer's `fixed` (per lot of the outlooks) and as the plan reports them: each
    with its lot in this run and whether it was applied. Law first: a pin that would now break a legal deadline
    (the lot's work became legally due after it was pinned) is not applied, and says so."""
    from reports.pins import match_pins, pins_active

    pins = list(pins_active(plan.run.region_id))
    lot_of = match_pins(plan.run, pins)
    row_of = {int(cid): k for k, cid in enumerate(o.ids.tolist())}
    ranks = dict(plan.run.clusters.filter(id__in=[c for c in lot_of.values() if c]).values_list("id", "rank"))
    dl = np.full(len(o.ids), -1) if o.deadline is None else np.asarray(o.deadline)
    fixed = np.full(len(o.ids), -1)
    out = []
    for p in pins:  # newest first: when two pins land on one lot, the newer one holds
        cid = lot_of.get(p.pk)
        k = row_of.get(cid) if cid is not None else None
        status = "applied"
        if cid is None:
            status = "not_found"
        elif k is None:
            status = "not_in_plan"
        elif fixed[k] != -1:
            status = "conflict"
        elif p.mode == PlanPin.Mode.EXCLUDE:
            if 0 <= dl[k] < h:
                status = "refused_legal"
            else:
                fixed[k] = PINNED_OUT
        else:
            y = p.fiscal_year - fy0
            if not 0 <= y < h:
                status = "outside_years"
            elif 0 <= dl[k] < h and y > dl[k]:
                status = "refused_legal"
            else:
                fixed[k] = y
        out.append({"pin_id": p.pk, "cluster_id": cid, "rank": ranks.get(cid), "label": p.label,
                    "work_type": p.work_type, "set_by_hand": "pinned" if p.mode == PlanPin.Mode.PIN else "excluded",
                    "fiscal_year": p.fiscal_year, "reason": p.reason, "status": status,
                    "by": p.created_by.get_username() if p.created_by else "", "at": p.created_at.isoformat()})
    return fixed, out


def _describe_actions(actions: list[dict]) -> None:
    """Each action's lot (rank, work type) and its cost per municipality: the lot's cost shares (its mandatory
    part's own shares when done alone). One query for all of them."""
    from clusters.models import Cluster

    info = {cid: (rank, wt, shares, m_shares or {}, name) for cid, rank, wt, shares, m_shares, name in
            Cluster.objects.filter(id__in={a["cluster_id"] for a in actions}).values_list(
                "id", "rank", "work_type", "cost_shares", "outlook__mandatory__cost_shares", "name")}
    for a in actions:
        rank, wt, shares, m_shares, name = info[a["cluster_id"]]
        a["name"] = name
        use = m_shares if a["part"] == "mandatory" and m_shares else shares
        owners = [(code, v) for code, v in sorted(use.items()) if v > 0]
        # Whole yen that add up to the action's cost (largest remainder), so the columns sum to the total.
        split = allocate(a["cost"], [v for _c, v in owners])
        a.update(rank=rank, work_type=wt, by_municipality={c: int(x) for (c, _v), x in zip(owners, split, strict=True)})


def plan_execute(plan_id: int, *, render: bool = True) -> Plan:
    """Make a queued plan once (a retried or duplicated task finds it claimed and stops); see core.jobs."""
    plan = Plan.objects.select_related("run__region", "municipality").get(pk=plan_id)
    return plan.execute(lambda: _plan_steps(plan, render=render), step=gettext_noop("planning"), progress=5)


def _plan_steps(plan: Plan, *, render: bool) -> None:
    """The scenarios and the chosen plan (kept at once: a failed PDF leaves them readable), then the PDF."""
    clock = Clock()
    result = plan_compute(plan)
    clock.lap("plan")
    result["timings"] = clock.laps
    plan.result = result
    Plan.objects.filter(pk=plan.pk).update(result=result)
    if render:
        plan.report(60, gettext_noop("writing the PDF"))
        _render_pdf(plan)
        clock.lap("pdf")
    plan.finish(pdf=plan.pdf.name or "", result=result)


def _render_pdf(plan: Plan) -> None:
    from reports.document import build_document
    from reports.pdf import render_pdf

    name = f"plan-{plan.run.region.slug}-{plan.municipality_id or 'region'}-{plan.pk}.pdf"
    plan.pdf.save(name, ContentFile(render_pdf(build_document(plan))), save=False)
