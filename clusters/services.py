"""Engine runs: create (frozen parameters), execute (read → score → cluster), all results in one transaction."""

import json
import time

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import access
from assets.models import Asset, Region
from clusters import liveness
from clusters.data import load_assets, load_pairs
from clusters.engine.deterioration import estimate
from clusters.engine.lots import Members, aggregate
from clusters.engine.params import Params
from clusters.engine.scoring import COMPONENTS, SCHEME_OF_KIND, score
from clusters.lots import copy_binary, draw_outlines, insert_lots, lot_keys
from clusters.models import ACTIONS, WORK_TYPES, EngineRun, RegionParams
from core.bulk import Clock, bulk_mode
from core.failures import record_failure
from core.wareki import current_fiscal_year

__all__ = ["run_create", "run_execute"]

N_STATES = {"bridge_kenzen": 4, "pavement_shindan": 4, "sewer_kinkyu": 4, "manhole_kinkyu": 4, "septic_hantei": 3}


def dead_message() -> str:
    """Stored on a run whose owner died; in the language of whoever noticed (Japanese by default)."""
    return _("failed: the process running it stopped (killed or crashed); start a new run")


def runs_reap_dead() -> list[int]:
    """Runs whose owner is gone (its advisory lock is free) are marked failed at once; see clusters.liveness."""
    return liveness.reap_dead(EngineRun, liveness.ENGINE_RUN, dead_message())


def run_create(*, principal, region: Region, overrides: dict | None = None) -> EngineRun:
    """Freeze the parameters (defaults ← region's own ← this run's overrides) and queue the run."""
    runs_reap_dead()
    if principal is not None and not access.regions_coordinated(principal).filter(pk=region.pk).exists():
        raise PermissionDenied(_("Only the region's coordinators may run the engine for %s") % region)
    stored = RegionParams.objects.filter(region=region).values_list("params", flat=True).first() or {}
    try:
        params = Params.from_dict({**stored, **(overrides or {})})
    except (ValueError, TypeError) as exc:
        raise ValidationError({"params": str(exc)}) from None
    user = principal if getattr(principal, "is_authenticated", False) and hasattr(principal, "username") else None
    return EngineRun.objects.create(region=region, params=params.to_dict(), created_by=user)


def _progress(run: EngineRun, pct: int, message: str) -> None:
    EngineRun.objects.filter(pk=run.pk).update(progress=pct, message=message)


def _members(region: Region) -> list[str]:
    return list(region.members.values_list("code", flat=True))


def _hazards(codes, params: Params) -> dict:
    pairs = load_pairs(codes)
    out = {}
    for scheme, n in N_STATES.items():
        if scheme == "septic_hantei":
            # Yearly compliance results flip both ways; they are not a wear process to fit a hazard to.
            out[scheme] = estimate([], [], [], n, tuple(params.default_hazards[scheme]))
            continue
        sub = pairs[pairs["scheme"] == scheme]
        out[scheme] = estimate(sub["i"].to_numpy(), sub["j"].to_numpy(), sub["z"].to_numpy(), n,
                               tuple(params.default_hazards[scheme]))
    return out


SCORE_FLOAT = ("expected_state", "lof", "dlof", "cof", "risk", "cost", "risk_removed", "dig_once_saving",
               *[f"c_{c}" for c in COMPONENTS])


def _write_scores(run: EngineRun, ids: np.ndarray, frame: pd.DataFrame, cluster_id: np.ndarray) -> None:
    """Two binary COPYs (members of a lot with their lot, the rest without): formatting a million rows as
    CSV text costs ~30 s, this well under one."""
    action = frame["action"].map({a: i for i, a in enumerate(ACTIONS)}).to_numpy()
    work = frame["work_type"].map({w: i for i, w in enumerate(WORK_TYPES)}).to_numpy()
    for in_lot in (True, False):
        sel = cluster_id >= 0 if in_lot else cluster_id < 0
        if not sel.any():
            continue
        cols = {"run_id": (">i8", np.full(int(sel.sum()), run.pk)), "asset_id": (">i8", ids[sel]),
                "action": (">i2", action[sel]), "work_type": (">i2", work[sel])}
        if in_lot:
            cols["cluster_id"] = (">i8", cluster_id[sel])
        cols.update({c: (">f8", frame[c].to_numpy(dtype=float)[sel]) for c in SCORE_FLOAT})
        with connection.cursor() as cur:
            copy_binary(cur, f"clusters_assetscore ({', '.join(cols)})", cols)


