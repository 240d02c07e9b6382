"""Engine runs: create (frozen parameters), execute (read → score → cluster), all results in one transaction."""

import datetime
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from assets import access
from assets.models import Asset, Region
from clusters.data import (
    load_assets,
    load_branch_pipes,
    load_graded_assets,
    load_pairs,
    load_reference_roads,
    load_road_links,
    load_scored_assets,
    load_septic_connection_cases,
    load_septic_groups,
)
from clusters.engine.defaults import counts as defaults_counts
from clusters.engine.deterioration import estimate
from clusters.engine.lots import Members, aggregate, joinable_singles
from clusters.engine.params import Params
from clusters.engine.scoring import SCHEME_OF_KIND, Scores, score
from clusters.labels import lot_name
from clusters.lots import (
    add_consolidation,
    analyze_scores,
    count_orphan_scores,
    draw_outlines,
    insert_lots,
    lot_centres,
    lot_keys,
    store_outlooks,
    write_scores,
)
from clusters.models import Cluster, EngineRun, RegionParams
from core.bulk import Clock, bulk_mode
from core.text import check_text
from core.wareki import current_fiscal_year
from ledger.completeness import completeness

__all__ = ["region_params_update", "run_create", "run_execute"]

N_STATES = {"bridge_kenzen": 4, "pavement_shindan": 4, "sewer_kinkyu": 4, "manhole_kinkyu": 4, "septic_hantei": 3}


def run_create(*, principal, region: Region, overrides: dict | None = None) -> EngineRun:
    """Freeze the parameters (defaults ← region's own ← this run's overrides) and queue the run."""
    EngineRun.objects.filter(region=region).reaped()  # the region's dead runs say so before a new one starts
    if principal is not None and not access.regions_coordinated(principal).filter(pk=region.pk).exists():
        raise PermissionDenied(_("Only the region's coordinators may run the engine for %s") % region)
    stored = RegionParams.objects.filter(region=region).values_list("params", flat=True).first() or {}
    if overrides:
        # The same range check as the parameters page and PUT …/params: a run cannot use a value they refuse.
        from clusters.param_form import check

        check_text(overrides)
        overrides, errors = check(overrides, list(region.members.order_by("code").values_list("code", "name")))
        if errors:
            raise ValidationError({k: [v] for k, v in errors.items()})
    try:
        params = Params.from_dict({**stored, **(overrides or {})})
    except (ValueError, TypeError) as exc:
        raise ValidationError({"params": str(exc)}) from None
    user = principal if getattr(principal, "is_authenticated", False) and hasattr(principal, "username") else None
    return EngineRun.objects.create(region=region, params=params.to_dict(), created_by=user)


