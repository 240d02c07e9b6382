"""Writes of measures (措置). Everything is validated before anything is stored; the asset row is locked, then
the condition (a completed repair clears the measures deadline), retirement (a completed 撤去) and history
follow in the same transaction."""

import datetime
import re
import unicodedata
from collections.abc import Mapping
from fractions import Fraction

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import access
from assets.history import Action, Actor, record_change, snapshot
from assets.models import Asset, AssetStatus
from assets.services import lock_assets
from core import wareki
from core.text import text_errors
from inspections.condition import refresh_conditions
from inspections.models import Effect, Measure, MeasureKind
from inspections.services import check_access, check_edit, parse_date, store_change

__all__ = ["EDITABLE", "MAX_COST_YEN", "measure_record", "measure_record_for_lot", "measure_update", "resolve_kind",
           "split_cost", "validate_measure"]

# 1兆円: far above any one municipal works contract, and well inside a bigint.
MAX_COST_YEN = 10**12
EDITABLE = ("kind", "started_on", "completed_on", "cost_yen", "contractor", "notes")


def _norm(text) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).strip().replace(" ", "").lower()


def resolve_kind(raw, asset_kind: str, cache: dict | None = None) -> MeasureKind:
    """A measure kind by code, Japanese label or alias, among those the catalogue allows for the asset kind;
    the error lists them."""
    cache = {} if cache is None else cache
    if "kinds" not in cache:
        cache["kinds"] = list(MeasureKind.objects.order_by("order", "code"))
    options = [k for k in cache["kinds"] if k.applies_to(asset_kind)]
    if isinstance(raw, MeasureKind):
        raw = raw.code
    text = _norm(raw)
    for k in options:
        if text and text in {_norm(k.code), _norm(k.label), _norm(k.label_en), *(_norm(a) for a in k.aliases)}:
            return k
    allowed = "、".join(f"{k.label} ({k.code})" for k in options) or _("none")
    raise ValidationError({"kind": _("%(value)r is not a measure for this kind of asset; allowed: %(allowed)s")
                           % {"value": raw, "allowed": allowed}})


def _cost(raw) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValidationError({"cost_yen": _("%(value)r is not an amount in yen") % {"value": raw}})
    if isinstance(raw, int):
        value = raw
    else:
        text = _norm(raw).replace(",", "").removesuffix("円").removeprefix("¥").removeprefix("\\")
        if isinstance(raw, float) and raw.is_integer():
            text = str(int(raw))
        if not re.fullmatch(r"\d{1,13}", text):
            raise ValidationError({"cost_yen": _("%(value)r is not an amount in yen; write whole yen such as "
                                                 "12000000 or 12,000,000") % {"value": raw}})
        value = int(text)
    if not 0 <= value <= MAX_COST_YEN:
        raise ValidationError({"cost_yen": _("The cost must be between 0 and %(max)s yen") % {"max": f"{MAX_COST_YEN:,}"}})
    return value


def _date(raw, field: str, asset: Asset, optional: bool) -> datetime.date | None:
    if raw is None or raw == "":
        if optional:
            return None
        raise ValidationError({field: _("This field is required")})
    day = parse_date(raw, field)
    today = timezone.localdate()
    if day > today:
        raise ValidationError({field: _("%(day)s is in the future; the latest allowed date is today (%(today)s)")
                               % {"day": day, "today": today}})
    if asset.built_fiscal_year and wareki.fiscal_year(day) < asset.built_fiscal_year:
        raise ValidationError({field: _("%(day)s is before the asset was built (fiscal year %(fy)s)")
                               % {"day": day, "fy": asset.built_fiscal_year}})
    return day


