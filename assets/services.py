"""Writes to the registry. Each checks access, validates everything, and records history atomically."""

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import access
from assets.geometry import check_in_area, to_storage
from assets.history import Action, Actor, record_change, snapshot
from assets.kinds import format_global_id, spec_for
from assets.models import Asset, AssetStatus, Municipality
from assets.signals import Change, notify
from core.text import check_fields, check_text

__all__ = [
    "PreconditionFailed",
    "VersionConflict",
    "allocate_serials",
    "asset_create",
    "asset_delete",
    "asset_retire",
    "asset_snapshot",
    "asset_update",
    "lock_assets",
]

CORE_UPDATABLE = (
    "name", "operator", "external_id", "geom", "built_fiscal_year", "built_year_text", "status",
    "serves_important_facility", "important_facility_note", "owner",
)


class VersionConflict(Exception):
    """The caller edited an older version than the one stored."""

    def __init__(self, current: int):
        super().__init__(_("The asset was changed by someone else (now version %d)") % current)
        self.current = current


class PreconditionFailed(VersionConflict):
    """An If-Match precondition did not hold: compared under the row lock, so two writers with the same
    ETag get one success and one 412, never a 409 for the second."""


def lock_assets(ids) -> dict[int, Asset]:
    """Row locks on these assets for the rest of the transaction, taken in id order so that two writers
    sharing assets cannot deadlock. Every write that compares or rebuilds per-asset state (inspections,
    measures, conditions) takes them first; the caller must be inside a transaction."""
    return {a.pk: a for a in Asset.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")}


def allocate_serials(owner_code: str, kind: str, count: int = 1) -> int:
    """Reserve `count` serials for (owner, kind) and return the first. Atomic under concurrency."""
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO assets_assetserial (owner_id, kind, last) VALUES (%s, %s, %s)
            ON CONFLICT (owner_id, kind) DO UPDATE SET last = assets_assetserial.last + EXCLUDED.last
            RETURNING last
            """,
            [owner_code, kind, count],
        )
        last = cur.fetchone()[0]
    return last - count + 1


def asset_snapshot(asset: Asset) -> dict:
    data = snapshot(asset, exclude=("created_at", "updated_at"))
    detail = spec_for(asset.kind).detail_model.objects.filter(asset_id=asset.pk).first() if asset.pk else None
    if detail is not None:
        data.update(snapshot(detail, prefix="detail.", exclude=("asset",)))
    return data


def _resolve_municipality(value, field: str) -> Municipality | None:
    if value is None or isinstance(value, Municipality):
        return value
    from assets.codes import normalize_lg_code

    try:
        code = normalize_lg_code(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    found = Municipality.objects.filter(code=code).first()
    if found is None:
        raise ValidationError({field: _("No municipality with code %s is registered") % code})
    return found


def _check_writable(actor: Actor, *, owner: Municipality, source: str, operator: Municipality | None) -> None:
    if actor.is_system:
        return
    access.ensure_can_write(actor.principal, owner_code=owner.code, source=source,
                            operator_code=operator.code if operator else None)


def _refuse_nulls(model, data: Mapping, prefix: str = "") -> None:
    """`null` for a field that cannot be empty is a 422 naming it, not a database error; text fields that
    may be blank are cleared with "" and say so."""
    errors = {}
    for key, value in data.items():
        try:
            f = model._meta.get_field(key)
        except Exception:
            continue  # unknown fields are named by the caller
        if value is None and not f.null:
            hint = _(' (send "" to clear it)') if f.blank and f.get_internal_type() in ("CharField", "TextField") \
                else ""
            errors[prefix + key] = [_("This field may not be null") + hint]
    if errors:
        raise ValidationError(errors)


def _explained(model, errors: dict, prefix: str = "") -> dict:
    """Add the allowed values to errors on fields with choices, so the fix is in the message."""
    out = {}
    for name, msgs in errors.items():
        try:
            f = model._meta.get_field(name)
        except Exception:
            f = None
        if f is not None and f.choices:
            allowed = ", ".join(str(v) for v, _label in f.flatchoices)
            label = _("allowed")
            msgs = [f"{m} ({label}: {allowed})" for m in msgs]
        out[prefix + name] = msgs
    return out


def _full_clean(obj, *, exclude: list[str], prefix: str = "") -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationError(_explained(type(obj), exc.message_dict, prefix)) from None


def _validate_detail(asset: Asset, detail_obj) -> None:
    _full_clean(detail_obj, exclude=["asset"], prefix="detail.")
    # Unknown (None) is allowed (issue 16: a new asset needs only its id, place and kind); a length of 0 is not.
    if (hasattr(detail_obj, "length_m") and asset.kind in ("road_segment", "sewer_pipe")
            and detail_obj.length_m is not None and not detail_obj.length_m > 0):
        raise ValidationError({"detail.length_m": _("Length must be greater than 0")})


@transaction.atomic
def asset_create(*, actor: Actor, owner, kind: str, geom, detail: Mapping | None = None,
                 operator=None, source: str = "registry", external_id: str | None = None, name: str = "",
                 built_fiscal_year: int | None = None, built_year_text: str = "",
                 status: str = AssetStatus.IN_SERVICE, serves_important_facility: bool = False,
                 important_facility_note: str = "", message: str = "") -> Asset:
    spec = spec_for(kind)
    check_fields(Asset, {"name": name, "external_id": external_id, "built_year_text": built_year_text,
                         "important_facility_note": important_facility_note, "owner": owner, "operator": operator})
    check_fields(spec.detail_model, dict(detail or {}), prefix="detail.")
    owner = _resolve_municipality(owner, "owner")
    if owner is None:
        raise ValidationError({"owner": _("An owner (管理者) is required")})
    operator = _resolve_municipality(operator, "operator")
    _check_writable(actor, owner=owner, source=source, operator=operator)
    geom, source_srid = to_storage(geom, allowed_types=spec.geom_types)
    check_in_area(geom, owner.boundary, source_srid=source_srid, owner_name=str(owner))
    asset = Asset(
        owner=owner, operator=operator, kind=kind, source=source, external_id=external_id or None, name=name,
        geom=geom, source_srid=source_srid, built_fiscal_year=built_fiscal_year,
        built_year_text=built_year_text, status=status, serves_important_facility=serves_important_facility,
        important_facility_note=important_facility_note, global_id="pending",
    )
    _full_clean(asset, exclude=["global_id"])
    detail_obj = spec.detail_model(**dict(detail or {}))
    _validate_detail(asset, detail_obj)
    asset.global_id = format_global_id(owner.code, kind, allocate_serials(owner.code, kind))
    asset.save()
    detail_obj.asset = asset
    detail_obj.save()
    record_change(actor=actor, obj=asset, action=Action.CREATE, after=asset_snapshot(asset), message=message)
    notify(Change.CREATED, [asset.pk])
    return asset


@transaction.atomic
def asset_update(*, actor: Actor, asset: Asset, data: Mapping | None = None, detail: Mapping | None = None,
                 expected_version: int | None = None, precondition_version: int | None = None,
                 message: str = "") -> Asset:
    """`precondition_version` is the version an If-Match named (412 when stale); `expected_version` the one
    a client sent in the body (409 when stale). Both are compared under the row lock."""
    locked = Asset.objects.select_for_update().get(pk=asset.pk)
    if precondition_version is not None and locked.version != precondition_version:
        raise PreconditionFailed(locked.version)
    if expected_version is not None and locked.version != expected_version:
        raise VersionConflict(locked.version)
    _check_writable(actor, owner=locked.owner, source=locked.source, operator=locked.operator)
    before = asset_snapshot(locked)
    data = dict(data or {})
    unknown = set(data) - set(CORE_UPDATABLE)
    if unknown:
        raise ValidationError({f: _("Not a field that can be changed here; allowed: %s") % ", ".join(CORE_UPDATABLE)
                               for f in sorted(unknown)})
    _refuse_nulls(Asset, data)
    check_fields(Asset, data)
    for key in ("owner", "operator"):
        if key in data:
            data[key] = _resolve_municipality(data[key], key)
    if "owner" in data and not actor.is_system:
        access.ensure_can_change_owner(actor.principal, old_owner=locked.owner_id, new_owner=data["owner"].code,
                                       source=locked.source)
    if "geom" in data:
        data["geom"], data["source_srid"] = to_storage(data["geom"], allowed_types=spec_for(locked.kind).geom_types)
    for key, value in data.items():
        setattr(locked, key, value)
    if "geom" in data or "owner" in data:
        check_in_area(locked.geom, locked.owner.boundary, source_srid=locked.source_srid, owner_name=str(locked.owner))
    if "owner" in data or "operator" in data:
        # After a change of operator the caller must still be one who may write it (owner: checked above).
        _check_writable(actor, owner=locked.owner, source=locked.source, operator=locked.operator)
    _full_clean(locked, exclude=["global_id"])
    spec = spec_for(locked.kind)
    detail_obj = spec.detail_model.objects.filter(asset=locked).first()
    if detail:
        if detail_obj is None:
            detail_obj = spec.detail_model(asset=locked)
        for key in detail:
            if key not in {f.name for f in spec.detail_model._meta.concrete_fields} or key == "asset":
                raise ValidationError({f"detail.{key}": _("Unknown attribute for %s") % locked.kind})
        _refuse_nulls(spec.detail_model, detail, prefix="detail.")
        check_fields(spec.detail_model, detail, prefix="detail.")
        for key, value in detail.items():
            setattr(detail_obj, key, value)
        _validate_detail(locked, detail_obj)
        detail_obj.save()
    after = asset_snapshot(locked)
    after.pop("version", None)
    before.pop("version", None)
    if after == before:
        return locked
    locked.version += 1
    locked.save()
    record_change(actor=actor, obj=locked, action=Action.UPDATE, before=before, after=after, message=message)
    # Its place, built year, status or kind details may change what falls due.
    notify(Change.UPDATED, [locked.pk])
    return locked


@transaction.atomic
def asset_retire(*, actor: Actor, asset: Asset, retired_on: date | None = None, reason: str = "") -> Asset:
    check_text({"reason": reason}, multiline={"reason"})  # kept in the history as its message
    locked = Asset.objects.select_for_update().get(pk=asset.pk)
    _check_writable(actor, owner=locked.owner, source=locked.source, operator=locked.operator)
    if locked.status == AssetStatus.REMOVED:
        return locked
    before = {"status": locked.status, "retired_on": None}
    locked.status = AssetStatus.REMOVED
    locked.retired_on = retired_on or timezone.localdate()
    locked.version += 1
    locked.save(update_fields=["status", "retired_on", "version", "updated_at"])
    record_change(actor=actor, obj=locked, action=Action.RETIRE, before=before,
                  after={"status": locked.status, "retired_on": locked.retired_on.isoformat()}, message=reason)
    notify(Change.RETIRED, [locked.pk])
    return locked


@transaction.atomic
def asset_delete(*, actor: Actor, asset: Asset, reason: str = "") -> None:
    """Purge a record entered by mistake. Assets are retired, not deleted, so only an administrator may; the
    history keeps what it was, and its detail, condition and records go with it."""
    check_text({"reason": reason}, multiline={"reason"})
    locked = Asset.objects.select_for_update().get(pk=asset.pk)
    if not actor.is_system and not access.scope_for(actor.principal).is_admin:
        raise PermissionDenied(_("Only an administrator may delete an asset; retire it instead"))
    record_change(actor=actor, obj=locked, action=Action.DELETE, before=asset_snapshot(locked), message=reason)
    locked.delete()
