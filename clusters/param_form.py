"""A region's engine parameters as people set them, on its parameters page and through the API: which parameters
the page shows, in which group, and the one check both apply (`check`) — every value against its parameter's
allowed range from clusters.labels.PARAMS, the one place names, units and ranges live, so the page and the API
cannot drift apart."""

import hashlib
import json
import math
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clusters.engine.params import Params
from clusters.labels import COMPONENT_LABELS, PARAMS, label

# Values keyed by municipality (団体コード): only the region's members may be named.
BY_MUNICIPALITY = ("budget_by_municipality", "septic_subsidy_share_by_municipality")
MAX_TEXT = 200  # an interim measure's wording (Params.interim_measures)
MAX_UNKNOWN_SHOWN = 20  # a body full of unknown names is refused naming the first few


@dataclass(frozen=True)
class Field:
    key: str  # a Params field, "weights.<component>" or "budget.<municipality code>" (the page's input name)
    group: str = ""
    name: str = ""  # what the key itself does not say: the component or the municipality

    @property
    def path(self) -> str:
        """Where the value sits in the Params dict (and in `check`'s errors): budget.X is budget_by_municipality.X."""
        return "budget_by_municipality." + self.key[len("budget."):] if self.key.startswith("budget.") else self.key

    @property
    def label(self) -> str:
        return label_for(self.path, self.name)

    @property
    def unit(self) -> str:
        return unit_for(self.path)

    @property
    def lo(self) -> float:
        return PARAMS[self.path.split(".", 1)[0]].min

    @property
    def hi(self) -> float:
        return PARAMS[self.path.split(".", 1)[0]].max

    @property
    def integer(self) -> bool:
        return _is_integer(getattr(Params(), self.path.split(".", 1)[0]))


EVALUATION, LOTS, UNIT_COSTS = gettext_lazy("Evaluation"), gettext_lazy("Lots"), gettext_lazy("Unit costs")
WEIGHTS, BUDGETS = gettext_lazy("Weights"), gettext_lazy("Budgets")

FIELDS = [
    Field("horizon_years", group=EVALUATION),
    Field("lof_action_threshold", group=EVALUATION),
    Field("cluster_distance_m", group=LOTS),
    Field("max_lot_members", group=LOTS),
    Field("contractor_reach_m", group=LOTS),
    Field("mobilization_per_contract", group=LOTS),
    Field("cost_pavement_resurface_m2", group=UNIT_COSTS),
    Field("cost_pavement_rebuild_m2", group=UNIT_COSTS),
    Field("cost_bridge_repair_m2", group=UNIT_COSTS),
    Field("cost_bridge_renew_m2", group=UNIT_COSTS),
    Field("cost_pipe_renew_base_m", group=UNIT_COSTS),
    Field("cost_pipe_rehab_base_m", group=UNIT_COSTS),
    Field("cost_manhole_rehab", group=UNIT_COSTS),
    Field("cost_septic_repair", group=UNIT_COSTS),
]


def bound_text(x: float) -> str:
    """A range bound as people write it: 1,000,000 rather than 1e+06."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,g}"


def fields_for(members: list[tuple[str, str]]) -> list[Field]:
    """Every field of the page for a region with these members (code, name)."""
    out = list(FIELDS)
    out += [Field(f"weights.{k}", group=WEIGHTS, name=str(name)) for k, name in COMPONENT_LABELS.items()]
    out += [Field(f"budget.{code}", group=BUDGETS, name=name) for code, name in members]
    return out


def from_page(fields: list[Field], posted: dict) -> dict:
    """The page's inputs (text, by input name) as a Params-shaped dict for `check`. Every weight is on the page;
    an empty budget means none of the municipality's own (the levelled need), so budgets not filled in go."""
    out: dict = {"weights": {}, "budget_by_municipality": {}}
    for f in fields:
        text = str(posted.get(f.key, "")).strip()
        head, _sep, sub = f.path.partition(".")
        if head == "budget_by_municipality" and not text:
            continue
        if sub:
            out[head][sub] = text
        else:
            out[head] = text
    return out


def value_of(params: Params, key: str):
    if key.startswith("weights."):
        return params.weights.get(key.split(".", 1)[1])
    if key.startswith("budget."):
        return params.budget_by_municipality.get(key.split(".", 1)[1])
    return getattr(params, key)


def label_of(key: str) -> str:
    """The Japanese label of a Params key (for the compare page); the key itself when the page has none."""
    return PARAMS[key].text() if key in PARAMS else key


def params_version(stored: dict) -> str:
    """What the page showed, as a short digest of the stored parameters: posted back with the form, so a save over
    someone else's newer one is refused (clusters.services.region_params_update)."""
    return hashlib.sha256(json.dumps(stored or {}, sort_keys=True).encode()).hexdigest()[:16]


def label_for(path: str, name: str = "") -> str:
    """What people call the value at `path`: 工区にまとめる距離, 重み：交通量, 年度予算：草加市 (`name`: the
    municipality's), 単価（tunnel.repair_m2） for the deeper tables only the API sets."""
    head, _sep, sub = path.partition(".")
    if head == "weights" and sub:
        return _("Weight: %(component)s") % {"component": name or COMPONENT_LABELS.get(sub, sub)}
    if head == "budget_by_municipality" and sub:
        return _("Yearly budget: %(municipality)s") % {"municipality": name or sub}
    text = PARAMS[head].text() if head in PARAMS else head
    return f"{text}（{sub}）" if sub else text