def validate_measure(*, asset: Asset, kind, started_on, completed_on=None, cost_yen=None, contractor: str = "",
                     notes: str = "", cache: dict | None = None) -> dict:
    """Everything a measure needs, checked and normalized; raises ValidationError naming every bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name, fn in (("kind", lambda: resolve_kind(kind, asset.kind, cache)),
                     ("started_on", lambda: _date(started_on, "started_on", asset, optional=False)),
                     ("completed_on", lambda: _date(completed_on, "completed_on", asset, optional=True)),
                     ("cost_yen", lambda: _cost(cost_yen))):
        try:
            clean[name] = fn()
        except ValidationError as exc:
            for f, msgs in exc.message_dict.items():
                errors.setdefault(f, []).extend(msgs)
    contractor = str(contractor or "").strip()
    if len(contractor) > 100:
        errors.setdefault("contractor", []).append(_("At most 100 characters"))
    for f, msgs in text_errors({"contractor": contractor, "notes": notes}, multiline={"notes"}).items():
        errors.setdefault(f, []).extend(msgs)
    if clean.get("started_on") and clean.get("completed_on") and clean["completed_on"] < clean["started_on"]:
        errors.setdefault("completed_on", []).append(
            _("%(done)s is before the start (%(start)s)") % {"done": clean["completed_on"], "start": clean["started_on"]})
    if errors:
        raise ValidationError(errors)
    return clean | {"contractor": contractor, "notes": str(notes or "")}


def _check_cluster(actor: Actor, asset: Asset, cluster) -> None:
    if cluster is None:
        return
    if not cluster.members.filter(asset_id=asset.pk).exists():
        raise ValidationError({"cluster": _("Asset %(gid)s is not in lot %(rank)s of run %(run)s")
                               % {"gid": asset.global_id, "rank": cluster.rank, "run": cluster.run_id}})


def _lock(asset_id: int) -> Asset:
    # One writer per asset at a time, as for inspections: the condition is rebuilt from the latest inspection
    # and the latest completed measure, which a concurrent transaction would otherwise read stale.
    return lock_assets([asset_id])[asset_id]


def _snapshot(m: Measure) -> dict:
    data = snapshot(m, exclude=("created_at", "updated_at", "created_by"))
    data["kind"] = m.kind.code
    return data


def apply_completion(actor: Actor, measures: list[Measure]) -> None:
    """A completed 撤去 retires its asset (through the ledger's own service, so the retirement has its
    history); a retired asset then leaves the condition table and the work list."""
    from assets.services import asset_retire

    for m in measures:
        if m.completed_on and m.kind.effect == Effect.RETIRE and m.asset.status != AssetStatus.REMOVED:
            m.asset = asset_retire(actor=actor, asset=m.asset, retired_on=m.completed_on,
                                   reason=_("measure %(id)s: %(kind)s completed") % {"id": m.pk, "kind": m.kind.label})


def measure_record(*, actor: Actor, asset: Asset, kind, started_on, completed_on=None, cost_yen=None,
                   contractor: str = "", notes: str = "", cluster=None) -> Measure:
    check_access(actor, asset)
    clean = validate_measure(asset=asset, kind=kind, started_on=started_on, completed_on=completed_on,
                             cost_yen=cost_yen, contractor=contractor, notes=notes)
    with transaction.atomic():
        locked = _lock(asset.pk)
        if locked.status == AssetStatus.REMOVED:
            raise ValidationError({"asset": _("%(gid)s is retired; no measure can be recorded for it")
                                   % {"gid": locked.global_id}})
        _check_cluster(actor, locked, cluster)
        m = Measure.objects.create(asset=locked, cluster=cluster, created_by=actor.user, **clean)
        record_change(actor=actor, obj=m, action=Action.CREATE, after=_snapshot(m))
        apply_completion(actor, [m])
        refresh_conditions([locked.pk])
    return m


@transaction.atomic
def measure_update(*, actor: Actor, measure: Measure, data: Mapping, expected_version: int | None = None) -> Measure:
    locked = _lock(measure.asset_id)
    m = Measure.objects.select_for_update().select_related("kind").get(pk=measure.pk)
    m.asset = locked
    check_access(actor, locked)
    check_edit(m, data, EDITABLE, expected_version)
    if m.kind.effect == Effect.RETIRE and m.completed_on and locked.status == AssetStatus.REMOVED:
        raise ValidationError({"completed_on": _("This removal is complete and the asset is retired; the record "
                                                 "can no longer be changed")})
    before = _snapshot(m)
    merged = {"kind": m.kind, "started_on": m.started_on, "completed_on": m.completed_on, "cost_yen": m.cost_yen,
              "contractor": m.contractor, "notes": m.notes} | {
        k: ("" if v is None and k in ("contractor", "notes") else v) for k, v in data.items()}
    clean = validate_measure(asset=locked, **merged)
    for key, value in clean.items():
        setattr(m, key, value)
    if store_change(actor, m, before, _snapshot(m)):
        apply_completion(actor, [m])
        refresh_conditions([locked.pk])
    return m


def _names(gids: list[str], limit: int = 20) -> str:
    shown = "、".join(gids[:limit])
    return shown if len(gids) <= limit else shown + _(" and %(n)s more") % {"n": len(gids) - limit}


def split_cost(total: int | None, weights: list[float]) -> list[int | None]:
    """A lot's cost in whole yen, split by each member's share of the lot's works cost (equal shares when the
    engine costed nothing); parts are rounded down and the remainder goes to the largest, so they add up."""
    if total is None:
        return [None] * len(weights)
    if not weights:
        return []
    exact = [Fraction(max(w, 0.0)) for w in weights]
    if sum(exact) == 0:
        exact = [Fraction(1)] * len(weights)
    whole = sum(exact)
    parts = [int(total * w // whole) for w in exact]
    largest = max(range(len(exact)), key=lambda i: (exact[i], -i))
    parts[largest] += total - sum(parts)
    return parts


def measure_record_for_lot(*, actor: Actor, cluster, kind, started_on, completed_on=None, cost_yen=None,
                           contractor: str = "", notes: str = "") -> list[Measure]:
    """One measure for every member of an engine lot, linked to the lot, all or nothing. The actor must write
    every member (a cross-municipal lot needs an administrator, or someone who writes for every owner), and the
    lot's cost is split over the members by their share of the lot's works cost."""
    scores = list(cluster.members.order_by("asset_id").values_list("asset_id", "cost"))
    if not scores:
        raise ValidationError({"cluster": _("Lot %(rank)s of run %(run)s has no members")
                               % {"rank": cluster.rank, "run": cluster.run_id}})
    total = _cost(cost_yen)
    with transaction.atomic():
        # Locked in id order, as every bulk writer does, so two lots sharing assets cannot deadlock.
        locked = lock_assets(i for i, _c in scores)
        assets = [locked[i] for i, _c in scores if i in locked]
        if not actor.is_system:
            denied = [a.global_id for a in assets if not access.can_write_asset(actor.principal, a)]
            if denied:
                raise PermissionDenied(
                    _("You may not record measures for %(n)s asset(s) of this lot: %(assets)s. A measure for a "
                      "whole lot needs the right to write every member (or an administrator).")
                    % {"n": len(denied), "assets": _names(denied)})
        retired = [a.global_id for a in assets if a.status == AssetStatus.REMOVED]
        if retired:
            raise ValidationError({"asset": _("Retired assets take no measure: %(assets)s")
                                   % {"assets": _names(retired)}})
        parts = split_cost(total, [c for i, c in scores if i in locked])
        cache: dict = {}
        cleaned, errors = [], {}
        for asset, part in zip(assets, parts, strict=True):
            try:
                cleaned.append(validate_measure(asset=asset, kind=kind, started_on=started_on,
                                                completed_on=completed_on, cost_yen=part, contractor=contractor,
                                                notes=notes, cache=cache))
            except ValidationError as exc:
                for field, msgs in exc.message_dict.items():
                    for msg in msgs:
                        errors.setdefault(field, {}).setdefault(msg, []).append(asset.global_id)
        if errors:
            raise ValidationError({f: [f"{_names(gids)}: {msg}" for msg, gids in by_msg.items()]
                                   for f, by_msg in errors.items()})
        measures = []
        for asset, clean in zip(assets, cleaned, strict=True):
            m = Measure.objects.create(asset=asset, cluster=cluster, created_by=actor.user, **clean)
            record_change(actor=actor, obj=m, action=Action.CREATE, after=_snapshot(m))
            measures.append(m)
        apply_completion(actor, measures)
        refresh_conditions([a.pk for a in assets])
    return measures
