"""The database side of lots: which acting assets lie together (PostGIS DBSCAN per work type, long chains cut
into square lots), the lots' outlines, and writing the lots, their members' scores and what the analyses add
to them. Runs inside the engine's transaction."""

import csv
import io
import json

import numpy as np
import pandas as pd
from django.db import connection

from clusters.engine.scoring import COMPONENTS
from clusters.models import ACTIONS, WORK_TYPES

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
                "total_cost", "risk_removed", "risk_per_myen", "consolidation", "outlook", "seq", "name", "bundling",
                "owner_cost"]
        buf = io.StringIO()
        w = csv.writer(buf)
        for i, row in enumerate(lots.itertuples(index=False)):
            w.writerow([ids[i], run_id, row.key, row.rank, row.work_type, row.member_count, row.municipality_count,
                        json.dumps(row.cost_shares), json.dumps(row.action_mix), json.dumps(row.drivers),
                        row.cost_members, row.mobilization, row.dig_once_saving, row.bundling_saving, row.total_cost,
                        row.risk_removed, row.risk_per_myen, "{}", "{}", row.seq, row.name,
                        json.dumps(row.bundling, ensure_ascii=False), getattr(row, "owner_cost", 0.0)])
        with cur.cursor.copy(f"COPY clusters_cluster ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)") as cp:
            cp.write(buf.getvalue())
    return ids


def lot_centres(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each lot's centre in the metric plane (aligned with `keys`), from the `_lots` table lot_keys left."""
    with connection.cursor() as cur:
        cur.execute("SELECT key, ST_X(c), ST_Y(c) FROM (SELECT key, ST_Centroid(ST_Collect(g)) AS c FROM _lots "
                    "GROUP BY key) t")
        got = {k: (x, y) for k, x, y in cur.fetchall()}
    xy = np.array([got.get(k, (np.nan, np.nan)) for k in keys], dtype=float).reshape(-1, 2)
    return xy[:, 0], xy[:, 1]


def draw_outlines(run_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute(OUTLINES_SQL, {"run": run_id})


SCORE_FLOAT = ("expected_state", "lof", "dlof", "cof", "risk", "cost", "risk_removed", "dig_once_saving",
               *[f"c_{c}" for c in COMPONENTS])


def write_scores(run_id: int, ids: np.ndarray, frame: pd.DataFrame, cluster_id: np.ndarray) -> None:
    """Two binary COPYs (members of a lot with their lot, the rest without): formatting a million rows as
    CSV text costs ~30 s, this well under one."""
    action = frame["action"].map({a: i for i, a in enumerate(ACTIONS)}).to_numpy()
    work = frame["work_type"].map({w: i for i, w in enumerate(WORK_TYPES)}).to_numpy()
    for in_lot in (True, False):
        sel = cluster_id >= 0 if in_lot else cluster_id < 0
        if not sel.any():
            continue
        cols = {"run_id": (">i8", np.full(int(sel.sum()), run_id)), "asset_id": (">i8", ids[sel]),
                "action": (">i2", action[sel]), "work_type": (">i2", work[sel])}
        if in_lot:
            cols["cluster_id"] = (">i8", cluster_id[sel])
        cols.update({c: (">f8", frame[c].to_numpy(dtype=float)[sel]) for c in SCORE_FLOAT})
        if "defaulted" in frame:
            cols["defaulted"] = (">i2", frame["defaulted"].to_numpy()[sel])
        with connection.cursor() as cur:
            copy_binary(cur, f"clusters_assetscore ({', '.join(cols)})", cols)


def count_orphan_scores(run_id: int) -> int:
    """Scores of the run whose asset is gone: with per-row FK triggers off, the check is this one query."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM clusters_assetscore s LEFT JOIN assets_asset a ON a.id = s.asset_id "
                    "WHERE s.run_id = %s AND a.id IS NULL", [run_id])
        return cur.fetchone()[0]


def analyze_scores() -> None:
    """Fresh statistics for the planner: the analyses join the million scores just written."""
    with connection.cursor() as cur:
        cur.execute("ANALYZE clusters_assetscore")


def add_consolidation(run_id: int, key: str, by_lot: dict) -> None:
    """Set `consolidation[key]` of the run's lots named in `by_lot` (lot id → value), in one UPDATE."""
    with connection.cursor() as cur:
        cur.execute("UPDATE clusters_cluster c SET consolidation = c.consolidation || jsonb_build_object(%s::text, x.value) "
                    "FROM jsonb_each(%s::jsonb) x WHERE c.id = x.key::bigint AND c.run_id = %s",
                    [key, json.dumps(by_lot), run_id])


def store_outlooks(run_id: int, by_lot: dict) -> None:
    """Every lot's outlook (lot id → outlook), in one UPDATE."""
    with connection.cursor() as cur:
        cur.execute("UPDATE clusters_cluster c SET outlook = x.value FROM jsonb_each(%s::jsonb) x "
                    "WHERE c.id = x.key::bigint AND c.run_id = %s", [json.dumps(by_lot), run_id])
