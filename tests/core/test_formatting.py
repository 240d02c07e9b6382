"""Numbers as people read them (issue 15): shares that add up to the total shown, 百万円 / 億円, separators."""

import math

from hypothesis import given
from hypothesis import strategies as st

from core.formatting import allocate, grouped, yen_to_million, yen_to_oku

amounts = st.floats(min_value=0, max_value=1e13, allow_nan=False, allow_infinity=False)
weights = st.lists(st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False), min_size=1,
                   max_size=12)


def test_the_issue_example_adds_up():
    """A lot of 8 百万円 whose owners' works were 2.6 + 2.6 (5 百万円 after rounding each): the shares of the
    lot's cost add up to the 8 shown (largest-remainder method)."""
    shares = allocate(8.0, [2.6e6, 2.6e6])
    assert sum(shares) == 8 and sorted(shares) == [4, 4]
    assert allocate(8.4, [1, 1, 1]) == [3, 3, 2]


@given(amounts, weights, st.integers(min_value=0, max_value=2))
def test_rounded_shares_add_up_to_the_rounded_total(total, ws, digits):
    """Largest-remainder (Hamilton) apportionment: the shares, each rounded, sum to the rounded total."""
    shares = allocate(total, ws, digits)
    q = 10 ** digits
    assert round(sum(shares) * q) == math.floor(total * q + 0.5)
    assert all(s >= 0 for s in shares)


@given(amounts, weights)
def test_each_share_is_its_exact_share_rounded_up_or_down(total, ws):
    """No share moves by a whole unit or more from its exact proportional value."""
    shares = allocate(total, ws)
    t = math.floor(total + 0.5)
    s = sum(ws)
    if s <= 0:
        return
    for share, w in zip(shares, ws, strict=True):
        assert abs(share - t * w / s) < 1 + 1e-6 * max(t, 1)


@given(amounts, weights)
def test_a_larger_weight_never_gets_a_smaller_share(total, ws):
    shares = allocate(total, ws)
    for i in range(len(ws)):
        for j in range(len(ws)):
            if ws[i] > ws[j]:
                assert shares[i] >= shares[j]


def test_no_weights_and_zero_weights():
    assert allocate(5, []) == []
    assert allocate(5, [0, 0]) == [5, 0]


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False))
def test_units_agree_with_each_other(yen):
    assert abs(yen_to_million(yen, 2) * 1e6 - yen) <= 0.005e6 + 1e-6 * abs(yen)
    assert abs(yen_to_oku(yen, 1) * 1e8 - yen) <= 0.05e8 + 1e-6 * abs(yen)


def test_separators_and_missing_values():
    assert grouped(68866543655) == "68,866,543,655"
    assert grouped(yen_to_oku(68866543655), 1) == "688.7"
    assert grouped(None) == "—" and yen_to_million(None) is None
    assert grouped(-0.04, 1) == "0.0"
    assert yen_to_million(2_500_000) == 3  # half away from zero, not to even
