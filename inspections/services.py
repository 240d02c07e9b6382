"""Writes of inspections. Everything is validated before anything is stored; condition and history follow
in the same transaction."""

import datetime
import re
import unicodedata
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import access
from assets.history import Action, Actor, record_change, snapshot
from assets.models import Asset
from assets.services import VersionConflict, lock_assets
from core import wareki
from core.text import check_fields, check_text
from inspections.catalogue import grading_context, resolve_scheme, scheme_dict
from inspections.condition import refresh_conditions
from inspections.grading import GradeError, derive_grade
from inspections.models import Grade, Inspection, InspectionPhoto, Method
from inspections.photos import as_files, check_photo

__all__ = ["check_edit", "inspection_correct", "inspection_delete", "inspection_record", "inspection_update",
           "inspection_withdraw", "inspections_record_many", "parse_date", "photos_add", "store_change"]

DEFAULT_METHOD = {
    "bridge_kenzen": Method.CLOSE_VISUAL, "pavement_shindan": Method.SURFACE_SURVEY,
    "sewer_kinkyu": Method.TV_CAMERA, "manhole_kinkyu": Method.VISUAL, "septic_hantei": Method.STATUTORY,
    "septic_maintenance": Method.MAINTENANCE,
}
LEGAL_BASIS = {"septic_hantei": ("7条", "11条")}


