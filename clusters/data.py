"""Reads for the engine: one set-based COPY per data set, straight into pandas, and the few set-based reads
that the analyses of a run's lots make. The only SQL the engine needs to see the registry; the scoring itself
never touches the database."""

import io
from datetime import date

import numpy as np
import pandas as pd
from django.db import connection
from psycopg import sql

from assets.kinds import DETAIL_JOINS
from clusters.engine import defaults
from clusters.engine.params import Params
from core.wareki import fiscal_year

# The road a bridge carries: the nearest road segment within about 5 m (0.00006°). Its traffic and 緊急輸送道路
# status are the bridge's, and removing the bridge takes that link out of the network.
ASSETS = """
WITH carried AS (
    SELECT b.asset_id, r.road_id, r.traffic_volume, r.is_emergency_route
    FROM assets_bridge b JOIN assets_asset ba ON ba.id = b.asset_id
    CROSS JOIN LATERAL (
        SELECT rs.asset_id AS road_id, rs.traffic_volume, rs.is_emergency_route
        FROM assets_asset ra JOIN assets_roadsegment rs ON rs.asset_id = ra.id
        WHERE ra.kind = 'road_segment' AND ra.status <> 'removed' AND ST_DWithin(ra.geom, ba.geom, 0.00006)
        ORDER BY ra.geom <-> ba.geom LIMIT 1) r
    WHERE ba.status <> 'removed' AND (ba.owner_id = ANY({codes}) OR ba.operator_id = ANY({codes}))
)
SELECT a.id, a.kind, a.owner_id AS owner, a.built_fiscal_year AS built, a.serves_important_facility AS important,
       -- A completed repair after the latest inspection brings the asset back to its scheme's best state.
       CASE WHEN c.treated_by_id IS NOT NULL THEN 0 ELSE g.rank END AS state, c.inspected_on, c.action_due_on,
       coalesce(rd.traffic_volume, cr.traffic_volume, rs.traffic_volume) AS traffic,
       coalesce(rd.is_emergency_route, cr.is_emergency_route, rs.is_emergency_route) AS emergency,
       cr.road_id AS carried_road_id,
       coalesce(rd.length_m, br.length_m, sp.length_m, rs.length_m) AS length_m,
       coalesce(rd.width_m, br.width_m, rs.width_m) AS width_m,
       br.deck_area_m2 AS deck_m2, br.detour_length_m AS detour_m,
       sp.diameter_mm, coalesce(sp.cover_depth_m, mh.depth_m) AS depth_m, sp.is_regional AS regional,
       sp.renewal_method,
       sp.road_segment_id AS road_id, st.capacity_persons AS capacity, st.households_served AS households,
       st.treatment = 'single' AS single, st.treatment IS NOT NULL AS treatment_known,
       st.ownership = 'private' AS private,
       -- Inside a 下水道計画区域: flagged on the tank, or within a planning-area polygon (assets.SewerPlanArea).
       CASE WHEN st.asset_id IS NOT NULL THEN st.in_sewer_planning_area
            OR EXISTS (SELECT 1 FROM assets_sewerplanarea pa WHERE ST_Intersects(pa.geom, a.geom)) END AS in_sewer_area,
       c.maintenance_due_on, c.cleaning_due_on, c.guidance_due_on,
       -- A line without a ledger length: its geometry's, measured only for those (clusters.engine.defaults).
       CASE WHEN coalesce(rd.length_m, br.length_m, sp.length_m, rs.length_m) IS NULL
                 AND GeometryType(a.geom) IN ('LINESTRING', 'MULTILINESTRING')
            THEN ST_Length(a.geom::geography) END AS geom_length_m
FROM assets_asset a
LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
LEFT JOIN inspections_grade g ON g.id = c.grade_id
LEFT JOIN carried cr ON cr.asset_id = a.id
""" + DETAIL_JOINS + """
WHERE a.status <> 'removed' AND (a.owner_id = ANY({codes}) OR a.operator_id = ANY({codes}))
ORDER BY a.id
"""