def region_params_update(*, actor, region: Region, values: dict, replace: bool = False,
                         expected_version: str | None = None) -> RegionParams:
    """Save the region's engine parameters: the one way in for its parameters page and PUT /regions/{slug}/params.
    `values` is Params-shaped ({"cluster_distance_m": 150, "weights": {...}, "budget_by_municipality": {...}});
    text is read as people type it (the page's inputs, clusters.param_form.from_page). Every value is checked
    against its parameter's allowed range (clusters.param_form.check, ranges from clusters.labels.PARAMS); a bad
    one is refused naming the parameter (its label) and the range, by path (weights.traffic), nothing stored.
    `replace`: the values are the region's whole set (the API's PUT: what is not named is the default); else they
    change only the parameters named (the page: keys it does not show are kept as they were). Only the region's
    coordinators (and administrators). Stored: what differs from the defaults; the change is recorded with who
    made it and through which entry point (the page shows the history). `expected_version`
    (param_form.params_version of what the page showed): when the stored parameters have changed since, nothing
    is stored (the page posts every field, so saving would silently undo the other coordinator's change)."""
    from assets.history import Action, record_change
    from clusters.param_form import check, params_version, stored_form

    if actor.principal is not None and not access.regions_coordinated(actor.principal).filter(pk=region.pk).exists():
        raise PermissionDenied(_("Only the region's coordinators may change the engine parameters of %s") % region)
    members = list(region.members.order_by("code").values_list("code", "name"))
    if isinstance(values, dict):
        check_text(values)  # a control character in a value or a key is named as U+XXXX before the range check
    clean, errors = check(values, members)
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    with transaction.atomic():
        row, _created = RegionParams.objects.get_or_create(region=region)
        row = RegionParams.objects.select_for_update().get(pk=row.pk)  # two coordinators saving at once: in turn
        before = dict(row.params)
        if expected_version is not None and params_version(before) != expected_version:
            raise ValidationError({"version": _(
                "Someone else saved the parameters of %s after this page was opened; nothing was saved. The page "
                "now shows their values: enter your changes again and save.") % region})
        new = stored_form(clean if replace else {**before, **clean})
        try:
            Params.from_dict(new)
        except (ValueError, TypeError) as exc:
            raise ValidationError({"params": str(exc)}) from None
        row.params = new
        row.save(update_fields=["params", "updated_at"])
        record_change(actor=actor, obj=row, action=Action.UPDATE, before={"params": before}, after={"params": new})
    return row


def run_execute(run_id: int) -> EngineRun:
    """Do a queued run once (a retried or duplicated task finds it claimed and stops); see core.jobs."""
    run = EngineRun.objects.select_related("region").get(pk=run_id)
    return run.execute(lambda: _run_steps(run), step=gettext_noop("reading"), started_at=timezone.now())


@dataclass
class Inputs:
    params: Params
    codes: list[str]  # the region's members
    assets: pd.DataFrame  # one row per asset (clusters.data.load_assets)
    data_timestamp: datetime.datetime | None


@dataclass
class Scored:
    scores: Scores
    frame: pd.DataFrame  # one row per asset, as stored in AssetScore
    acting: np.ndarray  # rows of the assets to repair or renew


@dataclass
class Lots:
    ids: np.ndarray  # the stored lots' ids, in rank order
    index: np.ndarray  # per asset row: its lot's position in `ids`, or -1
    lot_id: np.ndarray  # per asset row: its lot's id, or -1


def _run_steps(run: EngineRun) -> None:
    """Read, estimate and score (each reported as it starts), then lots, scores and analyses in one
    transaction that also marks the run done."""
    clock = Clock()
    inputs = _load_inputs(run)
    clock.lap("read_assets")
    run.report(20, gettext_noop("estimating deterioration"))
    hazards = _deteriorate(inputs)
    clock.lap("estimate_hazards")
    run.report(40, gettext_noop("scoring"))
    scored = _score(inputs, hazards)
    clock.lap("score")
    run.report(60, gettext_noop("clustering"))
    with transaction.atomic():
        with connection.cursor() as cur:
            bulk = bulk_mode(cur)
        keys = _lot_keys(inputs, scored)
        clock.lap("cluster")
        lots = _make_lots(run, inputs, scored, keys)
        clock.lap("aggregate")
        _store_scores(run, inputs, scored, lots, verify=bulk)
        clock.lap("write_scores")
        septic_groups, bridges = _consolidation(run, inputs, scored, hazards)
        clock.lap("consolidation")
        _outlook(run, inputs, hazards, scored, lots)
        clock.lap("outlook")
        run.finish(summary=_summary(run, inputs, hazards, scored, septic_groups, bridges, clock.laps),
                   data_timestamp=inputs.data_timestamp)


def _load_inputs(run: EngineRun) -> Inputs:
    codes = list(run.region.members.values_list("code", flat=True))
    data_ts = Asset.objects.filter(owner_id__in=codes).aggregate(t=Max("updated_at"))["t"]
    params = Params.from_dict(run.params)
    return Inputs(params, codes, load_assets(codes, timezone.localdate(), params), data_ts)


