"""The work list as a file: xlsx, or CP932 CSV with Japanese headers for Excel users.

Text a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) is neutralised exactly as the
ledger exports do. The CP932 CSV refuses, naming the assets, text CP932 cannot write rather than writing "?"."""

import csv
import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.export import check_cp932, escape_formula, xlsx_row

FORMATS = {"csv": ("text/csv; charset=shift_jis", "csv"),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")}
MAX_ROWS = 50_000  # a whole prefecture's backlog; beyond it, narrow the filters (memory stays bounded)
WORK_JA = {"inspection": "点検", "measure": "措置", "maintenance": "保守点検", "cleaning": "清掃",
           "guidance": "改善指導の目安（法定期限ではない）"}
COLUMNS = [("global_id", "共通ID"), ("name", "名称"), ("kind_label_ja", "種別"), ("owner", "団体コード"),
           ("owner_name", "団体名"), ("work_ja", "作業"), ("grade_label_ja", "判定区分"), ("inspected_on", "最終点検日"),
           ("due_on", "期限"), ("days_overdue", "超過日数（負は残日数）"), ("status_ja", "状況"),
           ("legal_basis_ja", "根拠")]


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError({"format": _("Unknown format %(f)r; allowed: %(allowed)s")
                               % {"f": fmt, "allowed": ", ".join(FORMATS)}})


def _status(item: dict) -> str:
    if item["never_inspected"] and item["work"] == "inspection" and item["days_overdue"] >= 0:
        return "未点検（期限到来）"
    if not item.get("is_legal", True):  # 浄化槽 不適正 → 改善指導 (浄化槽法12条): a target, not a legal deadline
        return "目安超過" if item["is_overdue"] else "目安前"
    return "期限超過" if item["is_overdue"] else "期限前"


def export_work_list(items: list[dict], fmt: str) -> tuple[bytes, str, str]:
    """Bytes, content type and extension of the work items (from selectors.work_items), headers in Japanese
    whatever the language of the page, since the files go to the municipality's own spreadsheets."""
    from django.utils import translation

    from assets.models import Asset

    check_format(fmt)
    with translation.override("ja"):
        kinds_ja = {k: str(v) for k, v in Asset._meta.get_field("kind").flatchoices}
    table = []
    for it in items:
        row = {**it, "kind_label_ja": kinds_ja.get(it["kind"], it["kind"]), "work_ja": WORK_JA[it["work"]],
               "grade_label_ja": it["grade_label_ja"] or "", "status_ja": _status(it)}
        table.append([escape_formula(row[key]) if isinstance(row[key], str) else row[key] for key, _ja in COLUMNS])
    header = [ja for _key, ja in COLUMNS]
    ctype, ext = FORMATS[fmt]
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("作業一覧")
        ws.append(header)
        for r in table:
            ws.append(xlsx_row(r))
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue(), ctype, ext
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(["" if v is None else v for v in r] for r in table)
    try:
        return out.getvalue().encode("cp932"), ctype, ext
    except UnicodeEncodeError:
        check_cp932([key for key, _ja in COLUMNS], table, hint=_("use format=xlsx for this list"))
        raise


def work_list_file(*, principal, fmt: str, **filters) -> tuple[bytes, str, str]:
    """The whole filtered work list as a file: bytes, content type and file name. Bounded: past MAX_ROWS the
    request is refused with the count, never built in memory."""
    from django.utils import timezone

    from inspections import selectors

    check_format(fmt)
    qs = selectors.work_list(principal=principal, **filters)
    n = qs.count()
    if n > MAX_ROWS:
        raise ValidationError({"format": _("%(n)d rows is more than one file holds (at most %(max)d); narrow the "
                                           "list by municipality, kind or type of work") % {"n": n, "max": MAX_ROWS}})
    items = selectors.work_items(qs)
    body, ctype, ext = export_work_list(items, fmt)
    muni = filters.get("municipality") or selectors.work_list_default_municipality(principal) or "all"
    return body, ctype, f"work-list-{muni}-{timezone.localdate():%Y%m%d}.{ext}"
