"""Reads of inspections and conditions, scoped by assets.access like every other read."""

import datetime
import functools

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import access
from assets import selectors as asset_selectors
from core.queries import narrowed
from inspections.models import AssetCondition, Inspection, InspectionPhoto

__all__ = ["asset_list_by_grade", "inspection_get", "inspection_list", "photo_get", "severity", "severity_expression",
           "work_items", "work_list", "work_list_default_municipality"]


def asset_list_by_grade(*, principal, grade: str | None = None, **filters) -> QuerySet:
    """The registry's asset list (assets.selectors.asset_list, same filters) narrowed to assets whose current
    grade has this code (e.g. III)."""
    return narrowed(asset_selectors.asset_list(principal=principal, **filters), condition__grade__code=grade)


def severity(assets) -> dict[int, float]:
    """Each asset's current grade as 0 (sound) … 1 (the worst state of its scheme), so one colour scale serves
    every kind; assets without a grade are left out. The assets come with `condition__grade` selected."""
    from django.db.models import Max

    from inspections.models import Grade

    worst = dict(Grade.objects.values("scheme_id").annotate(m=Max("rank")).values_list("scheme_id", "m"))
    return {a.pk: a.condition.grade.rank / max(worst.get(a.condition.grade.scheme_id, 1), 1)
            for a in assets if hasattr(a, "condition") and a.condition.grade}


def severity_expression(path: str = "condition__grade"):
    """`severity` in SQL, for lists written by PostgreSQL: the grade's rank over its scheme's highest rank (one
    small query for those, then a CASE per row), NULL without a grade."""
    from django.db.models import Max

    from inspections.models import Grade

    worst = Grade.objects.order_by("scheme_id").values("scheme_id").annotate(m=Max("rank")).values_list("scheme_id", "m")
    return _severity_case(path, tuple(worst))


@functools.lru_cache(maxsize=16)
def _severity_case(path: str, worst: tuple):
    # The same expression for the same grades: lists written in SQL find their compiled query by it.
    from django.db.models import Case, F, FloatField, Value, When
    from django.db.models.functions import Cast

    rank = Cast(F(f"{path}__rank"), FloatField())
    return Case(*[When(**{f"{path}__scheme_id": scheme}, then=rank / max(m, 1)) for scheme, m in worst],
                default=Value(None), output_field=FloatField())


def inspection_list(*, principal, asset: str | None = None, municipality: str | None = None,
                    date_from: datetime.date | None = None, date_to: datetime.date | None = None,
                    grade: str | None = None, scheme: str | None = None, kind: str | None = None) -> QuerySet:
    qs = access.of_visible_assets(principal, Inspection.objects.select_related("asset", "scheme", "grade"))
    return narrowed(qs, asset__global_id=asset, asset__owner_id=municipality, asset__kind=kind,
                    inspected_on__gte=date_from, inspected_on__lte=date_to, scheme__code=scheme,
                    grade__code=grade).order_by("-inspected_on", "-id")


def inspection_get(*, principal, pk: int) -> Inspection:
    return inspection_list(principal=principal).prefetch_related("photos").get(pk=pk)


def photo_get(*, principal, pk: int) -> InspectionPhoto:
    """A photo is visible exactly when its inspection's asset is."""
    return access.of_visible_assets(principal, InspectionPhoto.objects, "inspection__asset").get(pk=pk)


WORK_INSPECTION, WORK_MEASURE = "inspection", "measure"
# Septic tanks: 保守点検 (浄化槽法施行規則6条) and 清掃 (同7条) are legal duties of the 管理者 (浄化槽法10条); the
# 改善指導の目安 after a 不適正 result (浄化槽法12条) is guidance, listed so it is followed up, never a legal deadline.
WORK_MAINTENANCE, WORK_CLEANING, WORK_GUIDANCE = "maintenance", "cleaning", "guidance"
WORK_TYPES = (WORK_INSPECTION, WORK_MEASURE, WORK_MAINTENANCE, WORK_CLEANING, WORK_GUIDANCE)
WORK_COLUMNS = {WORK_INSPECTION: "next_due_on", WORK_MEASURE: "action_due_on", WORK_MAINTENANCE: "maintenance_due_on",
                WORK_CLEANING: "cleaning_due_on", WORK_GUIDANCE: "guidance_due_on"}
LEGAL_WORK = (WORK_INSPECTION, WORK_MEASURE, WORK_MAINTENANCE, WORK_CLEANING)
MAX_WITHIN_DAYS = 3650
# Sort keys offered to people and the API; each ends in a unique key so pages never overlap.
SORTS = {
    "due": ("due_on", "asset_id", "work"),
    "-due": ("-due_on", "asset_id", "work"),
    "name": ("name", "due_on", "asset_id", "work"),
    "municipality": ("owner_name", "due_on", "asset_id", "work"),
    "kind": ("kind", "due_on", "asset_id", "work"),
}
ALL = "all"
_FIELDS = ("asset_id", "global_id", "name", "kind", "owner", "owner_name", "grade_code", "grade_label",
           "grade_label_en", "grade_scheme_id", "inspected_on", "work", "due_on")


def work_list_default_municipality(principal) -> str | None:
    """An engineer's list opens on their own municipality; a coordinator's (or anyone's with several or no
    home municipality) on everything they may see, with the municipality filter to narrow it."""
    scope = access.scope_for(principal)
    if scope.is_admin or scope.coordinates or len(scope.write) != 1:
        return None
    return next(iter(scope.write))