def _deteriorate(inputs: Inputs) -> dict:
    """Each grading scheme's hazards, fitted to pairs of successive inspections."""
    pairs = load_pairs(inputs.codes)
    defaults = inputs.params.default_hazards
    out = {}
    for scheme, n in N_STATES.items():
        if scheme == "septic_hantei":
            # Yearly compliance results flip both ways; they are not a wear process to fit a hazard to.
            out[scheme] = estimate([], [], [], n, tuple(defaults[scheme]))
            continue
        sub = pairs[pairs["scheme"] == scheme]
        out[scheme] = estimate(sub["i"].to_numpy(), sub["j"].to_numpy(), sub["z"].to_numpy(), n,
                               tuple(defaults[scheme]))
    return out


def _score(inputs: Inputs, hazards: dict) -> Scored:
    scores = score(inputs.assets, hazards, inputs.params)
    frame = scores.frame()
    frame["dlof"] = np.where(frame["action"] != "monitor", np.maximum(scores.lof - scores.lof_after, 0), 0.0)
    frame["defaulted"] = inputs.assets["defaulted"].to_numpy() if "defaulted" in inputs.assets else 0
    return Scored(scores, frame, np.flatnonzero(frame["action"].to_numpy() != "monitor"))


def _lot_keys(inputs: Inputs, scored: Scored) -> np.ndarray:
    """The lot key of each acting asset: which of them lie close enough to be let as one contract."""
    p = inputs.params
    return lot_keys(inputs.assets["id"].to_numpy()[scored.acting], scored.frame["work_type"].to_numpy()[scored.acting],
                    srid=p.metric_srid, eps=p.cluster_distance_m, max_lot=p.max_lot_members, cell=p.lot_cell_m)


def _make_lots(run: EngineRun, inputs: Inputs, scored: Scored, keys: np.ndarray) -> Lots:
    """Aggregate, rank and store the lots with their outlines."""
    df, frame, acting, p = inputs.assets, scored.frame, scored.acting, inputs.params
    col = {c: frame[c].to_numpy()[acting] for c in ("action", "work_type", "cost", "dig_once_saving", "risk_removed",
                                                     "dlof", "owner_cost")}
    members = Members(keys, df["owner"].astype(str).to_numpy()[acting], df["kind"].to_numpy()[acting], col["action"],
                      col["work_type"], col["cost"], col["dig_once_saving"], col["risk_removed"], col["dlof"],
                      scored.scores.components[acting], col["owner_cost"].astype(float))
    lots, lot_of = aggregate(members, p.weights, p.mobilization_per_contract, p.objective)
    _name_lots(run, lots, p)
    ids = insert_lots(run.pk, lots)
    draw_outlines(run.pk)
    index = np.full(len(df), -1)
    index[acting] = lot_of
    lot_id = np.full(len(df), -1, dtype=np.int64)
    lot_id[acting] = ids[lot_of]
    return Lots(ids, index, lot_id)


def _name_lots(run: EngineRun, lots: pd.DataFrame, p: Params) -> None:
    """Each lot's name (work type, number, municipalities by their share, largest first) and, for a lot of one
    work alone, why there is nothing to bundle it with and which such lots lie within a contractor's reach."""
    names = dict(run.region.members.values_list("code", "name"))
    lots["name"] = [lot_name(wt, seq, [names.get(o, o) for o, _v in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))])
                    for wt, seq, shares in zip(lots["work_type"], lots["seq"], lots["cost_shares"], strict=True)]
    keys = lots["key"].to_numpy()
    count = lots["member_count"].to_numpy()
    bundling: list[dict] = [{} for _ in range(len(lots))]
    if (count == 1).any():
        x, y = lot_centres(keys)
        near = joinable_singles(lots["work_type"].to_numpy(), count, x, y, reach=p.contractor_reach_m)
        rank, name = lots["rank"].to_numpy(), lots["name"].to_numpy()
        for i in np.flatnonzero(count == 1).tolist():
            bundling[i] = {"alone_within_m": p.cluster_distance_m, "reach_m": p.contractor_reach_m,
                           "joinable": [{"rank": int(rank[j]), "name": str(name[j]), "distance_m": round(d)}
                                        for j, d in near.get(i, [])]}
    lots["bundling"] = bundling


