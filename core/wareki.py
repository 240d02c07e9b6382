"""和暦 (Japanese era) years: the one place where an era and its year become a Western year, for every import
(ledger years and inspection dates). A year outside its era is refused, never carried over: 平成99年 is a typo,
not 2087, and 昭和0年 does not exist."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Era → (year before 元年, last year of the era or None while it lasts).
ERAS = {"明治": (1867, 45), "大正": (1911, 15), "昭和": (1925, 64), "平成": (1988, 31), "令和": (2018, None)}
ALIASES = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和",
           "明": "明治", "大": "大正", "昭": "昭和", "平": "平成", "令": "令和"}
# The era spellings a pattern may accept, longest first.
ERA_PATTERN = "明治|大正|昭和|平成|令和|[MTSHR明大昭平令]"


def era_name(text: str) -> str:
    """明治 … 令和 for any accepted spelling (M, m, 明, 明治)."""
    return text if text in ERAS else ALIASES[text.upper() if text.isascii() else text]


def valid_range(era: str) -> str:
    start, last = ERAS[era]
    if last is None:
        return _("%(era)s元年 (%(y)d) onwards") % {"era": era, "y": start + 1}
    return _("%(era)s元年–%(era)s%(last)d年 (%(y0)d–%(y1)d)") % {"era": era, "last": last, "y0": start + 1,
                                                              "y1": start + last}


def western_year(era: str, year: str | int) -> int:
    """The Western year of `year` (元, or a number) in `era` (any spelling); ValueError naming the era's valid
    range when the year lies outside it."""
    name = era_name(era)
    n = 1 if year == "元" else int(year)
    start, last = ERAS[name]
    if n < 1 or (last is not None and n > last):
        raise ValueError(_("%(era)s%(n)s年 does not exist; %(era)s runs %(range)s")
                         % {"era": name, "n": year, "range": valid_range(name)})
    return start + n


def check(era: str, year: str | int, field: str) -> int:
    """`western_year` for a single value, as a ValidationError on `field`."""
    try:
        return western_year(era, year)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None


def fiscal_year(day) -> int:
    """年度 of a date: April to March, so January–March belong to the previous 年度 (H31.3.31 → 2018)."""
    return day.year if day.month >= 4 else day.year - 1


def current_fiscal_year(today=None) -> int:
    """The 年度 running today (local date)."""
    import datetime

    return fiscal_year(today or datetime.date.today())
