"""和暦 and 年度, the one module that reads and writes them (core.wareki), checked against the rules of
domain.md §4.7 and §7 and the era days the 改元 instruments set: 明治 from 1868-01-25 (改元の詔, counted from
慶応4年1月1日), 大正 from 1912-07-30 and 昭和 from 1926-12-25 (改元の詔書), 平成 from 1989-01-08 (元号を改める政令,
昭和64年政令第1号), 令和 from 2019-05-01 (元号を改める政令, 平成31年政令第143号); under 元号法 (昭和54年法律第43号) an
era changes only by 政令."""

import datetime
import re

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from core import wareki

D = datetime.date
FIRST = D(1868, 1, 25)
LAST = D(2100, 12, 31)
any_day = st.dates(min_value=FIRST, max_value=LAST)
# (era, letter, first day, last day) as the 改元 instruments set them.
ERA_DAYS = [("明治", "M", D(1868, 1, 25), D(1912, 7, 29)), ("大正", "T", D(1912, 7, 30), D(1926, 12, 24)),
            ("昭和", "S", D(1926, 12, 25), D(1989, 1, 7)), ("平成", "H", D(1989, 1, 8), D(2019, 4, 30)),
            ("令和", "R", D(2019, 5, 1), None)]
ONE = datetime.timedelta(days=1)


def era_held(day: D) -> str:
    """The era in force on `day`, straight from the table above."""
    return next(name for name, _l, first, last in ERA_DAYS if first <= day and (last is None or day <= last))


def jis(day: D) -> str:
    """JIS X 0301's zero-padded letter form: R06.05.01."""
    name = era_held(day)
    letter, first = next((ltr, f) for n, ltr, f, _x in ERA_DAYS if n == name)
    return f"{letter}{day.year - first.year + 1:02d}.{day.month:02d}.{day.day:02d}"


# --- Reading and writing dates (domain.md §4.7: JIS X 0301 letters, Gregorian months and days) -----------------

@settings(deadline=None, max_examples=500)
@given(any_day)
def test_every_date_round_trips_through_each_wareki_spelling(day):
    kanji, letters = wareki.format_date(day), wareki.format_date(day, letters=True)
    assert kanji.startswith(era_held(day)) and letters.startswith(wareki.ERAS[era_held(day)].letter)
    assert wareki.parse_date(kanji) == day
    assert wareki.parse_date(letters) == day
    assert wareki.parse_date(jis(day)) == day
    assert wareki.parse_date(kanji.translate(str.maketrans("0123456789", "０１２３４５６７８９"))) == day
    assert wareki.parse_date(day.isoformat()) == day and wareki.parse_date(f"{day.year}/{day.month}/{day.day}") == day


def test_every_day_from_meiji_to_2100_round_trips():
    """Not a sample: all 85,078 days, in both spellings (domain.md §4.7)."""
    day = FIRST
    while day <= LAST:
        assert wareki.parse_date(wareki.format_date(day)) == day, day
        assert wareki.parse_date(wareki.format_date(day, letters=True)) == day, day
        day += ONE


@settings(deadline=None)
@given(any_day)
def test_the_first_year_of_an_era_is_written_gannen_never_1(day):
    """domain.md §7: 平成元年度, never 平成1年度; the same for dates (令和元年5月1日)."""
    assert not re.search("(明治|大正|昭和|平成|令和)1年", wareki.format_date(day))


def test_dates_as_the_issue_writes_them():
    assert wareki.format_date(D(2024, 5, 1)) == "令和6年5月1日"
    assert wareki.format_date(D(2024, 5, 1), letters=True) == "R6.5.1"
    assert wareki.format_date(D(2019, 5, 1)) == "令和元年5月1日"
    assert wareki.format_date(D(2019, 5, 1), letters=True) == "R1.5.1"
    assert wareki.format_date(D(1989, 1, 7)) == "昭和64年1月7日"


# --- Era boundaries (元号を改める政令; domain.md §7 "Era ranges") ------------------------------------------------

BOUNDARIES = [(e, first, last) for e, _l, first, last in ERA_DAYS]


