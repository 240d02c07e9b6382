"""Amounts, counts and labels as the engine pages show them: separators everywhere, one money unit per table
(百万円 in tables, 億円 in summaries), and the Japanese label of every stored code (clusters.labels)."""

from django import template

from clusters import labels
from core.formatting import grouped, yen_to_million, yen_to_oku

register = template.Library()


@register.filter
def myen(value) -> str:
    """Yen → million yen with one decimal (1,234.5); an em dash when there is none."""
    if value is None or value == "":
        return "—"
    return grouped(yen_to_million(value, 1), 1)


@register.filter
def million(value, digits=0) -> str:
    """Yen → 百万円 with separators (tables): 68,867."""
    return grouped(yen_to_million(value, int(digits)), int(digits))


@register.filter
def oku(value, digits=1) -> str:
    """Yen → 億円 with separators (summaries): 688.7."""
    return grouped(yen_to_oku(value, int(digits)), int(digits))


@register.filter
def num(value, digits=0) -> str:
    """A count or measure with thousands separators: 12,345."""
    return grouped(value, int(digits))


@register.filter
def share(value) -> str:
    """A share 0–1 as a whole percentage (87%); "—" where it does not apply (None)."""
    return "—" if value is None or value == "" else f"{100 * float(value):.0f}%"


@register.filter
def defaulted(value) -> str:
    """The fields an asset's score estimated from defaults (a bitmask or a list of names): 建設年度・管径."""
    return labels.defaulted_text(value)


@register.filter
def label(value, group: str) -> str:
    """The label of a stored code: {{ c.work_type|label:"work_type" }} → 下水道."""
    return labels.label(group, value)


@register.filter
def action_mix(mix) -> list[str]:
    """{"septic_tank:renew": 4} → ["浄化槽 更新 4基"]."""
    return labels.action_mix_text(mix)


@register.filter
def param_label(name) -> str:
    return labels.param_label(str(name))


@register.filter
def param_value(value, name) -> str:
    """{{ v.a|param_value:k }} → 300 m, リスク低減量／費用."""
    return labels.param_value(str(name), value)
