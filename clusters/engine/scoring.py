"""Per-asset condition, likelihood, consequence, risk, action and cost. Pure: arrays in, arrays out.

Every score keeps its components, so a rank can be explained: risk = LoF × CoF, CoF = Σ weight × component."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clusters.engine.deterioration import Hazards, transition
from clusters.engine.params import Params

COMPONENTS = ("traffic", "emergency_route", "served", "depth", "road_above", "important_facility", "detour")
# The road structures 告示426号 grades beside bridges (tunnels, sheds/large culverts, pedestrian overpasses, gantry
# signs) share the bridges' Ⅰ–Ⅳ scheme, so one deterioration fit, and the bridges' work type: repaired or renewed by
# state and bundled with the bridges into one 定期点検・修繕 package (as the 島根 model region bundles bridges and
# tunnels, domain.md §1.2). They are never candidates for removal: the bridge keep-or-remove analysis is for
# bridges only (a tunnel or an overpass has no detour rule here).
ROAD_STRUCTURES = ("tunnel", "shed_culvert", "ped_overpass", "gantry_sign")
SCHEME_OF_KIND = {"bridge": "bridge_kenzen", "road_segment": "pavement_shindan", "sewer_pipe": "sewer_kinkyu",
                  "manhole": "manhole_kinkyu", "septic_tank": "septic_hantei",
                  **dict.fromkeys(ROAD_STRUCTURES, "bridge_kenzen")}
WORK_TYPE = {"road_segment": "road", "sewer_pipe": "sewer", "manhole": "sewer", "bridge": "bridge",
             "septic_tank": "septic", **dict.fromkeys(ROAD_STRUCTURES, "bridge")}

# Columns the scorer reads (one row per asset; NaN where a kind lacks the attribute):
#   kind, state (grade rank at the last inspection, -1 if never), years (since that inspection, or age),
#   traffic, emergency, diameter_mm, depth_m, regional, important, detour_m, length_m, width_m, deck_m2,
#   households, capacity, road_row (row index of the road above a pipe, -1 if none),
#   renewal_method (a pipe's ledger 施工方法: open_cut | rehabilitation | unknown),
#   owner (団体コード), private (a 個人設置型 septic tank), in_sewer_area (a tank inside a 下水道計画区域)


@dataclass
class Scores:
    expected_state: np.ndarray
    lof: np.ndarray
    lof_after: np.ndarray
    components: np.ndarray  # n × len(COMPONENTS), each 0–5
    cof: np.ndarray
    risk: np.ndarray
    action: np.ndarray  # "monitor" | "repair" | "renew"
    cost: np.ndarray
    risk_removed: np.ndarray
    work_type: np.ndarray
    dig_once_saving: np.ndarray
    repair_cost: np.ndarray  # what either action would cost now, for the multi-year plan
    renew_cost: np.ndarray
    rehabilitation: np.ndarray  # sewer pipes renewed by 管更生 (no trench); False for every other row
    # What the owner of a 個人設置型 septic tank pays beside the municipality's 補助 share (設置者負担, for reference):
    # never part of cost, repair_cost or renew_cost, which are the municipality's.
    owner_cost: np.ndarray | None = None

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame({"expected_state": self.expected_state, "lof": self.lof, "cof": self.cof, "risk": self.risk,
                           "action": self.action, "cost": self.cost, "risk_removed": self.risk_removed,
                           "work_type": self.work_type, "dig_once_saving": self.dig_once_saving,
                           "owner_cost": self.owner_cost if self.owner_cost is not None else 0.0})
        for k, name in enumerate(COMPONENTS):
            df[f"c_{name}"] = self.components[:, k]
        return df


def _col(df: pd.DataFrame, name: str, fill=0.0) -> np.ndarray:
    return df[name].fillna(fill).to_numpy(dtype=float) if name in df else np.full(len(df), fill)


def state_now(df: pd.DataFrame, hazards: dict[str, Hazards]):
    """Per kind: its rows and their distribution over states today (rows × J). Uninspected assets start
    from new at construction; inspected ones from their last grade."""
    kinds = df["kind"].to_numpy()
    state = _col(df, "state", -1).astype(int)
    years = np.maximum(_col(df, "years", 0.0), 0.0)
    for kind, scheme in SCHEME_OF_KIND.items():
        rows = np.flatnonzero(kinds == kind)
        if not len(rows):
            continue
        theta = hazards[scheme].theta
        j = len(theta) + 1
        start = np.clip(np.where(state[rows] >= 0, state[rows], 0), 0, j - 1)
        yield kind, scheme, rows, transition(theta, years[rows])[np.arange(len(rows)), start]


def likelihood(df: pd.DataFrame, hazards: dict[str, Hazards], horizon: float):
    """Expected state now, P(worst state within the horizon) now, and the same after renewal."""
    n = len(df)
    expected, lof, lof_after = np.zeros(n), np.zeros(n), np.zeros(n)
    for _kind, scheme, rows, now in state_now(df, hazards):
        theta = hazards[scheme].theta
        j = len(theta) + 1
        p_h = transition(theta, float(horizon))
        expected[rows] = now @ np.arange(j)
        lof[rows] = now @ p_h[:, j - 1]
        lof_after[rows] = p_h[0, j - 1]
    return expected, lof, lof_after


def consequence(df: pd.DataFrame, params: Params) -> tuple[np.ndarray, np.ndarray]:
    kinds = df["kind"].to_numpy()
    n = len(df)
    comp = np.zeros((n, len(COMPONENTS)))
    traffic = _col(df, "traffic")
    emergency = _col(df, "emergency").astype(bool)
    comp[:, 0] = 5 * np.clip(np.log10(1 + traffic) / np.log10(50_001), 0, 1)
    comp[:, 1] = np.where(emergency, 5.0, 0.0)
    pipe = (kinds == "sewer_pipe")
    diameter = _col(df, "diameter_mm")
    served = np.where(pipe, 5 * np.clip((diameter - 150) / 1850, 0, 1), 0.0)
    served = np.where(pipe & _col(df, "regional").astype(bool), np.maximum(served, 3.0), served)
    served = np.where(kinds == "septic_tank", np.clip(_col(df, "households", 1), 0, 5), served)
    served = np.where(kinds == "manhole", 1.0, served)
    comp[:, 2] = served
    comp[:, 3] = np.where(pipe | (kinds == "manhole"), 5 * np.clip(_col(df, "depth_m") / 10, 0, 1), 0.0)
    comp[:, 5] = np.where(_col(df, "important").astype(bool), 5.0, 0.0)
    detour = _col(df, "detour_m", np.nan)
    comp[:, 6] = np.where(kinds == "bridge", np.where(np.isnan(detour), 2.5, 5 * np.clip(detour / 5000, 0, 1)), 0.0)
    w = np.array([params.weights.get(c, 0.0) for c in COMPONENTS])
    own = comp @ w
    # A pipe's failure collapses the road above it (八潮): that road's consequence adds to the pipe's.
    road_row = _col(df, "road_row", -1).astype(int)
    has_road = pipe & (road_row >= 0)
    comp[has_road, 4] = np.clip(own[road_row[has_road]] / max(w.sum(), 1e-9), 0, 5)
    return comp, comp @ w


def rehabilitated(df: pd.DataFrame, params: Params) -> np.ndarray:
    """Per row: a sewer pipe renewed by 管更生 rather than open cut. The ledger's 施工方法 when it says; otherwise
    管更生 for a pipe at least `pipe_open_cut_max_depth_m` deep within the 更生工法' diameters, open cut for a
    shallower one or one of unknown depth (planning-level rule, params.py)."""
    pipe = df["kind"].to_numpy() == "sewer_pipe"
    given = (df["renewal_method"].fillna("unknown").to_numpy() if "renewal_method" in df
             else np.full(len(df), "unknown", dtype=object))
    depth, diameter = _col(df, "depth_m", np.nan), _col(df, "diameter_mm")
    with np.errstate(invalid="ignore"):
        by_default = (depth >= params.pipe_open_cut_max_depth_m) & (diameter <= params.pipe_rehab_max_diameter_mm)
    return pipe & np.where(given == "rehabilitation", True, np.where(given == "open_cut", False, by_default))


def structure_costs(kinds: np.ndarray, length: np.ndarray, width: np.ndarray, params: Params):
    """Repair and renewal cost of each road structure (告示426号 kinds; 0 for other rows): a fixed part plus a rate
    per m² of footprint (延長 × 幅員; a ledger without them leaves the fixed part), rates by kind in
    params.structure_costs (planning-level, unverified)."""
    repair, renew = np.zeros(len(kinds)), np.zeros(len(kinds))
    area = np.nan_to_num(length * width)
    for kind, c in params.structure_costs.items():
        rows = kinds == kind
        repair[rows] = c.get("repair_each", 0.0) + area[rows] * c.get("repair_m2", 0.0)
        renew[rows] = c.get("renew_each", 0.0) + area[rows] * c.get("renew_m2", 0.0)
    return repair, renew


def actions(df: pd.DataFrame, expected: np.ndarray, lof: np.ndarray, params: Params, rehab: np.ndarray):
    kinds = df["kind"].to_numpy()
    state = _col(df, "state", -1)
    n_states = np.array([4 if k != "septic_tank" else 3 for k in kinds])
    worst = n_states - 1
    # 予防保全 (MLIT) acts while an asset is at Ⅱ (sewer 緊急度Ⅲ), before it reaches Ⅲ: such assets are work
    # candidates whatever their P(worst within the horizon), or a preventive plan could only ever act at Ⅲ.
    act = (lof >= params.lof_action_threshold) | (state >= 1)
    renew = act & ((expected >= worst - 0.5) | (state >= worst))
    # Septic results are compliance, not wear: act on 不適正, and renew old 単独処理 tanks (conversion to 合併).
    septic = kinds == "septic_tank"
    old_single = _col(df, "single").astype(bool) & (_col(df, "age") >= params.septic_single_renew_age)
    # Inside a 下水道計画区域 a tank is a connection case (下水道法 第10条 接続義務), never a conversion: the sewer, not
    # a new tank, is its future (counted apart in the run's summary).
    old_single &= ~_col(df, "in_sewer_area").astype(bool)
    act = np.where(septic, (state >= 2) | old_single, act)
    renew = np.where(septic, old_single, renew)
    action = np.where(renew, "renew", np.where(act, "repair", "monitor")).astype(object)
    length, width = _col(df, "length_m"), _col(df, "width_m")
    deck = np.where(_col(df, "deck_m2") > 0, _col(df, "deck_m2"), length * width)
    diameter = _col(df, "diameter_mm")
    pipe_m = np.where(rehab, params.cost_pipe_rehab_base_m + params.cost_pipe_rehab_per_mm_m * diameter,
                      params.cost_pipe_renew_base_m + params.cost_pipe_renew_per_mm_m * diameter)
    structure_repair, structure_renew = structure_costs(kinds, length, width, params)
    renew_cost = np.select(
        [kinds == "road_segment", kinds == "bridge", kinds == "sewer_pipe", kinds == "manhole", kinds == "septic_tank"],
        [length * width * params.cost_pavement_rebuild_m2, deck * params.cost_bridge_renew_m2, pipe_m * length,
         np.full(len(df), params.cost_manhole_rehab), _col(df, "capacity", 5) * params.cost_septic_replace_per_person],
        structure_renew)
    repair_cost = np.select(
        [kinds == "road_segment", kinds == "bridge", kinds == "sewer_pipe", kinds == "manhole", kinds == "septic_tank"],
        [length * width * params.cost_pavement_resurface_m2, deck * params.cost_bridge_repair_m2,
         pipe_m * length * params.cost_pipe_repair_share, np.full(len(df), params.cost_manhole_rehab * 0.5),
         np.full(len(df), params.cost_septic_repair)],
        structure_repair)
    # The municipality's part: all of it but for a 個人設置型 tank, where it pays its 補助 share (per municipality).
    share = municipal_share(df, params)
    full = np.where(action == "renew", renew_cost, np.where(action == "repair", repair_cost, 0.0))
    cost, owner_cost = full * share, full * (1 - share)
    return action, cost, repair_cost * share, renew_cost * share, owner_cost


def municipal_share(df: pd.DataFrame, params: Params) -> np.ndarray:
    """Per row, the share of its cost the municipality bears: 1 except for a 個人設置型 septic tank (domain.md §7 "Who
    pays for a septic tank"), where it is the owner municipality's 補助 share."""
    share = np.ones(len(df))
    if "private" not in df:
        return share
    private = (df["kind"].to_numpy() == "septic_tank") & _col(df, "private").astype(bool)
    if private.any():
        by_code = {str(k): float(v) for k, v in params.septic_subsidy_share_by_municipality.items()}
        owners = pd.Series(df["owner"].astype(str).to_numpy()[private])
        share[private] = owners.map(by_code).fillna(params.septic_subsidy_share).to_numpy(dtype=float)
    return share


def score(df: pd.DataFrame, hazards: dict[str, Hazards], params: Params) -> Scores:
    expected, lof, lof_after = likelihood(df, hazards, params.horizon_years)
    comp, cof = consequence(df, params)
    rehab = rehabilitated(df, params)
    action, cost, repair_cost, renew_cost, owner_cost = actions(df, expected, lof, params, rehab)
    acting = action != "monitor"
    risk = lof * cof
    removed = np.where(acting, np.maximum(lof - lof_after, 0) * cof, 0.0)
    kinds = df["kind"].to_numpy()
    work = np.array([WORK_TYPE[k] for k in kinds], dtype=object)
    # Dig once: a pipe to be renewed by open cut under a road to be resurfaced goes into one lot with that road,
    # and the road is reinstated once over the trench instead of twice. 管更生 digs no trench: nothing to share.
    road_row = _col(df, "road_row", -1).astype(int)
    pairs = (kinds == "sewer_pipe") & acting & (road_row >= 0) & ~rehab
    pairs[pairs] &= acting[road_row[pairs]]
    work[pairs] = "road_sewer"
    work[road_row[pairs]] = "road_sewer"
    saving = np.zeros(len(df))
    saving[pairs] = params.trench_width_m * _col(df, "length_m")[pairs] * params.cost_pavement_resurface_m2
    return Scores(expected, lof, lof_after, comp, cof, risk, action, cost, removed, work, saving, repair_cost,
                  renew_cost, rehab, owner_cost)