def _store_scores(run: EngineRun, inputs: Inputs, scored: Scored, lots: Lots, *, verify: bool) -> None:
    write_scores(run.pk, inputs.assets["id"].to_numpy(), scored.frame, lots.lot_id)
    # With per-row FK triggers off (bulk mode), check once that every score points at a stored asset.
    if verify and (missing := count_orphan_scores(run.pk)):
        raise RuntimeError(f"{missing} scored assets vanished during the run; nothing was saved")


def _consolidation(run: EngineRun, inputs: Inputs, scored: Scored, hazards: dict) -> tuple[list[dict], list[dict]]:
    """集約・再編: sewers or septic tanks per lot, groups of old tanks, bridges to remove rather than renew."""
    analyze_scores()
    _sewer_or_septic(run, inputs.params)
    return _septic_groups(inputs), _bridge_removals(run, inputs, scored, hazards)


def _sewer_or_septic(run: EngineRun, params: Params) -> None:
    """For every lot that renews branch sewers: renew, or convert its households to septic tanks? The households
    are counted along the lot's own pipes (domain.md §7 "Sewer vs 浄化槽 per branch")."""
    from clusters.engine.consolidation import SewerSepticCosts, households_along, sewer_vs_septic

    costs = SewerSepticCosts.from_params(params)
    pipes = load_branch_pipes(run.pk, width=params.catchment_width_m,
                              persons_per_household=params.persons_per_household)
    updates = []
    for cid, lot in pipes.groupby("lot", sort=False):
        households = households_along(lot["length_m"].to_numpy(), lot["house_connections"].to_numpy(),
                                      density=lot["density_households"].to_numpy())
        result = sewer_vs_septic(pipe_m=float(lot["length_m"].sum()), renew_cost=float(lot["cost"].sum()),
                                 households=households, costs=costs)
        updates.append(Cluster(pk=int(cid), consolidation={"sewer_vs_septic": result.to_dict()}))
    Cluster.objects.bulk_update(updates, ["consolidation"], batch_size=1000)


# What the run's summary repeats of each lot's sewer-or-septic verdict: enough to say how its households were
# counted without opening the lot.
SEWER_SUMMARY_FIELDS = ("recommendation", "households", "households_basis", "households_by_basis", "pipes_by_basis",
                        "pipe_km", "households_per_km", "break_even_per_km", "saving_per_year")


def _sewer_septic_summary(clusters) -> tuple[list[dict], dict[str, int]]:
    """Each lot's verdict (conversions first, the largest saving first) and how many lots counted their households
    each way (取付管 / 建物 / 人口密度 / mixed)."""
    out = []
    for cid, key, name, rank, cons in clusters.filter(consolidation__has_key="sewer_vs_septic").values_list(
            "id", "key", "name", "rank", "consolidation"):
        s = cons["sewer_vs_septic"]
        out.append({"cluster_id": cid, "key": key, "name": name, "rank": rank,
                    **{f: s.get(f) for f in SEWER_SUMMARY_FIELDS}})
    out.sort(key=lambda r: (r["recommendation"] != "convert_to_septic", -(r["saving_per_year"] or 0), r["cluster_id"]))
    bases: dict[str, int] = {}
    for r in out:
        bases[r["households_basis"]] = bases.get(r["households_basis"], 0) + 1
    return out, bases


