"""集約・再編: is renewing a sewer branch worth it, or should its households get 合併処理浄化槽 instead?

The 都道府県構想 comparison (domain.md §3.6), per branch: annualized life-cycle cost of renewing the pipes and
running them, against installing and running one tank per household. Only new investment counts. The
break-even is expressed as households per km of pipe: below it, septic tanks are cheaper (家屋間限界距離)."""

from dataclasses import asdict, dataclass


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
    """Keeping a crossing means renewing and maintaining it; removing it means demolition once and every
    vehicle that used it driving the detour, for good. Both as equivalent yearly costs."""

    recommendation: str  # "remove", "renew" or "no_alternative_route"
    traffic: float
    detour_m: float | None
    annual_cost_keep: float
    annual_cost_remove: float | None
    saving_per_year: float
    lcc_saving: float  # present value of the yearly saving over the analysis period
    break_even_traffic: float | None  # vehicles/day below which removal is cheaper

    def to_dict(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def bridge_keep_or_remove(*, deck_m2: float, traffic: float, detour_m: float | None, renew_cost: float,
                          removal_cost_m2: float, om_per_m2_year: float, life: float, rate: float,
                          cost_per_vehicle_km: float, period: float) -> BridgeKeepOrRemove:
    keep = renew_cost * crf(rate, life) + om_per_m2_year * deck_m2
    if detour_m is None or detour_m != detour_m:  # NaN: no way round within reach
        return BridgeKeepOrRemove("no_alternative_route", traffic, None, keep, None, 0.0, 0.0, None)
    demolition = removal_cost_m2 * deck_m2 * crf(rate, life)
    user_per_vehicle = 365 * detour_m / 1000 * cost_per_vehicle_km
    remove = demolition + traffic * user_per_vehicle
    break_even = max(keep - demolition, 0.0) / user_per_vehicle if user_per_vehicle > 0 else None
    saving = keep - remove
    return BridgeKeepOrRemove("remove" if remove < keep else "renew", traffic, detour_m, keep, remove,
                              abs(saving), abs(saving) / crf(rate, period), break_even)
