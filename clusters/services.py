"""Engine runs: create (frozen parameters), execute (read → score → cluster), all results in one transaction."""

import datetime
import json
import time
import traceback

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import access
from assets.bulkdb import Clock, bulk_mode
from assets.models import Asset, Region
from clusters.data import load_assets, load_pairs
from clusters.engine.deterioration import estimate
from clusters.engine.params import Params
from clusters.engine.scoring import COMPONENTS, SCHEME_OF_KIND, score
from clusters.models import ACTIONS, WORK_TYPES, EngineRun, RegionParams

__all__ = ["run_create", "run_execute"]

N_STATES = {"bridge_kenzen": 4, "pavement_shindan": 4, "sewer_kinkyu": 4, "manhole_kinkyu": 4, "septic_hantei": 3}


STALE_AFTER_S = 2 * 3600


def runs_mark_stale() -> int:
    """Runs whose worker died mid-way stay 'running' forever; after two hours they are marked failed."""
    cutoff = timezone.now() - datetime.timedelta(seconds=STALE_AFTER_S)
    return EngineRun.objects.filter(status=EngineRun.Status.RUNNING, started_at__lt=cutoff).update(
        status=EngineRun.Status.FAILED, message="interrupted (no progress for two hours)", finished_at=timezone.now())


def run_create(*, principal, region: Region, overrides: dict | None = None) -> EngineRun:
    """Freeze the parameters (defaults ← region's own ← this run's overrides) and queue the run."""
    runs_mark_stale()
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


SCORE_INT = ("run_id", "asset_id")
SCORE_SMALL = ("action", "work_type")
SCORE_FLOAT = ("expected_state", "lof", "dlof", "cof", "risk", "cost", "risk_removed", "dig_once_saving",
               *[f"c_{c}" for c in COMPONENTS])


def _write_scores(run: EngineRun, ids: np.ndarray, frame: pd.DataFrame) -> None:
    """Binary COPY built as one numpy record array: formatting a million rows as CSV text costs ~30 s,
    this costs well under one."""
    cols = [*SCORE_INT, *SCORE_SMALL, *SCORE_FLOAT]
    n = len(frame)
    dtype = [("nfields", ">i2")]
    for c in cols:
        size, code = (8, ">i8") if c in SCORE_INT else (2, ">i2") if c in SCORE_SMALL else (8, ">f8")
        dtype += [(f"len_{c}", ">i4"), (c, code)]
    rec = np.empty(n, dtype=dtype)
    rec["nfields"] = len(cols)
    values = {"run_id": np.full(n, run.pk), "asset_id": ids,
              "action": frame["action"].map({a: i for i, a in enumerate(ACTIONS)}).to_numpy(),
              "work_type": frame["work_type"].map({w: i for i, w in enumerate(WORK_TYPES)}).to_numpy()}
    for c in cols:
        rec[f"len_{c}"] = 8 if c in SCORE_INT or c in SCORE_FLOAT else 2
        rec[c] = values[c] if c in values else frame[c].to_numpy(dtype=float)
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    with connection.cursor() as cur, cur.cursor.copy(
            f"COPY clusters_assetscore ({', '.join(cols)}) FROM STDIN WITH (FORMAT binary)") as cp:
        cp.write(header)
        step = 200_000
        for start in range(0, n, step):
            cp.write(rec[start:start + step].tobytes())
        cp.write((-1).to_bytes(2, "big", signed=True))


def _verify_scores(run: EngineRun) -> None:
    """With per-row FK triggers off, check in one query that every score points at a stored asset."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM clusters_assetscore s LEFT JOIN assets_asset a ON a.id = s.asset_id "
                    "WHERE s.run_id = %s AND a.id IS NULL", [run.pk])
        missing = cur.fetchone()[0]
    if missing:
        raise RuntimeError(f"{missing} scored assets vanished during the run; nothing was saved")


CLUSTER_SQL = """
WITH acting AS (
    SELECT s.id, s.work_type, ST_Transform(a.geom, %(srid)s) AS g
    FROM clusters_assetscore s JOIN assets_asset a ON a.id = s.asset_id
    WHERE s.run_id = %(run)s AND s.action <> 0
), c AS (
    SELECT id, work_type, g,
           ST_ClusterDBSCAN(g, eps := %(eps)s, minpoints := 1) OVER (PARTITION BY work_type) AS cid
    FROM acting
), sized AS (
    SELECT *, count(*) OVER (PARTITION BY work_type, cid) AS n FROM c
), split AS (
    SELECT id, work_type, cid,
           CASE WHEN n > %(max_lot)s
                THEN floor(ST_X(ST_Centroid(g)) / %(cell)s)::bigint || '_' || floor(ST_Y(ST_Centroid(g)) / %(cell)s)::bigint
                ELSE '0' END AS sub
    FROM sized
)
UPDATE clusters_assetscore s
SET cluster_key = (ARRAY['road', 'sewer', 'bridge', 'septic', 'road_sewer'])[split.work_type + 1]
                  || '-' || split.cid || '.' || split.sub
