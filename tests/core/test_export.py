"""core.export: formula neutralisation that imports back exactly, and the CP932 refusal, shared by the ledger
exports and the work-list download. No database."""

import pytest
from django.core.exceptions import ValidationError

from core.export import FORMULA_START, MAX_NAMED, check_cp932, escape_formula, unescape_formula

RISKY = ["=SUM(A1)", "+81-3", "-12", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']
LOOKS_ESCAPED = ["'=already quoted", "''=twice", "'''+thrice"]
PLAIN = ["普通の名前", "'plain", "a=b", "", "''", "12"]


@pytest.mark.parametrize("text", RISKY)
def test_what_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert text.startswith(FORMULA_START)
    assert escape_formula(text) == "'" + text


@pytest.mark.parametrize("text", RISKY + LOOKS_ESCAPED + PLAIN)
def test_escaping_round_trips_exactly(text):
    assert unescape_formula(escape_formula(text)) == text


@pytest.mark.parametrize("text", LOOKS_ESCAPED)
def test_text_that_already_looks_escaped_gets_one_more(text):
    assert escape_formula(text) == "'" + text


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_stays_as_it_is(text):
    assert escape_formula(text) == text and unescape_formula(text) == text


@pytest.mark.parametrize("value", [None, 12, -3.5, True])
def test_values_other_than_text_are_not_touched(value):
    assert escape_formula(value) is value


def test_rows_cp932_can_write_pass():
    check_cp932(["id", "name"], [["A-1", "八潮 ①Ⅲ"], ["A-2", None], ["A-3", 12]], hint="use xlsx")


def test_text_cp932_cannot_write_is_refused_naming_row_field_and_character():
    rows = [["A-1", "桜橋🌸", "𠮷"], ["A-2", "普通", "普通"], ["A-3", "普通", "𠮷野"]]
    with pytest.raises(ValidationError) as exc:
        check_cp932(["id", "name", "note"], rows, hint="use format=xlsx for this list")
    (message,) = exc.value.message_dict["format"]
    assert message == ("2 assets hold characters that CP932 (Shift_JIS) cannot write: A-1 name ('🌸'); "
                       "A-3 note ('𠮷'). Nothing was exported; use format=xlsx for this list")


def test_a_long_refusal_names_the_first_rows_and_counts_all():
    rows = [[f"A-{k}", "🌸"] for k in range(MAX_NAMED + 5)]
    with pytest.raises(ValidationError) as exc:
        check_cp932(["id", "name"], rows, hint="h")
    (message,) = exc.value.message_dict["format"]
    assert message.startswith(f"{MAX_NAMED + 5} assets hold") and f"A-{MAX_NAMED - 1} name" in message
    assert f"A-{MAX_NAMED} name" not in message and " …. Nothing was exported" in message