# A pair of inspections that spans a completed measure which changes the condition (補修, 更新, 管更生, 応急措置 …)
# is not wear: the repair would read as negative deterioration, so such pairs are left out. A measure completed
# on the day of an inspection counts as after it (as the condition table reads it).
PAIRS = """
SELECT scheme, i, j, z FROM (
    SELECT s.code AS scheme, x.asset_id,
           lag(g.rank) OVER w AS i, g.rank AS j,
           lag(x.inspected_on) OVER w AS before_on, x.inspected_on AS after_on,
           (x.inspected_on - lag(x.inspected_on) OVER w) / 365.25 AS z
    FROM inspections_inspection x
    JOIN inspections_grade g ON g.id = x.grade_id
    JOIN inspections_gradingscheme s ON s.id = x.scheme_id AND s.record_type = 'inspection'
    JOIN assets_asset a ON a.id = x.asset_id
    WHERE (a.owner_id = ANY({codes}) OR a.operator_id = ANY({codes})) AND x.withdrawn_at IS NULL
    WINDOW w AS (PARTITION BY x.asset_id, s.code ORDER BY x.inspected_on, x.id)
) t WHERE i IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM inspections_measure m
    JOIN inspections_measurekind k ON k.id = m.kind_id AND k.changes_condition
    WHERE m.asset_id = t.asset_id AND m.completed_on >= t.before_on AND m.completed_on < t.after_on
)
"""


def _copy_frame(query: str, codes: list[str]) -> pd.DataFrame:
    stmt = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(
        sql.SQL(query).format(codes=sql.Literal(list(codes))))
    buf = io.BytesIO()
    with connection.cursor() as cur, cur.cursor.copy(stmt) as cp:
        for chunk in cp:
            buf.write(chunk)
    buf.seek(0)
    return pd.read_csv(buf, low_memory=False)


def load_assets(codes: list[str], today: date, params: Params | None = None) -> pd.DataFrame:
    """One row per asset. What the ledger leaves empty is filled from documented defaults (clusters.engine.defaults)
    and each row's `defaulted` mask says which fields were."""
    df = _copy_frame(ASSETS, codes)
    inspected = pd.to_datetime(df["inspected_on"], errors="coerce")
    since = (pd.Timestamp(today) - inspected).dt.days.to_numpy() / 365.25
    fy = fiscal_year(today)
    df["treatment_known"] = df["treatment_known"].map({"t": True, "f": False, True: True, False: False}).fillna(True)
    df["defaulted"] = defaults.fill(df, params or Params(), fy)
    # An uninspected asset is judged by its age from the start of its built 年度 (April) to the start of the
    # current 年度's last quarter (January), so one age holds all 年度 long; an unknown year is estimated above.
    age = fy + 0.75 - df["built"].to_numpy(dtype=float)
    # A road's surface is renewed every couple of decades, so its construction year overstates the wear
    # of a surface nobody has inspected.
    age_for_wear = np.where(df["kind"].to_numpy() == "road_segment", np.minimum(age, 20.0), age)
    df["years"] = np.where(np.isnan(since), np.maximum(age_for_wear, 0.0), since)
    df["state"] = df["state"].fillna(-1).astype(int)
    for col in ("important", "emergency", "regional", "single", "private", "in_sewer_area"):
        df[col] = df[col].map({"t": True, "f": False, True: True, False: False}).astype("boolean").fillna(False)
        df[col] = df[col].astype(bool)
    df["age"] = np.maximum(age, 0.0)
    pos = pd.Series(np.arange(len(df)), index=df["id"])
    road = df["road_id"]
    # The scorer links a pipe to the road above it by row, to add that road's consequence to the pipe's.
    df["road_row"] = road.map(pos).fillna(-1).astype(int)
    return df


def load_pairs(codes: list[str]) -> pd.DataFrame:
    return _copy_frame(PAIRS, codes)


# The branch sewers a lot renews, one row per pipe: its 取付管数 as the ledger gives it (NULL: unknown) and the
# households a strip `width` wide would hold at its owner's population density, the fallback. The registry has
# no building layer, so there is no building count to fall back on first.
BRANCH_PIPES = """
WITH pipes AS (
    SELECT c.id, c.key, a.owner_id, sp.length_m, s.cost, sp.house_connections
    FROM clusters_cluster c
    JOIN clusters_assetscore s ON s.cluster_id = c.id
    JOIN assets_sewerpipe sp ON sp.asset_id = s.asset_id AND NOT sp.is_trunk AND NOT sp.is_regional
    JOIN assets_asset a ON a.id = s.asset_id
    WHERE c.run_id = %(run)s AND c.work_type IN ('sewer', 'road_sewer') AND s.action = 2
), density AS MATERIALIZED (
    SELECT m.code, coalesce(m.population / nullif(ST_Area(m.boundary::geography), 0), 0) AS per_m2
    FROM assets_municipality m WHERE m.code IN (SELECT DISTINCT owner_id FROM pipes)
)
SELECT p.id, p.key, p.length_m, p.cost, p.house_connections,
       p.length_m * %(width)s * coalesce(d.per_m2, 0) / %(pph)s AS density_households
FROM pipes p LEFT JOIN density d ON d.code = p.owner_id
ORDER BY p.id
"""