def parse_date(value, field: str = "inspected_on") -> datetime.date:
    """ISO, 2024/5/1, 2024年5月1日, and 和暦 (R6.5.1, 令和6年5月1日, H31.4.30), read by `core.wareki`; a 和暦 date
    outside its era (平成99年, S64.1.8) is refused with the era's range."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        day = wareki.parse_date(value or "")
    except wareki.EraError as exc:
        raise ValidationError({field: str(exc)}) from None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError({field: _("%(value)r is not a date; use 2024-05-01, 2024/5/1 or 和暦 such as R6.5.1")
                               % {"value": value}})
    return day


def _legal_basis(scheme_code: str, raw: str) -> str:
    allowed = LEGAL_BASIS.get(scheme_code)
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not allowed:
        return ""
    digits = re.sub(r"\D", "", text)
    for option in allowed:
        if digits and digits == re.sub(r"\D", "", option):
            return option
    raise ValidationError({"legal_basis": _("Say which statutory inspection this was; allowed: %(allowed)s")
                           % {"allowed": ", ".join(allowed)}})


def _method(scheme_code: str, raw) -> str:
    if raw in (None, ""):
        return DEFAULT_METHOD.get(scheme_code, Method.OTHER)
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    for value, label in Method.choices:
        if text in (unicodedata.normalize("NFKC", value), str(label)):
            return value
    raise ValidationError({"method": _("%(value)r is not an inspection method; allowed: %(allowed)s")
                           % {"value": raw, "allowed": ", ".join(v for v, _l in Method.choices)}})


def _check_date(day: datetime.date, asset: Asset) -> None:
    today = timezone.localdate()
    if day > today:
        raise ValidationError({"inspected_on": _("%(day)s is in the future; the latest allowed date is today "
                                                 "(%(today)s)") % {"day": day, "today": today}})
    if asset.built_fiscal_year and wareki.fiscal_year(day) < asset.built_fiscal_year:
        raise ValidationError({"inspected_on": _("%(day)s is before the asset was built (fiscal year %(fy)s)")
                               % {"day": day, "fy": asset.built_fiscal_year}})


def check_access(actor: Actor, asset: Asset) -> None:
    """Inspections and measures: the actor may write the asset (the system may always)."""
    if not actor.is_system:
        access.ensure_can_write(actor.principal, owner_code=asset.owner_id, source=asset.source,
                                operator_code=asset.operator_id)


def validate(*, asset: Asset, inspected_on, grade=None, scheme: str | None = None, method=None,
             observations: Mapping | None = None, legal_basis: str = "", cache: dict | None = None) -> dict:
    """Everything an inspection needs, checked and normalized; raises ValidationError naming each field.
    `cache` lets a bulk import look schemes and grades up once instead of once per row."""
    if not isinstance(observations or {}, Mapping):
        raise ValidationError({"observations": _("observations must be an object of named values")})
    # Both are stored as sent (grade_input, the observations' JSON), so both must be text that can be stored.
    check_text({"grade": grade, "observations": observations})
    cache = {} if cache is None else cache
    key = ("scheme", asset.kind, scheme)
    if key not in cache:
        cache[key] = resolve_scheme(asset.kind, scheme)
    sch = cache[key]
    day = parse_date(inspected_on)
    _check_date(day, asset)
    obs = dict(observations or {})
    try:
        code, derived = derive_grade(scheme_dict(sch.pk), grade, obs, grading_context(asset, sch.rule))
    except GradeError as exc:
        raise ValidationError({exc.field: exc.message}) from None
    if derived:
        obs["derived"] = derived
    gkey = ("grade", sch.pk, code)
    if gkey not in cache:
        cache[gkey] = Grade.objects.get(scheme=sch, code=code)
    return {
        "scheme": sch, "grade": cache[gkey], "grade_input": str(grade or "")[:32],
        "inspected_on": day, "method": _method(sch.code, method), "legal_basis": _legal_basis(sch.code, legal_basis),
        "observations": obs,
    }


def _snapshot(insp: Inspection) -> dict:
    data = snapshot(insp, exclude=("created_at", "updated_at", "created_by", "withdrawn_at", "withdrawn_by",
                                   "withdraw_reason"))
    data["grade"] = insp.grade.code
    data["scheme"] = f"{insp.scheme.code}/{insp.scheme.version}"
    return data


def _store_photos(insp: Inspection, checked) -> list[InspectionPhoto]:
    out = []
    for p in checked:
        image, thumb = as_files(p)
        photo = InspectionPhoto(inspection=insp, original_name=p.name, content_type=p.content_type,
                                size_bytes=len(p.data), width=p.width, height=p.height)
        photo.image.save(image.name, image, save=False)
        photo.thumbnail.save(thumb.name, thumb, save=False)
        photo.save()
        out.append(photo)
    return out


def _cleanup(photos: Iterable[InspectionPhoto]) -> None:
    for p in photos:
        p.image.delete(save=False)
        p.thumbnail.delete(save=False)


def inspection_record(*, actor: Actor, asset: Asset, inspected_on, grade=None, scheme: str | None = None,
                      method=None, inspector: str = "", notes: str = "", observations: Mapping | None = None,
                      legal_basis: str = "", photos: Iterable = ()) -> Inspection:
    check_access(actor, asset)
    check_fields(Inspection, {"inspector": inspector, "notes": notes})
    clean = validate(asset=asset, inspected_on=inspected_on, grade=grade, scheme=scheme, method=method,
                     observations=observations, legal_basis=legal_basis)
    checked = [check_photo(p, i) for i, p in enumerate(photos, start=1)]
    stored: list[InspectionPhoto] = []
    try:
        with transaction.atomic():
            # One writer per asset at a time: the condition is rebuilt from "the latest inspection", which a
            # concurrent transaction would otherwise pick from its own stale snapshot and store last.
            lock_assets([asset.pk])
            insp = Inspection.objects.create(asset=asset, inspector=inspector[:100], notes=notes,
                                             created_by=actor.user, **clean)
            stored = _store_photos(insp, checked)
            refresh_conditions([asset.pk])
            after = _snapshot(insp)
            after["photos"] = [p.original_name for p in stored]
            record_change(actor=actor, obj=insp, action=Action.CREATE, after=after)
    except Exception:
        _cleanup(stored)
        raise
    return insp


def photos_add(*, actor: Actor, inspection: Inspection, photos: Iterable) -> list[InspectionPhoto]:
    check_access(actor, inspection.asset)
    checked = [check_photo(p, i) for i, p in enumerate(photos, start=1)]
    if not checked:
        raise ValidationError({"photos": _("Attach at least one photo (JPEG, PNG or HEIC)")})
    stored: list[InspectionPhoto] = []
    try:
        with transaction.atomic():
            stored = _store_photos(inspection, checked)
            record_change(actor=actor, obj=inspection, action=Action.UPDATE, before={"photos": None},
                          after={"photos": [p.original_name for p in stored]})
    except Exception:
        _cleanup(stored)
        raise
    return stored


EDITABLE = ("inspected_on", "grade", "method", "inspector", "notes", "observations", "legal_basis")


def check_edit(record, data: Mapping, editable: Iterable[str], expected_version: int | None) -> None:
    """A change of an inspection or a measure (locked by the caller): the version the client read, if it sent
    one, is still the stored one (else 409), and it changes only fields that may be changed."""
    if expected_version is not None and record.version != expected_version:
        raise VersionConflict(record.version)
    editable = tuple(editable)
    unknown = set(data) - set(editable)
    if unknown:
        raise ValidationError({f: _("Not a field that can be changed; allowed: %s") % ", ".join(editable)
                               for f in sorted(unknown)})


def store_change(actor: Actor, record, before: dict, after: dict, message: str = "") -> bool:
    """Save a changed inspection or measure as its next version with its history; one that did not change is
    left as it was (same version, no record). Returns whether it changed."""
    before, after = ({k: v for k, v in snap.items() if k != "version"} for snap in (before, after))
    if after == before:
        return False
    record.version += 1
    record.save()
    record_change(actor=actor, obj=record, action=Action.UPDATE, before=before, after=after, message=message)
    return True


@transaction.atomic
def inspection_update(*, actor: Actor, inspection: Inspection, data: Mapping,
                      expected_version: int | None = None) -> Inspection:
    lock_assets([inspection.asset_id])
    insp = Inspection.objects.select_for_update().select_related("asset", "scheme", "grade").get(pk=inspection.pk)
    check_access(actor, insp.asset)
    if insp.withdrawn_at is not None:
        raise ValidationError({"__all__": _("This inspection was withdrawn on %(day)s and can no longer be "
                                            "changed") % {"day": f"{timezone.localtime(insp.withdrawn_at):%Y-%m-%d}"}})
    check_edit(insp, data, EDITABLE, expected_version)
    nulls = sorted(k for k, v in data.items() if v is None)
    if nulls:
        raise ValidationError({k: _("This field may not be null") for k in nulls})
    check_fields(Inspection, {k: data[k] for k in ("inspector", "notes") if k in data})
    before = _snapshot(insp)
    merged = {
        "inspected_on": data.get("inspected_on", insp.inspected_on),
        "grade": data.get("grade", insp.grade.code if "observations" not in data else None),
        "method": data.get("method", insp.method),
        "observations": {k: v for k, v in data.get("observations", insp.observations).items() if k != "derived"},
        "legal_basis": data.get("legal_basis", insp.legal_basis),
    }
    clean = validate(asset=insp.asset, scheme=insp.scheme.code, **merged)
    for key, value in clean.items():
        setattr(insp, key, value)
    insp.inspector = data.get("inspector", insp.inspector)[:100]
    insp.notes = data.get("notes", insp.notes)
    if store_change(actor, insp, before, _snapshot(insp)):
        refresh_conditions([insp.asset_id])
    return insp


@transaction.atomic
def inspection_delete(*, actor: Actor, inspection: Inspection, reason: str = "") -> None:
    lock_assets([inspection.asset_id])
    insp = Inspection.objects.select_related("asset", "scheme", "grade").get(pk=inspection.pk)
    check_access(actor, insp.asset)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the inspection record is withdrawn")})
    check_text({"reason": reason}, multiline={"reason"})
    record_change(actor=actor, obj=insp, action=Action.DELETE, before=_snapshot(insp), message=reason)
    photos = list(insp.photos.all())
    insp.delete()
    refresh_conditions([insp.asset_id])
    transaction.on_commit(lambda: _cleanup(photos))


CORRECTABLE = ("inspected_on", "grade", "method", "inspector", "notes", "observations", "legal_basis")


def _reason(reason: str, message: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": message})
    check_text({"reason": text}, multiline={"reason"})
    return text[:1000]


def _locked_live(actor: Actor, inspection: Inspection) -> Inspection:
    """The inspection, locked with its asset, if the actor may correct it and it still counts."""
    lock_assets([inspection.asset_id])
    insp = Inspection.objects.select_for_update(of=("self",)).select_related(
        "asset__owner", "scheme", "grade").get(pk=inspection.pk)
    if not actor.is_system:
        access.ensure_can_correct_records(actor.principal, insp.asset)
    if insp.withdrawn_at is not None:
        raise ValidationError({"__all__": _("This inspection was withdrawn on %(day)s and can no longer be "
                                            "changed") % {"day": f"{timezone.localtime(insp.withdrawn_at):%Y-%m-%d}"}})
    return insp


@transaction.atomic
def inspection_correct(*, actor: Actor, inspection: Inspection, data: Mapping, reason: str,
                       expected_version: int | None = None) -> Inspection:
    """An engineer's (or coordinator's) correction of a recorded inspection: validated as a new one would be,
    stored as its next version, and the history row keeps the values before and after and the reason given.
    The asset's condition follows."""
    reason = _reason(reason, _("Say why the inspection is corrected"))
    insp = _locked_live(actor, inspection)
    check_edit(insp, data, CORRECTABLE, expected_version)
    check_fields(Inspection, {k: data[k] for k in ("inspector", "notes") if k in data})
    before = _snapshot(insp)
    merged = {
        "inspected_on": data.get("inspected_on", insp.inspected_on),
        "grade": data.get("grade", insp.grade.code if "observations" not in data else None),
        "method": data.get("method", insp.method),
        "observations": {k: v for k, v in (data.get("observations") or insp.observations).items() if k != "derived"},
        "legal_basis": data.get("legal_basis", insp.legal_basis),
    }
    clean = validate(asset=insp.asset, scheme=insp.scheme.code, **merged)
    for key, value in clean.items():
        setattr(insp, key, value)
    insp.inspector = str(data.get("inspector", insp.inspector) or "")[:100]
    insp.notes = str(data.get("notes", insp.notes) or "")
    if store_change(actor, insp, before, _snapshot(insp), message=reason):
        refresh_conditions([insp.asset_id])
    return insp


