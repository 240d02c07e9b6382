"""Past inspections drawn from a known multi-state exponential (Markov) deterioration process.

Because the true hazards are known, the engine's estimator can later be checked against them."""

import datetime
from dataclasses import dataclass

import numpy as np

# Per-year hazards of leaving each state (best first). Expected sojourn = 1 / hazard.
TRUE_HAZARDS = {
    "bridge_kenzen": (1 / 18, 1 / 110, 1 / 45),
    "pavement_shindan": (1 / 9, 1 / 14, 1 / 20),
    "sewer_kinkyu": (1 / 38, 1 / 45, 1 / 35),
    "manhole_kinkyu": (1 / 40, 1 / 50, 1 / 40),
}
LABELS = {
    "bridge_kenzen": ("I", "II", "III", "IV"),
    "pavement_shindan": ("I", "II", "III-1", "III-2"),
    "sewer_kinkyu": ("none", "III", "II", "I"),
    "manhole_kinkyu": ("none", "III", "II", "I"),
}


@dataclass
class Trajectory:
    """States at a sequence of inspection ages; repairs after bad grades restart the clock."""

    states: np.ndarray  # (n, k) int, -1 where not inspected


def simulate(rng: np.random.Generator, ages: np.ndarray, hazards: tuple[float, ...],
             repair_from: int = 2, repair_prob: float = 0.4) -> Trajectory:
    """ages: (n, k) ages in years at each inspection (NaN = none), non-decreasing along k."""
    n, k = ages.shape
    theta = np.asarray(hazards)
    sojourn = rng.exponential(1.0 / theta, size=(n, len(theta)))
    origin = np.zeros(n)
    states = np.full((n, k), -1, dtype=np.int8)
    for j in range(k):
        a = ages[:, j]
        seen = ~np.isnan(a)
        elapsed = np.where(seen, a - origin, 0.0)
        state = (np.cumsum(sojourn, axis=1) <= elapsed[:, None]).sum(axis=1)
        states[seen, j] = state[seen]
        repaired = seen & (state >= repair_from) & (rng.random(n) < repair_prob)
        if repaired.any():
            # Repaired about a year after the inspection; deterioration starts again from the best state.
            origin[repaired] = a[repaired] + 1.0
            sojourn[repaired] = rng.exponential(1.0 / theta, size=(int(repaired.sum()), len(theta)))
    return Trajectory(states)


def random_dates_in_fy(rng: np.random.Generator, fy: np.ndarray, today: np.datetime64 | None = None) -> np.ndarray:
    """A date inside each fiscal year (April to March), never after today, as numpy datetime64[D]."""
    start = ((fy.astype("int64") - 1970).astype("datetime64[Y]").astype("datetime64[M]") + 3).astype("datetime64[D]")
    days = start + rng.integers(0, 360, size=fy.shape).astype("timedelta64[D]")
    if today is None:
        today = np.datetime64(datetime.date.today(), "D")
    return np.minimum(days, today)


def pavement_observations(rng: np.random.Generator, state: np.ndarray) -> np.ndarray:
    """Crack %, rut mm and IRI consistent with the 診断区分 thresholds (20/40 %, 20/40 mm, 3/8 mm/m)."""
    lo = np.array([[0, 0, 0.8], [20, 20, 3.0], [40, 40, 8.0], [45, 45, 9.0]])
    hi = np.array([[19, 19, 2.9], [39, 39, 7.9], [60, 60, 12.0], [80, 70, 15.0]])
    u = rng.random((state.size, 3))
    vals = lo[state] + u * (hi[state] - lo[state])
    # A grade needs only one measure over its threshold; the others may stay lower.
    keep_low = rng.random((state.size, 3)) < 0.5
    keep_low[np.arange(state.size), rng.integers(0, 3, state.size)] = False
    lower = lo[np.maximum(state - 1, 0)] + u * (hi[np.maximum(state - 1, 0)] - lo[np.maximum(state - 1, 0)])
    vals = np.where(keep_low & (state[:, None] > 0), lower, vals)
    out = np.empty(state.size, dtype=object)
    for i, (c, r, iri) in enumerate(np.round(vals, 1)):
        out[i] = f'{{"crack_pct": {c}, "rut_mm": {r}, "iri": {iri}}}'
    return out