# Tanks inside a 下水道計画区域 (flagged, or within a SewerPlanArea polygon) are connection cases (下水道法 第10条
# 接続義務), never conversion candidates: left out.
SEPTIC_GROUPS = """
WITH tanks AS (
    SELECT a.id, a.owner_id, st.households_served AS hh, st.treatment, st.ownership, g.code AS grade,
           ST_Transform(a.geom, %(srid)s) AS g
    FROM assets_asset a
    JOIN assets_septictank st ON st.asset_id = a.id
    LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
    LEFT JOIN inspections_grade g ON g.id = c.grade_id
    WHERE a.status <> 'removed' AND a.owner_id = ANY(%(codes)s)
      AND NOT st.in_sewer_planning_area
      AND NOT EXISTS (SELECT 1 FROM assets_sewerplanarea pa WHERE ST_Intersects(pa.geom, a.geom))
      AND ((st.treatment = 'single' AND a.built_fiscal_year <= %(old_fy)s) OR g.code = 'improper')
), grouped AS (
    SELECT *, ST_ClusterDBSCAN(g, eps := %(eps)s, minpoints := %(min)s) OVER () AS gid FROM tanks
)
SELECT gid, count(*), sum(hh), array_agg(DISTINCT owner_id ORDER BY owner_id),
       count(*) FILTER (WHERE treatment = 'single'), count(*) FILTER (WHERE grade = 'improper'),
       ST_AsGeoJSON(ST_Transform(ST_Centroid(ST_Collect(g)), 6668), 6),
       array_agg(owner_id ORDER BY id), array_agg(ownership = 'private' ORDER BY id),
       array_agg(coalesce(hh, 1) ORDER BY id)
FROM grouped WHERE gid IS NOT NULL GROUP BY gid ORDER BY count(*) DESC LIMIT 200
"""

# Tanks inside a 下水道計画区域: 下水道法 第10条 obliges connection once the sewer is there, so they are 接続指導
# cases, not conversions; counted per owner, and those the engine would otherwise convert (old 単独 or 不適正).
SEPTIC_CONNECTION = """
SELECT a.owner_id, count(*),
       count(*) FILTER (WHERE (st.treatment = 'single' AND a.built_fiscal_year <= %(old_fy)s) OR g.code = 'improper')
FROM assets_asset a
JOIN assets_septictank st ON st.asset_id = a.id
LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
LEFT JOIN inspections_grade g ON g.id = c.grade_id
WHERE a.status <> 'removed' AND a.owner_id = ANY(%(codes)s)
  AND (st.in_sewer_planning_area
       OR EXISTS (SELECT 1 FROM assets_sewerplanarea pa WHERE ST_Intersects(pa.geom, a.geom)))
GROUP BY a.owner_id ORDER BY a.owner_id
"""

# Road links around the carried ones: a way round at most `cutoff` longer than a link stays within
# (its length + cutoff / 2) of it, so each carried link's box is grown by that much, in metres on the ground.
# The registry's road segments, and the reference roads (国道・都道府県道 it does not hold) cut into pieces at
# every road end within `join` metres of them: a piece runs from that end itself, so a municipal road meeting a
# national road joins it although the two were digitised apart. Reference pieces get negative ids and carry
# their reference road's id.
ROAD_LINKS = """
WITH boxes AS MATERIALIZED (
    SELECT ST_Expand(ST_Envelope(geom), r / (111320 * cos(radians(ST_Y(ST_Centroid(geom))))), r / 110574) AS b
    FROM (SELECT geom, %(half)s + ST_Length(geom::geography) AS r FROM assets_asset WHERE id = ANY(%(links)s)) c
), near AS (
    SELECT DISTINCT ON (ra.id) ra.id, ST_Transform(ra.geom, %(srid)s) AS g
    FROM boxes JOIN assets_asset ra ON ra.geom && boxes.b
    WHERE ra.kind = 'road_segment' AND ra.status <> 'removed'
), links AS MATERIALIZED (
    SELECT id, ST_StartPoint(ST_GeometryN(g, 1)) AS p0, ST_EndPoint(ST_GeometryN(g, ST_NumGeometries(g))) AS p1,
           ST_Length(g) AS len
    FROM near WHERE GeometryType(g) IN ('LINESTRING', 'MULTILINESTRING')
), ref AS MATERIALIZED (
    SELECT DISTINCT ON (rr.id) rr.id, ST_Transform(rr.geom, %(srid)s) AS g
    FROM boxes JOIN clusters_referenceroad rr ON rr.geom && boxes.b
), ends AS (
    SELECT p0 AS p FROM links UNION SELECT p1 FROM links
    UNION SELECT ST_StartPoint(g) FROM ref UNION SELECT ST_EndPoint(g) FROM ref
), cuts AS (
    SELECT DISTINCT r.id, ST_LineLocatePoint(r.g, e.p) AS f, e.p
    FROM ref r JOIN ends e ON ST_DWithin(r.g, e.p, %(join)s)
), pieces AS (
    SELECT id, f, p, lead(f) OVER w AS f1, lead(p) OVER w AS q
    FROM cuts WINDOW w AS (PARTITION BY id ORDER BY f, ST_X(p), ST_Y(p))
)
SELECT id, ST_X(p0), ST_Y(p0), ST_X(p1), ST_Y(p1), len, NULL::bigint FROM links
UNION ALL
SELECT -row_number() OVER (), ST_X(pc.p), ST_Y(pc.p), ST_X(pc.q), ST_Y(pc.q),
       greatest(ST_Length(ST_LineSubstring(r.g, pc.f, pc.f1)), ST_Distance(pc.p, pc.q)), pc.id
FROM pieces pc JOIN ref r ON r.id = pc.id
WHERE pc.q IS NOT NULL AND NOT ST_Equals(pc.p, pc.q)
"""

