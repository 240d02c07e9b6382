"""The region's parameters page: which engine parameters a coordinator edits there, in which group, and the
range the page accepts. Names and units come from clusters.labels (one place for every parameter's label)."""

import hashlib
import json
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clusters.engine.params import Params
from clusters.labels import COMPONENT_LABELS, PARAMS


@dataclass(frozen=True)
class Field:
    key: str  # a Params field, "weights.<component>" or "budget.<municipality code>"
    lo: float
    hi: float
    integer: bool = False
    group: str = ""
    name: str = ""  # what the key itself does not say: the component or the municipality

    @property
    def label(self) -> str:
        if self.key.startswith("weights."):
            return _("Weight: %(component)s") % {"component": self.name}
        if self.key.startswith("budget."):
            return _("Yearly budget: %(municipality)s") % {"municipality": self.name}
        return PARAMS[self.key].text()

    @property
    def unit(self) -> str:
        if self.key.startswith("weights."):
            return ""
        if self.key.startswith("budget."):
            return _("yen a fiscal year")
        return PARAMS[self.key].unit


YEN_UNIT = 1_000_000_000_000  # a trillion yen: no municipal unit cost or budget reaches it
EVALUATION, LOTS, UNIT_COSTS = gettext_lazy("Evaluation"), gettext_lazy("Lots"), gettext_lazy("Unit costs")
WEIGHTS, BUDGETS = gettext_lazy("Weights"), gettext_lazy("Budgets")

FIELDS = [
    Field("horizon_years", 1, 30, integer=True, group=EVALUATION),
    Field("lof_action_threshold", 0.01, 1.0, group=EVALUATION),
    Field("cluster_distance_m", 10, 5000, group=LOTS),
    Field("max_lot_members", 2, 5000, integer=True, group=LOTS),
    Field("contractor_reach_m", 0, 50000, group=LOTS),
    Field("mobilization_per_contract", 0, YEN_UNIT, group=LOTS),
    Field("cost_pavement_resurface_m2", 0, 1_000_000, group=UNIT_COSTS),
    Field("cost_pavement_rebuild_m2", 0, 1_000_000, group=UNIT_COSTS),
    Field("cost_bridge_repair_m2", 0, 10_000_000, group=UNIT_COSTS),
    Field("cost_bridge_renew_m2", 0, 10_000_000, group=UNIT_COSTS),
    Field("cost_pipe_renew_base_m", 0, 10_000_000, group=UNIT_COSTS),
    Field("cost_pipe_rehab_base_m", 0, 10_000_000, group=UNIT_COSTS),
    Field("cost_manhole_rehab", 0, 100_000_000, group=UNIT_COSTS),
    Field("cost_septic_repair", 0, 100_000_000, group=UNIT_COSTS),
]
WEIGHT_RANGE = (0.0, 10.0)
BUDGET_RANGE = (0.0, float(YEN_UNIT))


def bound_text(x: float) -> str:
    """A range bound as people write it: 1,000,000 rather than 1e+06."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,g}"


def fields_for(members: list[tuple[str, str]]) -> list[Field]:
    """Every field of the page for a region with these members (code, name)."""
    out = list(FIELDS)
    out += [Field(f"weights.{k}", *WEIGHT_RANGE, group=WEIGHTS, name=str(name))
            for k, name in COMPONENT_LABELS.items()]
    out += [Field(f"budget.{code}", *BUDGET_RANGE, group=BUDGETS, name=name) for code, name in members]
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
