"""What the engine assumes where a ledger leaves an attribute empty (issue 16), and which assets it assumed it for.

A new asset needs only its ledger id, its place and its kind; the rest may be unknown (stored NULL). The engine
still needs an age, a size, a diameter …; it takes them, in this order:

- built year (建設年度): the median of the same kind in the same municipality, else in the region, else
  `unknown_built_age_years` before the current 年度;
- length (延長): a line's own geometry (the loader measures it), else the median of the kind in the municipality,
  else in the region, else `unknown_sizes[kind]["length_m"]`;
- width (幅員): the median of the kind in the municipality, else in the region, else `unknown_sizes`;
- diameter (管径): `unknown_diameter_mm` (250 mm);
- septic capacity (人槽): `unknown_septic_capacity` (5人槽);
- septic treatment (合併/単独): 合併処理 — since 2001 a new 単独処理 tank may not be installed, and calling a tank
  単独 would schedule its conversion on a guess.

Each asset carries a bitmask of the fields so estimated (AssetScore.defaulted, shown as 既定値で推計 with the
fields). Pure: a frame in, filled columns and the mask out; no ORM."""

import numpy as np
import pandas as pd

from clusters.engine.params import Params

# Bit k of the mask: FIELDS[k] was estimated. Names are the registry's fields (assets.models), so the pages can
# show each by its verbose name; the order is stored data and must only ever grow at the end.
FIELDS = ("built_fiscal_year", "length_m", "width_m", "diameter_mm", "capacity_persons", "treatment")
BIT = {name: 1 << k for k, name in enumerate(FIELDS)}

LENGTH_KINDS = ("road_segment", "bridge", "sewer_pipe", "tunnel", "shed_culvert", "ped_overpass", "gantry_sign")
WIDTH_KINDS = ("road_segment", "bridge", "tunnel", "shed_culvert", "ped_overpass", "gantry_sign")


def fields_of(mask: int) -> list[str]:
    """The fields a mask names, in FIELDS order."""
    return [name for name in FIELDS if int(mask or 0) & BIT[name]]


def _median_fill(df: pd.DataFrame, col: str, rows: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Values of `col` with the gaps in `rows` filled: median of kind × owner, then of kind, then `fallback`."""
    values = pd.to_numeric(df[col], errors="coerce") if col in df else pd.Series(np.nan, index=df.index)
    values = values.where(pd.Series(rows, index=df.index))
    by_owner = values.groupby([df["kind"], df["owner"].astype(str)]).transform("median")
    by_kind = values.groupby(df["kind"]).transform("median")
    return by_owner.fillna(by_kind).fillna(pd.Series(fallback, index=df.index)).to_numpy(dtype=float)


def fill(df: pd.DataFrame, params: Params, fiscal_year: int) -> np.ndarray:
    """Fill the engine's columns (built, length_m, width_m, diameter_mm, capacity, single) where unknown, in place,
    and return each row's mask of the fields filled."""
    n = len(df)
    mask = np.zeros(n, dtype=np.int64)
    if not n:
        return mask
    kinds = df["kind"].to_numpy()

    built = pd.to_numeric(df["built"], errors="coerce").to_numpy(dtype=float)
    gap = np.isnan(built)
    if gap.any():
        est = _median_fill(df, "built", np.ones(n, dtype=bool), np.full(n, fiscal_year - params.unknown_built_age_years))
        df["built"] = np.where(gap, np.round(est), built)
        mask[gap] |= BIT["built_fiscal_year"]

    sizes = params.unknown_sizes
    for col, kinds_of, key in (("length_m", LENGTH_KINDS, "length_m"), ("width_m", WIDTH_KINDS, "width_m")):
        given = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float) if col in df else np.full(n, np.nan)
        of_kind = np.isin(kinds, kinds_of)
        gap = of_kind & np.isnan(given)
        if col == "length_m" and "geom_length_m" in df:
            # A line's length is its geometry's: measured, not a default, but still not the ledger's figure.
            measured = pd.to_numeric(df["geom_length_m"], errors="coerce").to_numpy(dtype=float)
            given = np.where(gap & ~np.isnan(measured), measured, given)
        if not gap.any():
            continue
        df[col] = given
        fallback = np.array([sizes.get(k, {}).get(key, 0.0) for k in kinds], dtype=float)
        est = _median_fill(df.assign(**{col: given}), col, of_kind, fallback)
        df[col] = np.where(gap & np.isnan(given), est, given)
        mask[gap] |= BIT[col]

    pipe = kinds == "sewer_pipe"
    if "diameter_mm" in df:
        gap = pipe & df["diameter_mm"].isna().to_numpy()
        df["diameter_mm"] = np.where(gap, params.unknown_diameter_mm, df["diameter_mm"].to_numpy(dtype=float))
        mask[gap] |= BIT["diameter_mm"]

    septic = kinds == "septic_tank"
    if "capacity" in df:
        gap = septic & df["capacity"].isna().to_numpy()
        df["capacity"] = np.where(gap, params.unknown_septic_capacity, df["capacity"].to_numpy(dtype=float))
        mask[gap] |= BIT["capacity_persons"]
    if "treatment_known" in df:
        gap = septic & ~df["treatment_known"].to_numpy(dtype=bool)
        mask[gap] |= BIT["treatment"]  # `single` is already False for them: 合併処理 assumed
    return mask


def counts(mask: np.ndarray, kinds: np.ndarray) -> dict:
    """{"assets": how many had any field estimated, "by_field": {field: n}, "by_kind": {kind: n}} for a run's summary."""
    mask = np.asarray(mask, dtype=np.int64)
    any_ = mask != 0
    kinds_hit, per_kind = np.unique(np.asarray(kinds)[any_], return_counts=True)
    return {"assets": int(any_.sum()),
            "by_field": {name: int((mask & BIT[name] != 0).sum()) for name in FIELDS if (mask & BIT[name]).any()},
            "by_kind": {str(k): int(c) for k, c in zip(kinds_hit, per_kind, strict=True)}}


__all__ = ["BIT", "FIELDS", "counts", "fields_of", "fill"]
