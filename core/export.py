"""Files for spreadsheets (ledger exports, the work list): text a spreadsheet would run as a formula is
neutralised, and a CP932 file refuses text CP932 cannot write rather than turning it into "?"."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["FORMULA_START", "MAX_NAMED", "check_cp932", "escape_formula", "unescape_formula", "xlsx_row", "xlsx_text"]

# An apostrophe before one of these (or before further apostrophes followed by one of these) is added on the
# way out and taken off on the way in, as Excel does.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Rows named in a CP932 refusal; the rest are counted.
MAX_NAMED = 20


def escape_formula(value):
    """What a spreadsheet would run as a formula gets a leading apostrophe; so does text that already looks
    escaped, so that `unescape_formula` gives back exactly what was stored. Other values as they are."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_START):
        return "'" + value
    return value


# The control characters an xlsx file cannot hold (openpyxl refuses the whole workbook for one of them): the
# registry accepts free text from many sources, so one such character in a name must not fail every export.
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_text(value):
    """A value for an xlsx cell: text with the control characters xlsx cannot hold dropped, then formula-escaped
    (openpyxl would store text starting with "=" as a live formula). Other values as they are."""
    if isinstance(value, str):
        return escape_formula(XLSX_ILLEGAL.sub("", value))
    return value


def xlsx_row(values) -> list:
    """A row whose text was already formula-escaped (the same rows feed the CSV), made fit for xlsx: the illegal
    control characters dropped, and text that dropping them turned into a formula ("\x01=cmd") escaped."""
    out = []
    for v in values:
        if isinstance(v, str):
            clean = XLSX_ILLEGAL.sub("", v)
            v = "'" + clean if clean != v and clean.startswith(FORMULA_START) else clean
        out.append(v)
    return out


def unescape_formula(text: str) -> str:
    """Undo `escape_formula`: "'=SUM(A1)" → "=SUM(A1)", "''=x" → "'=x"; other text as is."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START):
        return text[1:]
    return text


def check_cp932(names: list[str], rows: list[list], *, hint: str) -> None:
    """Refuse, naming the rows (by their first cell) and fields, text that CP932 cannot hold: a silent "?"
    would be imported back as the asset's new value. `hint` says which export to use instead."""
    bad = []
    for r in rows:
        for name, v in zip(names, r, strict=False):
            if isinstance(v, str):
                try:
                    v.encode("cp932")
                except UnicodeEncodeError as exc:
                    bad.append(f"{r[0]} {name} ({v[exc.start:exc.end]!r})")
                    break
    if bad:
        raise ValidationError({"format": _(
            "%(n)d assets hold characters that CP932 (Shift_JIS) cannot write: %(rows)s. Nothing was exported; "
            "%(hint)s") % {"n": len(bad), "rows": "; ".join(bad[:MAX_NAMED]) + (" …" if len(bad) > MAX_NAMED else ""),
                           "hint": hint}})
