"""和暦 (Japanese eras) and 年度 (fiscal years): the one module that reads and writes them, for every import
(ledger years, inspection and measure dates) and every page or PDF that shows a year.

The rules (domain.md §4.7 and §7; era days from the 改元 instruments):

- An era begins on the day its name took effect and ends the day before the next one: 明治 1868-01-25 (the
  改元の詔 of 慶応4年9月8日 counts 明治 from 慶応4年1月1日, Gregorian 1868-01-25), 大正 1912-07-30 and 昭和
  1926-12-25 (改元の詔書, on the day of succession), 平成 1989-01-08 (元号を改める政令, 昭和64年政令第1号) and 令和
  2019-05-01 (元号を改める政令, 平成31年政令第143号). Under 元号法 (昭和54年法律第43号) an era changes only by 政令.
- Months and days are Gregorian, as ledgers and JIS X 0301 (R06.05.01) write them.
- A date exists only inside its own era: 昭和64年1月8日 and 令和元年4月30日 are refused; 平成元年1月8日 and
  令和元年5月1日 are read. A year and month alone exist when the era held on some day of that month.
- A year without a day — 昭和48年, or a 年度 such as a ledger's 架設年度 昭和64年度 — exists when the era held on
  some day of that calendar year. A 年度 is named by the calendar year it begins in, so a 年度 spelled in an era
  is valid when the era held in the year that names it: each era's years run 1 … the year it ended (明治 1–45,
  大正 1–15, 昭和 1–64, 平成 1–31, 令和 from 元年), and 昭和64年度 is FY1989, the 年度 平成元年度 names too.
  昭和0年, 昭和99年 and 平成32年 are refused with the era's range.
- 年度 Y runs from 1 April Y to 31 March Y+1: January–March belong to the previous 年度 (平成31年3月31日 →
  FY2018; 1989-03-31 → FY1988 = 昭和63年度).
- Written, a year takes the era in force at the end of its calendar year, and its first year is 元: FY1989 is
  平成元年度 (never 平成1年度), FY2019 令和元年度, FY1988 昭和63年度. `old_era=True` takes the era in force at
  the start of the year instead (昭和64年度, 平成31年度) where the context is the old era's year. The letter
  forms (R6.5.1, H1) write numbers, as JIS X 0301 does.
"""

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass


def _(message: str) -> str:
    # Django is imported when a message is made, not with the module: the pure PDF renderer writes 和暦 and must
    # load without settings or apps.
    from django.utils.translation import gettext

    return gettext(message)


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    first: datetime.date
    last: datetime.date | None  # None while the era lasts

    @property
    def offset(self) -> int:
        """The year before 元年: era year n is Western year offset + n."""
        return self.first.year - 1

    @property
    def last_year(self) -> int | None:
        return None if self.last is None else self.last.year - self.offset

    def holds(self, first: datetime.date, last: datetime.date) -> bool:
        """Whether the era was in force on some day from `first` to `last`."""
        return self.first <= last and (self.last is None or first <= self.last)


def _eras(*rows) -> dict[str, Era]:
    out = {}
    for (name, letter, first), following in zip(rows, [*rows[1:], None], strict=True):
        last = following[2] - datetime.timedelta(days=1) if following else None
        out[name] = Era(name, letter, first, last)
    return out


# Oldest first. Each era ends the day before the next begins.
ERAS = _eras(("明治", "M", datetime.date(1868, 1, 25)), ("大正", "T", datetime.date(1912, 7, 30)),
             ("昭和", "S", datetime.date(1926, 12, 25)), ("平成", "H", datetime.date(1989, 1, 8)),
             ("令和", "R", datetime.date(2019, 5, 1)))
FIRST_DAY = ERAS["明治"].first
ALIASES = {**{e.letter: e.name for e in ERAS.values()}, **{e.name[0]: e.name for e in ERAS.values()}}
# The era spellings a pattern may accept, longest first (match with re.IGNORECASE for m, t, s, h, r).
ERA_PATTERN = "明治|大正|昭和|平成|令和|[MTSHR明大昭平令]"
# A year, optionally with a month, or a full date; Western (2024) or 和暦 (R6, 令和元). Separators as written:
# 令和6年5月1日, R6.5.1, R06.05.01, 2024-05-01, 2024/5/1, 昭和48年度, S48, 1973年3月.
SPELLING = re.compile(
    rf"(?:(?P<era>{ERA_PATTERN})\s*(?P<n>元|\d{{1,2}})|(?P<west>\d{{4}}))\s*"
    r"(?:(?:年度|年)?|(?:年|[./\-])\s*(?P<m>\d{1,2})(?:\s*(?:月|[./\-])\s*(?P<d>\d{1,2})\s*日?|\s*月)?)",
    re.IGNORECASE)


