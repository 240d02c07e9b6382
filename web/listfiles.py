"""Lists as files for the municipality's spreadsheets: xlsx (openpyxl), or CSV in CP932 for Excel, with Japanese
headers whatever the page's language. Text a spreadsheet would run as a formula is neutralised
(core.export.escape_formula) and a CP932 file refuses text CP932 cannot write, naming the rows."""

import csv
import datetime
import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.export import check_cp932, escape_formula, xlsx_row

FORMATS = {"csv": ("text/csv; charset=shift_jis", "csv"),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")}


def table_file(sheet: str, header: list[str], rows: list[list], fmt: str) -> tuple[bytes, str, str]:
    """Bytes, content type and extension of the table; ValidationError naming the format or the rows."""
    if fmt not in FORMATS:
        raise ValidationError({"format": _("Unknown format %(f)r; allowed: %(allowed)s")
                               % {"f": fmt, "allowed": ", ".join(FORMATS)}})
    table = [[escape_formula(v) if isinstance(v, str) else v for v in r] for r in rows]
    ctype, ext = FORMATS[fmt]
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(sheet)
        ws.append(header)
        for r in table:
            ws.append(xlsx_row(r))
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue(), ctype, ext
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(["" if v is None else (v.isoformat() if isinstance(v, datetime.date) else v) for v in r]
                for r in table)
    try:
        return out.getvalue().encode("cp932"), ctype, ext
    except UnicodeEncodeError:
        check_cp932(header, table, hint=_("use format=xlsx for this list"))
        raise
