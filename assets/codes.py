"""全国地方公共団体コード (JIS X 0402): 5 digits + a mod-11 check digit (domain.md §4.5)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(code5: str) -> str:
    s = sum(int(d) * w for d, w in zip(code5, WEIGHTS, strict=True))
    return str((11 - s % 11) % 10)


def normalize_lg_code(raw: object) -> str:
    """Return the 6-digit code for 5- or 6-digit input, or raise ValidationError saying why.

    Ledgers store codes as numbers and lose the leading zero (北海道 `1100`), so 4- and 5-character
    numeric input is left-padded to 5 before the check digit is added.
    """
    text = str(raw).strip() if raw is not None else ""
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not text.isdigit() or len(text) not in (4, 5, 6):
        raise ValidationError(
            _("%(value)r is not a municipal code: expected 5 digits, or 6 digits with the check digit"),
            code="lg_code_format",
            params={"value": raw},
        )
    if len(text) == 4:
        text = "0" + text
    if len(text) == 5:
        return text + check_digit(text)
    expected = check_digit(text[:5])
    if text[5] != expected:
        raise ValidationError(
            _("%(value)s has a wrong check digit: the last digit should be %(expected)s (%(fixed)s)"),
            code="lg_code_check_digit",
            params={"value": text, "expected": expected, "fixed": text[:5] + expected},
        )
    return text


def validate_lg_code(value: str) -> None:
    if len(str(value)) != 6:
        raise ValidationError(_("A stored municipal code has 6 digits including the check digit"))
    normalize_lg_code(value)


def prefecture_code(code: str) -> str:
    """The prefecture's own 6-digit code (pp000 + check digit) for any municipality code."""
    base = code[:2] + "000"
    return base + check_digit(base)