def _verify_scores(run: EngineRun) -> None:
    """With per-row FK triggers off, check in one query that every score points at a stored asset."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM clusters_assetscore s LEFT JOIN assets_asset a ON a.id = s.asset_id "
                    "WHERE s.run_id = %s AND a.id IS NULL", [run.pk])
        missing = cur.fetchone()[0]
    if missing:
        raise RuntimeError(f"{missing} scored assets vanished during the run; nothing was saved")


BRANCHES_SQL = """
SELECT c.id, sum(sp.length_m) AS pipe_m, sum(s.cost) AS cost,
       sum(sp.length_m * %(width)s * coalesce(m.population / nullif(ST_Area(m.boundary::geography), 0), 0))
           / %(pph)s AS households
FROM clusters_cluster c
JOIN clusters_assetscore s ON s.cluster_id = c.id
JOIN assets_sewerpipe sp ON sp.asset_id = s.asset_id AND NOT sp.is_trunk AND NOT sp.is_regional
JOIN assets_asset a ON a.id = s.asset_id
JOIN assets_municipality m ON m.code = a.owner_id
WHERE c.run_id = %(run)s AND c.work_type IN ('sewer', 'road_sewer') AND s.action = 2
GROUP BY c.id
"""


SEPTIC_GROUPS_SQL = """
WITH tanks AS (
    SELECT a.id, a.owner_id, st.households_served AS hh, st.treatment, g.code AS grade,
           ST_Transform(a.geom, %(srid)s) AS g
    FROM assets_asset a
    JOIN assets_septictank st ON st.asset_id = a.id
    LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
    LEFT JOIN inspections_grade g ON g.id = c.grade_id
    WHERE a.status <> 'removed' AND a.owner_id = ANY(%(codes)s)
      AND ((st.treatment = 'single' AND a.built_fiscal_year <= %(old_fy)s) OR g.code = 'improper')
), grouped AS (
    SELECT *, ST_ClusterDBSCAN(g, eps := %(eps)s, minpoints := %(min)s) OVER () AS gid FROM tanks
)
SELECT gid, count(*), sum(hh), array_agg(DISTINCT owner_id ORDER BY owner_id),
       count(*) FILTER (WHERE treatment = 'single'), count(*) FILTER (WHERE grade = 'improper'),
       ST_AsGeoJSON(ST_Transform(ST_Centroid(ST_Collect(g)), 6668), 6)
