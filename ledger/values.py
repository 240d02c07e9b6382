"""Cell values as municipal ledgers write them, vectorized over a column (pandas): 和暦 fiscal years in
every common spelling, numbers with separators and units, 不明 and blanks, yes/no marks.

Each parser returns (values, problems): values with NaN/None where the cell was empty or unknown, and
problems (row positions and a message for each) for cells that could not be read or lie outside the allowed
range. Messages are made only for the rows that are reported, so a file of a million bad cells costs an array
of positions, not a million strings. Unknown cells are not errors: the importer reports them as warnings."""

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from core import wareki
from core.export import unescape_formula
from core.text import NOT_IN_LINE, forbidden_char, forbidden_message

UNKNOWN = {"", "不明", "不詳", "未詳", "—", "-", "－", "ー", "―", "?", "？", "na", "n/a", "nan", "none", "null", "不明確"}
NUMBER_RE = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)", re.IGNORECASE)
TRUE = {"1", "true", "yes", "y", "有", "あり", "○", "〇", "◯", "該当", "t", "はい"}
FALSE = {"0", "false", "no", "n", "無", "なし", "×", "非該当", "f", "いいえ"}
YEARS = (1868, 2100)


def shown(value, limit: int = 40) -> str:
    """A cell as quoted in a message, cut short: an error report must not echo a 100,000-character cell."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


@dataclass
class Problems:
    """Bad cells of one column: sorted row positions and how to word each."""
    positions: np.ndarray
    message: Callable[[int], str]

    def __len__(self) -> int:
        return len(self.positions)

    def items(self) -> Iterator[tuple[int, str]]:
        for pos in self.positions.tolist():
            yield pos, self.message(pos)

    @classmethod
    def none(cls) -> "Problems":
        return cls(np.array([], dtype=np.int64), str)

    @classmethod
    def where(cls, mask, message: Callable[[int], str]) -> "Problems":
        return cls(np.flatnonzero(np.asarray(mask, dtype=bool)), message)


def clean(series: pd.Series) -> pd.Series:
    """NFKC (full-width digits and letters to ASCII), trimmed, line breaks (LF, CR: a cell Excel wrapped, or a
    CSV cell written on Windows) removed. The column is normalized as one string (a C call) rather than cell by
    cell."""
    cells = series.fillna("").astype(str).tolist()
    joined = "\x1f".join(cells)
    if not joined.isascii():
        joined = unicodedata.normalize("NFKC", joined)
    parts = joined.replace("\n", "").replace("\r", "").split("\x1f")
    return pd.Series([p.strip() for p in parts] if len(parts) == len(cells) else
                     [unicodedata.normalize("NFKC", c).strip().replace("\n", "").replace("\r", "") for c in cells],
                     index=series.index, dtype=object)


def forbidden(text: pd.Series) -> Problems:
    """Cells of a text column holding a character no stored text may (`core.text`: control characters, lone
    surrogates, U+FFFE/U+FFFF; a ledger value is one line, so a tab too). The column is searched as one string
    first: a clean column, the usual case, costs one regex scan."""
    try:
        joined = "".join(text.tolist())  # the column's cells are text already (`clean`, `text_value`)
    except TypeError:
        text = text.fillna("").astype(str)
        joined = "".join(text.tolist())
    if not NOT_IN_LINE.search(joined):
        return Problems.none()
    cells = text.fillna("").astype(str)
    mask = cells.str.contains(NOT_IN_LINE.pattern, regex=True).to_numpy(dtype=bool)
    return Problems.where(mask, lambda pos: forbidden_message(*forbidden_char(cells.iloc[pos])))


def is_unknown(text: pd.Series) -> pd.Series:
    return text.str.lower().isin(UNKNOWN)


def year_of(text: str) -> int | None:
    """One cell's Western fiscal year (None for blank or 不明); ValueError with the message otherwise."""
    if text.lower() in UNKNOWN:
        return None
    year = wareki.parse_fiscal_year(text)
    if year is None:
        raise ValueError(_("%s is not a year; use 1973, S48, 昭和48年, H6年度, R6 or 令和元年") % shown(text))
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(_("%(value)s is outside %(lo)d–%(hi)d") % {"value": shown(text), "lo": YEARS[0],
                                                                    "hi": YEARS[1]})
    return year


def fiscal_year(series: pd.Series, text: pd.Series | None = None) -> tuple[pd.Series, Problems]:
    """1973, 1973年度, S48, 昭和48年, 昭和48年度, H6年度, R6, 令和元年 → that Western 年度; a full date gives the
    年度 it falls in (S48.4.1 → 1973, 1973/3/31 → 1972). 和暦 years, months and days outside their era (平成99年,
    昭和0年, S64.1.8) are refused with the era's range; the rules are `core.wareki`'s."""
    text = clean(series) if text is None else text
    years: dict[str, float] = {}
    wrong: dict[str, str] = {}
    for t in text.unique().tolist():  # a ledger has few distinct spellings: parse each once
        try:
            y = year_of(t)
            years[t] = np.nan if y is None else float(y)
        except ValueError as exc:
            wrong[t] = str(exc)
            years[t] = np.nan
    values = text.map(years).astype("float64")
    if not wrong:
        return values, Problems.none()
    return values, Problems.where(text.isin(wrong).to_numpy(), lambda pos: wrong[text.iloc[pos]])