class EraError(ValueError):
    """A 和暦 year, month or date outside its era; the message names the era's valid range."""


def era_name(text: str) -> str:
    """明治 … 令和 for any accepted spelling (M, m, 明, 明治)."""
    return text if text in ERAS else ALIASES[text.upper() if text.isascii() else text]


def year_number(n: int) -> str:
    """An era year as written in kanji forms: the first is 元, never 1."""
    return "元" if n == 1 else str(n)


def valid_range(era: str) -> str:
    """The years an era runs, for a message: 平成元年–平成31年 (1989–2019)."""
    e = ERAS[era_name(era)]
    if e.last is None:
        return _("%(era)s元年 (%(y)d) onwards") % {"era": e.name, "y": e.first.year}
    return _("%(era)s元年–%(era)s%(last)d年 (%(y0)d–%(y1)d)") % {"era": e.name, "last": e.last_year,
                                                              "y0": e.first.year, "y1": e.last.year}


def valid_dates(era: str) -> str:
    """The days an era runs, for a message: 昭和元年12月25日–昭和64年1月7日 (1926-12-25–1989-01-07)."""
    e = ERAS[era_name(era)]
    if e.last is None:
        return _("%(first)s (%(iso0)s) onwards") % {"first": format_date(e.first), "iso0": e.first.isoformat()}
    return _("%(first)s–%(last)s (%(iso0)s–%(iso1)s)") % {
        "first": format_date(e.first), "last": format_date(e.last), "iso0": e.first.isoformat(),
        "iso1": e.last.isoformat()}


def western_year(era: str, year: str | int) -> int:
    """The Western year of `year` (元, or a number) in `era` (any spelling); EraError (a ValueError) naming the
    era's valid range when the era did not hold on any day of that year (昭和0年, 昭和99年, 平成32年)."""
    e = ERAS[era_name(era)]
    n = 1 if year == "元" else int(year)
    if n < 1 or (e.last_year is not None and n > e.last_year):
        raise EraError(_("%(era)s%(n)s年 does not exist; %(era)s runs %(range)s")
                       % {"era": e.name, "n": year, "range": valid_range(e.name)})
    return e.offset + n


def check(era: str, year: str | int, field: str) -> int:
    """`western_year` for a single value, as a ValidationError on `field`."""
    try:
        return western_year(era, year)
    except ValueError as exc:
        from django.core.exceptions import ValidationError

        raise ValidationError({field: str(exc)}) from None


def _not_a_date(text) -> ValueError:
    return ValueError(_("%(value)s is not a date") % {"value": repr(str(text))})


def to_date(era: str, year: str | int, month: int, day: int) -> datetime.date:
    """The day `year`.`month`.`day` of `era`; EraError naming the era's days when the day lies outside them
    (S64.1.8, R1.4.30), ValueError when there is no such day in the calendar (2月30日)."""
    e = ERAS[era_name(era)]
    y = western_year(e.name, year)
    try:
        d = datetime.date(y, month, day)
    except ValueError:
        raise _not_a_date(f"{e.name}{year_number(y - e.offset)}年{month}月{day}日") from None
    if not e.holds(d, d):
        raise EraError(_("%(value)s does not exist; %(era)s runs %(range)s")
                       % {"value": f"{e.name}{year_number(y - e.offset)}年{month}月{day}日", "era": e.name,
                          "range": valid_dates(e.name)})
    return d


def _month(era: Era | None, year: int, month: int, text: str) -> None:
    if not 1 <= month <= 12:
        raise _not_a_date(text)
    first = datetime.date(year, month, 1)
    last = first.replace(day=calendar.monthrange(year, month)[1])
    if era is not None and not era.holds(first, last):
        raise EraError(_("%(value)s does not exist; %(era)s runs %(range)s")
                       % {"value": f"{era.name}{year_number(year - era.offset)}年{month}月", "era": era.name,
                          "range": valid_dates(era.name)})