def _septic_groups(inputs: Inputs) -> list[dict]:
    """Old 単独処理 or 不適正 tanks close together, outside the 下水道計画区域: candidates for converting together or a
    shared small plant. The conversion's cost is split as domain.md §7 says: the municipality's part (all of a
    市町村設置型 tank, its 補助 share of a 個人設置型 one) and the owners' part, for reference."""
    params = inputs.params
    old_fy = current_fiscal_year() - int(params.septic_single_renew_age)
    rows = load_septic_groups(inputs.codes, srid=params.metric_srid, old_fy=old_fy,
                              eps=params.septic_group_distance_m, min_tanks=params.septic_group_min_tanks)
    out = []
    for _gid, n, hh, owners, single, improper, centre, tank_owners, private, tank_hh in rows:
        full = np.asarray(tank_hh, dtype=float) * params.septic_install_per_household
        share = np.where(np.asarray(private, dtype=bool),
                         [params.subsidy_share(o) for o in tank_owners], 1.0)
        out.append({"tanks": n, "households": int(hh or 0), "owners": owners, "single": single, "improper": improper,
                    "private": int(np.sum(private)), "centre": json.loads(centre),
                    "conversion_cost": float((full * share).sum()), "owner_cost": float((full * (1 - share)).sum())})
    return out


def _septic_connection(inputs: Inputs) -> dict:
    """Tanks inside a 下水道計画区域 (下水道法 第10条 接続義務): 接続指導 cases, never conversions; per owner, and those
    old 単独 or 不適正 tanks the engine would otherwise have converted."""
    old_fy = current_fiscal_year() - int(inputs.params.septic_single_renew_age)
    rows = load_septic_connection_cases(inputs.codes, old_fy=old_fy)
    return {"tanks": sum(r[1] for r in rows), "candidates": sum(r[2] for r in rows),
            "by_owner": {r[0]: {"tanks": r[1], "candidates": r[2]} for r in rows},
            "basis": "下水道法 第10条（接続義務）・接続指導"}


# 保守点検 (浄化槽法施行規則6条) and 清掃 (同7条) are the 管理者's legal duties (浄化槽法10条): a lapse is legal work
# overdue, but it is upkeep, not a capital measure, so it is reported beside the plan, never costed in it.
UPKEEP_BASIS = {"maintenance": "浄化槽法 第10条・施行規則 第6条（保守点検）",
                "cleaning": "浄化槽法 第10条・施行規則 第7条（清掃）"}


def _septic_upkeep(inputs: Inputs, today: datetime.date) -> dict:
    """Tanks whose 保守点検 or 清掃 has lapsed (AssetCondition.maintenance_due_on / cleaning_due_on before today), and
    those past their 不適正 improvement guidance date (浄化槽法12条: guidance, not a legal deadline), per owner."""
    df = inputs.assets
    tank = df["kind"].to_numpy() == "septic_tank"
    day = pd.Timestamp(today)
    owner = df["owner"].astype(str).to_numpy()
    out: dict = {}
    lapsed = {}
    for col, name in (("maintenance_due_on", "maintenance"), ("cleaning_due_on", "cleaning"),
                      ("guidance_due_on", "guidance")):
        due = pd.to_datetime(df[col], errors="coerce") if col in df else pd.Series(pd.NaT, index=df.index)
        lapsed[name] = tank & (due < day).to_numpy()
        by_owner = pd.Series(owner[lapsed[name]]).value_counts().sort_index()
        out[name] = {"count": int(lapsed[name].sum()), "by_owner": {str(k): int(v) for k, v in by_owner.items()}}
    out["lapsed_tanks"] = int((lapsed["maintenance"] | lapsed["cleaning"]).sum())
    out["basis"] = UPKEEP_BASIS
    out["guidance_basis"] = "浄化槽法 第12条（指導・助言）— 改善指導の目安（法定期限ではない）"
    return out


SHORT_DETOUR_M = 400.0