FROM grouped WHERE gid IS NOT NULL GROUP BY gid ORDER BY count(*) DESC LIMIT 200
"""


def _septic_groups(cur, run: EngineRun, params: Params, codes: list[str]) -> list[dict]:
    """Old 単独処理 or 不適正 tanks close together: candidates for converting together or a shared small plant."""
    old_fy = current_fiscal_year() - int(params.septic_single_renew_age)
    cur.execute(SEPTIC_GROUPS_SQL, {"srid": params.metric_srid, "codes": codes, "old_fy": old_fy,
                                    "eps": params.septic_group_distance_m, "min": params.septic_group_min_tanks})
    return [{"tanks": n, "households": int(hh or 0), "owners": owners, "single": single, "improper": improper,
             "centre": json.loads(centre),
             "conversion_cost": float((hh or n) * params.septic_install_per_household)}
            for _gid, n, hh, owners, single, improper, centre in cur.fetchall()]


def _consolidation(cur, run: EngineRun, params: Params) -> None:
    """For every lot that renews branch sewers: renew, or convert its households to septic tanks?"""
    from clusters.engine.consolidation import sewer_vs_septic
    from clusters.models import Cluster

    cur.execute(BRANCHES_SQL, {"run": run.pk, "width": params.catchment_width_m, "pph": params.persons_per_household})
    updates = []
    for cid, pipe_m, cost, households in cur.fetchall():
        result = sewer_vs_septic(
            pipe_m=pipe_m, households=households, renew_cost=cost, rate=params.discount_rate,
            sewer_life=params.sewer_life_years, sewer_om_per_m=params.sewer_om_per_m_year,
            septic_cost=params.septic_install_per_household, septic_life=params.septic_life_years,
            septic_om=params.septic_om_per_household_year)
        updates.append(Cluster(pk=cid, consolidation={"sewer_vs_septic": result.to_dict()}))
    Cluster.objects.bulk_update(updates, ["consolidation"], batch_size=1000)


SHORT_DETOUR_M = 400.0

# Road links around the carried ones: a way round at most `cutoff` longer than a link stays within
# (its length + cutoff / 2) of it, so each carried link's box is grown by that much, in metres on the ground.
ROAD_LINKS_SQL = """
WITH boxes AS MATERIALIZED (
    SELECT ST_Expand(ST_Envelope(geom), r / (111320 * cos(radians(ST_Y(ST_Centroid(geom))))), r / 110574) AS b
    FROM (SELECT geom, %(half)s + ST_Length(geom::geography) AS r FROM assets_asset WHERE id = ANY(%(links)s)) c
), near AS (
    SELECT DISTINCT ON (ra.id) ra.id, ST_Transform(ra.geom, %(srid)s) AS g
    FROM boxes JOIN assets_asset ra ON ra.geom && boxes.b
    WHERE ra.kind = 'road_segment' AND ra.status <> 'removed'
)
SELECT id, ST_X(p0), ST_Y(p0), ST_X(p1), ST_Y(p1), ST_Length(g)
FROM near, LATERAL (SELECT ST_StartPoint(ST_GeometryN(g, 1)) AS p0,
                           ST_EndPoint(ST_GeometryN(g, ST_NumGeometries(g))) AS p1) e
