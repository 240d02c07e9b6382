"""Text as people and municipal systems send it. Files, for every import (ledgers, inspection and measure CSVs):
the encoding (UTF-8 with or without BOM, or CP932) and the header row, found among title rows and matched to
fields however the header cells are typed (full-width letters, wrapped lines, spaces). Values, for every write:
the characters no stored text may hold (`text_errors`, `check_text`)."""

import codecs
import difflib
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["NOT_IN_LINE", "NOT_IN_TEXT", "Header", "HeaderNames", "bare_key", "check_fields", "check_text", "decode",
           "describe_columns", "find_header", "forbidden_char", "forbidden_message", "header_key", "match_columns",
           "similar", "text_encoding", "text_errors", "whole_number"]

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


# What decorates a header without changing what it names: a bracketed unit or note ((m), （ｍ）, [mm], 【和暦】) and
# a trailing unit. Only ASCII units after a non-letter: "延長m" is 延長, "item" stays "item".
_BRACKETS = re.compile(r"[(\[{【〔「『<《〈][^)\]}】〕」』>》〉]*[)\]}】〕」』>》〉]")
_UNIT = re.compile(r"(?<![a-z])(?:km|m|cm|mm|m2|m3|㎡|kg|t|%|台/日)$")
_EDGE = "・･:：_-－ー/／,、。"


def bare_key(text) -> str:
    """`header_key` without brackets, units and the punctuation around them: 「橋長（ｍ）」, 「管径\n[mm]」 and
    「架設年度(和暦)」 give 橋長, 管径 and 架設年度."""
    key = header_key(text)
    bare = _UNIT.sub("", _BRACKETS.sub("", key)).strip(_EDGE)
    return bare or key


@dataclass(frozen=True)
class HeaderNames:
    """How header cells name fields. `exact`: {header_key or bare_key of a known header: field} ("" = a column to
    ignore). `loose`: {bare key: field} of the known names that may also be found inside a decorated header, at
    its start or its end (「位置・所在 緯度」 is 緯度, 「橋長計測値」 is 橋長); the longest such name wins, and two
    fields with names equally long leave the column unread (`field` says which). A decoration holding one of
    `qualifiers` (上流, 点検 …) names another thing: 「上流マンホール番号」 is not the pipe's number."""

    exact: Mapping[str, str]
    loose: Mapping[str, str] = field(default_factory=dict)
    qualifiers: tuple[str, ...] = ()

    def field(self, cell) -> tuple[str | None, tuple[str, ...]]:
        """(field or None, the fields it could equally be when it is none of them for sure)."""
        key = header_key(cell)
        if not key:
            return None, ()
        if key in self.exact:
            return self.exact[key] or None, ()
        bare = bare_key(cell)
        if any(q in key and q not in bare for q in self.qualifiers):
            return None, ()  # 「施設名(フリガナ)」: the bracket says it is another thing
        if bare in self.exact:
            return self.exact[bare] or None, ()
        best: dict[str, int] = {}
        for name, fld in self.loose.items():
            if len(name) >= len(bare) or not (bare.startswith(name) or bare.endswith(name)):
                continue
            rest = bare[len(name):] if bare.startswith(name) else bare[:-len(name)]
            if any(q in rest for q in self.qualifiers):
                continue
            best[fld] = max(best.get(fld, 0), len(name))
        if not best:
            return None, ()
        top = max(best.values())
        fields = tuple(sorted(f for f, n in best.items() if n == top))
        return (fields[0], ()) if len(fields) == 1 else (None, fields)


def _names(lookup: "Mapping[str, str] | HeaderNames") -> HeaderNames:
    return lookup if isinstance(lookup, HeaderNames) else HeaderNames(lookup)


def match_columns(row: Sequence, lookup: "Mapping[str, str] | HeaderNames") -> list[tuple[int, str]]:
    """(column, field) for every cell of `row` that names a field: its `header_key` (or `bare_key`) is in
    `lookup` ({key: field}), or a HeaderNames finds one."""
    names = _names(lookup)
    out = []
    for i, cell in enumerate(row):
        name, _either = names.field(cell)
        if name:
            out.append((i, name))
    return out


@dataclass(frozen=True)
class Header:
    at: int  # the header's row index
    columns: dict[int, str]  # column → field; the first column where a field is named twice
    twice: dict[str, list[int]]  # fields named by more than one column: {field: columns}
    unsure: dict[int, tuple[str, ...]] = field(default_factory=dict)  # column → the fields it could equally be


def find_header(rows: Sequence[Sequence], lookup: "Mapping[str, str] | HeaderNames",
                accept: Callable[[set[str]], bool], *, scan: int = HEADER_SCAN) -> Header | None:
    """The first of the top `scan` rows whose fields `accept` takes for a header (title and date rows above it
    are skipped), or None. A field named by two columns is reported in `twice`, never resolved by guessing:
    which of two 管径 columns is the right one cannot be known, and reading only one would drop the other."""
    names = _names(lookup)
    for i, row in enumerate(rows[:scan]):
        found = [(col, *names.field(cell)) for col, cell in enumerate(row)]
        matches = [(col, name) for col, name, _either in found if name]
        if not accept({name for _col, name in matches}):
            continue
        columns: dict[int, str] = {}
        seen: dict[str, list[int]] = {}
        for col, name in matches:
            if name not in seen:
                columns[col] = name
            seen.setdefault(name, []).append(col)
        return Header(i, columns, {name: cols for name, cols in seen.items() if len(cols) > 1},
                      {col: either for col, name, either in found if either})
    return None