def _bridge_removals(run: EngineRun, inputs: Inputs, scored: Scored, hazards: dict) -> list[dict]:
    """Poor bridges on quiet, non-emergency roads: the detour on the network without them (the registry's roads
    and the reference roads), and whether keeping them — their repair-based life cycle — costs more than
    removing them and sending the traffic round (domain.md §7)."""
    from clusters.engine.bridge_lcc import keep_cost
    from clusters.engine.consolidation import bridge_keep_or_remove
    from clusters.engine.network import Edges, detour_routes
    from clusters.engine.scoring import state_now

    df, frame, params = inputs.assets, scored.frame, inputs.params
    traffic = df["traffic"].to_numpy(dtype=float)
    screened = ((df["kind"].to_numpy() == "bridge") & (frame["action"].to_numpy() != "monitor")
                & (frame["expected_state"].to_numpy() >= params.bridge_removal_min_state)
                & (traffic <= params.bridge_removal_max_traffic)
                & ~df["emergency"].to_numpy() & ~df["important"].to_numpy() & df["carried_road_id"].notna().to_numpy())
    rows = np.flatnonzero(screened)
    if not len(rows):
        return []
    ids = df["id"].to_numpy()[rows]
    carried = df["carried_road_id"].to_numpy()[rows].astype(np.int64)
    extra = np.full(len(rows), np.nan)
    via: list[frozenset] = [frozenset()] * len(rows)
    # In a dense street grid the way round is a block or two: look close first, and only search the wide
    # area for bridges with no short way round. A way round found within a cutoff is the shortest there is.
    todo = np.arange(len(rows))
    for cutoff in sorted({min(SHORT_DETOUR_M, params.bridge_removal_max_detour_m), params.bridge_removal_max_detour_m}):
        links = load_road_links(carried[todo].tolist(), srid=params.metric_srid, half=cutoff / 2,
                                join=params.reference_road_join_m)
        edges = Edges(links[:, 0].astype(np.int64), *links[:, 1:6].T, reference=links[:, 6])
        found = detour_routes(edges, carried[todo], cutoff, params.network_snap_m)
        extra[todo] = found.extra_m
        for k, used in zip(todo.tolist(), found.via, strict=True):
            via[k] = used
        todo = todo[np.isnan(extra[todo])]
        if not len(todo):
            break
    roads = load_reference_roads(sorted(set().union(*via)))
    info = load_scored_assets(run.pk, ids.tolist())
    deck = np.where(df["deck_m2"].fillna(0).to_numpy() > 0, df["deck_m2"].fillna(0).to_numpy(),
                    df["length_m"].fillna(0).to_numpy() * df["width_m"].fillna(0).to_numpy())
    # Each screened bridge's distribution over Ⅰ–Ⅳ today and when its next 定期点検 falls.
    sub = df.iloc[rows]
    (_kind, _scheme, _local, probs), = state_now(sub, hazards)
    theta = hazards["bridge_kenzen"].theta
    since = np.where(sub["inspected_on"].notna().to_numpy(), sub["years"].to_numpy(dtype=float), np.inf)
    next_check = np.maximum(params.bridge_inspection_interval_years - since, 0.0)
    out = []
    for k, row in enumerate(rows):
        keep = keep_cost(
            deck_m2=float(deck[row]), state_probs=probs[k], theta=theta, repair_state=params.bridge_repair_state,
            age=float(df["age"].iat[row]), life=params.bridge_life_years, next_inspection_in=float(next_check[k]),
            repair_cost_m2=params.cost_bridge_repair_m2, renew_cost_m2=params.cost_bridge_renew_m2,
            inspection_cost=params.cost_bridge_inspection, inspection_interval=params.bridge_inspection_interval_years,
            upkeep_m2_year=params.bridge_om_per_m2_year, rate=params.discount_rate, period=params.lcc_period_years)
        result = bridge_keep_or_remove(
            deck_m2=float(deck[row]), traffic=float(traffic[row]), detour_m=float(extra[k]), keep=keep,
            removal_cost_m2=params.cost_bridge_removal_m2, rate=params.discount_rate,
            cost_per_vehicle_km=params.detour_cost_per_vehicle_km, period=params.lcc_period_years)
        gid, name, owner, cluster_id = info[int(ids[k])]
        registered = df["detour_m"].iloc[row]
        names = sorted({roads[r][0] or roads[r][1] for r in via[k] if r in roads})
        out.append({"asset_id": int(ids[k]), "global_id": gid, "name": name, "owner": owner, "cluster_id": cluster_id,
                    "expected_state": round(float(frame["expected_state"].iloc[row]), 2),
                    "deck_m2": round(float(deck[row]), 1), "age": round(float(df["age"].iat[row]), 1),
                    "registered_detour_m": None if pd.isna(registered) else float(registered), **result.to_dict(),
                    "detour_via_reference": bool(via[k]), "detour_reference_roads": names})
    out.sort(key=lambda r: (r["recommendation"] != "remove", -r["saving_per_year"]))
    by_cluster: dict = {}
    for r in out:
        if r["cluster_id"] is not None:
            by_cluster.setdefault(str(r["cluster_id"]), []).append(r)
    add_consolidation(run.pk, "bridge_removal", by_cluster)
    return out