WHERE GeometryType(g) IN ('LINESTRING', 'MULTILINESTRING')
"""


def _bridge_removals(cur, run: EngineRun, params: Params, df: pd.DataFrame, frame: pd.DataFrame) -> list[dict]:
    """Poor bridges on quiet, non-emergency roads: the detour on the network without them, and whether
    renewing them costs more over their life than removing them and sending the traffic round."""
    from clusters.engine.consolidation import bridge_keep_or_remove
    from clusters.engine.network import Edges, detours

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
    # In a dense street grid the way round is a block or two: look close first, and only search the wide
    # area for bridges with no short way round. A way round found within a cutoff is the shortest there is.
    todo = np.arange(len(rows))
    for cutoff in sorted({min(SHORT_DETOUR_M, params.bridge_removal_max_detour_m), params.bridge_removal_max_detour_m}):
        cur.execute(ROAD_LINKS_SQL, {"links": carried[todo].tolist(), "srid": params.metric_srid, "half": cutoff / 2})
        links = np.array(cur.fetchall(), dtype=float).reshape(-1, 6)
        edges = Edges(links[:, 0].astype(np.int64), *links[:, 1:].T)
        extra[todo] = detours(edges, carried[todo], cutoff, params.network_snap_m)
        todo = todo[np.isnan(extra[todo])]
        if not len(todo):
            break
    cur.execute("SELECT a.id, a.global_id, a.name, a.owner_id, s.cluster_id FROM assets_asset a "
                "JOIN clusters_assetscore s ON s.asset_id = a.id AND s.run_id = %s WHERE a.id = ANY(%s)",
                [run.pk, ids.tolist()])
    info = {r[0]: r[1:] for r in cur.fetchall()}
    deck = np.where(df["deck_m2"].fillna(0).to_numpy() > 0, df["deck_m2"].fillna(0).to_numpy(),
                    df["length_m"].fillna(0).to_numpy() * df["width_m"].fillna(0).to_numpy())
    out = []
    for k, row in enumerate(rows):
        result = bridge_keep_or_remove(
            deck_m2=float(deck[row]), traffic=float(traffic[row]), detour_m=float(extra[k]),
            renew_cost=float(deck[row]) * params.cost_bridge_renew_m2, removal_cost_m2=params.cost_bridge_removal_m2,
            om_per_m2_year=params.bridge_om_per_m2_year, life=params.bridge_life_years, rate=params.discount_rate,
            cost_per_vehicle_km=params.detour_cost_per_vehicle_km, period=params.lcc_period_years)
        gid, name, owner, cluster_id = info[int(ids[k])]
        registered = df["detour_m"].iloc[row]
        out.append({"asset_id": int(ids[k]), "global_id": gid, "name": name, "owner": owner, "cluster_id": cluster_id,
                    "expected_state": round(float(frame["expected_state"].iloc[row]), 2),
                    "deck_m2": round(float(deck[row]), 1),
                    "registered_detour_m": None if pd.isna(registered) else float(registered), **result.to_dict()})
    out.sort(key=lambda r: (r["recommendation"] != "remove", -r["saving_per_year"]))
    by_cluster: dict = {}
    for r in out:
        if r["cluster_id"] is not None:
            by_cluster.setdefault(str(r["cluster_id"]), []).append(r)
    cur.execute("UPDATE clusters_cluster c "
                "SET consolidation = c.consolidation || jsonb_build_object('bridge_removal', x.value) "
                "FROM jsonb_each(%s::jsonb) x WHERE c.id = x.key::bigint AND c.run_id = %s",
                [json.dumps(by_cluster), run.pk])
    return out


def _outlook(cur, run: EngineRun, df: pd.DataFrame, hazards: dict, scores, cluster_index: np.ndarray,
             lot_ids: np.ndarray) -> None:
    """Every cluster's year-by-year risk and cost of acting, for the multi-year plan."""
    from clusters.engine.outlook import cluster_outlook, cost_now
    from clusters.engine.scoring import state_now

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
        cur.execute("SELECT a.id, a.global_id, a.name, g.code, g.label FROM assets_asset a "
                    "LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id "
                    "LEFT JOIN inspections_grade g ON g.id = c.grade_id WHERE a.id = ANY(%s)",
                    [df["id"].to_numpy()[rows].tolist()])
        info = {r[0]: r[1:] for r in cur.fetchall()}
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
    cur.execute("UPDATE clusters_cluster c SET outlook = x.value FROM jsonb_each(%s::jsonb) x "
                "WHERE c.id = x.key::bigint AND c.run_id = %s", [json.dumps(payload), run.pk])


def run_execute(run_id: int) -> EngineRun:
    run = EngineRun.objects.select_related("region").get(pk=run_id)
    # The owner holds the run's advisory lock from before the claim until the end, so a run that says
    # 'running' always has a live owner, or is dead and found so by runs_reap_dead.
    with liveness.owning(liveness.ENGINE_RUN, run.pk) as owned:
        if not owned:
            return run
        # Claim the run exactly once: a retried or duplicated task finds it no longer queued and stops.
        claimed = EngineRun.objects.filter(pk=run.pk, status=EngineRun.Status.QUEUED).update(
            status=EngineRun.Status.RUNNING, started_at=timezone.now(), progress=1, message="reading")
        if claimed != 1:
            return run
        return _execute_claimed(run)


