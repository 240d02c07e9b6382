"""集約・再編: is renewing a sewer branch worth it, or should its households get 合併処理浄化槽 instead?

The 都道府県構想 comparison (domain.md §3.6, §7 "Sewer vs 浄化槽 per branch"), per branch: the yearly cost of
renewing the pipes, running them and treating and pumping the branch's sewage, against installing and running
one tank per household, re-plumbing each house to it, taking out its old connection and abandoning the pipes.
Only new investment counts. The households are those along the branch (its pipes' 取付管 in the sewer ledger),
never a town's average. The break-even is expressed as households per km of pipe: below it, septic tanks are
cheaper (家屋間限界距離)."""

import math
from dataclasses import asdict, dataclass

import numpy as np

from clusters.engine.bridge_lcc import KeepCost, annuity
from clusters.engine.params import Params


def crf(rate: float, years: float) -> float:
    """Capital recovery factor: the yearly payment that repays 1 yen over `years` at `rate`."""
    if rate == 0:
        return 1 / years
    g = (1 + rate) ** years
    return rate * g / (g - 1)


# How the households along a pipe were counted, best first: the ledger's 取付管数, the buildings along it, the
# owner's population density over a strip either side of it.
HOUSEHOLD_BASES = ("house_connections", "buildings", "density")


@dataclass(frozen=True)
class Households:
    total: float
    basis: str  # one of HOUSEHOLD_BASES when every pipe was counted the same way, else "mixed" ("none": no pipes)
    by_basis: dict  # basis → households counted that way
    pipes_by_basis: dict  # basis → pipes counted that way
    length_share: dict  # basis → share of the branch's pipe length counted that way


def households_along(length_m, house_connections, buildings=None, density=None) -> Households:
    """The households along one branch, per pipe from the first count known (NaN or None: unknown): 取付管数,
    else buildings, else the density estimate. A registry without a building layer passes none, and that step is
    skipped; a pipe with no count at all adds no household."""
    length = np.asarray(length_m, dtype=float)
    n = len(length)
    counts = [np.asarray(c if c is not None else np.full(n, np.nan), dtype=float)
              for c in (house_connections, buildings, density)]
    chosen = np.full(n, -1)
    value = np.zeros(n)
    for k, c in enumerate(counts):
        take = (chosen < 0) & ~np.isnan(c)
        chosen[take], value[take] = k, c[take]
    total_m = length.sum()
    by, pipes, share = {}, {}, {}
    for k, basis in enumerate(HOUSEHOLD_BASES):
        sel = chosen == k
        if sel.any():
            by[basis] = float(value[sel].sum())
            pipes[basis] = int(sel.sum())
            share[basis] = float(length[sel].sum() / total_m) if total_m > 0 else float(sel.mean())
    basis = next(iter(pipes)) if len(pipes) == 1 else ("mixed" if pipes else "none")
    return Households(float(value.sum()), basis, by, pipes, share)


@dataclass(frozen=True)
class SewerSepticCosts:
    """The unit costs and years of the comparison (clusters.engine.params, one name each)."""

    annualization: str  # "years": cost ÷ the manual's 参考となる年数; "crf": capital recovery at `rate`
    rate: float
    sewer_life: float  # 管渠
    sewer_om_per_m: float  # pipe upkeep, per m and year
    treatment_om_per_household: float  # treatment plant and pumping stations, per household and year
    septic_install: float  # per household
    septic_life: float  # 浄化槽本体; the conversion works are spread over it too
    septic_om: float  # 保守点検・清掃・法定検査, per household and year
    replumb: float  # 宅内配管 to the tank, per household
    removal: float  # the old 取付管・公共ます (or an old tank) taken out, per household
    sewer_abandon_per_m: float  # the abandoned pipe filled or taken out

    @classmethod
    def from_params(cls, p: Params) -> "SewerSepticCosts":
        treatment = p.sewer_treatment_om_per_household_year
        if p.sewer_treatment_om_per_m3 > 0:  # a 汚水処理原価 (維持管理費分) per m³ replaces the per-household figure
            treatment = p.sewer_treatment_om_per_m3 * p.sewage_m3_per_person_day * 365 * p.persons_per_household
        return cls(p.annualization, p.discount_rate, p.sewer_life_years, p.sewer_om_per_m_year, treatment,
                   p.septic_install_per_household, p.septic_life_years, p.septic_om_per_household_year,
                   p.septic_replumb_per_household, p.septic_removal_per_household, p.sewer_abandon_per_m)

    def yearly(self, cost: float, years: float) -> float:
        """A one-time cost as a yearly one over `years`."""
        if self.annualization == "years":
            return cost / years
        if self.annualization == "crf":
            return cost * crf(self.rate, years)
        raise ValueError(f"annualization must be 'years' or 'crf', not {self.annualization!r}")


def _rounded(value):
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class SewerVsSeptic:
    recommendation: str  # "convert_to_septic" or "renew"
    households: float
    households_basis: str  # house_connections | buildings | density | mixed
    households_by_basis: dict
    pipes_by_basis: dict
    basis_length_share: dict
    pipe_km: float
    households_per_km: float
    break_even_per_km: float | None  # None: septic is never cheaper per household than treating at the plant
    annual_cost_renew: float
    annual_cost_septic: float
    saving_per_year: float
    annualization: str
    renew_breakdown: dict  # pipe renewal, pipe upkeep, treatment and pumping (yen a year)
    septic_breakdown: dict  # tanks, tank upkeep, re-plumbing and removal, pipe abandonment (yen a year)

    def to_dict(self) -> dict:
        return {k: _rounded(v) for k, v in asdict(self).items()}