def _range_message(series: pd.Series, lo: float | None, hi: float | None, positive: bool):
    if hi is None and lo is None:
        bounds = ""
    elif hi is None:
        bounds = _("at least %s") % f"{lo:,g}"
    elif lo is None and positive:
        bounds = _("more than 0 and at most %s") % f"{hi:,g}"
    elif lo is None:
        bounds = _("at most %s") % f"{hi:,g}"
    else:
        bounds = _("%(lo)s to %(hi)s") % {"lo": f"{lo:,g}", "hi": f"{hi:,g}"}

    def message(pos: int) -> str:
        return _("%(value)s is outside the allowed range (%(bounds)s)") % {"value": shown(series.iloc[pos]),
                                                                           "bounds": bounds}
    return message


def number(series: pd.Series, *, positive: bool = False, text: pd.Series | None = None,
           lo: float | None = None, hi: float | None = None) -> tuple[pd.Series, list[Problems]]:
    """1,234.5 / 300mm / ３００ / 12.5m → float; 不明 and blanks → NaN. inf, nan and values outside [lo, hi]
    (or not above 0 when `positive`) are refused with the allowed range."""
    text = clean(series) if text is None else text
    # Plain numbers (the usual cell) are read in one C call; only the other cells (blank, 不明, separators,
    # units, inf/nan spelled out) take the slower path below. A cell read here holds no separator (it would not
    # parse), so removing them first could not change it.
    arr = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    spelled = np.zeros(len(arr), dtype=bool)
    unknown = np.zeros(len(arr), dtype=bool)
    rest = np.flatnonzero(~np.isfinite(arr))
    if len(rest):
        other = text.iloc[rest].str.replace(",", "", regex=False)
        lower = other.str.lower()
        # "inf", "nan" and "1e999" are numbers to pandas, yet no ledger length is infinite or undefined.
        spelled[rest] = lower.str.fullmatch(r"[+-]?(?:inf|infinity|nan)").fillna(False).to_numpy(dtype=bool)
        unknown[rest] = lower.isin(UNKNOWN).to_numpy() & ~spelled[rest]
        direct = pd.to_numeric(other, errors="coerce")
        if (direct.notna().to_numpy() | unknown[rest] | spelled[rest]).all():  # plain numbers, separators
            values = direct
        else:
            lead = other.str.extract(NUMBER_RE, expand=False)
            # float(), not pd.to_numeric: "1e999" must become inf (and be refused), not NaN or 1.
            values = pd.Series([float(x) if isinstance(x, str) else np.nan for x in lead.tolist()],
                               index=other.index)
        arr[rest] = values.to_numpy(dtype="float64", na_value=np.nan)
    arr[unknown] = np.nan
    nonfinite = np.isinf(arr) | spelled
    unreadable = np.isnan(arr) & ~unknown & ~nonfinite
    finite = np.where(np.isfinite(arr), arr, np.nan)
    with np.errstate(invalid="ignore"):
        low = (finite <= 0) if positive else np.zeros(len(arr), dtype=bool)
        if lo is not None:
            low |= finite < lo
        high = (finite > hi) if hi is not None else np.zeros(len(arr), dtype=bool)
    out = low | high
    if positive and lo is None and hi is None:
        out_message = lambda pos: _("%s must be greater than 0") % shown(series.iloc[pos])  # noqa: E731
    else:
        out_message = _range_message(series, lo, hi, positive)
    problems = [
        Problems.where(unreadable, lambda pos: _("%s is not a number") % shown(series.iloc[pos])),
        Problems.where(nonfinite, lambda pos: _("%s is not a finite number") % shown(series.iloc[pos])),
        Problems.where(out, out_message),
    ]
    values = pd.Series(np.where(out | nonfinite | unreadable, np.nan, finite), index=series.index, dtype="float64")
    return values, [p for p in problems if len(p)]


def flag(series: pd.Series, text: pd.Series | None = None) -> tuple[pd.Series, Problems]:
    text = (clean(series) if text is None else text).str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    yes, no = text.isin(TRUE), text.isin(FALSE)
    out[yes] = True
    out[no] = False
    bad = ~(yes | no | is_unknown(text))
    return out, Problems.where(bad.to_numpy(), lambda pos: _("%s is not yes/no; use 有/無, ○/×, 1/0")
                               % shown(series.iloc[pos]))


def text_value(series: pd.Series, text: pd.Series | None = None, *, spreadsheet: bool = False) -> pd.Series:
    """Free text: 不明 and the like become empty. In a spreadsheet (CSV, xlsx) an apostrophe before a formula
    character is taken off again, as Excel does: the exporters put it there, so an exported ledger imports
    back as it was. JSON and GIS files are taken as they are."""
    t = clean(series) if text is None else text
    t = t.where(~is_unknown(t), "")
    if not spreadsheet:
        return t
    quoted = t.str.startswith("'")
    if quoted.any():
        t = t.where(~quoted, t[quoted].map(unescape_formula))
    return t
