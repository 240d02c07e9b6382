"""Ledgers back out: CP932 CSV with Japanese headers for Excel users, UTF-8 CSV, xlsx, GeoJSON, GeoPackage.

Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start of text) are neutralised
with a leading apostrophe, which the importer takes off again (as Excel does), so an export imports back
exactly; numbers stay numbers. The CP932 CSV refuses text CP932 cannot write (emoji, 𠮷, …) rather than
turning it into "?": such ledgers are exported as UTF-8 CSV, xlsx, GeoJSON or GeoPackage."""

import csv
import io
import json
import subprocess
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from assets.kinds import KINDS
from core.export import check_cp932, escape_formula, xlsx_row
from ledger.fields import DETAIL_HEADERS

FORMATS = {"csv": "text/csv; charset=utf-8", "csv-cp932": "text/csv; charset=shift_jis",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}
EXT = {"csv": "csv", "csv-cp932": "csv", "xlsx": "xlsx", "geojson": "geojson", "gpkg": "gpkg"}
CORE = [("global_id", "共通ID"), ("owner_id", "団体コード"), ("source", "台帳"), ("external_id", "台帳番号"),
        ("name", "名称"), ("built_fiscal_year", "建設年度"), ("built_year_text", "建設年度(原表記)"),
        ("status", "状態"), ("version", "版")]
__all__ = ["export_ledger"]


def _columns(kind: str) -> list[tuple[str, str]]:
    model = KINDS[kind].detail_model
    detail = [(f"d.{f.name}", DETAIL_HEADERS.get(f.name, (f.name, f.name))[1 if len(DETAIL_HEADERS.get(f.name, ())) > 1
                                                                           else 0])
              for f in model._meta.concrete_fields if f.name != "asset" and not f.is_relation]
    return [(f"a.{c}", ja) for c, ja in CORE] + detail


def _rows(kind: str, asset_ids_sql: str, params: list) -> tuple[list[str], list[str], list[list], list[str]]:
    cols = _columns(kind)
    table = KINDS[kind].detail_model._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(c for c, _ja in cols)}, ST_AsGeoJSON(a.geom, 8) FROM assets_asset a "
                    f"LEFT JOIN {table} d ON d.asset_id = a.id WHERE a.kind = %s AND a.id IN ({asset_ids_sql}) "
                    f"ORDER BY a.owner_id, a.external_id NULLS LAST, a.id", [kind, *params])
        data = cur.fetchall()
    names = [c.split(".", 1)[1].replace("owner_id", "owner") for c, _ja in cols]
    return names, [ja for _c, ja in cols], [list(r[:-1]) for r in data], [r[-1] for r in data]


def _wkt_or_lonlat(geojson: str) -> tuple:
    g = json.loads(geojson)
    if g["type"] == "Point":
        return g["coordinates"][0], g["coordinates"][1], ""
    from django.contrib.gis.geos import GEOSGeometry

    return None, None, GEOSGeometry(geojson).wkt


def export_ledger(*, kind: str, asset_ids_sql: str, params: list, fmt: str) -> tuple[bytes, str, str]:
    """Bytes, content type and file extension of the assets selected by `asset_ids_sql` (a SELECT of ids)."""
    from assets.kinds import spec_for

    spec_for(kind)  # an unknown kind is refused with the allowed ones
    if fmt not in FORMATS:
        raise ValidationError({"format": _("Unknown format %(f)r; allowed: %(allowed)s")
                               % {"f": fmt, "allowed": ", ".join(FORMATS)}})
    names, ja, rows, geoms = _rows(kind, asset_ids_sql, params)
    if fmt in ("geojson", "gpkg"):
        doc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": dict(zip(names, r, strict=True)), "geometry": json.loads(g)}
            for r, g in zip(rows, geoms, strict=True)]}
        body = json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8")
        return (body if fmt == "geojson" else _gpkg(body, kind)), FORMATS[fmt], EXT[fmt]
    header = (ja if fmt == "csv-cp932" else names) + (["経度", "緯度", "形状(WKT)"] if fmt == "csv-cp932"
                                                      else ["lon", "lat", "wkt"])
    table = [[escape_formula(v) for v in r] + list(_wkt_or_lonlat(g)) for r, g in zip(rows, geoms, strict=True)]
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(kind)
        ws.append(ja[:len(names)] + ["経度", "緯度", "形状(WKT)"])
        for r in table:
            ws.append(xlsx_row(r))
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue(), FORMATS[fmt], EXT[fmt]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(["" if v is None else v for v in r] for r in table)
    text = out.getvalue()
    if fmt == "csv-cp932":
        try:
            body = text.encode("cp932")
        except UnicodeEncodeError:
            check_cp932(names, rows, hint=_("use format=csv (UTF-8), xlsx, geojson or gpkg for this ledger"))
            raise
        return body, FORMATS[fmt], EXT[fmt]
    return text.encode("utf-8"), FORMATS[fmt], EXT[fmt]


def _gpkg(geojson: bytes, layer: str) -> bytes:
    """GeoPackage through ogr2ogr (gdal-bin), with the CRS given by EPSG code only."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.geojson", Path(tmp) / "out.gpkg"
        src.write_bytes(geojson)
        subprocess.run(["ogr2ogr", "-f", "GPKG", "-a_srs", "EPSG:6668", "-nln", layer, str(dst), str(src)],
                       check=True, capture_output=True)
        return dst.read_bytes()