def similar(text, known: Mapping[str, str], n: int = 3, cutoff: float = 0.5) -> list[str]:
    """The fields a header might be, most alike first: difflib on bare keys against {bare key: field}."""
    key = bare_key(text)
    out: list[str] = []
    for k in difflib.get_close_matches(key, list(known), n=4 * n, cutoff=cutoff):
        if known[k] not in out:
            out.append(known[k])
    return out[:n]


def describe_columns(row: Sequence, cols: Sequence[int]) -> str:
    """Columns as a message names them: 1-based position and the header as written, on one line."""
    return ", ".join(f"{c + 1} ({' '.join(str(row[c]).split())!r})" for c in cols)


# Characters no stored text may hold: C0 controls and DEL (an xlsx file cannot hold most of them, PostgreSQL no
# NUL, and none means anything in a name or a note), C1 controls U+0080–U+009F (what a stray byte of a broken
# CP932 or Latin-1 file decodes to; they mean nothing in Japanese text and print as nothing), lone surrogates (not
# characters: UTF-8 cannot encode them) and the non-characters U+FFFE/U+FFFF (XML, hence xlsx, refuses them). A
# note (several lines of prose) may hold tabs and line breaks; a one-line value (a name, an id, a code) may not.
NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
NOT_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def whole_number(text, digits: int = 9) -> int | None:
    """A record number, rank or code as typed in an address or a form: ASCII digits only (str.isdigit also takes
    "²" and "٣", which int() refuses or reads as 3), at most `digits` of them (9: any of them fits a database
    integer); None for anything else."""
    text = str(text if text is not None else "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= digits else None


def forbidden_char(text: str, *, multiline: bool = False) -> tuple[str, int] | None:
    """The first character `text` may not hold and its 1-based position, or None."""
    m = (NOT_IN_TEXT if multiline else NOT_IN_LINE).search(text)
    return (m.group(), m.start() + 1) if m else None


def forbidden_message(char: str, position: int) -> str:
    """What is wrong with a value holding `char` at `position`, naming it as U+XXXX (it is invisible)."""
    params = {"char": f"U+{ord(char):04X}", "pos": position}
    if char in "\t\n\r":
        return _("contains %(char)s (a tab or line break) at character %(pos)d; this field is a single line") % params
    if "\ud800" <= char <= "\udfff":
        return _("contains %(char)s (a lone surrogate, not a character) at character %(pos)d; it is not "
                 "allowed") % params
    if char in "\ufffe\uffff":
        return _("contains %(char)s (a non-character) at character %(pos)d; it is not allowed") % params
    return _("contains %(char)s (a control character) at character %(pos)d; it is not allowed") % params


def text_errors(values: Mapping[str, object], *, multiline: Collection[str] = (), prefix: str = "") -> dict[str, list[str]]:
    """{field: [message]} for the values holding a character no text may (see NOT_IN_TEXT); the fields named in
    `multiline` are notes and may hold tabs and line breaks. A dict or list value (JSON: observations, parameters)
    is walked, its texts and keys named by their path (`observations.members[2].member`); other values (numbers,
    dates, None) are left to the checks of their own."""
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        lines = key in multiline
        stack = [(value, prefix + key)]  # iterative: a deeply nested body cannot exhaust the stack
        while stack:
            v, where = stack.pop()
            if isinstance(v, str):
                bad = forbidden_char(v, multiline=lines)
                if bad:
                    errors.setdefault(where, []).append(forbidden_message(*bad))
            elif isinstance(v, Mapping):
                for k, item in reversed(list(v.items())):
                    bad = forbidden_char(str(k))
                    if bad:
                        errors.setdefault(f"{where}.{k!r}", []).append(forbidden_message(*bad))
                        continue
                    stack.append((item, f"{where}.{k}"))
            elif isinstance(v, list | tuple):
                stack.extend((item, f"{where}[{i}]") for i, item in reversed(list(enumerate(v))))
    return errors


def check_text(values: Mapping[str, object], *, multiline: Collection[str] = (), prefix: str = "") -> None:
    """`text_errors`, raised as one ValidationError naming every bad field, before anything is stored."""
    errors = text_errors(values, multiline=multiline, prefix=prefix)
    if errors:
        raise ValidationError(errors)


def check_fields(model, values: Mapping[str, object], *, prefix: str = "") -> None:
    """`check_text` for values of a model's fields: its TextFields are notes (several lines), every other field
    (CharField names, ids and codes; keys it does not have) one line."""
    from django.core.exceptions import FieldDoesNotExist
    from django.db.models import TextField

    notes = set()
    for key in values:
        try:
            if isinstance(model._meta.get_field(key), TextField):
                notes.add(key)
        except FieldDoesNotExist:
            continue  # one line; the caller's own check names an unknown field
    check_text(values, multiline=notes, prefix=prefix)
