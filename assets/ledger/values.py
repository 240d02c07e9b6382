"""Cell values as municipal ledgers write them, vectorized over a column (pandas): 和暦 fiscal years in
every common spelling, numbers with separators and units, 不明 and blanks, yes/no marks.

Each parser returns (values, problems): values with NaN/None where the cell was empty or unknown, and
problems as {row position: message} for cells that could not be read. Unknown cells are not errors: the
importer reports them as warnings."""

import re
import unicodedata

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

ERAS = {"M": 1867, "T": 1911, "S": 1925, "H": 1988, "R": 2018, "明治": 1867, "大正": 1911, "昭和": 1925,
        "平成": 1988, "令和": 2018, "明": 1867, "大": 1911, "昭": 1925, "平": 1988, "令": 2018}
UNKNOWN = {"", "不明", "不詳", "未詳", "—", "-", "－", "ー", "―", "?", "？", "na", "n/a", "nan", "none", "null", "不明確"}
ERA_RE = re.compile(r"^(明治|大正|昭和|平成|令和|[MTSHR明大昭平令])\s*(元|\d{1,2})\s*(?:年度|年)?(?:[./\-年]\d{1,2}.*)?$",
                    re.IGNORECASE)
WESTERN_RE = re.compile(r"^(\d{4})\s*(?:年度|年)?(?:[./\-年]\d{1,2}.*)?$")
NUMBER_RE = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))")
TRUE = {"1", "true", "yes", "y", "有", "あり", "○", "〇", "◯", "該当", "t", "はい"}
FALSE = {"0", "false", "no", "n", "無", "なし", "×", "非該当", "f", "いいえ"}


def clean(series: pd.Series) -> pd.Series:
    """NFKC (full-width digits and letters to ASCII), trimmed, line breaks removed. The column is normalized
    as one string (a C call) rather than cell by cell."""
    cells = series.fillna("").astype(str).tolist()
    joined = "\x1f".join(cells)
    if not joined.isascii():
        joined = unicodedata.normalize("NFKC", joined)
    parts = joined.replace("\n", "").split("\x1f")
    return pd.Series([p.strip() for p in parts] if len(parts) == len(cells) else
                     [unicodedata.normalize("NFKC", c).strip().replace("\n", "") for c in cells],
                     index=series.index, dtype=object)


def is_unknown(text: pd.Series) -> pd.Series:
    return text.str.lower().isin(UNKNOWN)


def fiscal_year(series: pd.Series, text: pd.Series | None = None) -> tuple[pd.Series, dict[int, str]]:
    """1973, 1973年度, S48, 昭和48年, 昭和48年度, H6年度, R6, 令和元年, S48.4.1 → Western fiscal year."""
    out = []
    problems = {}
    cache: dict[str, float] = {}
    for pos, t in enumerate((clean(series) if text is None else text).tolist()):
        if t in cache:
            out.append(cache[t])
            continue
        year = np.nan
        if t.lower() not in UNKNOWN:
            m = WESTERN_RE.match(t)
            e = None if m else ERA_RE.match(t)
            if m:
                year = int(m.group(1))
            elif e:
                era = e.group(1).upper() if len(e.group(1)) == 1 and e.group(1).isascii() else e.group(1)
                year = ERAS[era] + (1 if e.group(2) == "元" else int(e.group(2)))
            else:
                problems[pos] = _("%r is not a year; use 1973, S48, 昭和48年, H6年度, R6 or 令和元年") % series.iloc[pos]
            if year == year and not 1868 <= year <= 2100:
                problems[pos] = _("%r is outside 1868–2100") % series.iloc[pos]
                year = np.nan
        if pos not in problems:
            cache[t] = year
        out.append(year)
    return pd.Series(out, index=series.index, dtype="float64"), problems


def number(series: pd.Series, *, positive: bool = False, text: pd.Series | None = None
           ) -> tuple[pd.Series, dict[int, str]]:
    """1,234.5 / 300mm / ３００ / 12.5m → float; 不明 and blanks → NaN."""
    text = (clean(series) if text is None else text).str.replace(",", "", regex=False)
    direct = pd.to_numeric(text, errors="coerce")
    if direct.notna().all():  # the usual case: plain numbers, no units
        values = direct.astype("float64")
        problems = {}
        if positive:
            neg = values <= 0
            problems = {int(i): _("%r must be greater than 0") % series.iloc[i] for i in np.flatnonzero(neg.to_numpy())}
            values = values.where(~neg)
        return values, problems
    unknown = is_unknown(text)
    lead = text.str.extract(NUMBER_RE, expand=False) if len(text) else pd.Series(dtype=str)
    values = pd.to_numeric(lead, errors="coerce")
    problems = {}
    bad = values.isna() & ~unknown
    for idx in text.index[bad.to_numpy()]:
        pos = series.index.get_loc(idx)
        problems[pos] = _("%r is not a number") % series.iloc[pos]
    if positive:
        neg = values.notna() & (values <= 0)
        for idx in text.index[neg.to_numpy()]:
            pos = series.index.get_loc(idx)
            problems[pos] = _("%r must be greater than 0") % series.iloc[pos]
        values = values.where(~neg)
    return values.astype("float64"), problems


def flag(series: pd.Series, text: pd.Series | None = None) -> tuple[pd.Series, dict[int, str]]:
    text = (clean(series) if text is None else text).str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(TRUE)] = True
    out[text.isin(FALSE)] = False
    problems = {}
    bad = ~(text.isin(TRUE) | text.isin(FALSE) | is_unknown(text))
    for idx in text.index[bad.to_numpy()]:
        pos = series.index.get_loc(idx)
        problems[pos] = _("%r is not yes/no; use 有/無, ○/×, 1/0") % series.iloc[pos]
    return out, problems


def text_value(series: pd.Series, text: pd.Series | None = None) -> pd.Series:
    t = clean(series) if text is None else text
    return t.where(~is_unknown(t), "")
