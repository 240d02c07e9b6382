"""core.text: the encodings municipal files come in and the header row among title rows, shared by the ledger
import and the inspection and measure CSV imports. No database."""

import pytest
from django.core.exceptions import ValidationError

from core.text import (
    HEADER_SCAN,
    decode,
    describe_columns,
    find_header,
    header_key,
    match_columns,
    text_encoding,
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