def work_list(*, principal, municipality: str | None = None, kind: str | None = None, work: str | None = None,
              within: int = 0, sort: str = "due", on: datetime.date | None = None) -> QuerySet:
    """Work that is due on live assets the principal may see: one row per legal inspection due (next_due_on),
    per measure due (action_due_on), per septic 保守点検 and 清掃 due (maintenance_due_on, cleaning_due_on) and
    per septic improvement guidance date (guidance_due_on, not a legal deadline), as dicts (see _FIELDS).
    `within=0` lists only what is overdue; `within=N` also what falls due in the next N days.
    `municipality=None` means the principal's default (work_list_default_municipality), "all" means every
    visible one. Bad filters raise ValidationError naming the parameter and its allowed values."""
    from django.core.exceptions import ValidationError
    from django.db.models import CharField, F, Value

    from assets.models import Asset, AssetStatus

    kinds = [k for k, _label in Asset._meta.get_field("kind").flatchoices]
    errors = {}
    if kind and kind not in kinds:
        errors["kind"] = _("%(value)r is not an asset kind; allowed: %(allowed)s") % {
            "value": kind, "allowed": ", ".join(kinds)}
    if work and work not in WORK_TYPES:
        errors["work"] = _("%(value)r is not a type of work; allowed: %(allowed)s") % {
            "value": work, "allowed": ", ".join(WORK_TYPES)}
    if sort not in SORTS:
        errors["sort"] = _("%(value)r is not a sort order; allowed: %(allowed)s") % {
            "value": sort, "allowed": ", ".join(SORTS)}
    if not isinstance(within, int) or not 0 <= within <= MAX_WITHIN_DAYS:
        errors["within"] = _("days ahead must be a whole number from 0 (overdue only) to %(max)d") % {
            "max": MAX_WITHIN_DAYS}
    if errors:
        raise ValidationError(errors)

    day = on or timezone.localdate()
    if municipality is None:
        municipality = work_list_default_municipality(principal)
    # Live assets only: a planned asset is not yet built, and a retired one is no one's work even where a
    # bulk write has not yet dropped its condition row.
    base = narrowed(
        access.of_visible_assets(principal, AssetCondition.objects),
        asset__status__in=[AssetStatus.IN_SERVICE, AssetStatus.OUT_OF_SERVICE],
        asset__owner_id=None if municipality == ALL else municipality, asset__kind=kind)
    base = base.annotate(
        global_id=F("asset__global_id"), name=F("asset__name"), kind=F("asset__kind"), owner=F("asset__owner_id"),
        owner_name=F("asset__owner__name"), grade_code=F("grade__code"), grade_label=F("grade__label"),
        grade_label_en=F("grade__label_en"), grade_scheme_id=F("grade__scheme_id"))
    horizon = {"lt": day} if within == 0 else {"lte": day + datetime.timedelta(days=within)}

    def part(work_type: str, column: str) -> QuerySet:
        return base.filter(**{f"{column}__{op}": d for op, d in horizon.items()}).annotate(
            work=Value(work_type, output_field=CharField()), due_on=F(column)).values(*_FIELDS)

    parts = [part(w, WORK_COLUMNS[w]) for w in ([work] if work else WORK_TYPES)]
    qs = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return qs.order_by(*SORTS[sort])


def work_items(rows, *, on: datetime.date | None = None) -> list[dict]:
    """Rows of work_list made readable: days overdue (negative = days left), the legal basis in the active
    language (from the catalogue's params.legal, beside the scheme and grade), the kind's label, and whether
    the asset was never inspected (未点検). One query for the catalogue, whatever the number of rows."""
    from django.utils import translation

    from assets.models import Asset
    from inspections.models import GradingScheme, RecordType

    day = on or timezone.localdate()
    rows = list(rows)
    schemes = {s.pk: s for s in GradingScheme.objects.only("id", "kinds", "params", "is_current", "record_type")}
    default, upkeep = {}, {}
    for s in sorted(schemes.values(), key=lambda s: s.pk):
        if s.is_current and s.record_type == RecordType.INSPECTION:
            for k in s.kinds:
                default.setdefault(k, s)
        if s.is_current and s.record_type == RecordType.MAINTENANCE:
            for k in s.kinds:
                upkeep.setdefault(k, s)
    english = (translation.get_language() or "ja").startswith("en")
    kinds = dict(Asset._meta.get_field("kind").flatchoices)
    out = []
    for r in rows:
        scheme = schemes.get(r["grade_scheme_id"]) or default.get(r["kind"])
        legal = (scheme.params or {}).get("legal", {}) if scheme else {}
        never = r["inspected_on"] is None
        if r["work"] == WORK_MEASURE:
            basis = legal.get("measures", {}).get(r["grade_code"] or "")
        elif r["work"] == WORK_GUIDANCE:
            basis = legal.get("guidance", {}).get(r["grade_code"] or "")
        elif r["work"] in (WORK_MAINTENANCE, WORK_CLEANING):
            basis = ((upkeep[r["kind"]].params or {}).get("legal", {}).get(r["work"])
                     if r["kind"] in upkeep else None)
        else:
            basis = (never and legal.get("first_inspection")) or legal.get("inspection")
        basis = basis or ["", ""]
        days = (day - r["due_on"]).days
        out.append({**r, "kind_label": str(kinds.get(r["kind"], r["kind"])), "days_overdue": days, "days_left": -days,
                    "is_overdue": days > 0, "never_inspected": never,
                    "is_legal": r["work"] in LEGAL_WORK,
                    "legal_basis": basis[1] if english else basis[0], "legal_basis_ja": basis[0],
                    "legal_basis_en": basis[1], "grade_label_ja": r["grade_label"] or "",
                    "grade_label": (r["grade_label_en"] if english else r["grade_label"]) or ""})
    return out
