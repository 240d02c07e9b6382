"""Reads for the engine: one set-based COPY per data set, straight into pandas. The only SQL the engine needs
to see the registry; the scoring itself never touches the database."""

import io
from datetime import date

import numpy as np
import pandas as pd
from django.db import connection
from psycopg import sql

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
       coalesce(rd.traffic_volume, cr.traffic_volume) AS traffic,
       coalesce(rd.is_emergency_route, cr.is_emergency_route) AS emergency, cr.road_id AS carried_road_id,
       coalesce(rd.length_m, br.length_m, sp.length_m) AS length_m, coalesce(rd.width_m, br.width_m) AS width_m,
       br.deck_area_m2 AS deck_m2, br.detour_length_m AS detour_m,
       sp.diameter_mm, coalesce(sp.cover_depth_m, mh.depth_m) AS depth_m, sp.is_regional AS regional,
       sp.road_segment_id AS road_id, st.capacity_persons AS capacity, st.households_served AS households,
       st.treatment = 'single' AS single
FROM assets_asset a
LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
LEFT JOIN inspections_grade g ON g.id = c.grade_id
LEFT JOIN assets_roadsegment rd ON rd.asset_id = a.id
LEFT JOIN assets_bridge br ON br.asset_id = a.id
LEFT JOIN carried cr ON cr.asset_id = a.id
LEFT JOIN assets_sewerpipe sp ON sp.asset_id = a.id
LEFT JOIN assets_manhole mh ON mh.asset_id = a.id
LEFT JOIN assets_septictank st ON st.asset_id = a.id
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
    WHERE a.owner_id = ANY({codes}) OR a.operator_id = ANY({codes})
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


def load_assets(codes: list[str], today: date) -> pd.DataFrame:
    df = _copy_frame(ASSETS, codes)
    inspected = pd.to_datetime(df["inspected_on"], errors="coerce")
    since = (pd.Timestamp(today) - inspected).dt.days.to_numpy() / 365.25
    # An uninspected asset is judged by its age from the start of its built 年度 (April) to the start of the
    # current 年度's last quarter (January), so one age holds all 年度 long; an unknown year counts as 30 年度 ago.
    fy = fiscal_year(today)
    age = fy + 0.75 - df["built"].fillna(fy - 30).to_numpy()
    # A road's surface is renewed every couple of decades, so its construction year overstates the wear
    # of a surface nobody has inspected.
    age_for_wear = np.where(df["kind"].to_numpy() == "road_segment", np.minimum(age, 20.0), age)
    df["years"] = np.where(np.isnan(since), np.maximum(age_for_wear, 0.0), since)
    df["state"] = df["state"].fillna(-1).astype(int)
    for col in ("important", "emergency", "regional", "single"):
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
