"""Inspection and measure dates are read by core.wareki (one reading for every import and form): a 和暦 date
outside its own era is refused naming the era's days (domain.md §7: S64.1.8 and R1.4.30 do not exist; 平成 from
1989-01-08 by 昭和64年政令第1号, 令和 from 2019-05-01 by 平成31年政令第143号), and "before the asset was built"
compares 年度 with 年度 (domain.md §4.7: 年度 Y = April Y … March Y+1)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from assets.history import Actor
from inspections.measure_services import measure_record
from inspections.models import Inspection, Measure
from inspections.services import inspection_record, parse_date
from tests.conftest import make_asset


@pytest.mark.parametrize("text, day", [("H1.1.8", (1989, 1, 8)), ("平成元年1月8日", (1989, 1, 8)),
                                       ("R1.5.1", (2019, 5, 1)), ("R06.05.01", (2024, 5, 1)),
                                       ("S64.1.7", (1989, 1, 7))])
def test_the_first_and_last_days_of_an_era_are_read(text, day):
    assert parse_date(text) == datetime.date(*day)


@pytest.mark.parametrize("text, message", [
    ("S64.1.8", "昭和64年1月8日 does not exist; 昭和 runs 昭和元年12月25日–昭和64年1月7日 (1926-12-25–1989-01-07)"),
    ("R1.4.30", "令和元年4月30日 does not exist; 令和 runs 令和元年5月1日 (2019-05-01) onwards"),
    ("平成31年5月1日", "平成 runs 平成元年1月8日–平成31年4月30日"),
])
def test_a_day_outside_its_era_is_refused_naming_the_eras_days(text, message):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        parse_date(text, "started_on")
    assert exc.value.message_dict["started_on"] == [message] or message in exc.value.message_dict["started_on"][0]


def test_an_inspection_before_the_built_nendo_began_is_refused(world):
    """Built in 年度 2024 (from 2024-04-01): 2024-03-31 lies in 年度 2023, before it; the calendar year is no guide."""
    bridge = make_asset(world.yashio, "bridge", built=2024)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        inspection_record(actor=Actor.system(), asset=bridge, inspected_on="R6.3.31", grade="Ⅰ")
    assert "before the asset was built (fiscal year 2024)" in exc.value.message_dict["inspected_on"][0]
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        measure_record(actor=Actor.system(), asset=bridge, kind="repair", started_on="2024-03-31")
    assert "before the asset was built" in exc.value.message_dict["started_on"][0]
    assert not Inspection.objects.exists() and not Measure.objects.exists()
    inspection_record(actor=Actor.system(), asset=bridge, inspected_on="R6.4.1", grade="Ⅰ")
    measure_record(actor=Actor.system(), asset=bridge, kind="repair", started_on="2024-04-01")
    assert Inspection.objects.count() == 1 and Measure.objects.count() == 1
