"""The database side of lots: which acting assets lie together (PostGIS DBSCAN per work type, long chains cut
into square lots), the lots' outlines, and writing the lots. Runs inside the engine's transaction."""

import csv
import io
import json

import numpy as np
import pandas as pd
from django.db import connection

from clusters.models import WORK_TYPES

LOTS_SQL = """
CREATE TEMP TABLE _lots ON COMMIT DROP AS
WITH c AS (
    SELECT t.id, t.work_type, ST_Transform(a.geom, %(srid)s) AS g
    FROM _acting t JOIN assets_asset a ON a.id = t.id
), d AS (
    SELECT id, work_type, g, ST_ClusterDBSCAN(g, eps := %(eps)s, minpoints := 1) OVER (PARTITION BY work_type) AS cid
    FROM c
), sized AS (
    SELECT *, count(*) OVER (PARTITION BY work_type, cid) AS n FROM d
)
SELECT id, g, (ARRAY['road', 'sewer', 'bridge', 'septic', 'road_sewer'])[work_type + 1] || '-' || cid || '.' ||
       CASE WHEN n > %(max_lot)s
            THEN floor(ST_X(ST_Centroid(g)) / %(cell)s)::bigint || '_' || floor(ST_Y(ST_Centroid(g)) / %(cell)s)::bigint
            ELSE '0' END AS key
FROM sized
"""

OUTLINES_SQL = """
UPDATE clusters_cluster c SET geom = o.geom FROM (
    SELECT key, ST_Multi(ST_Transform(ST_Buffer(ST_ConvexHull(ST_Collect(g)), 25), 6668)) AS geom
    FROM _lots GROUP BY key
) o WHERE c.run_id = %(run)s AND c.key = o.key
"""


def copy_binary(cur, table_cols: str, columns: dict[str, tuple[str, np.ndarray]]) -> None:
    """Binary COPY of fixed-width columns built as one numpy record array (no text formatting)."""
    n = len(next(iter(columns.values()))[1])
    dtype = [("nfields", ">i2")]
    for name, (code, _) in columns.items():
        dtype += [(f"len_{name}", ">i4"), (name, code)]
    rec = np.empty(n, dtype=dtype)
    rec["nfields"] = len(columns)
    for name, (code, values) in columns.items():
        rec[f"len_{name}"] = np.dtype(code).itemsize
        rec[name] = values
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    with cur.cursor.copy(f"COPY {table_cols} FROM STDIN WITH (FORMAT binary)") as cp:
        cp.write(header)
        for start in range(0, n, 200_000):
            cp.write(rec[start:start + 200_000].tobytes())
        cp.write((-1).to_bytes(2, "big", signed=True))


def lot_keys(ids: np.ndarray, work_type: np.ndarray, *, srid: int, eps: float, max_lot: int, cell: float) -> np.ndarray:
    """The lot key of each acting asset (aligned with `ids`). Leaves `_lots` (id, g, key) for the outlines."""
    codes = pd.Series(work_type).map({w: i for i, w in enumerate(WORK_TYPES)}).to_numpy()
    with connection.cursor() as cur:
        # Two runs in one transaction (tests, scripts) would meet the first run's tables.
        cur.execute("DROP TABLE IF EXISTS _acting, _lots")
        cur.execute("CREATE TEMP TABLE _acting (id bigint, work_type smallint) ON COMMIT DROP")
        copy_binary(cur, "_acting (id, work_type)", {"id": (">i8", ids), "work_type": (">i2", codes)})
        cur.execute(LOTS_SQL, {"srid": srid, "eps": eps, "max_lot": max_lot, "cell": cell})
        buf = io.BytesIO()
        with cur.cursor.copy("COPY (SELECT id, key FROM _lots) TO STDOUT WITH (FORMAT csv)") as cp:
            for chunk in cp:
                buf.write(chunk)
    buf.seek(0)
    got = pd.read_csv(buf, header=None, names=["id", "key"], dtype={"id": np.int64, "key": str})
    keys = pd.Series(got["key"].to_numpy(), index=got["id"].to_numpy())
    return keys.reindex(ids).to_numpy()


def insert_lots(run_id: int, lots: pd.DataFrame) -> np.ndarray:
    """Write the lots (without outlines) in one COPY; returns their ids in the frame's order."""
    n = len(lots)
    with connection.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('clusters_cluster', 'id')) FROM generate_series(1, %s)", [n])
        ids = np.array([r[0] for r in cur.fetchall()], dtype=np.int64)
        cols = ["id", "run_id", "key", "rank", "work_type", "member_count", "municipality_count", "cost_shares",
                "action_mix", "drivers", "cost_members", "mobilization", "dig_once_saving", "bundling_saving",
                "total_cost", "risk_removed", "risk_per_myen", "consolidation", "outlook"]
        buf = io.StringIO()
        w = csv.writer(buf)
        for i, row in enumerate(lots.itertuples(index=False)):
            w.writerow([ids[i], run_id, row.key, row.rank, row.work_type, row.member_count, row.municipality_count,
                        json.dumps(row.cost_shares), json.dumps(row.action_mix), json.dumps(row.drivers),
                        row.cost_members, row.mobilization, row.dig_once_saving, row.bundling_saving, row.total_cost,
                        row.risk_removed, row.risk_per_myen, "{}", "{}"])
        with cur.cursor.copy(f"COPY clusters_cluster ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)") as cp:
            cp.write(buf.getvalue())
    return ids


def draw_outlines(run_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute(OUTLINES_SQL, {"run": run_id})
