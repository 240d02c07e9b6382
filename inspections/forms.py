"""Turns the field form's POST into the service's arguments (observations by scheme rule), gives the rows the
form shows again after an error, and names every field in the person's language."""

import re

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspections.grading import label as observation_label

SPAN_ITEMS = ("corrosion", "sag")
ROWS = 12
# The pavement measures the form offers (grading.MEASURES reads each); the concrete thresholds use
# joint_fault_mm, an MCI-only survey gives mci.
PAVEMENT_NUMBERS = ("crack_pct", "rut_mm", "iri", "sigma_mm", "joint_fault_mm", "mci")
PAVEMENT_FLAGS = ("base_damage", "joint_sealant_lost")
MEMBER_FIELDS = ("member", "damage_type", "degree", "measure", "grade")
PIPE_FIELDS = ("item", "grade", "at", "pipe")


def observations_from_post(rule: str, scheme_code: str, post: QueryDict) -> dict:
    obs: dict = {}
    if rule == "pavement":
        for key in PAVEMENT_NUMBERS:
            if post.get(key, "").strip():
                obs[key] = post[key].strip()
        for key in PAVEMENT_FLAGS:
            if post.get(key):
                obs[key] = True
    elif rule == "sewer":
        span = {k: post.get(f"span_{k}", "") for k in SPAN_ITEMS if post.get(f"span_{k}")}
        pipes = []
        for i in range(ROWS):
            item, grade = post.get(f"pipe_item_{i}", ""), post.get(f"pipe_grade_{i}", "")
            if item and grade:
                row = {"item": item, "grade": grade}
                for key, name in (("at_m", f"pipe_at_{i}"), ("pipe", f"pipe_pipe_{i}")):
                    text = post.get(name, "").strip()
                    if text:
                        try:
                            row[key] = int(text) if key == "pipe" else float(text)
                        except ValueError:
                            row[key] = text  # refused by the grading rule with the row named
                pipes.append(row)
        if span:
            obs["span"] = span
        if pipes:
            obs["pipes"] = pipes
        if post.get("pipe_count", "").strip():
            try:
                obs["pipe_count"] = int(post["pipe_count"])
            except ValueError:
                obs["pipe_count"] = -1
    elif scheme_code.startswith("bridge"):
        members = []
        for i in range(ROWS):
            member = post.get(f"member_{i}", "").strip()
            if member:
                members.append({k: post.get(f"{k}_{i}", "").strip()
                                for k in ("damage_type", "degree", "measure", "grade")} | {"member": member})
        if members:
            obs["members"] = members
    return obs


def _rows(post: QueryDict, names: dict[str, str], shown: int) -> list[dict]:
    """The form's repeated rows with what was entered (kept when the form comes back with an error): a row
    is shown when it is one of the first `shown` or holds anything."""
    out = []
    for i in range(ROWS):
        values = {k: post.get(pattern.format(i=i), "") for k, pattern in names.items()}
        out.append({"i": i, "hidden": i >= shown and not any(v.strip() for v in values.values()), **values})
    return out


def member_rows(post: QueryDict) -> list[dict]:
    names = {"member": "member_{i}", "damage_type": "damage_type_{i}", "degree": "degree_{i}",
             "measure": "measure_{i}", "grade": "grade_{i}"}
    return _rows(post, names, 2)


def pipe_rows(post: QueryDict) -> list[dict]:
    names = {"item": "pipe_item_{i}", "grade": "pipe_grade_{i}", "at": "pipe_at_{i}", "pipe": "pipe_pipe_{i}"}
    return _rows(post, names, 3)


def field_labels() -> dict[str, str]:
    from inspections.models import Inspection

    opts = Inspection._meta
    labels = {f: str(opts.get_field(f).verbose_name) for f in
              ("inspected_on", "grade", "method", "inspector", "notes", "legal_basis", "observations")}
    labels |= {"photos": _("photos"), "reason": _("reason"), "scheme": _("record type"),
               "span": _("span (A/B/C)"), "pipes": _("per-pipe observations"), "members": _("bridge members")}
    return labels


ROW_FIELDS = {"member": gettext_lazy("member"), "damage_type": gettext_lazy("damage"), "degree": gettext_lazy("degree"),
              "measure": "対策区分", "grade": gettext_lazy("grade"), "item": gettext_lazy("item"),
              "at_m": gettext_lazy("position (m)"), "pipe": gettext_lazy("pipe number")}
SPAN_LABELS = {"corrosion": "管の腐食", "sag": "上下方向のたるみ"}
_ROW = re.compile(r"^observations\.(members|pipes)\[(\d+)\](?:\.(\w+))?$")


def error_label(key: str) -> str:
    """What to call a field an error names (`inspected_on`, `observations.crack_pct`,
    `observations.members[2].degree`, `photos[1]`) on the form, never the raw key."""
    labels = field_labels()
    if key in labels:
        return labels[key]
    m = _ROW.match(key)
    if m:
        group, n, field = m.groups()
        where = _("%(what)s, row %(n)s") % {"what": labels[group], "n": n}
        return f"{where}: {ROW_FIELDS.get(field, field)}" if field else where
    if key.startswith("observations.span."):
        item = key.rsplit(".", 1)[1]
        return f'{labels["span"]}: {SPAN_LABELS.get(item, item)}'
    if key.startswith("observations."):
        return observation_label(key.split(".", 1)[1])
    if key.startswith("photos"):
        return f"{labels['photos']} {key[len('photos'):]}".strip()
    return key