def sewer_vs_septic(*, pipe_m: float, renew_cost: float, households: Households | float,
                    costs: SewerSepticCosts) -> SewerVsSeptic:
    """The branch's yearly cost both ways and the cheaper one."""
    hh = households if isinstance(households, Households) else Households(
        float(households), "density", {"density": float(households)}, {}, {"density": 1.0})
    c = costs
    renew = {"pipe_renewal": c.yearly(renew_cost, c.sewer_life), "pipe_om": c.sewer_om_per_m * pipe_m,
             "treatment_om": c.treatment_om_per_household * hh.total}
    per_household = (c.yearly(c.septic_install, c.septic_life) + c.septic_om
                     + c.yearly(c.replumb + c.removal, c.septic_life))
    septic = {"tanks": c.yearly(c.septic_install, c.septic_life) * hh.total, "tank_om": c.septic_om * hh.total,
              "replumb_and_removal": c.yearly(c.replumb + c.removal, c.septic_life) * hh.total,
              "sewer_abandonment": c.yearly(c.sewer_abandon_per_m * pipe_m, c.septic_life)}
    renew_total, septic_total = sum(renew.values()), sum(septic.values())
    km = max(pipe_m / 1000, 1e-9)
    # Households per km at which both ways cost the same: what does not grow with households (pipes, less the
    # abandonment) over what each household adds (its tank, less its share of treatment at the plant).
    margin = per_household - c.treatment_om_per_household
    fixed = renew["pipe_renewal"] + renew["pipe_om"] - septic["sewer_abandonment"]
    break_even = fixed / margin / km if margin > 0 else None
    if break_even is not None and not math.isfinite(break_even):
        break_even = None
    return SewerVsSeptic(
        "convert_to_septic" if septic_total < renew_total else "renew", hh.total, hh.basis, hh.by_basis,
        hh.pipes_by_basis, hh.length_share, km, hh.total / km, break_even, renew_total, septic_total,
        abs(renew_total - septic_total), c.annualization, renew, septic)


@dataclass(frozen=True)
class BridgeKeepOrRemove:
    """domain.md §7 (bridge keep or remove), §3.5: keeping a crossing costs its repair-based life cycle (repairs by
    state, 5-yearly inspections, renewal at end of life; clusters.engine.bridge_lcc), removing it costs
    demolition once plus every vehicle that used it driving the detour, for the whole period. Both as present
    values over the same analysis period, and as the equivalent yearly costs over it."""

    recommendation: str  # "remove", "renew" (keep it) or "no_alternative_route"
    traffic: float
    detour_m: float | None
    pv_keep: float
    pv_remove: float | None
    annual_cost_keep: float
    annual_cost_remove: float | None
    saving_per_year: float
    lcc_saving: float  # present value of the saving over the analysis period
    break_even_traffic: float | None  # vehicles/day below which removal is cheaper
    keep: dict  # present values: repairs, inspections, renewal, upkeep; when: first_repair_in, renewal_in
    remove: dict | None  # present values: demolition, detour
    period_years: float

    def to_dict(self) -> dict:
        def rounded(v):
            if isinstance(v, float):
                return round(v, 2)
            return {k: rounded(x) for k, x in v.items()} if isinstance(v, dict) else v

        return {k: rounded(v) for k, v in asdict(self).items()}


def bridge_keep_or_remove(*, deck_m2: float, traffic: float, detour_m: float | None, keep: KeepCost,
                          removal_cost_m2: float, rate: float, cost_per_vehicle_km: float,
                          period: float) -> BridgeKeepOrRemove:
    """Removal is recommended only when demolition plus the users' detour costs less than keeping the bridge;
    with no way round (on the registry's roads or the reference roads) it is not an option."""
    pv_keep, per_year = keep.total, 1 / annuity(rate, period)
    kept = {**{k: getattr(keep, k) for k in ("repairs", "inspections", "renewal", "upkeep")},
            "first_repair_in": keep.first_repair_in, "renewal_in": keep.renewal_in,
            "inspections_count": keep.inspections_count}
    if detour_m is None or detour_m != detour_m:  # NaN: no way round within reach
        return BridgeKeepOrRemove("no_alternative_route", traffic, None, pv_keep, None, pv_keep * per_year, None,
                                  0.0, 0.0, None, kept, None, period)
    demolition = removal_cost_m2 * deck_m2
    user_per_vehicle = 365 * detour_m / 1000 * cost_per_vehicle_km * annuity(rate, period)
    detour = traffic * user_per_vehicle
    pv_remove = demolition + detour
    break_even = max(pv_keep - demolition, 0.0) / user_per_vehicle if user_per_vehicle > 0 else None
    saving = abs(pv_keep - pv_remove)
    return BridgeKeepOrRemove("remove" if pv_remove < pv_keep else "renew", traffic, detour_m, pv_keep, pv_remove,
                              pv_keep * per_year, pv_remove * per_year, saving * per_year, saving, break_even, kept,
                              {"demolition": demolition, "detour": detour}, period)
