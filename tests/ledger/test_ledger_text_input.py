"""Ledger text (ids, names, every text attribute) as a file or an upsert sends it holds no control character, lone
surrogate or U+FFFE/U+FFFF: each such cell is an error naming the record, its line, the field and the character
as U+XXXX, and nothing is written. The readers refused only NUL before; the rest reached the registry and broke
xlsx downloads. A line break inside a cell (Excel wraps long names; Windows writes CR LF) is taken out, as before."""

import pytest

from assets.models import Asset
from tests.ledger.test_ledger_values import has, pipe, post_file, token, unchanged, upsert  # noqa: F401  token: fixture


@pytest.mark.parametrize("records, record, field, char", [
    ([pipe(1), pipe(2, 名称="幹線\x012")], 2, "name", "U+0001"),
    ([pipe(1, 管渠番号="K-\t1")], 1, "external_id", "U+0009"),  # a tab inside an id: one line
    ([pipe(1), pipe(2), pipe(3, 名称="幹線\x7f")], 3, "name", "U+007F"),
    ([pipe(1, 名称="幹線\ud800")], 1, "name", "U+D800"),
    ([pipe(1, 名称="\ufffe幹線")], 1, "name", "U+FFFE"),
    ([pipe(1), pipe(2, 名称="幹線\x85Ⅱ")], 2, "name", "U+0085"),  # C1 (NEL); at either end it is trimmed as a space
])
def test_an_upsert_names_record_field_and_character_and_writes_nothing(client, world, token, records, record,  # noqa: F811
                                                                       field, char):
    before = unchanged()
    r = upsert(client, token, records)
    assert r.status_code == 422, r.content
    assert has(r.json()["errors"], record, field, char), r.json()["errors"]
    assert unchanged() == before


def test_a_file_names_the_line_and_a_wrapped_cell_is_joined_as_before(client, world, token):  # noqa: F811
    head = "マンホール番号,名称,経度,緯度\r\n"
    r = post_file(client, token, head + "M-1,本町1号,139.839,35.822\r\nM-2,栄町\x1b2号,139.839,35.823\r\n",
                  kind="manhole")
    assert r.status_code == 422, r.content
    assert r.json()["errors"] == ["Record 2 (line 3) name: contains U+001B (a control character) at character 3; "
                                  "it is not allowed"]
    assert not Asset.objects.exists()
    r = post_file(client, token, head + 'M-1,"本町\r\n1号",139.839,35.822\r\nM-2,"栄町\n2号",139.839,35.823\r\n',
                  kind="manhole")
    assert r.status_code == 200, r.content
    assert sorted(Asset.objects.values_list("name", flat=True)) == ["本町1号", "栄町2号"]


def test_a_clean_upsert_stores_its_text_exactly(client, world, token):  # noqa: F811
    r = upsert(client, token, [pipe(1, 名称="幹線（旧）\u3000Ⅱ"), pipe(2, 名称="=1+1")])
    assert r.status_code == 200, r.content
    # NFKC as every ledger cell (the full-width brackets, space and Ⅱ become ASCII); an ideographic space is text.
    assert sorted(Asset.objects.values_list("name", flat=True)) == ["=1+1", "幹線(旧) II"]


def test_a_stray_byte_of_a_cp932_file_is_named_not_stored(client, world, token):  # noqa: F811
    """Byte 0x80 is no character in Shift_JIS; Python's CP932 reads it as U+0080 (a C1 control), which would be
    stored as an invisible character in the name: it is refused naming the record, line and field."""
    head = "マンホール番号,名称,経度,緯度\r\n"
    r = post_file(client, token, head + "M-1,本町1号,139.839,35.822\r\nM-2,栄町\x802号,139.839,35.823\r\n",
                  kind="manhole", encoding="cp932")
    assert r.status_code == 422, r.content
    assert r.json()["errors"] == ["Record 2 (line 3) name: contains U+0080 (a control character) at character 3; "
                                  "it is not allowed"]
    assert not Asset.objects.exists()