FROM split WHERE s.id = split.id
"""

AGGREGATE_SQL = """
WITH m AS MATERIALIZED (
    SELECT s.*, a.owner_id, a.kind, ST_Transform(a.geom, %(srid)s) AS g
    FROM clusters_assetscore s JOIN assets_asset a ON a.id = s.asset_id
    WHERE s.run_id = %(run)s AND s.cluster_key <> ''
), shares AS MATERIALIZED (
    SELECT cluster_key, jsonb_object_agg(owner_id, round(cost::numeric)) AS cost_shares, count(*) AS n_owners
    FROM (SELECT cluster_key, owner_id, sum(cost) AS cost FROM m GROUP BY 1, 2) o GROUP BY 1
), mix AS MATERIALIZED (
    SELECT cluster_key, jsonb_object_agg(kind_action, n) AS action_mix
    FROM (SELECT cluster_key, kind || ':' || (ARRAY['monitor', 'repair', 'renew'])[action + 1] AS kind_action,
                 count(*) AS n FROM m GROUP BY 1, 2) t
    GROUP BY 1
), agg AS MATERIALIZED (
    SELECT cluster_key, (ARRAY['road', 'sewer', 'bridge', 'septic', 'road_sewer'])[min(work_type) + 1] AS work_type,
           count(*) AS member_count, sum(cost) AS cost_members,
           sum(dig_once_saving) AS dig_once, sum(risk_removed) AS risk_removed,
           jsonb_build_object(
               'traffic', sum(dlof * c_traffic) * %(w_traffic)s,
               'emergency_route', sum(dlof * c_emergency_route) * %(w_emergency_route)s,
               'served', sum(dlof * c_served) * %(w_served)s,
               'depth', sum(dlof * c_depth) * %(w_depth)s,
               'road_above', sum(dlof * c_road_above) * %(w_road_above)s,
               'important_facility', sum(dlof * c_important_facility) * %(w_important_facility)s,
               'detour', sum(dlof * c_detour) * %(w_detour)s) AS drivers,
           ST_Multi(ST_Transform(ST_Buffer(ST_ConvexHull(ST_Collect(g)), 25), 6668)) AS geom
    FROM m GROUP BY cluster_key
)
INSERT INTO clusters_cluster (run_id, key, work_type, member_count, municipality_count, cost_shares, action_mix,
                              drivers, cost_members, mobilization, dig_once_saving, bundling_saving, total_cost,
                              risk_removed, risk_per_myen, geom, consolidation)
SELECT %(run)s, agg.cluster_key, agg.work_type, agg.member_count, shares.n_owners, shares.cost_shares,
       mix.action_mix, agg.drivers, agg.cost_members, %(mob)s, agg.dig_once,
       -- Contracting separately: one contract per owner, and separate road and sewer contracts.
       (shares.n_owners - 1) * %(mob)s + agg.dig_once
           + CASE WHEN agg.work_type = 'road_sewer' THEN shares.n_owners * %(mob)s ELSE 0 END,
       agg.cost_members + %(mob)s - agg.dig_once,
       agg.risk_removed,
       agg.risk_removed / greatest(agg.cost_members + %(mob)s - agg.dig_once, 1) * 1e6,
       agg.geom, '{}'::jsonb