@pytest.mark.parametrize("era, first, last", BOUNDARIES, ids=[e for e, *_x in BOUNDARIES])
def test_each_era_holds_from_its_first_to_its_last_day_and_not_a_day_more(era, first, last):
    letter = wareki.ERAS[era].letter

    def spelled(day: D, form: str) -> str:
        n = day.year - first.year + 1
        return f"{letter}{n}.{day.month}.{day.day}" if form == "letters" else f"{era}{n}年{day.month}月{day.day}日"

    for form in ("letters", "kanji"):
        # The first day is the era's, written 元年; the day before is not.
        assert wareki.parse_date(spelled(first, form)) == first
        assert wareki.format_date(first).startswith(f"{era}元年")
        with pytest.raises(wareki.EraError):
            wareki.parse_date(spelled(first - ONE, form))
        if last is None:
            continue
        assert wareki.parse_date(spelled(last, form)) == last
        assert wareki.format_date(last).startswith(era)
        with pytest.raises(wareki.EraError):
            wareki.parse_date(spelled(last + ONE, form))
    # Written, each boundary day takes the era in force on it.
    if first > FIRST:
        assert not wareki.format_date(first - ONE).startswith(era)
    else:
        with pytest.raises(ValueError):
            wareki.format_date(first - ONE)
    if last is not None:
        assert not wareki.format_date(last + ONE).startswith(era)


@pytest.mark.parametrize("text, day", [
    ("H1.1.8", D(1989, 1, 8)), ("平成元年1月8日", D(1989, 1, 8)), ("S64.1.7", D(1989, 1, 7)),
    ("R1.5.1", D(2019, 5, 1)), ("H31.4.30", D(2019, 4, 30)), ("T1.7.30", D(1912, 7, 30)), ("M45.7.29", D(1912, 7, 29)),
    ("T15.12.24", D(1926, 12, 24)), ("S1.12.25", D(1926, 12, 25)), ("M1.1.25", D(1868, 1, 25)),
])
def test_boundary_days_inside_their_era_are_read(text, day):
    """domain.md §7: H1.1.8 and R1.5.1 exist (平成 from 1989-01-08, 令和 from 2019-05-01)."""
    assert wareki.parse_date(text) == day


@pytest.mark.parametrize("text, shown, dates", [
    ("S64.1.8", "昭和64年1月8日", "昭和元年12月25日–昭和64年1月7日 (1926-12-25–1989-01-07)"),
    ("R1.4.30", "令和元年4月30日", "令和元年5月1日 (2019-05-01) onwards"),
    ("H1.1.7", "平成元年1月7日", "平成元年1月8日–平成31年4月30日 (1989-01-08–2019-04-30)"),
    ("H31.5.1", "平成31年5月1日", "平成31年4月30日"),
    ("T15.12.25", "大正15年12月25日", "大正元年7月30日–大正15年12月24日"),
    ("M45.7.30", "明治45年7月30日", "明治元年1月25日–明治45年7月29日"),
    ("M1.1.24", "明治元年1月24日", "(1868-01-25–1912-07-29)"),
])
def test_days_outside_their_era_are_refused_naming_its_days(text, shown, dates):
    """domain.md §7: S64.1.8 and R1.4.30 do not exist; the message names the era's first and last day."""
    with translation.override("en"), pytest.raises(wareki.EraError) as exc:
        wareki.parse_date(text)
    assert str(exc.value).startswith(f"{shown} does not exist; ") and dates in str(exc.value), exc.value
    with translation.override("ja"), pytest.raises(wareki.EraError) as exc:
        wareki.parse_date(text)
    assert f"{shown} はありません。" in str(exc.value) and ("〜" in str(exc.value) or "以降" in str(exc.value)), exc.value


def test_a_day_that_no_calendar_has_is_not_an_era_refusal():
    for text in ("R6.2.30", "2024-13-01", "令和6年4月31日"):
        with pytest.raises(ValueError) as exc:
            wareki.parse_date(text)
        assert not isinstance(exc.value, wareki.EraError)
    assert wareki.parse_date("not a date") is None and wareki.parse_date("S48") is None


