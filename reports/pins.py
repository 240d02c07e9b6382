"""Coordinators steer the plan: pin a lot to a 年度, or exclude it, with a reason; the next plan honours it.

Rules (domain.md §5, legal deadlines are constraints, never weights): a lot holding work with a legal measures
deadline (道路法施行規則 第4条の5の6 / 平成26年国交省告示426号: bridge Ⅳ at once, Ⅲ before the next inspection;
下水道 緊急度Ⅰ within a year, Ⅱ within five, as the engine stores them on the lot's outlook) cannot be excluded,
nor pinned to a 年度 after its deadline's (an overdue one: after the plan's first 年度). Only the region's
coordinators (and administrators) may pin. Pins name lots by their member assets (see PlanPin), so they outlive
the run they were made on; every pin and its end are kept as rows and in the change history."""

import datetime
import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import access
from assets.history import Action, Actor, record_change, snapshot
from clusters.models import Cluster, EngineRun
from core.text import text_errors, whole_number
from core.wareki import fiscal_year, format_fiscal_year
from reports.models import PlanPin

__all__ = ["ensure_coordinator", "lot_of", "match_pins", "pin_end", "pin_set", "pins_active", "plan_first_fy",
           "MAX_YEARS_AHEAD"]

MAX_YEARS_AHEAD = 30  # a pin further ahead than the longest plan (services.MAX_HORIZON) would never apply
MAX_REASON_CHARS = 1000  # printed beside the lot in the plan: a paragraph, not a document


def plan_first_fy() -> int:
    """The first 年度 of a plan made today: next 年度's budget (as services.plan_compute)."""
    return fiscal_year(timezone.localdate()) + 1


def members_key(asset_ids: list[int]) -> str:
    return hashlib.sha1(",".join(str(i) for i in sorted(asset_ids)).encode()).hexdigest()


def lot_asset_ids(cluster: Cluster) -> list[int]:
    return sorted(cluster.members.values_list("asset_id", flat=True))


def legal_deadline(cluster: Cluster) -> dict | None:
    """The lot's earliest legal measures deadline, as the engine stored it: {"due", "fiscal_year", "what"}."""
    m = (cluster.outlook or {}).get("mandatory")
    if not m:
        return None
    due = datetime.date.fromisoformat(m["due"])
    first = next((a for a in m.get("assets", []) if a.get("due") == m["due"]), {})
    what = " ".join(x for x in (first.get("global_id", ""), first.get("name", ""), first.get("grade_label", "")) if x)
    return {"due": due, "fiscal_year": max(fiscal_year(due), plan_first_fy()), "what": what}


def ensure_coordinator(principal, region) -> None:
    if principal is not None and not access.regions_coordinated(principal).filter(pk=region.pk).exists():
        raise PermissionDenied(_("Only the region's coordinators may pin or exclude lots of %s") % region)


def lot_of(run: EngineRun, rank) -> Cluster:
    """The lot ranked `rank` in `run` (what the plan page and the API name), else a ValidationError on `rank`."""
    text = str(rank if rank is not None else "").strip()
    number = whole_number(text)
    cluster = run.clusters.filter(rank=number).first() if number is not None else None
    if cluster is None:
        raise ValidationError({"rank": _("No lot ranked %(rank)s in run #%(run)s") % {
            "rank": text or "—", "run": run.pk}})
    return cluster


def _lot_label(cluster: Cluster) -> str:
    name = getattr(cluster, "name", "") or ""  # Cluster.name comes with the lot-names branch
    return (name or _("lot %(rank)s of run #%(run)s") % {"rank": cluster.rank, "run": cluster.run_id})[:200]


