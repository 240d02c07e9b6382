"""集約・再編: is renewing a sewer branch worth it, or should its households get 合併処理浄化槽 instead?

The 都道府県構想 comparison (domain.md §3.6), per branch: annualized life-cycle cost of renewing the pipes and
running them, against installing and running one tank per household. Only new investment counts. The
break-even is expressed as households per km of pipe: below it, septic tanks are cheaper (家屋間限界距離)."""

from dataclasses import asdict, dataclass

from clusters.engine.bridge_lcc import KeepCost, annuity


def crf(rate: float, years: float) -> float:
    """Capital recovery factor: the yearly payment that repays 1 yen over `years` at `rate`."""
    if rate == 0:
        return 1 / years
    g = (1 + rate) ** years
    return rate * g / (g - 1)


@dataclass(frozen=True)
class SewerVsSeptic:
    recommendation: str  # "convert_to_septic" or "renew"
    households: float
    pipe_km: float
    households_per_km: float
    break_even_per_km: float
    annual_cost_renew: float
    annual_cost_septic: float
    saving_per_year: float

    def to_dict(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def sewer_vs_septic(*, pipe_m: float, households: float, renew_cost: float, rate: float, sewer_life: float,
                    sewer_om_per_m: float, septic_cost: float, septic_life: float, septic_om: float) -> SewerVsSeptic:
    renew = renew_cost * crf(rate, sewer_life) + sewer_om_per_m * pipe_m
    per_household = septic_cost * crf(rate, septic_life) + septic_om
    septic = households * per_household
    km = max(pipe_m / 1000, 1e-9)
    break_even = renew / per_household / km
    hh_km = households / km
    return SewerVsSeptic("convert_to_septic" if septic < renew else "renew", households, km, hh_km, break_even,
                         renew, septic, abs(renew - septic))


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
