"""Numbers as people read them: yen in 百万円 (tables) or 億円 (summaries), thousands separators, and shares
rounded so that they add up to the rounded total. Pure functions (no Django)."""

import math

__all__ = ["allocate", "grouped", "yen_to_million", "yen_to_oku"]


def yen_to_million(yen, digits: int = 0) -> float | None:
    """Yen → 百万円, rounded half away from zero to `digits` decimals."""
    return _round(yen, 1e6, digits)


def yen_to_oku(yen, digits: int = 1) -> float | None:
    """Yen → 億円 (10⁸ yen), rounded half away from zero to `digits` decimals."""
    return _round(yen, 1e8, digits)


def _round(yen, unit: float, digits: int) -> float | None:
    if yen is None or yen == "":
        return None
    x = float(yen) / unit
    if not math.isfinite(x):
        return None
    q = 10 ** digits
    return math.copysign(math.floor(abs(x) * q + 0.5) / q, x)


def grouped(value, digits: int = 0) -> str:
    """A number with thousands separators and `digits` decimals: 68,866,543,655 / 688.7; — when there is none."""
    if value is None or value == "":
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "—"
    text = f"{x:,.{digits}f}"
    # -0.04 rounds to "-0.0": no sign on a zero.
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def allocate(total: float, weights: list[float], digits: int = 0) -> list[float]:
    """Split `total`, rounded to `digits` decimals, over `weights` so that the rounded shares add up to exactly
    the rounded total (largest-remainder method): each share is first rounded down; the units left over go to
    the largest remainders (ties: the larger share, then the earlier one). What is left when the total is
    negative or rounding overshoots is settled on the largest share. Weights ≤ 0 (or all zero) get nothing
    unless every weight is zero, when the total goes to the first share."""
    n = len(weights)
    if n == 0:
        return []
    q = 10 ** digits
    units_total = math.floor(abs(float(total)) * q + 0.5)
    sign = -1 if total < 0 else 1
    w = [max(float(x), 0.0) if math.isfinite(float(x)) else 0.0 for x in weights]
    s = sum(w)
    if s <= 0:
        units = [0] * n
        units[0] = units_total
    else:
        exact = [units_total * x / s for x in w]
        units = [math.floor(e) for e in exact]
        left = units_total - sum(units)
        order = sorted(range(n), key=lambda i: (-(exact[i] - units[i]), -w[i], i))
        for i in order[:max(left, 0)]:
            units[i] += 1
        if left < 0 or sum(units) != units_total:  # float noise: settle the rest on the largest share
            big = max(range(n), key=lambda i: (w[i], -i))
            units[big] += units_total - sum(units)
    return [sign * u / q if digits else float(sign * u) for u in units]
