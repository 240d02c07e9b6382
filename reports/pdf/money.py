"""Money as plans print it: 百万円 in tables, 億円 in summaries, parts that add up to their printed total."""

import math

__all__ = ["largest_remainder", "oku", "split_million"]


def largest_remainder(total: float, parts: list[float], unit: float) -> list[int]:
    """Each part in whole `unit`s so that they add up to the total rounded to `unit` (Hamilton's method: floor
    every part, then hand the units left to the largest remainders). A cost-share table then adds up on paper."""
    if not parts:
        return []
    target = round(total / unit)
    raw = [p / unit for p in parts]
    floors = [math.floor(x) for x in raw]
    left = target - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:max(left, 0)]:
        floors[i] += 1
    for i in reversed(order):  # parts larger than the total (rounding up): take back from the smallest remainders
        if left >= 0:
            break
        if floors[i] > 0:
            floors[i] -= 1
            left += 1
    return floors


def split_million(total: float, parts: list[float]) -> tuple[str, list[str]]:
    """The total and its parts in 百万円 with one decimal, the parts adding up to the printed total."""
    tenths = largest_remainder(total, parts, 1e5)
    return f"{round(total / 1e5) / 10:,.1f}", [f"{t / 10:,.1f}" for t in tenths]


def oku(yen: float) -> str:
    return f"{yen / 1e8:,.1f}億円"
