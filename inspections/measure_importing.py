"""Bulk import of measures (措置) from CSV (UTF-8, UTF-8 with BOM or CP932), as the inspection import does it:
validate every row, report every bad one as `Record N (line L) field: message`, then store all rows or none.
Dates may be 和暦 (R6.5.1, 令和6年5月1日), read by `core.wareki` like every other date."""


from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from assets.history import Action as HAction
from assets.history import Actor, record_change
from assets.models import AssetStatus
from assets.services import lock_assets
from core.text import header_key
from inspections.condition import refresh_conditions
from inspections.importing import MAX_UPLOAD_BYTES, ImportReport, _resolve_assets, checked_rows, header_row, read_records
from inspections.measure_services import _snapshot, apply_completion, validate_measure
from inspections.models import Measure

__all__ = ["COLUMNS", "MAX_UPLOAD_BYTES", "import_measures_csv"]

COLUMNS = {
    "asset": ["asset", "global_id", "共通id", "施設id(共通)", "共通施設id"],
    "municipality": ["municipality", "団体コード", "管理者コード", "市町村コード"],
    "external_id": ["external_id", "台帳番号", "管渠番号", "橋梁id", "施設番号", "施設id", "浄化槽番号"],
    "kind": ["kind", "措置区分", "措置内容", "措置", "対策区分", "工種", "措置の種類"],
    "started_on": ["started_on", "着手日", "着工日", "措置着手日", "着手年月日", "工事着手日"],
    "completed_on": ["completed_on", "完了日", "竣工日", "措置完了日", "完了年月日", "しゅん工日"],
    "cost_yen": ["cost_yen", "費用", "費用(円)", "工事費", "工事費(円)", "事業費", "事業費(円)", "措置費用(円)"],
    "contractor": ["contractor", "施工者", "施工業者", "受注者", "請負者"],
    "notes": ["notes", "備考"],
}
LOOKUP = {header_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}


def _header(rows: list[list[str]]) -> tuple[int, dict[int, str]]:
    return header_row(rows, LOOKUP,
                      lambda names: {"kind", "started_on"} <= names and bool({"asset", "external_id"} & names),
                      _("No header row found; it needs 措置区分, 着手日 and an asset column (共通ID, or 団体コード with "
                        "台帳番号)"))


def _check(asset, rec, cache: dict) -> dict:
    if asset.status == AssetStatus.REMOVED:
        raise ValidationError({"asset": _("%(gid)s is retired; no measure can be recorded for it")
                               % {"gid": asset.global_id}})
    return validate_measure(asset=asset, kind=rec.get("kind"), started_on=rec.get("started_on"),
                            completed_on=rec.get("completed_on"), cost_yen=rec.get("cost_yen"),
                            contractor=rec.get("contractor", ""), notes=rec.get("notes", ""), cache=cache)


def import_measures_csv(*, actor: Actor, data: bytes, dry_run: bool = False,
                        default_municipality: str | None = None) -> ImportReport:
    report, records, refused = read_records(data, _header, dry_run=dry_run)
    assets = _resolve_assets(actor, records, default_municipality, report, skip=refused)
    cache: dict = {}
    valid = [(asset, clean) for asset, _rec, clean in
             checked_rows(records, assets, report, lambda asset, rec: _check(asset, rec, cache))]
    if report.errors or dry_run:
        report.created = 0 if report.errors else len(valid)
        return report
    with transaction.atomic():
        # Locked in id order, as a single measure locks its asset; a row retired meanwhile is refused.
        locked = lock_assets(a.pk for a, _c in valid)
        retired = {a.global_id for a in locked.values() if a.status == AssetStatus.REMOVED}
        if retired:
            raise ValidationError({"asset": _("retired meanwhile: %s") % ", ".join(sorted(retired))})
        created = Measure.objects.bulk_create([Measure(asset=locked[a.pk], created_by=actor.user, **clean)
                                               for a, clean in valid])
        for m in created:
            record_change(actor=actor, obj=m, action=HAction.CREATE, after=_snapshot(m), message=_("bulk import"))
        apply_completion(actor, created)
        refresh_conditions(sorted(locked))
    report.created = len(created)
    return report