def pin_set(*, actor: Actor, cluster: Cluster, mode: str, reason: str, fiscal_year: int | None = None) -> PlanPin:
    """Pin the lot to `fiscal_year` (西暦の年度) or exclude it; ends the lot's previous pin, if any."""
    region = cluster.run.region
    ensure_coordinator(actor.principal, region)
    errors: dict = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why (理由): it is printed with the plan")
    elif len(reason) > MAX_REASON_CHARS:
        errors["reason"] = _("The reason has %(n)d characters; at most %(max)d") % {
            "n": len(reason), "max": MAX_REASON_CHARS}
    else:
        errors |= text_errors({"reason": reason}, multiline={"reason"})  # printed with the plan (PDF, xlsx)
    if mode not in PlanPin.Mode.values:
        errors["mode"] = _("Must be one of: %s") % ", ".join(PlanPin.Mode.values)
    first = plan_first_fy()
    if mode == PlanPin.Mode.PIN:
        try:
            fiscal_year = int(fiscal_year)
        except (TypeError, ValueError):
            fiscal_year = None
        if fiscal_year is None or not first <= fiscal_year <= first + MAX_YEARS_AHEAD:
            errors["fiscal_year"] = _("Fiscal year must be between %(lo)s and %(hi)s") % {
                # 和暦 as the page shows it, 西暦 as the API takes it
                "lo": f"{format_fiscal_year(first)}（{first}）",
                "hi": f"{format_fiscal_year(first + MAX_YEARS_AHEAD)}（{first + MAX_YEARS_AHEAD}）"}
    else:
        fiscal_year = None
    legal = legal_deadline(cluster)
    if legal and not errors:
        if mode == PlanPin.Mode.EXCLUDE:
            errors["mode"] = _("This lot holds work with a legal deadline (%(what)s, due %(due)s): it cannot be "
                               "excluded. Pin it to %(fy)s or earlier instead.") % {
                "what": legal["what"], "due": legal["due"].isoformat(), "fy": format_fiscal_year(legal["fiscal_year"])}
        elif fiscal_year > legal["fiscal_year"]:
            errors["fiscal_year"] = _("This lot holds work with a legal deadline (%(what)s, due %(due)s): it cannot "
                                      "be pinned after %(fy)s.") % {
                "what": legal["what"], "due": legal["due"].isoformat(), "fy": format_fiscal_year(legal["fiscal_year"])}
    if errors:
        raise ValidationError(errors)
    ids = lot_asset_ids(cluster)
    key = members_key(ids)
    user = actor.user
    with transaction.atomic():
        # Two coordinators pinning the same lot at once take turns: a lock on the lot's key (held to the end of the
        # transaction) covers the case where there is no current pin to lock yet, which would otherwise end in
        # two inserts and the unique constraint's error. The second then ends the first's pin, as in sequence.
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"planpin:{region.pk}:{key}"])
        for old in PlanPin.objects.select_for_update().filter(region=region, members_key=key, ended_at__isnull=True):
            _end(actor, old)
        pin = PlanPin.objects.create(region=region, members_key=key, asset_ids=ids, label=_lot_label(cluster),
                                     work_type=cluster.work_type, mode=mode, fiscal_year=fiscal_year, reason=reason,
                                     created_by=user)
        record_change(actor=actor, obj=pin, action=Action.CREATE, after=snapshot(pin, exclude=("asset_ids",)),
                      message=reason)
    return pin


def _end(actor: Actor, pin: PlanPin) -> None:
    before = snapshot(pin, exclude=("asset_ids",))
    pin.ended_at, pin.ended_by = timezone.now(), actor.user
    pin.save(update_fields=["ended_at", "ended_by"])
    record_change(actor=actor, obj=pin, action=Action.UPDATE, before=before, after=snapshot(pin, exclude=("asset_ids",)))


def pin_end(*, actor: Actor, pin_id: int, region) -> PlanPin:
    """Take a pin off (the lot goes back to the optimizer); the row stays as history."""
    ensure_coordinator(actor.principal, region)
    with transaction.atomic():
        pin = PlanPin.objects.select_for_update().filter(region=region, pk=pin_id).first()
        if pin is None:
            raise ValidationError({"pin": _("No pin #%s in this region") % pin_id})
        if pin.ended_at is None:
            _end(actor, pin)
    return pin


def pins_active(region_id: int):
    return PlanPin.objects.filter(region_id=region_id, ended_at__isnull=True).select_related("created_by")


def match_pins(run: EngineRun, pins: list[PlanPin]) -> dict[int, int | None]:
    """Each pin's lot in `run`: the lot holding the most of the pinned assets, if it holds more than half of them.
    One set-based query over the run's scores, however many pins."""
    pin_col, asset_col = [], []
    for p in pins:
        pin_col += [p.pk] * len(p.asset_ids)
        asset_col += [int(a) for a in p.asset_ids]
    out: dict[int, int | None] = {p.pk: None for p in pins}
    if not pin_col:
        return out
    with connection.cursor() as cur:
        cur.execute("""
            SELECT DISTINCT ON (p.pin) p.pin, s.cluster_id, count(*) AS n
            FROM unnest(%s::bigint[], %s::bigint[]) AS p(pin, asset)
            JOIN clusters_assetscore s ON s.run_id = %s AND s.asset_id = p.asset AND s.cluster_id IS NOT NULL
            GROUP BY p.pin, s.cluster_id ORDER BY p.pin, n DESC, s.cluster_id
            """, [pin_col, asset_col, run.pk])
        size = {p.pk: len(p.asset_ids) for p in pins}
        for pin, cid, n in cur.fetchall():
            if 2 * n > size[pin]:
                out[pin] = cid
    return out