def _execute_claimed(run: EngineRun) -> EngineRun:
    t0 = time.perf_counter()
    clock = Clock()
    lap, timings = clock.lap, clock.laps
    try:
        params = Params.from_dict(run.params)
        codes = _members(run.region)
        today = timezone.localdate()
        data_ts = Asset.objects.filter(owner_id__in=codes).aggregate(t=Max("updated_at"))["t"]
        df = load_assets(codes, today)
        lap("read_assets")
        _progress(run, 20, "estimating deterioration")
        hazards = _hazards(codes, params)
        lap("estimate_hazards")
        _progress(run, 40, "scoring")
        scores = score(df, hazards, params)
        frame = scores.frame()
        frame["dlof"] = np.where(frame["action"] != "monitor", np.maximum(scores.lof - scores.lof_after, 0), 0.0)
        lap("score")
        _progress(run, 60, "clustering")
        with transaction.atomic():
            with connection.cursor() as cur:
                bulk = bulk_mode(cur)
            ids = df["id"].to_numpy()
            acting = np.flatnonzero(frame["action"].to_numpy() != "monitor")
            keys = lot_keys(ids[acting], frame["work_type"].to_numpy()[acting], srid=params.metric_srid,
                            eps=params.cluster_distance_m, max_lot=params.max_lot_members, cell=params.lot_cell_m)
            lap("cluster")
            members = Members(keys, df["owner"].astype(str).to_numpy()[acting], df["kind"].to_numpy()[acting],
                              frame["action"].to_numpy()[acting], frame["work_type"].to_numpy()[acting],
                              frame["cost"].to_numpy()[acting], frame["dig_once_saving"].to_numpy()[acting],
                              frame["risk_removed"].to_numpy()[acting], frame["dlof"].to_numpy()[acting],
                              scores.components[acting])
            lots, lot_of = aggregate(members, params.weights, params.mobilization_per_contract, params.objective)
            lot_ids = insert_lots(run.pk, lots)
            draw_outlines(run.pk)
            lap("aggregate")
            cluster_index = np.full(len(df), -1)
            cluster_index[acting] = lot_of
            cluster_id = np.full(len(df), -1, dtype=np.int64)
            cluster_id[acting] = lot_ids[lot_of]
            _write_scores(run, ids, frame, cluster_id)
            if bulk:
                _verify_scores(run)
            lap("write_scores")
            with connection.cursor() as cur:
                cur.execute("ANALYZE clusters_assetscore")
                _consolidation(cur, run, params)
                septic_groups = _septic_groups(cur, run, params, codes)
                bridges = _bridge_removals(cur, run, params, df, frame)
                lap("consolidation")
                _outlook(cur, run, df, hazards, scores, cluster_index, lot_ids)
                lap("outlook")
            clusters = run.clusters.all()
            summary = {
                "assets": int(len(df)),
                "acting": int((frame["action"] != "monitor").sum()),
                "clusters": clusters.count(),
                "cross_municipal_clusters": clusters.filter(municipality_count__gt=1).count(),
                "cost_total": float(frame["cost"].sum()),
                "risk_total": float(scores.risk.sum()),
                "risk_removed": float(scores.risk_removed.sum()),
                "septic_groups": septic_groups,
                "bridge_removals": bridges,
                "remove_bridges": sum(b["recommendation"] == "remove" for b in bridges),
                "convert_to_septic": clusters.filter(
                    consolidation__sewer_vs_septic__recommendation="convert_to_septic").count(),
                "hazards": {k: {"theta": [round(x, 5) for x in h.theta], "pairs": h.pairs, "source": h.source,
                                "expected_years_in_state": [round(x, 1) for x in h.expected_sojourn()],
                                "expected_age_at_state": [round(x, 1) for x in h.expected_age_at()]}
                            for k, h in hazards.items()},
                "schemes": SCHEME_OF_KIND,
                "timings": timings,
            }
            duration = time.perf_counter() - t0
            EngineRun.objects.filter(pk=run.pk).update(
                status=EngineRun.Status.DONE, progress=100, message="done", summary=summary, data_timestamp=data_ts,
                finished_at=timezone.now(), duration_s=round(duration, 2))
    except Exception as exc:
        message, detail = record_failure(exc, what=_("Engine run"), pk=run.pk)
        EngineRun.objects.filter(pk=run.pk).update(status=EngineRun.Status.FAILED, error=detail,
                                                   message=message, finished_at=timezone.now())
        raise
    run.refresh_from_db()
    return run