# --- Years without a day (domain.md §7 "Era ranges"; §4.7 ledgers record 年度) -----------------------------------

YEAR_RANGES = [("明治", 45), ("大正", 15), ("昭和", 64), ("平成", 31), ("令和", None)]


@settings(deadline=None)
@given(st.sampled_from(YEAR_RANGES), st.integers(min_value=-5, max_value=99))
def test_an_era_year_exists_when_the_era_held_on_some_day_of_it(era_last, n):
    """明治 1–45, 大正 1–15, 昭和 1–64, 平成 1–31, 令和 from 元年 (domain.md §7): year n of an era exists iff the era
    held on some day of that calendar year (the ranges above are exactly that, from the 改元 days)."""
    era, last = era_last
    _n, _l, first, last_day = next(row for row in ERA_DAYS if row[0] == era)
    year = first.year + n - 1
    held_that_year = n >= 1 and (last_day is None or last_day.year >= year)
    assert held_that_year == (n >= 1 and (last is None or n <= last))
    if held_that_year:
        assert wareki.western_year(era, n) == year
        assert wareki.western_year(wareki.ERAS[era].letter, str(n)) == year
        assert wareki.parse_fiscal_year(f"{era}{wareki.year_number(n)}年度") == year
        assert wareki.parse_fiscal_year(f"{era}{wareki.year_number(n)}年") == year
    else:
        with pytest.raises(wareki.EraError):
            wareki.western_year(era, n)
        if n >= 0:  # a negative year is no spelling at all
            with pytest.raises(wareki.EraError):
                wareki.parse_fiscal_year(f"{era}{n}年度")


@pytest.mark.parametrize("text, message", [
    ("昭和99年", "昭和 runs 昭和元年–昭和64年 (1926–1989)"),
    ("昭和0年", "昭和 runs 昭和元年–昭和64年 (1926–1989)"),
    ("平成32年", "平成 runs 平成元年–平成31年 (1989–2019)"),
    ("H32年度", "平成 runs 平成元年–平成31年 (1989–2019)"),
    ("大正16年度", "大正 runs 大正元年–大正15年 (1912–1926)"),
    ("明治46年", "明治 runs 明治元年–明治45年 (1868–1912)"),
    ("R0", "令和 runs 令和元年 (2019) onwards"),
])
def test_years_outside_their_era_are_refused_naming_the_range_in_english_and_japanese(text, message):
    """domain.md §7: 昭和99年, 昭和0年 and 平成32年 do not exist (昭和99年 is not 2024)."""
    with translation.override("en"), pytest.raises(wareki.EraError) as exc:
        wareki.parse_fiscal_year(text)
    assert message in str(exc.value), exc.value
    with translation.override("ja"), pytest.raises(wareki.EraError) as exc:
        wareki.parse_fiscal_year(text)
    assert "はありません" in str(exc.value) and ("〜" in str(exc.value) or "以降" in str(exc.value)), exc.value


@pytest.mark.parametrize("text, fy", [("昭和64年", 1989), ("昭和64年度", 1989), ("平成元年度", 1989), ("平成31年度", 2019),
                                      ("令和元年度", 2019), ("大正15年度", 1926), ("昭和元年度", 1926), ("明治45年", 1912),
                                      ("S48", 1973), ("s48", 1973), ("1973年度", 1973), ("1973", 1973)])
def test_a_nendo_spelled_in_an_era_is_read_when_the_era_held_in_the_year_naming_it(text, fy):
    """core.wareki's rule for years without a day: 昭和64年度 is a 台帳's spelling of FY1989, like 平成元年度."""
    assert wareki.parse_fiscal_year(text) == fy


@pytest.mark.parametrize("text, fy", [("S64.1", 1988), ("R1.5", 2019), ("T1.7", 1912), ("M45.7", 1912),
                                      ("1973年3月", 1972), ("S48.4", 1973)])
def test_a_year_and_month_give_their_nendo(text, fy):
    assert wareki.parse_fiscal_year(text) == fy


@pytest.mark.parametrize("text", ["S64.2", "R1.4", "平成31年5月", "T1.6", "M45.8"])
def test_a_month_the_era_never_held_is_refused(text):
    with translation.override("en"), pytest.raises(wareki.EraError, match="does not exist; .* runs "):
        wareki.parse_fiscal_year(text)


