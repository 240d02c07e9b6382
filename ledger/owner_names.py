"""Municipality names in a ledger's 市町村 / 団体名 column, read as their 団体コード (domain.md §4.5)."""

import pandas as pd

from assets import access
from assets.history import Actor
from assets.models import Municipality
from core.text import header_key
from ledger import values as V


def codes_for_names(column: pd.Series, actor: Actor) -> pd.Series:
    """Each cell that names a municipality (八潮市, 埼玉県八潮市, 八 潮 市) replaced by its code; codes and anything
    else are left for the owner check to read or refuse. A name is looked up among the municipalities the actor
    may see: 府中市 is two cities (東京都, 広島県) and is read only when exactly one of them is in scope, or
    written with its prefecture."""
    text = V.clean(column)
    names = [t for t in text.unique().tolist() if t and not t.isdigit()]
    if not names:
        return column
    qs = Municipality.objects.all()
    if not actor.is_system:
        qs = access.municipalities_visible(actor.principal, qs)
    found: dict[str, set[str]] = {}
    for code, name, prefecture in qs.values_list("code", "name", "prefecture"):
        for key in {header_key(name), header_key(f"{prefecture}{name}")}:
            found.setdefault(key, set()).add(code)
    codes = {}
    for t in names:
        match = found.get(header_key(t), set())
        if len(match) == 1:
            codes[t] = next(iter(match))
    if not codes:
        return column
    return text.map(lambda t: codes.get(t, t)).where(text.isin(list(codes)), column)