SCORED_ASSETS = """
SELECT a.id, a.global_id, a.name, a.owner_id, s.cluster_id FROM assets_asset a
JOIN clusters_assetscore s ON s.asset_id = a.id AND s.run_id = %s WHERE a.id = ANY(%s)
"""

GRADED_ASSETS = """
SELECT a.id, a.global_id, a.name, g.code, g.label FROM assets_asset a
LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
LEFT JOIN inspections_grade g ON g.id = c.grade_id WHERE a.id = ANY(%s)
"""


def _fetch(query: str, params) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def load_branch_pipes(run_id: int, *, width: float, persons_per_household: float) -> pd.DataFrame:
    """One row per branch pipe a lot renews: lot id and key, length, renewal cost, 取付管数 (NaN: unknown) and
    the density estimate of its households, ordered by lot."""
    rows = _fetch(BRANCH_PIPES, {"run": run_id, "width": width, "pph": persons_per_household})
    frame = pd.DataFrame(rows, columns=["lot", "key", "length_m", "cost", "house_connections", "density_households"])
    for col in ("length_m", "cost", "house_connections", "density_households"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def load_septic_groups(codes: list[str], *, srid: int, old_fy: int, eps: float, min_tanks: int) -> list[tuple]:
    """(group, tanks, households, owners, single, improper, centre GeoJSON, and per tank: owner, private,
    households) of old or improper tanks outside the 下水道計画区域 close together, largest first."""
    return _fetch(SEPTIC_GROUPS, {"srid": srid, "codes": codes, "old_fy": old_fy, "eps": eps, "min": min_tanks})


def load_septic_connection_cases(codes: list[str], *, old_fy: int) -> list[tuple]:
    """(owner, tanks inside a 下水道計画区域, of which old 単独 or 不適正) per owner."""
    return _fetch(SEPTIC_CONNECTION, {"codes": codes, "old_fy": old_fy})


def load_road_links(links: list[int], *, srid: int, half: float, join: float) -> np.ndarray:
    """(id, x0, y0, x1, y1, length, reference road id or NaN) in `srid` of the road links within reach of
    these links — the registry's and the reference roads' pieces — as floats."""
    rows = _fetch(ROAD_LINKS, {"links": links, "srid": srid, "half": half, "join": join})
    return np.array(rows, dtype=float).reshape(-1, 7)


def load_reference_roads(ids: list[int]) -> dict[int, tuple[str, str]]:
    """Reference road id → (name, road class)."""
    return {r[0]: r[1:] for r in _fetch("SELECT id, name, road_class FROM clusters_referenceroad WHERE id = ANY(%s)",
                                        [ids])}


def load_scored_assets(run_id: int, ids: list[int]) -> dict[int, tuple]:
    """Asset id → (global id, name, owner, lot id) in this run."""
    return {r[0]: r[1:] for r in _fetch(SCORED_ASSETS, [run_id, ids])}


def load_graded_assets(ids: list[int]) -> dict[int, tuple]:
    """Asset id → (global id, name, grade code, grade label) by the latest graded inspection."""
    return {r[0]: r[1:] for r in _fetch(GRADED_ASSETS, [ids])}
