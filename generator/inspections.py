"""Inspection history for generated assets, following each kind's legal cycle (domain.md §2)."""

import datetime

import numpy as np
import pandas as pd

from generator.history import (
    LABELS,
    TRUE_HAZARDS,
    pavement_observations,
    random_dates_in_fy,
    simulate,
)

INSPECTORS = ["(株)東都建設コンサルタント", "埼玉インフラ診断(株)", "中川技術サービス(株)", "市職員",
              "関東橋梁点検(株)", "(一社)浄化槽検査協会"]


def _rows(rng, keys, fys, built, scheme, method, obs=None, repair_from=2):
    """keys: (n,), fys: (n, k) inspection fiscal years or NaN."""
    ages = fys - built[:, None]
    ages = np.where(ages < 0.5, np.nan, ages)
    traj = simulate(rng, ages, TRUE_HAZARDS[scheme], repair_from=repair_from)
    labels = np.array(LABELS[scheme])
    frames = []
    for j in range(fys.shape[1]):
        sel = traj.states[:, j] >= 0
        if not sel.any():
            continue
        st = traj.states[sel, j].astype(int)
        frames.append(pd.DataFrame({
            "asset_key": keys[sel],
            "inspected_on": random_dates_in_fy(rng, fys[sel, j].astype(int)),
            "scheme": scheme, "grade": labels[st], "method": method, "legal_basis": "",
            "inspector": rng.choice(INSPECTORS[:4], int(sel.sum())),
            "observations": pavement_observations(rng, st) if obs == "pavement" else "{}",
        }))
    return frames


def inspections_for(rng, assets: pd.DataFrame, details: dict[str, pd.DataFrame], current_fy: int) -> pd.DataFrame:
    frames: list[pd.DataFrame] = []
    built = assets.set_index("key")["built_fy"]
    # Bridges and the other 告示426号 structures: 5-year 近接目視 cycles since FY2014.
    structures = [details[k]["key"].to_numpy() for k in ("bridge", "ped_overpass") if k in details]
    if structures:
        keys = np.concatenate(structures)
        first = 2014 + rng.integers(0, 5, len(keys))
        fys = np.column_stack([first, first + 5, first + 10]).astype(float)
        fys[fys > current_fy] = np.nan
        frames += _rows(rng, keys, fys, built[keys].to_numpy(), "bridge_kenzen", "近接目視")
    # Pavement: arterials on a 5-year survey, other streets sampled once.
    if "road_segment" in details:
        rd = details["road_segment"]
        keys = rd["key"].to_numpy()
        arterial = rd["road_class"].isin(["prefectural", "municipal_1"]).to_numpy()
        sampled = arterial | (rng.random(len(keys)) < 0.25)
        first = np.where(arterial, 2016 + rng.integers(0, 3, len(keys)), 2019 + rng.integers(0, 5, len(keys)))
        fys = np.column_stack([first, np.where(arterial, first + 5, np.nan)]).astype(float)
        fys[~sampled] = np.nan
        fys[fys > current_fy] = np.nan
        # Pavement ages run from the last resurfacing, not from construction.
        resurfaced = np.maximum(built[keys].to_numpy(), current_fy - rng.integers(5, 30, len(keys)))
        frames += _rows(rng, keys, fys, resurfaced, "pavement_shindan", "路面性状調査", obs="pavement")
    # Sewer pipes: TV surveys of older pipes; trunks also in the 2025 全国特別重点調査.
    if "sewer_pipe" in details:
        sp = details["sewer_pipe"]
        keys = sp["key"].to_numpy()
        b = built[keys].to_numpy()
        trunk = sp["is_regional"].to_numpy()
        surveyed = trunk | ((b < 1995) & (rng.random(len(keys)) < 0.6)) | (rng.random(len(keys)) < 0.1)
        first = 2013 + rng.integers(0, 7, len(keys))
        second = np.where(trunk, 2025, np.where(rng.random(len(keys)) < 0.45, first + 6, np.nan))
        fys = np.column_stack([first, second]).astype(float)
        fys[~surveyed] = np.nan
        fys[fys > current_fy] = np.nan
        frames += _rows(rng, keys, fys, b, "sewer_kinkyu", "TVカメラ")
    if "manhole" in details:
        keys = details["manhole"]["key"].to_numpy()
        fys = np.where(rng.random(len(keys)) < 0.2, 2015 + rng.integers(0, 10, len(keys)), np.nan)[:, None]
        frames += _rows(rng, keys, fys.astype(float), built[keys].to_numpy(), "manhole_kinkyu", "目視")
    if "septic_tank" in details:
        frames.append(_septic(rng, details["septic_tank"], built, current_fy))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out.sort_values(["asset_key", "inspected_on"], kind="stable").reset_index(drop=True)


