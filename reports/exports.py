"""The per-facility table of a plan (個別施設の対策計画) as a spreadsheet, laid out as municipalities publish it:
one row per bridge (and a sheet of pipes, roads and septic tanks per lot) — xlsx, or CP932 CSV for Excel."""

import csv
import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.export import check_cp932, escape_formula, xlsx_row
from reports.models import Plan

__all__ = ["FACILITY_COLUMNS", "FORMATS", "facility_rows", "facility_table"]

FORMATS = {"xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
           "csv": ("text/csv; charset=Shift_JIS", "csv")}
FACILITY_COLUMNS = ["番号", "施設名", "施設ID", "路線名", "管理者", "架設年度", "橋長(m)", "橋面積(㎡)", "健全性",
                    "点検年度", "次回点検年度", "対策内容", "対策時期", "概算費用(百万円)"]
LOT_COLUMNS = ["群", "施設種別", "路線（上部道路）", "延長・数量", "対策内容（件）", "対策時期", "工事費(百万円)"]


def _million(yen: float) -> float | None:
    return round(yen / 1e6, 1) if yen else None


def facility_rows(plan: Plan, codes: list[str]) -> tuple[list[list], list[list]]:
    """The bridges one by one and the lots' lines of the plan, for the municipalities in `codes` only."""
    from clusters.models import Cluster
    from reports.document import LOT_NAME_FIELDS, _facilities, _lot_lines  # one source for the PDF and the table

    removals = {b["global_id"] for b in plan.run.summary.get("bridge_removals", [])
                if b.get("recommendation") == "remove"}
    bridges = [[k, f.name, f.global_id, f.route, f.owner, f.built, None if f.length_m is None else round(f.length_m, 1),
                None if f.area_m2 is None else round(f.area_m2, 1), f.grade, f.inspected, f.next_inspection, f.measure,
                f.measure_year, _million(f.cost)]
               for k, f in enumerate(_facilities(plan, codes, removals), start=1)]
    lots = {c.id: c for c in Cluster.objects.filter(run=plan.run_id).only("id", "key", *LOT_NAME_FIELDS)}
    lines = [[x.lot, x.kind, x.route, x.quantity, x.measure, x.measure_year, _million(x.cost)]
             for x in _lot_lines(plan, codes, lots)]
    return bridges, lines


def facility_table(plan: Plan, codes: list[str], fmt: str, title: str) -> tuple[bytes, str, str]:
    """Bytes, content type and extension. CSV holds the bridges' table (the one published per facility); xlsx
    holds it and a second sheet of pipes, roads and septic tanks per lot."""
    if fmt not in FORMATS:
        raise ValidationError({"format": _("Unknown format %(f)r; allowed: %(allowed)s")
                               % {"f": fmt, "allowed": ", ".join(FORMATS)}})
    bridges, lines = facility_rows(plan, codes)
    # A cell the PDF prints as "—" (nothing to say) is left empty: that is how spreadsheets say it, and the dash
    # (U+2014) is not in CP932.
    bridges = [[None if v == "—" else escape_formula(v) for v in r] for r in bridges]
    lines = [[None if v == "—" else escape_formula(v) for v in r] for r in lines]
    ctype, ext = FORMATS[fmt]
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        for ws, name, head, rows in ((wb.active, "橋梁（施設ごと）", FACILITY_COLUMNS, bridges),
                                     (None, "道路・下水道・浄化槽（群ごと）", LOT_COLUMNS, lines)):
            ws = ws or wb.create_sheet()
            ws.title = name
            ws.append([f"{title}　{name}"])
            ws["A1"].font = Font(bold=True)
            ws.append(head)
            for r in rows:
                ws.append(xlsx_row(r))
            money = len(head)
            for row in ws.iter_rows(min_row=3, min_col=money, max_col=money):
                row[0].number_format = "#,##0.0"
            ws.freeze_panes = "A3"
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue(), ctype, ext
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(FACILITY_COLUMNS)
    w.writerows(["" if v is None else v for v in r] for r in bridges)
    try:
        body = out.getvalue().encode("cp932")
    except UnicodeEncodeError:
        check_cp932(["施設ID", *FACILITY_COLUMNS[1:]], [[r[2], *r[1:]] for r in bridges],
                    hint=_("use format=xlsx for this table"))
        raise ValidationError({"format": _("use format=xlsx for this table")}) from None
    return body, ctype, ext
