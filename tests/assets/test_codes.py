import pytest
from django.core.exceptions import ValidationError

from assets.codes import check_digit, normalize_lg_code, prefecture_code


@pytest.mark.parametrize("code5, full", [
    ("11234", "112348"),  # 八潮市
    ("01100", "011002"),  # 札幌市
    ("22212", "222127"),  # 焼津市
    ("43000", "430005"),  # 熊本県
    ("17204", "172049"),  # 輪島市
    ("17205", "172057"),  # 珠洲市
])
def test_check_digit_matches_published_codes(code5, full):
    assert code5 + check_digit(code5) == full


def test_it_accepts_a_correct_six_digit_code():
    assert normalize_lg_code("112348") == "112348"


def test_it_rejects_a_wrong_check_digit_and_names_the_right_one():
    with pytest.raises(ValidationError) as exc:
        normalize_lg_code("112349")
    assert "112348" in exc.value.messages[0]


def test_it_computes_the_check_digit_for_five_digit_input():
    assert normalize_lg_code("11234") == "112348"
    assert normalize_lg_code(11234) == "112348"


def test_it_restores_a_lost_leading_zero():
    assert normalize_lg_code(1100) == "011002"


def test_it_reads_full_width_digits():
    assert normalize_lg_code("１１２３４８") == "112348"


@pytest.mark.parametrize("bad", ["", "abc", "1234567", "11-234", None])
def test_it_rejects_non_codes(bad):
    with pytest.raises(ValidationError):
        normalize_lg_code(bad)


def test_prefecture_code():
    assert prefecture_code("112348") == "110001"
    assert prefecture_code("172049") == "170003"


@pytest.mark.django_db
def test_the_model_refuses_a_wrong_check_digit():
    from assets.models import Municipality

    m = Municipality(code="112349", kind="city", name="x", prefecture="埼玉県")
    with pytest.raises(ValidationError) as exc:
        m.full_clean()
    assert "code" in exc.value.message_dict