def _normal(text) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip()


def parse_date(text) -> datetime.date | None:
    """A full date as written — 令和6年5月1日, R6.5.1, R06.05.01, H31.4.30, 2024-05-01, 2024/5/1, 2024年5月1日,
    full-width digits — or None when `text` is not spelled as a date. ValueError when it is spelled as one but
    does not exist; EraError (a ValueError) naming the era's range when the 和暦 year or day lies outside it."""
    m = SPELLING.fullmatch(_normal(text))
    if not m or m["d"] is None:
        return None
    month, day = int(m["m"]), int(m["d"])
    if m["era"]:
        return to_date(m["era"], m["n"], month, day)
    try:
        return datetime.date(int(m["west"]), month, day)
    except ValueError:
        raise _not_a_date(text) from None


def parse_fiscal_year(text) -> int | None:
    """The 年度 (Western) a ledger's year cell means, or None when `text` is not spelled as a year: a year alone is
    the 年度 itself (1973, 1973年度, S48, 昭和48年, 昭和48年度, 令和元年, 昭和64年度 → 1989); a month or a full date
    gives the 年度 it falls in (S48.4.1 → 1973, 1973/3/31 → 1972, 昭和48年3月 → 1972). ValueError for a day or
    month that does not exist, EraError (a ValueError) naming the range for one outside its era."""
    normal = _normal(text)
    m = SPELLING.fullmatch(normal)
    if not m:
        return None
    era = ERAS[era_name(m["era"])] if m["era"] else None
    year = western_year(era.name, m["n"]) if era else int(m["west"])
    if m["d"] is not None:
        day = to_date(era.name, m["n"], int(m["m"]), int(m["d"])) if era else parse_date(normal)
        return fiscal_year(day)
    if m["m"] is not None:
        month = int(m["m"])
        _month(era, year, month, normal)
        return year if month >= 4 else year - 1
    return year


def fiscal_year(day) -> int:
    """年度 of a date: April to March, so January–March belong to the previous 年度 (H31.3.31 → 2018)."""
    return day.year if day.month >= 4 else day.year - 1


def current_fiscal_year(today: datetime.date | None = None) -> int:
    """The 年度 running today (the project's local date)."""
    from django.utils import timezone

    return fiscal_year(today or timezone.localdate())


def era_of(day: datetime.date) -> Era:
    """The era in force on `day`; ValueError before 明治."""
    for e in reversed(ERAS.values()):
        if e.first <= day:
            return e
    raise ValueError(_("%(day)s is before 明治 (%(first)s)") % {"day": day.isoformat(), "first": FIRST_DAY.isoformat()})


def era_of_year(year: int, *, old_era: bool = False) -> Era:
    """The era a year is written in: the one in force at the end of the year (平成 for 1989), or with `old_era`
    the one in force at its start (昭和 for 1989)."""
    if year < FIRST_DAY.year:
        raise ValueError(_("%(day)s is before 明治 (%(first)s)") % {"day": year, "first": FIRST_DAY.isoformat()})
    held = [e for e in ERAS.values() if e.holds(datetime.date(year, 1, 1), datetime.date(year, 12, 31))]
    return held[0] if old_era else held[-1]


def format_fiscal_year(fy: int, *, old_era: bool = False, letters: bool = False) -> str:
    """A 年度 as a council reads it: 令和9年度, 平成元年度 (FY1989), 昭和63年度 (FY1988); `old_era` writes the era
    in force at the start of the year (昭和64年度 for FY1989); `letters` the short form for a chart axis (R9, H1)."""
    e = era_of_year(fy, old_era=old_era)
    n = fy - e.offset
    return f"{e.letter}{n}" if letters else f"{e.name}{year_number(n)}年度"


def format_date(day: datetime.date, *, letters: bool = False) -> str:
    """A date in 和暦: 令和6年5月1日, 令和元年5月1日; `letters` the short form R6.5.1 (R1.5.1)."""
    e = era_of(day)
    n = day.year - e.offset
    if letters:
        return f"{e.letter}{n}.{day.month}.{day.day}"
    return f"{e.name}{year_number(n)}年{day.month}月{day.day}日"