FROM agg JOIN shares USING (cluster_key) JOIN mix USING (cluster_key)
"""

RANK_SQL = """
UPDATE clusters_cluster c SET rank = r.rank FROM (
    SELECT id, row_number() OVER (ORDER BY {order} DESC, id) AS rank FROM clusters_cluster WHERE run_id = %(run)s
) r WHERE c.id = r.id;
UPDATE clusters_assetscore s SET cluster_id = c.id FROM clusters_cluster c
WHERE c.run_id = %(run)s AND s.run_id = %(run)s AND s.cluster_key = c.key;
"""
OBJECTIVES = {"risk_per_yen": "risk_per_myen", "risk_removed": "risk_removed", "saving": "bundling_saving"}


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
    old_fy = timezone.localdate().year - int(params.septic_single_renew_age)
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


ROAD_LINKS_SQL = """
WITH near AS (
    SELECT DISTINCT ra.id
    FROM assets_asset c JOIN assets_asset ra ON ST_DWithin(ra.geom, c.geom, %(deg)s)
    WHERE c.id = ANY(%(bridges)s) AND ra.kind = 'road_segment' AND ra.status <> 'removed'
), g AS (
    SELECT near.id, ST_Transform(a.geom, %(srid)s) AS g FROM near JOIN assets_asset a ON a.id = near.id
)
SELECT id, ST_X(p0), ST_Y(p0), ST_X(p1), ST_Y(p1), ST_Length(g)
FROM g, LATERAL (SELECT ST_StartPoint(ST_GeometryN(g, 1)) AS p0,
                        ST_EndPoint(ST_GeometryN(g, ST_NumGeometries(g))) AS p1) e
WHERE GeometryType(g) IN ('LINESTRING', 'MULTILINESTRING')
"""

# Degrees of latitude or longitude per metre, rounded so that a radius in degrees covers at least as many metres
# anywhere in Japan (a degree of longitude is 78 km at 45° N).
M_PER_DEGREE_MIN = 78_000


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
    cur.execute(ROAD_LINKS_SQL, {"bridges": ids.tolist(), "srid": params.metric_srid,
                                 "deg": (params.bridge_removal_max_detour_m / 2 + 1000) / M_PER_DEGREE_MIN})
    links = np.array(cur.fetchall(), dtype=float).reshape(-1, 6)
    edges = Edges(links[:, 0].astype(np.int64), *links[:, 1:].T)
    extra = detours(edges, df["carried_road_id"].to_numpy()[rows].astype(np.int64),
                    params.bridge_removal_max_detour_m, params.network_snap_m)
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


def run_execute(run_id: int) -> EngineRun:
    run = EngineRun.objects.select_related("region").get(pk=run_id)
    t0 = time.perf_counter()
    clock = Clock()
    lap, timings = clock.lap, clock.laps

    # Claim the run exactly once: a retried or duplicated task finds it no longer queued and stops.
    claimed = EngineRun.objects.filter(pk=run.pk, status=EngineRun.Status.QUEUED).update(
        status=EngineRun.Status.RUNNING, started_at=timezone.now(), progress=1, message="reading")
    if claimed != 1:
        return run
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
            _write_scores(run, df["id"].to_numpy(), frame)
            if bulk:
                _verify_scores(run)
            lap("write_scores")
            with connection.cursor() as cur:
                cur.execute("ANALYZE clusters_assetscore")
                cur.execute(CLUSTER_SQL, {"run": run.pk, "srid": params.metric_srid, "eps": params.cluster_distance_m,
                                          "max_lot": params.max_lot_members, "cell": params.lot_cell_m})
                # Statistics after the lots are known, so the aggregation is planned for their real number.
                cur.execute("ANALYZE clusters_assetscore")
                lap("cluster")
                weights = {f"w_{k}": float(params.weights.get(k, 0.0)) for k in COMPONENTS}
                cur.execute(AGGREGATE_SQL, {"run": run.pk, "srid": params.metric_srid,
                                            "mob": params.mobilization_per_contract, **weights})
                cur.execute(RANK_SQL.format(order=OBJECTIVES.get(params.objective, "risk_per_myen")), {"run": run.pk})
                lap("aggregate")
                _consolidation(cur, run, params)
                septic_groups = _septic_groups(cur, run, params, codes)
                bridges = _bridge_removals(cur, run, params, df, frame)
                lap("consolidation")
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
        EngineRun.objects.filter(pk=run.pk).update(status=EngineRun.Status.FAILED, error=traceback.format_exc(),
                                                   message=str(exc)[:200], finished_at=timezone.now())
        raise
    run.refresh_from_db()
    return run