# --- 年度 (domain.md §7: April–March; January–March belong to the previous 年度) --------------------------------

@settings(deadline=None, max_examples=500)
@given(any_day)
def test_a_dates_nendo_begins_in_april(day):
    fy = wareki.fiscal_year(day)
    assert fy == (day.year if day.month >= 4 else day.year - 1)
    assert D(fy, 4, 1) <= day < D(fy + 1, 4, 1)
    # A full date in a ledger's year column means the 年度 it falls in, however it is spelled.
    for text in (wareki.format_date(day), wareki.format_date(day, letters=True), day.isoformat(),
                 f"{day.year}/{day.month}/{day.day}"):
        assert wareki.parse_fiscal_year(text) == fy, text


@pytest.mark.parametrize("text, fy, written", [
    ("平成31年3月31日", 2018, "平成30年度"), ("H31.3.31", 2018, "平成30年度"), ("1989/3/31", 1988, "昭和63年度"),
    ("S64.1.7", 1988, "昭和63年度"), ("H1.4.1", 1989, "平成元年度"), ("2019-04-01", 2019, "令和元年度"),
    ("S48.4.1", 1973, "昭和48年度"), ("1973/3/31", 1972, "昭和47年度"),
])
def test_january_to_march_belong_to_the_previous_nendo(text, fy, written):
    """domain.md §7: 平成31年3月31日 → FY2018 = 平成30年度; 1989/3/31 → FY1988 = 昭和63年度."""
    assert wareki.parse_fiscal_year(text) == fy
    assert wareki.fiscal_year(wareki.parse_date(text)) == fy
    assert wareki.format_fiscal_year(fy) == written


def test_the_current_nendo_turns_on_the_first_of_april():
    assert wareki.current_fiscal_year(D(2027, 3, 31)) == 2026
    assert wareki.current_fiscal_year(D(2027, 4, 1)) == 2027


@settings(deadline=None)
@given(st.integers(min_value=1868, max_value=2100))
def test_every_nendo_round_trips_through_its_spelling(fy):
    for old_era in (False, True):
        written = wareki.format_fiscal_year(fy, old_era=old_era)
        assert written.endswith("年度") and not re.search("(明治|大正|昭和|平成|令和)1年度", written)
        assert wareki.parse_fiscal_year(written) == fy
        assert wareki.parse_fiscal_year(wareki.format_fiscal_year(fy, old_era=old_era, letters=True)) == fy


def test_every_nendo_from_meiji_to_2100_round_trips():
    for fy in range(1868, 2101):
        assert wareki.parse_fiscal_year(wareki.format_fiscal_year(fy)) == fy
        assert wareki.parse_fiscal_year(wareki.format_fiscal_year(fy, old_era=True)) == fy


@pytest.mark.parametrize("fy, new, old, short", [
    (1988, "昭和63年度", "昭和63年度", "S63"), (1989, "平成元年度", "昭和64年度", "H1"),
    (2018, "平成30年度", "平成30年度", "H30"), (2019, "令和元年度", "平成31年度", "R1"),
    (2027, "令和9年度", "令和9年度", "R9"), (1926, "昭和元年度", "大正15年度", "S1"),
    (1912, "大正元年度", "明治45年度", "T1"), (1868, "明治元年度", "明治元年度", "M1"),
])
def test_a_nendo_is_written_in_the_new_era_or_the_old_one_as_the_context_needs(fy, new, old, short):
    """domain.md §7: FY1989 is 平成元年度 (昭和64年度 where the context is the old era's year), FY1988 昭和63年度."""
    assert wareki.format_fiscal_year(fy) == new
    assert wareki.format_fiscal_year(fy, old_era=True) == old
    assert wareki.format_fiscal_year(fy, letters=True) == short


def test_before_meiji_nothing_is_written():
    with pytest.raises(ValueError):
        wareki.format_fiscal_year(1867)
    with pytest.raises(ValueError):
        wareki.format_date(D(1868, 1, 24))
