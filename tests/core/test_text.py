"""core.text: the encodings municipal files come in and the header row among title rows, shared by the ledger
import and the inspection and measure CSV imports; the characters no stored text may hold, shared by every
write. No database."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from core.export import XLSX_ILLEGAL
from core.text import (
    HEADER_SCAN,
    check_text,
    decode,
    describe_columns,
    find_header,
    header_key,
    match_columns,
    text_encoding,
    text_errors,
    whole_number,
)

TEXT = "管渠番号,管径\r\nK-1,300 ①Ⅲ\r\n"  # ① and Ⅲ live in CP932's NEC rows, not in strict Shift_JIS


@pytest.mark.parametrize("data, encoding", [
    (TEXT.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("cp932"), "cp932"),
    (b"", "utf-8"),
])
def test_the_encoding_is_named_and_the_text_decoded_without_bom(data, encoding):
    assert text_encoding(data) == encoding
    text, named = decode(data)
    assert named == encoding and text == (TEXT if data else "")
    assert not text.startswith("\ufeff")


def test_a_character_cut_at_a_chunk_boundary_is_still_utf8():
    data = b"a" * ((1 << 20) - 1) + "管".encode()  # the three bytes of 管 straddle the first 1 MiB chunk
    assert text_encoding(data) == "utf-8"
    assert decode(data)[1] == "utf-8"


# A lead byte without its trail, a trail that is no trail, an unassigned CP932 row, a BOM before bad UTF-8.
@pytest.mark.parametrize("data", [b"\x82", b"\x81 abc", b"\x85\x40", b"\xef\xbb\xbf\xff"])
def test_neither_utf8_nor_cp932_is_refused_with_one_message(data):
    for read in (text_encoding, decode):
        with pytest.raises(ValidationError) as exc:
            read(data)
        assert exc.value.message_dict == {"file": ["The file is neither UTF-8 nor CP932 (Shift_JIS) text"]}


@pytest.mark.parametrize("typed", ["管径(mm)", "管径\n(mm)", " 管径 (mm) ", "管径\u3000(mm)", "管径（ｍｍ）", "管径\t(MM)",
                                   "管径\r\n(mm)"])
def test_header_cells_compare_however_they_are_typed(typed):
    assert header_key(typed) == "管径(mm)"


def test_header_key_of_nothing_and_of_numbers():
    assert header_key(None) == "" and header_key("") == "" and header_key(12) == "12"
    assert header_key("ＩＤ") == "id"


LOOKUP = {header_key(h): f for h, f in (("管渠番号", "external_id"), ("管径(mm)", "diameter"), ("延長", "length"))}


def is_header(names: set[str]) -> bool:
    return "external_id" in names and len(names) >= 2


def test_title_and_date_rows_above_the_header_are_skipped():
    rows = [["八潮市 下水道台帳"], ["令和6年3月31日現在", ""], [], ["管渠番号", "管径\n(mm)", "備考"], ["K-1", "300", ""]]
    header = find_header(rows, LOOKUP, is_header)
    assert (header.at, header.columns, header.twice) == (3, {0: "external_id", 1: "diameter"}, {})


def test_a_field_named_twice_is_reported_and_the_first_column_kept():
    rows = [["管渠番号", "管径", "延長", "管径(mm)", "管径（ｍｍ）"]]
    header = find_header(rows, LOOKUP | {header_key("管径"): "diameter"}, is_header)
    assert header.columns == {0: "external_id", 1: "diameter", 2: "length"}
    assert header.twice == {"diameter": [1, 3, 4]}
    assert describe_columns(rows[0], header.twice["diameter"]) == "2 ('管径'), 4 ('管径(mm)'), 5 ('管径（ｍｍ）')"


def test_no_header_within_the_rows_looked_at_is_none():
    rows = [["title"]] * HEADER_SCAN + [["管渠番号", "延長"]]
    assert find_header(rows, LOOKUP, is_header) is None
    assert find_header(rows, LOOKUP, is_header, scan=HEADER_SCAN + 1).at == HEADER_SCAN
    assert find_header([["延長", "管径(mm)"]], LOOKUP, is_header) is None  # known columns, but no id
    assert find_header([["x"], ["管渠番号", "延長"]], LOOKUP, is_header, scan=1) is None  # a GIS file: row 0 only


def test_match_columns_names_each_known_cell():
    assert match_columns(["", "延 長", None, "管渠番号", "?"], LOOKUP) == [(1, "length"), (3, "external_id")]


def test_describe_columns_puts_a_wrapped_header_on_one_line():
    assert describe_columns(["a", "管径\n(mm)"], [1]) == "2 ('管径 (mm)')"


# Characters the rule is about (C0, DEL, C1, lone surrogates, U+FFFE/U+FFFF) and their neighbours that are
# allowed (U+00A0 no-break space, U+FFFD the replacement character, U+FEFF BOM, U+3000 the full-width space).
SPECIAL = [chr(c) for c in (*range(0x20), 0x7F, 0x80, 0x85, 0x9F, 0xA0, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xFFFD,
                            0xFFFE, 0xFFFF, 0xFEFF, 0x3000)]


def _refused(ch: str, multiline: bool) -> bool:
    """The rule, spelt out code point by code point (README, API): what `core.text` must refuse."""
    c = ord(ch)
    if ch in "\t\n\r":
        return not multiline
    return c < 0x20 or 0x7F <= c <= 0x9F or 0xD800 <= c <= 0xDFFF or c in (0xFFFE, 0xFFFF)


@pytest.mark.parametrize("value, multiline, char, pos", [
    ("橋\x00", False, "U+0000", 2), ("a\x01b", True, "U+0001", 2), ("\x1b[31m", True, "U+001B", 1),
    ("名\x7f称", True, "U+007F", 2), ("a\tb", False, "U+0009", 2), ("a\nb", False, "U+000A", 2),
    ("a\r", False, "U+000D", 2), ("x\ud800", True, "U+D800", 2), ("\udfff", False, "U+DFFF", 1),
    ("ab\ufffe", True, "U+FFFE", 3), ("\uffff", False, "U+FFFF", 1), ("a\x0bb\x01", True, "U+000B", 2),
    ("八潮\x80", True, "U+0080", 3), ("\x85改行", False, "U+0085", 1), ("a\x9fb", True, "U+009F", 2),
])
def test_a_forbidden_character_is_named_as_u_plus_and_its_position(value, multiline, char, pos):
    errors = text_errors({"name": value}, multiline={"name"} if multiline else ())
    assert list(errors) == ["name"] and len(errors["name"]) == 1
    assert char in errors["name"][0] and f"at character {pos}" in errors["name"][0]
    with pytest.raises(ValidationError) as exc:
        check_text({"name": value}, multiline={"name"} if multiline else ())
    assert exc.value.message_dict == errors


@pytest.mark.parametrize("value", ["", "八潮 中央橋", "Ｍｇ０１０１", "a\u3000b", "\ufeff見出し", "\xa0ｱ", "\ufffd",
                                   "😀 emoji", "=SUM(A1)"])
def test_ordinary_text_passes_on_one_line_and_in_a_note(value):
    assert text_errors({"name": value}) == {} and text_errors({"notes": value}, multiline={"notes"}) == {}


def test_a_note_may_hold_tabs_and_line_breaks_a_one_line_field_may_not():
    note = "ひび割れ\t幅0.2mm\r\n遊離石灰あり\n"
    assert text_errors({"notes": note, "inspector": "八潮 太郎"}, multiline={"notes"}) == {}
    errors = text_errors({"notes": note, "inspector": "八潮\t太郎"}, multiline={"notes"})
    assert list(errors) == ["inspector"] and "single line" in errors["inspector"][0]


def test_json_values_are_walked_and_named_by_their_path():
    value = {"members": [{"member": "Mg0101"}, {"member": "Mg\x0c02", "degree": "d"}],
             "weights": {"risk\x01": 1.0}, "count": 3, "flag": None}
    errors = text_errors({"observations": value})
    assert set(errors) == {"observations.members[1].member", "observations.weights.'risk\\x01'"}
    assert "U+000C" in errors["observations.members[1].member"][0]
    deep: object = "x\x02"
    for _ in range(10_000):  # iterative: nesting cannot exhaust the stack
        deep = [deep]
    assert "U+0002" in " ".join(text_errors({"v": deep})["v" + "[0]" * 10_000])
    assert text_errors({"n": 3, "d": None, "when": 1.5}) == {}


@settings(max_examples=100)
@given(value=st.lists(st.one_of(st.characters(), st.sampled_from(SPECIAL)), max_size=12).map("".join),
       multiline=st.booleans())
def test_any_text_is_either_accepted_whole_or_refused_naming_the_field_and_the_first_bad_character(value, multiline):
    """The property every write relies on: nothing is altered, only accepted or refused; what is accepted an
    xlsx cell can hold (core.export drops what it cannot: accepted text then loses nothing)."""
    errors = text_errors({"field": value}, multiline={"field"} if multiline else ())
    bad = [i for i, ch in enumerate(value) if _refused(ch, multiline)]
    if not bad:
        assert errors == {}
        assert not XLSX_ILLEGAL.search(value)
    else:
        first = value[bad[0]]
        assert list(errors) == ["field"]
        assert f"U+{ord(first):04X}" in errors["field"][0] and f"at character {bad[0] + 1}" in errors["field"][0]


@pytest.mark.parametrize("text, digits, number", [
    ("42", 9, 42), ("007", 9, 7), ("123456789", 9, 123456789), ("1234567890", 9, None), ("²", 9, None),
    ("٣", 9, None), ("３", 9, None), ("-1", 9, None), ("1.0", 9, None), ("", 9, None), (None, 9, None),
    ("9" * 18, 18, 10**18 - 1), (" 4", 9, None),
])
def test_a_whole_number_is_ascii_digits_within_its_length(text, digits, number):
    """core.text.whole_number: the one reading of a record number or rank typed in an address or a form."""
    assert whole_number(text, digits) == number
