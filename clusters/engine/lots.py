"""From members to lots (群): totals, cost shares, action mix, drivers, bundling savings and the rank. Pure
numpy/pandas: the database only says which members lie together (PostGIS DBSCAN), everything else is here.

Bundling saving: contracted separately, every owner would pay its own mobilization, and a dig-once lot would
be let as separate road and sewer contracts; together it is one mobilization and one reinstatement."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clusters.engine.scoring import COMPONENTS

OBJECTIVES = {"risk_per_yen": "risk_per_myen", "risk_removed": "risk_removed", "saving": "bundling_saving"}
ACTION_NAMES = ("monitor", "repair", "renew")


@dataclass
class Members:
    """Acting assets, one row each, with the lot key PostGIS gave them."""

    key: np.ndarray  # str
    owner: np.ndarray  # str
    kind: np.ndarray  # str
    action: np.ndarray  # str
    work_type: np.ndarray  # str
    cost: np.ndarray
    dig_once: np.ndarray
    risk_removed: np.ndarray
    dlof: np.ndarray
    components: np.ndarray  # n × len(COMPONENTS)
    # 設置者負担: what owners of 個人設置型 tanks pay beside the municipality's 補助 (for reference; not in any total)
    owner_cost: np.ndarray | None = None


def aggregate(m: Members, weights: dict, mobilization: float, objective: str) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per lot, ranked (1 = first), and each member's row number in that frame."""
    codes, keys = pd.factorize(m.key, sort=True)
    n = len(keys)
    sums = {name: np.bincount(codes, weights=v, minlength=n)
            for name, v in (("cost_members", m.cost), ("dig_once_saving", m.dig_once),
                            ("risk_removed", m.risk_removed))}
    lots = pd.DataFrame({"key": keys, "member_count": np.bincount(codes, minlength=n), **sums})
    lots["owner_cost"] = (np.bincount(codes, weights=m.owner_cost, minlength=n) if m.owner_cost is not None
                          else np.zeros(n))
    first = np.full(n, -1)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    lots["work_type"] = m.work_type[first]
    per_owner = pd.DataFrame({"c": codes, "o": m.owner, "cost": m.cost}).groupby(["c", "o"], sort=True)["cost"].sum()
    shares: list[dict] = [{} for _ in range(n)]
    for (c, o), v in per_owner.items():
        shares[c][o] = float(round(v))
    lots["cost_shares"] = shares
    lots["municipality_count"] = [len(s) for s in shares]
    mix_key = pd.Series(m.kind).astype(str) + ":" + pd.Series(m.action).astype(str)
    per_mix = pd.DataFrame({"c": codes, "k": mix_key}).groupby(["c", "k"], sort=True).size()
    mixes: list[dict] = [{} for _ in range(n)]
    for (c, k), v in per_mix.items():
        mixes[c][k] = int(v)
    lots["action_mix"] = mixes
    drivers = np.column_stack([np.bincount(codes, weights=m.dlof * m.components[:, j], minlength=n)
                               * float(weights.get(name, 0.0)) for j, name in enumerate(COMPONENTS)])
    lots["drivers"] = [dict(zip(COMPONENTS, row.tolist(), strict=True)) for row in drivers]
    owners = lots["municipality_count"].to_numpy()
    dig = lots["dig_once_saving"].to_numpy()
    lots["mobilization"] = mobilization
    lots["bundling_saving"] = ((owners - 1) * mobilization + dig
                               + np.where(lots["work_type"].to_numpy() == "road_sewer", owners * mobilization, 0.0))
    lots["total_cost"] = lots["cost_members"] + mobilization - dig
    lots["risk_per_myen"] = lots["risk_removed"] / np.maximum(lots["total_cost"], 1.0) * 1e6
    order_col = OBJECTIVES.get(objective, "risk_per_myen")
    order = lots.sort_values([order_col, "key"], ascending=[False, True], kind="stable").index.to_numpy()
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(1, n + 1)
    lots["rank"] = rank
    lots["seq"] = number_lots(lots["work_type"].to_numpy(), rank)
    return lots, codes


def number_lots(work_type: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Each lot's number within its work type, by rank (1 = the first-ranked lot of that type): the number in its
    name, 下水道-012."""
    order = np.lexsort((rank, work_type))
    seq = np.empty(len(rank), dtype=int)
    wt = np.asarray(work_type)[order]
    starts = np.r_[0, np.flatnonzero(wt[1:] != wt[:-1]) + 1] if len(wt) else np.array([], dtype=int)
    run_start = np.zeros(len(wt), dtype=int)
    run_start[starts] = starts
    run_start = np.maximum.accumulate(run_start) if len(wt) else run_start
    seq[order] = np.arange(len(wt)) - run_start + 1
    return seq


def joinable_singles(work_type: np.ndarray, member_count: np.ndarray, x: np.ndarray, y: np.ndarray, *,
                     reach: float, nearest: int = 5) -> dict[int, list[tuple[int, float]]]:
    """Lots of a single work (nothing else of its type within the clustering distance) that another such lot of
    the same work type lies within `reach` of (metres, centre to centre): one contractor could take both as one
    contract. Row → [(other row, distance)], nearest first, at most `nearest` each."""
    from scipy.spatial import cKDTree

    out: dict[int, list[tuple[int, float]]] = {}
    single = np.flatnonzero((np.asarray(member_count) == 1) & np.isfinite(x) & np.isfinite(y))
    if reach <= 0 or len(single) < 2:
        return out
    wt = np.asarray(work_type)[single]
    for w in np.unique(wt):
        rows = single[wt == w]
        if len(rows) < 2:
            continue
        pts = np.column_stack([x[rows], y[rows]])
        pairs = cKDTree(pts).query_pairs(reach, output_type="ndarray")
        for a, b in pairs.tolist():
            d = float(np.hypot(*(pts[a] - pts[b])))
            out.setdefault(int(rows[a]), []).append((int(rows[b]), d))
            out.setdefault(int(rows[b]), []).append((int(rows[a]), d))
    return {k: sorted(v, key=lambda t: (t[1], t[0]))[:nearest] for k, v in out.items()}