def unit_for(path: str) -> str:
    head, _sep, sub = path.partition(".")
    if head == "weights":
        return ""
    if head == "budget_by_municipality" and sub:
        return _("yen a fiscal year")
    return PARAMS[head].unit if head in PARAMS else ""


def _is_integer(default) -> bool:
    return isinstance(default, int) and not isinstance(default, bool)


class _Check:
    def __init__(self, names: dict[str, str]):
        self.names = names  # the region's members, code → name
        self.errors: dict[str, str] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, " ".join(message.split()))  # an empty unit leaves no double space

    def value(self, path: str, value, default):
        """`value` checked against the parameter's range and the shape of its default; the clean value, or None
        with an error recorded under `path`."""
        head = path.split(".", 1)[0]
        p = PARAMS[head]
        name = self.names.get(path.split(".", 1)[1], "") if head in BY_MUNICIPALITY and "." in path else ""
        what = {"label": label_for(path, name)}
        if p.choices and "." not in path:
            if value not in p.choices:
                self.fail(path, _("%(label)s: must be one of %(allowed)s") % {**what, "allowed": "、".join(
                    f"{c}（{label('choice', c)}）" for c in p.choices)})
                return None
            return value
        if isinstance(default, dict):
            return self.table(path, value, default, what)
        if isinstance(default, list):
            if not isinstance(value, list) or len(value) != len(default):
                self.fail(path, _("%(label)s: expected a value like %(example)s") % {**what, "example": default})
                return None
            return [self.value(f"{path}.{i}", v, d) for i, (v, d) in enumerate(zip(value, default, strict=True))]
        if isinstance(default, str):
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
                self.fail(path, _("%(label)s: enter a text of at most %(n)s characters") % {**what, "n": MAX_TEXT})
                return None
            return value.strip()
        return self.number(path, value, default, p, what)

    def table(self, path: str, value, default: dict, what: dict):
        head = path.split(".", 1)[0]
        by_municipality = head in BY_MUNICIPALITY and "." not in path
        if not isinstance(value, dict):
            example = {next(iter(self.names), "112348"): 0} if by_municipality else default
            self.fail(path, _("%(label)s: expected a value like %(example)s") % {**what, "example": example})
            return None
        allowed = list(self.names) if by_municipality else list(default)
        out = {} if by_municipality else dict(default)
        for sub, v in value.items():
            if str(sub) not in allowed:
                self.fail(f"{path}.{str(sub)[:40]}", _("%(label)s: %(key)s is not one of %(allowed)s") % {
                    **what, "key": str(sub)[:40], "allowed": "、".join(allowed)})
                continue
            out[str(sub)] = self.value(f"{path}.{sub}", v, default.get(sub, 0.0))
        return out

    def number(self, path: str, value, default, p, what: dict):
        lo, hi = p.min, p.max
        rng = {**what, "lo": bound_text(lo), "hi": bound_text(hi), "unit": unit_for(path)}
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(value)
            number = float(value.strip().replace(",", "")) if isinstance(value, str) else float(value)
            if not math.isfinite(number) or (_is_integer(default) and number != int(number)):
                raise ValueError(value)
        except ValueError:
            self.fail(path, (_("%(label)s: enter a number between %(lo)s and %(hi)s %(unit)s") % rng).strip())
            return None
        if not lo <= number <= hi:
            self.fail(path, (_("%(label)s: must be between %(lo)s and %(hi)s %(unit)s") % rng).strip())
            return None
        return int(number) if _is_integer(default) else number


def check(values: dict, members: list[tuple[str, str]]) -> tuple[dict, dict[str, str]]:
    """Every value of a Params-shaped dict checked against its parameter's allowed range and kind (a number, one
    of the choices, a table of the default's keys or of the region's member municipalities). Returns the clean
    values (numbers as numbers, tables completed from the defaults) and the errors by path (horizon_years,
    weights.traffic, budget_by_municipality.112348), each naming the parameter in the reader's language and
    what it allows. Text is read as people type it (1,000,000)."""
    c = _Check(dict(members))
    if not isinstance(values, dict):
        return {}, {"params": _("expected parameters by name, e.g. %(example)s") % {
            "example": '{"cluster_distance_m": 150}'}}
    defaults = Params().to_dict()
    clean = {}
    unknown = [str(k)[:60] for k in values if k not in defaults]
    if unknown:
        allowed = ", ".join(sorted(defaults))
        for key in unknown[:MAX_UNKNOWN_SHOWN]:
            c.fail(key, _("%(key)s is not an engine parameter; allowed: %(allowed)s") % {
                "key": key, "allowed": allowed})
    for key, value in values.items():
        if key in defaults:
            clean[key] = c.value(key, value, defaults[key])
    return clean, c.errors


def stored_form(params: dict) -> dict:
    """What a region keeps: only the values that differ from the defaults (a missing key is the default)."""
    defaults = Params().to_dict()
    return {k: v for k, v in params.items() if k not in defaults or v != defaults[k]}
