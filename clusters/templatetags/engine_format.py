"""Amounts as the engine pages show them."""

from django import template

register = template.Library()


@register.filter
def myen(value) -> str:
    """Yen → million yen with one decimal (1,234.5); an em dash when there is none."""
    if value is None or value == "":
        return "—"
    return f"{float(value) / 1e6:,.1f}"