@transaction.atomic
def inspection_withdraw(*, actor: Actor, inspection: Inspection, reason: str) -> Inspection:
    """Withdraw an inspection entered in error: it stays, marked with who withdrew it, when and why, and the
    history keeps the same; the asset's condition is rebuilt from the inspections that still count."""
    reason = _reason(reason, _("Say why the inspection is withdrawn"))
    insp = _locked_live(actor, inspection)
    insp.withdrawn_at = timezone.now()
    insp.withdrawn_by = actor.user
    insp.withdraw_reason = reason
    insp.version += 1
    insp.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason", "version", "updated_at"])
    record_change(actor=actor, obj=insp, action=Action.RETIRE, before={"withdrawn": False},
                  after={"withdrawn": True}, message=reason)
    refresh_conditions([insp.asset_id])
    return insp


def inspections_record_many(*, actor: Actor, rows: Iterable[tuple[Asset, dict]], message: str = "") -> list[Inspection]:
    """Store many inspections already checked by `validate` ((asset, validate's result) pairs) in one transaction:
    access per asset, the assets locked in id order (as one inspection locks its asset), a history record each,
    then the assets' conditions rebuilt once. Used by imports from other systems (ledger.national)."""
    rows = list(rows)
    for asset in {a.pk: a for a, _c in rows}.values():
        check_access(actor, asset)
    with transaction.atomic():
        lock_assets(sorted({a.pk for a, _c in rows}))
        created = Inspection.objects.bulk_create([Inspection(asset=a, created_by=actor.user, **clean)
                                                  for a, clean in rows])
        for insp in created:
            record_change(actor=actor, obj=insp, action=Action.CREATE, after=_snapshot(insp), message=message)
        refresh_conditions(sorted({a.pk for a, _c in rows}))
    return created
