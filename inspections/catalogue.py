"""The grading catalogue: versioned schemes and grades loaded from fixtures/catalogue/*.json."""

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inspections.models import Grade, GradingScheme, MeasureKind, MemberKind, RecordType

CATALOGUE = Path(settings.BASE_DIR) / "fixtures" / "catalogue"


@transaction.atomic
def load_catalogue(directory: Path = CATALOGUE) -> int:
    """Upsert every scheme file. A file with a new version adds a scheme and makes it the current one."""
    n = 0
    for path in sorted(directory.glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        if "measure_kinds" in spec:
            load_measure_kinds(spec["measure_kinds"])
            continue
        if "member_kinds" in spec:
            load_member_kinds(spec["member_kinds"])
            continue
        scheme, _created = GradingScheme.objects.update_or_create(
            code=spec["code"], version=spec["version"],
            defaults={k: spec.get(k, default) for k, default in (
                ("rule", "direct"), ("name", ""), ("name_en", ""), ("kinds", []), ("cycle_months", None),
                ("cycle_only_if", ""), ("record_type", RecordType.INSPECTION), ("source", ""), ("params", {}),
                ("lists", {}))} | {"is_current": True},
        )
        GradingScheme.objects.filter(code=spec["code"]).exclude(pk=scheme.pk).update(is_current=False)
        for g in spec["grades"]:
            Grade.objects.update_or_create(scheme=scheme, code=g["code"], defaults={
                "label": g["label"], "label_en": g["label_en"], "rank": g["rank"], "score": g["score"],
                "action_months": g.get("action_months"),
                "guidance_months": g.get("guidance_months"), "aliases": g.get("aliases", []),
            })
        n += 1
    scheme_dict.cache_clear()
    return n


def load_measure_kinds(specs: list[dict]) -> int:
    for k in specs:
        MeasureKind.objects.update_or_create(code=k["code"], defaults={
            "label": k["label"], "label_en": k["label_en"], "effect": k["effect"],
            "changes_condition": k.get("changes_condition", True), "kinds": k.get("kinds", []),
            "aliases": k.get("aliases", []), "order": k.get("order", 0)})
    return len(specs)


def load_member_kinds(spec: dict) -> int:
    """Upsert the member codes of one 点検要領 (a file per structure type); a code the file no longer lists is
    dropped, so the allowed codes are exactly the file's."""
    kinds = spec.get("kinds", [])
    codes = []
    for m in spec["members"]:
        MemberKind.objects.update_or_create(code=m["code"], defaults={
            "name": m["name"], "name_en": m["name_en"], "group": m["group"],
            "is_main_member": m.get("is_main_member", False), "kinds": m.get("kinds", kinds),
            "verified": m.get("verified", False), "order": m.get("order", 0)})
        codes.append(m["code"])
    MemberKind.objects.filter(kinds__overlap=kinds).exclude(code__in=codes).delete()
    return len(codes)


def member_rows() -> list[dict]:
    """The member catalogue as plain dicts for the pure rules (inspections.grading)."""
    return [{"code": m.code, "name": m.name, "main": m.is_main_member, "kinds": m.kinds, "group": m.group}
            for m in MemberKind.objects.order_by("order", "code")]


def measure_kinds_for(asset_kind: str) -> list[MeasureKind]:
    return [k for k in MeasureKind.objects.order_by("order", "code") if k.applies_to(asset_kind)]


def schemes_for_kind(kind: str, record_type: str | None = None):
    qs = GradingScheme.objects.filter(is_current=True, kinds__contains=[kind])
    return qs.filter(record_type=record_type) if record_type else qs


def resolve_scheme(kind: str, code: str | None) -> GradingScheme:
    """The named scheme, or the kind's current inspection scheme; errors list what the kind allows."""
    options = list(schemes_for_kind(kind))
    if code:
        for s in options:
            if s.code == code:
                return s
    else:
        for s in options:
            if s.record_type == RecordType.INSPECTION:
                return s
    allowed = ", ".join(s.code for s in options) or _("none")
    raise ValidationError({"scheme": _("%(code)r is not a grading scheme for %(kind)s; allowed: %(allowed)s")
                           % {"code": code, "kind": kind, "allowed": allowed}})


def grading_context(asset, rule: str) -> dict:
    """What a rule needs to know about the asset beyond its observations: a road segment's pavement type,
    since 舗装点検要領 grades asphalt and concrete on thresholds of their own. One query for the detail row
    unless the caller loaded it (select_related("road_segment")); none for other rules."""
    if rule == "direct":
        # Member codes belong to a kind's 点検要領: a bridge's 主桁 Mg is not a tunnel's.
        return {"kind": asset.kind}
    if rule != "pavement":
        return {}
    segment = getattr(asset, "road_segment", None)
    return {"pavement_type": segment.pavement_type} if segment is not None else {}


@lru_cache(maxsize=64)
def scheme_dict(scheme_id: int) -> dict:
    """A plain-dict view of a scheme for the pure rules in inspections.grading."""
    s = GradingScheme.objects.get(pk=scheme_id)
    return {
        "id": s.pk, "code": s.code, "version": s.version, "rule": s.rule, "name": s.name, "params": s.params,
        "lists": s.lists, "cycle_months": s.cycle_months,
        "grades": [{"id": g.pk, "code": g.code, "label": g.label, "rank": g.rank, "aliases": g.aliases}
                   for g in s.grades.order_by("rank", "code")],
        "members": member_rows() if s.rule == "direct" else [],
    }


def on_reference_data_loaded(sender, **kwargs) -> str:
    """Receiver of assets.signals.reference_data_loaded: the catalogue is part of `load_reference_data`."""
    return f"{load_catalogue()} grading schemes"
