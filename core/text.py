"""Text files as municipal offices send them, for every import (ledgers, inspection and measure CSVs): the
encoding (UTF-8 with or without BOM, or CP932) and the header row, found among title rows and matched to fields
however the header cells are typed (full-width letters, wrapped lines, spaces)."""

import codecs
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["Header", "decode", "describe_columns", "find_header", "header_key", "match_columns", "text_encoding"]

UTF8_BOM = b"\xef\xbb\xbf"
# Rows looked at for a header: real ledgers put a title, a date and blank rows above it.
HEADER_SCAN = 10
_CHUNK = 1 << 20


def _candidates(data: bytes) -> list[str]:
    # Japanese Excel writes CP932, not strict Shift_JIS (①, Ⅲ live in the NEC extension rows).
    return ["utf-8-sig"] if data.startswith(UTF8_BOM) else ["utf-8", "cp932"]


def _not_text() -> ValidationError:
    return ValidationError({"file": _("The file is neither UTF-8 nor CP932 (Shift_JIS) text")})


def text_encoding(data: bytes) -> str:
    """"utf-8-sig", "utf-8" or "cp932", checked in chunks so that no second copy of a large file is made."""
    view = memoryview(data)
    for enc in _candidates(data):
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            for i in range(0, len(data), _CHUNK):
                decoder.decode(view[i:i + _CHUNK])
            decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise _not_text()


def decode(data: bytes) -> tuple[str, str]:
    """The text (without BOM) and its encoding, as `text_encoding` names it."""
    for enc in _candidates(data):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise _not_text()


def header_key(text) -> str:
    """How header cells (and the words of a choice column) are compared: NFKC, no spaces or line breaks (Excel
    wraps long headers; a full-width space is a space after NFKC), lower case."""
    return "".join(unicodedata.normalize("NFKC", str(text or "")).split()).lower()


def match_columns(row: Sequence, lookup: Mapping[str, str]) -> list[tuple[int, str]]:
    """(column, field) for every cell of `row` whose `header_key` is in `lookup` ({header_key: field})."""
    out = []
    for i, cell in enumerate(row):
        name = lookup.get(header_key(cell))
        if name:
            out.append((i, name))
    return out


@dataclass(frozen=True)
class Header:
    at: int  # the header's row index
    columns: dict[int, str]  # column → field; the first column where a field is named twice
    twice: dict[str, list[int]]  # fields named by more than one column: {field: columns}


def find_header(rows: Sequence[Sequence], lookup: Mapping[str, str], accept: Callable[[set[str]], bool], *,
                scan: int = HEADER_SCAN) -> Header | None:
    """The first of the top `scan` rows whose fields `accept` takes for a header (title and date rows above it
    are skipped), or None. A field named by two columns is reported in `twice`, never resolved by guessing:
    which of two 管径 columns is the right one cannot be known, and reading only one would drop the other."""
    for i, row in enumerate(rows[:scan]):
        matches = match_columns(row, lookup)
        if not accept({name for _col, name in matches}):
            continue
        columns: dict[int, str] = {}
        seen: dict[str, list[int]] = {}
        for col, name in matches:
            if name not in seen:
                columns[col] = name
            seen.setdefault(name, []).append(col)
        return Header(i, columns, {name: cols for name, cols in seen.items() if len(cols) > 1})
    return None


def describe_columns(row: Sequence, cols: Sequence[int]) -> str:
    """Columns as a message names them: 1-based position and the header as written, on one line."""
    return ", ".join(f"{c + 1} ({' '.join(str(row[c]).split())!r})" for c in cols)