def _septic(rng, st: pd.DataFrame, built: pd.Series, current_fy: int) -> pd.DataFrame:
    """11条 yearly inspections over the last three fiscal years (about half are taken, as in reality),
    and a 7条 inspection for tanks that came into use recently."""
    keys = st["key"].to_numpy()
    b = built[keys].to_numpy()
    single = (st["treatment"] == "single").to_numpy()
    frames = []
    for fy in range(current_fy - 2, current_fy + 1):
        sel = (b < fy) & (rng.random(len(keys)) < 0.55)
        n = int(sel.sum())
        p_bad = np.where(single[sel], 0.10, 0.04)
        u = rng.random(n)
        grade = np.where(u < p_bad, "improper", np.where(u < p_bad + 0.17, "mostly_proper", "proper"))
        frames.append(pd.DataFrame({
            "asset_key": keys[sel], "inspected_on": random_dates_in_fy(rng, np.full(n, fy)),
            "scheme": "septic_hantei", "grade": grade, "method": "法定検査", "legal_basis": "11条",
            "inspector": "(一社)浄化槽検査協会", "observations": "{}",
        }))
    new = b >= current_fy - 2
    n = int(new.sum())
    start = random_dates_in_fy(rng, b[new])
    frames.append(pd.DataFrame({
        "asset_key": keys[new],
        "inspected_on": np.minimum(start + rng.integers(90, 240, n).astype("timedelta64[D]"),
                                   np.datetime64(datetime.date.today(), "D")),
        "scheme": "septic_hantei", "grade": rng.choice(["proper", "mostly_proper"], n, p=[0.9, 0.1]),
        "method": "法定検査", "legal_basis": "7条", "inspector": "(一社)浄化槽検査協会", "observations": "{}",
    }))
    frames += _septic_upkeep(rng, keys, b)
    return pd.concat(frames, ignore_index=True)


def _septic_upkeep(rng, keys: np.ndarray, built: np.ndarray) -> list[pd.DataFrame]:
    """The latest 保守点検 and 清掃 of each tank in use (施行規則6条・7条): most in time, about one in seven lapsed, so the
    work list and the engine's summary have lapses to show. Never before the tank's opening, never after today."""
    today = np.datetime64(datetime.date.today(), "D")
    opened = ((built.astype("int64") - 1970).astype("datetime64[Y]").astype("datetime64[M]") + 3).astype(
        "datetime64[D]")
    frames = []
    for grade, label, recent, late, who in (("maintenance", "保守点検", 100, (150, 500), "浄化槽保守点検業者"),
                                            ("cleaning", "清掃", 330, (400, 800), "浄化槽清掃業者")):
        n = len(keys)
        lapsed = rng.random(n) < 0.15
        ago = np.where(lapsed, rng.integers(*late, n), rng.integers(0, recent, n)).astype("timedelta64[D]")
        on = today - ago
        sel = on >= opened
        frames.append(pd.DataFrame({
            "asset_key": keys[sel], "inspected_on": on[sel], "scheme": "septic_maintenance", "grade": grade,
            "method": label, "legal_basis": "", "inspector": who, "observations": "{}"}))
    return frames
