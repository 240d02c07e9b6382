"""A ledger's year column (布設年度, 架設年度 …) read by core.wareki: a year is the 年度 itself, a full date gives
the 年度 it falls in (domain.md §7: 平成31年3月31日 → FY2018; 1989/3/31 → FY1988), and a 和暦 day or month outside
its era is refused with the era's range (S64.1.8; 平成 from 1989-01-08 by 昭和64年政令第1号)."""

import pandas as pd
import pytest
from django.utils import translation

from assets.history import Actor
from assets.models import Asset, Via
from ledger import values as V
from ledger.importer import import_ledger


def read(*cells):
    with translation.override("en"):
        values, problems = V.fiscal_year(pd.Series(list(cells)))
        return values.tolist(), dict(problems.items())


def test_full_dates_give_the_nendo_they_fall_in():
    values, problems = read("S48.4.1", "S48.3.31", "1973/3/31", "1973-04-01", "平成31年3月31日", "H31.4.1",
                            "1989/3/31", "昭和64年1月7日", "1973年3月", "S48")
    assert not problems
    assert values == [1973, 1972, 1972, 1973, 2018, 2019, 1988, 1988, 1972, 1973]


def test_days_and_months_outside_their_era_and_days_no_calendar_has_are_refused():
    values, problems = read("S64.1.8", "R1.4.30", "昭和64年2月", "1973/2/30", "S48.4.1 改築", "S64.1.7")
    assert values[-1] == 1988 and all(v != v for v in values[:-1])  # NaN
    assert "昭和64年1月8日 does not exist; 昭和 runs 昭和元年12月25日–昭和64年1月7日" in problems[0]
    assert "令和元年4月30日 does not exist; 令和 runs 令和元年5月1日 (2019-05-01) onwards" in problems[1]
    assert "昭和64年2月 does not exist" in problems[2]
    assert problems[3] == "'1973/2/30' is not a date"
    assert problems[4].startswith("'S48.4.1 改築' is not a year; use 1973, S48")
    assert 5 not in problems


def test_an_imported_ledger_stores_the_nendo_of_a_full_date(world):
    lines = ["マンホール番号,設置年度,経度,緯度", "M-1,1989/3/31,139.839,35.822", "M-2,H31.3.31,139.839,35.823",
             "M-3,S48.4.1,139.839,35.824", "M-4,昭和64年度,139.839,35.825"]
    report = import_ledger(actor=Actor.system(Via.IMPORT), data="\n".join(lines).encode(), filename="mh.csv",
                           kind="manhole", municipality="112348")
    assert report.ok, report.errors
    built = dict(Asset.objects.values_list("external_id", "built_fiscal_year"))
    assert built == {"M-1": 1988, "M-2": 2018, "M-3": 1973, "M-4": 1989}


@pytest.mark.parametrize("spelling", ["S64.1.8", "R1.4.30"])
def test_an_import_with_a_day_outside_its_era_stores_nothing(world, spelling):
    lines = ["マンホール番号,設置年度,経度,緯度", f"M-1,{spelling},139.839,35.822", "M-2,S48,139.839,35.823"]
    with translation.override("en"):
        report = import_ledger(actor=Actor.system(Via.IMPORT), data="\n".join(lines).encode(), filename="mh.csv",
                               kind="manhole", municipality="112348")
    assert not report.ok and len(report.errors) == 1 and "does not exist" in report.errors[0], report.errors
    assert Asset.objects.count() == 0
