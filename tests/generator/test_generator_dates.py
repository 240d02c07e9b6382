"""The demo generator writes years as a ledger does, through core.wareki (domain.md §7: FY1989 = 平成元年度,
FY1988 = 昭和63年度, FY2019 = 令和元年度, never 平成1年度), and draws inspection dates inside their 年度 (April to
March, domain.md §4.7), leap years included."""

import datetime

import numpy as np

from core import wareki
from generator.history import random_dates_in_fy
from generator.layout import _built_text


def test_built_years_are_written_as_ledgers_write_them():
    fy = np.array([1950, 1988, 1989, 1990, 2018, 2019, 2024, 1989])
    assert _built_text(fy).tolist() == ["昭和25年度", "昭和63年度", "平成元年度", "平成2年度", "平成30年度", "令和元年度",
                                        "令和6年度", "平成元年度"]
    assert [wareki.parse_fiscal_year(t) for t in _built_text(fy)] == fy.tolist()


def test_drawn_dates_lie_inside_their_nendo_in_leap_years_too():
    rng = np.random.default_rng(7)
    fy = np.repeat(np.array([1988, 2000, 2023, 2024]), 2000)
    days = random_dates_in_fy(rng, fy, today=np.datetime64("2100-01-01"))
    got = [wareki.fiscal_year(datetime.date.fromisoformat(str(d))) for d in days]
    assert got == fy.tolist()