def _outlook(run: EngineRun, inputs: Inputs, hazards: dict, scored: Scored, lots: Lots) -> None:
    """Every cluster's year-by-year risk and cost of acting, for the multi-year plan."""
    from clusters.engine.outlook import cluster_outlook, cost_now
    from clusters.engine.scoring import state_now

    df, scores, cluster_index, lot_ids = inputs.assets, scored.scores, lots.index, lots.ids
    nows = [(scheme, rows, now) for _kind, scheme, rows, now in state_now(df, hazards)]
    out = cluster_outlook(nows, hazards, scores.cof, scores.repair_cost, scores.renew_cost, cluster_index,
                          len(lot_ids))
    payload = {str(cid): out.for_cluster(k) for k, cid in enumerate(lot_ids.tolist())}
    # Assets with a legal measures deadline (AssetCondition.action_due_on): the same outlook over them alone,
    # so a plan can schedule a lot's mandatory part on its own when the whole lot does not fit.
    due = pd.to_datetime(df["action_due_on"], errors="coerce") if "action_due_on" in df else pd.Series(
        pd.NaT, index=df.index)
    mandatory = due.notna().to_numpy() & (cluster_index >= 0)
    if mandatory.any():
        part_index = np.where(mandatory, cluster_index, -1)
        part = cluster_outlook(nows, hazards, scores.cof, scores.repair_cost, scores.renew_cost, part_index,
                               len(lot_ids))
        now_cost = cost_now(nows, scores.repair_cost, scores.renew_cost, len(df))
        rows = np.flatnonzero(mandatory)
        info = load_graded_assets(df["id"].to_numpy()[rows].tolist())
        by_cluster: dict[int, list] = {}
        for r in rows.tolist():
            aid = int(df["id"].iat[r])
            gid, name, grade, label = info.get(aid, ("", "", "", ""))
            by_cluster.setdefault(int(cluster_index[r]), []).append({
                "id": aid, "global_id": gid, "name": name or "", "owner": str(df["owner"].iat[r]),
                "kind": df["kind"].iat[r], "grade": grade or "", "grade_label": label or "",
                "due": due.iat[r].date().isoformat(), "cost_preventive": round(float(now_cost[r])),
                "cost_corrective": round(float(scores.renew_cost[r]))})
        for k, assets in by_cluster.items():
            shares: dict[str, float] = {}
            for a in assets:
                shares[a["owner"]] = shares.get(a["owner"], 0.0) + a["cost_preventive"]
            payload[str(lot_ids[k])]["mandatory"] = {
                **part.for_cluster(k), "due": min(a["due"] for a in assets), "count": len(assets),
                "cost_shares": shares, "assets": sorted(assets, key=lambda a: (a["due"], a["id"]))}
    store_outlooks(run.pk, payload)


