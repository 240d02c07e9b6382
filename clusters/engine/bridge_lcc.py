"""What keeping a bridge costs over the analysis period: its repair-based life cycle (domain.md §3.5, §7).

Not a full replacement now: a bridge is repaired when its expected deterioration path (期待劣化パス, §3.1) reaches
the repair state, inspected every five years (定期点検), and renewed only when its age reaches its life. Every
cost is a present value at the discount rate over the same period the removal side is counted over; anything
past the period is left out, and a renewal inside it is credited with the life it still has at the end
(straight-line residual value), so a renewal in the period's last year does not count as a whole bridge.

Pure: numbers in, numbers out."""

from dataclasses import asdict, dataclass

import numpy as np


def discount(rate: float, t) -> np.ndarray:
    """Present value of 1 yen paid `t` years from now."""
    return (1 + rate) ** -np.asarray(t, dtype=float)


def annuity(rate: float, years: float) -> float:
    """Present value of 1 yen a year, paid continuously through `years` (the inverse of the capital recovery
    factor, so an equivalent annual cost is present value / annuity)."""
    return years if rate == 0 else (1 - (1 + rate) ** -years) / rate


def years_to_state(theta, start: int, target: int) -> float:
    """Expected years from rank `start` to rank `target` on the pure-birth chain: the sum of the expected
    sojourns 1/θ of the ranks in between (0 when already there)."""
    return float(sum(1 / t for t in theta[start:target]))


@dataclass(frozen=True)
class KeepCost:
    """Present values (yen) over the period, and when the works fall (years from now)."""

    repairs: float
    inspections: float
    renewal: float  # renewal at end of life less its residual value at the period's end
    upkeep: float
    first_repair_in: float | None  # expected years to the first repair, None if none within the period
    renewal_in: float | None  # years to the renewal (end of life), None if beyond the period
    inspections_count: int

    @property
    def total(self) -> float:
        return self.repairs + self.inspections + self.renewal + self.upkeep

    def to_dict(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _repair_times(first: float, cycle: float, renewal_in: float, period: float, window: float) -> np.ndarray:
    """Repairs from `first` every `cycle` years, then from the renewal the new bridge's own, all within the
    period. A repair is left out when the renewal falls within `window` of it: a Ⅲ bridge's measure is due
    before its next 定期点検 (domain.md §7), and a renewal by then is that measure."""
    if not np.isfinite(cycle) or cycle <= 0:
        cycle = np.inf
    times = []
    t = first
    while t < min(renewal_in - window, period):
        times.append(t)
        t += cycle
    t = renewal_in + cycle
    while t < period:
        times.append(t)
        t += cycle
    return np.array(times)


def keep_cost(*, deck_m2: float, state_probs, theta, repair_state: int, age: float, life: float,
              next_inspection_in: float, repair_cost_m2: float, renew_cost_m2: float, inspection_cost: float,
              inspection_interval: float, upkeep_m2_year: float, rate: float, period: float) -> KeepCost:
    """The repair-based life cycle of one bridge.

    state_probs: probability of each rank now (Ⅰ … Ⅳ), from the Markov chain; theta: the hazards of the ranks
    but the last (per year). Repairs: from each rank now, the first falls when the expected path reaches
    `repair_state` (now, for a bridge already there or worse), the next ones every time a repaired bridge (back
    to Ⅰ) gets there again; weighted by the probability of starting from that rank; none when the renewal comes
    within an inspection interval (it is the measure). Renewal when `age` reaches `life`. Inspections from
    `next_inspection_in`, every `inspection_interval` years, before and after renewal."""
    probs = np.asarray(state_probs, dtype=float)
    renewal_in = max(life - age, 0.0)
    cycle = years_to_state(theta, 0, repair_state)
    repairs, first = 0.0, 0.0
    for rank, p in enumerate(probs):
        if p <= 0:
            continue
        start = years_to_state(theta, rank, repair_state) if rank < repair_state else 0.0
        times = _repair_times(start, cycle, renewal_in, period, inspection_interval)
        repairs += p * float(discount(rate, times).sum())
        first += p * start
    repairs *= repair_cost_m2 * deck_m2
    checks = np.arange(max(next_inspection_in, 0.0), period, inspection_interval)
    renewal = 0.0
    if renewal_in < period:
        cost = renew_cost_m2 * deck_m2
        left = max(1 - (period - renewal_in) / life, 0.0)
        renewal = cost * float(discount(rate, renewal_in)) - cost * left * float(discount(rate, period))
    return KeepCost(
        repairs=repairs, inspections=inspection_cost * float(discount(rate, checks).sum()), renewal=renewal,
        upkeep=upkeep_m2_year * deck_m2 * annuity(rate, period),
        first_repair_in=first if first < min(renewal_in - inspection_interval, period) else None,
        renewal_in=renewal_in if renewal_in < period else None, inspections_count=len(checks))