JOINABLE_SHOWN = 50


def _joinable_pairs(clusters) -> list[dict]:
    """Each pair of single-work lots within a contractor's reach once, nearest first (the run page's list)."""
    pairs = {}
    for rank, name, b in clusters.filter(member_count=1).exclude(bundling={}).values_list("rank", "name", "bundling"):
        for j in b.get("joinable", []):
            a, c = sorted([(rank, name), (j["rank"], j["name"])])
            pairs[(a[0], c[0])] = {"a": {"rank": a[0], "name": a[1]}, "b": {"rank": c[0], "name": c[1]},
                                   "distance_m": j["distance_m"]}
    return sorted(pairs.values(), key=lambda p: (p["distance_m"], p["a"]["rank"]))[:JOINABLE_SHOWN]


def _pipe_methods(inputs: Inputs, scored: Scored) -> dict:
    pipes = (inputs.assets["kind"].to_numpy() == "sewer_pipe") & (scored.frame["action"].to_numpy() != "monitor")
    rehab = int((pipes & scored.scores.rehabilitation).sum())
    return {"open_cut": int(pipes.sum()) - rehab, "rehabilitation": rehab}


def _summary(run: EngineRun, inputs: Inputs, hazards: dict, scored: Scored, septic_groups: list[dict],
             bridges: list[dict], timings: dict) -> dict:
    clusters = run.clusters.all()
    frame, scores = scored.frame, scored.scores
    sewer, bases = _sewer_septic_summary(clusters)
    return {
        "assets": int(len(inputs.assets)),
        "acting": int((frame["action"] != "monitor").sum()),
        "clusters": clusters.count(),
        "cross_municipal_clusters": clusters.filter(municipality_count__gt=1).count(),
        "cost_total": float(frame["cost"].sum()),  # the municipalities' part only
        # 設置者負担（参考）: what owners of 個人設置型 tanks pay beside the municipalities' 補助; not in cost_total.
        "owner_cost_total": float(frame["owner_cost"].sum()) if "owner_cost" in frame else 0.0,
        "septic_connection": _septic_connection(inputs),
        "septic_upkeep": _septic_upkeep(inputs, timezone.localdate()),
        "risk_total": float(scores.risk.sum()),
        "risk_removed": float(scores.risk_removed.sum()),
        "septic_groups": septic_groups,
        "bridge_removals": bridges,
        "remove_bridges": sum(b["recommendation"] == "remove" for b in bridges),
        "convert_to_septic": sum(r["recommendation"] == "convert_to_septic" for r in sewer),
        "sewer_septic": sewer,
        "households_basis": bases,
        # Pipes to repair or renew by method: only the open-cut ones dig a trench a road can share (dig once).
        "pipe_renewal_methods": _pipe_methods(inputs, scored),
        # Single-work lots one contractor could take together (まとめて発注できる候補), nearest pairs first.
        "joinable_lots": _joinable_pairs(clusters),
        "hazards": {k: {"theta": [round(x, 5) for x in h.theta], "pairs": h.pairs, "source": h.source,
                        "expected_years_in_state": [round(x, 1) for x in h.expected_sojourn()],
                        "expected_age_at_state": [round(x, 1) for x in h.expected_age_at()]}
                    for k, h in hazards.items()},
        "schemes": SCHEME_OF_KIND,
        # Issue 16: what the engine estimated from defaults (by field and kind), and how complete the data were per
        # municipality and kind when the run read them (ledger.completeness, one grouped query).
        "defaults": defaults_counts(inputs.assets["defaulted"].to_numpy(), inputs.assets["kind"].to_numpy())
        if "defaulted" in inputs.assets else {},
        "completeness": completeness(inputs.codes),
        "timings": timings,
    }
