"""Ledger files to rows: CSV (UTF-8, UTF-8 with BOM, CP932), Excel, GeoJSON, GeoPackage, zipped Shapefile.

Safety: coordinate systems are accepted only from an allow-list of EPSG codes, recognised by name or code
without ever handing a file's WKT or PROJ text to GDAL (before 3.9 it cannot stop such text from reading
files or the network); GeoPackages are read with sqlite3 and their geometry blobs decoded here; zip files are
checked for path traversal, links and decompression bombs before anything is extracted."""

import csv
import io
import json
import re
import sqlite3
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from inspections.importing import decode

# JGD2011 and JGD2000 lon/lat and plane rectangular zones, and WGS 84.
ALLOWED_SRIDS = {4326, 6668, 4612, *range(6669, 6688), *range(2443, 2462)}
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
MAX_ZIP_RATIO = 100
MAX_ZIP_ENTRIES = 50


@dataclass
class Table:
    rows: list[list[str]]  # every row as read, header and title rows included
    lines: list[int]  # the line (or sheet row, or feature number) each row starts on
    geoms: list[bytes | None] | None = None  # WKB per row (GIS files), aligned with rows
    srid: int | None = None
    fmt: str = ""
    encoding: str = ""
    header_fixed: bool = False  # GIS files: row 0 is the attribute names
    warnings: list[str] = field(default_factory=list)


def check_srid(srid: int | None, where: str) -> int:
    if srid not in ALLOWED_SRIDS:
        raise ValidationError({"crs": _("%(where)s: EPSG:%(srid)s is not accepted; allowed: 6668 (JGD2011 lon/lat), "
                                       "6669–6687 (JGD2011 plane zones I–XIX), 4612, 2443–2461 (JGD2000), 4326")
                               % {"where": where, "srid": srid}})
    return srid


def _prj_srid(text: str) -> int | None:
    """EPSG code of a .prj by its name only (never parsed by GDAL)."""
    m = re.match(r'\s*(PROJCS|GEOGCS|PROJCRS|GEOGCRS)\["([^"]+)"', text)
    if not m:
        return None
    name = m.group(2).replace(" ", "_").lower()
    zone = (re.search(r"jgd_?(2011|2000).*zone_?([ivx]+|\d+)$", name)
            or re.search(r"jgd_?(2011|2000).*plane_rectangular_cs_?([ivx]+|\d+)$", name))
    if zone:
        roman = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11,
                 "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18, "xix": 19}
        n = int(zone.group(2)) if zone.group(2).isdigit() else roman.get(zone.group(2))
        if n and 1 <= n <= 19:
            return (6668 if zone.group(1) == "2011" else 2442) + n
    return {"gcs_jgd_2011": 6668, "jgd2011": 6668, "gcs_jgd_2000": 4612, "jgd2000": 4612, "gcs_wgs_1984": 4326,
            "wgs_84": 4326, "wgs84": 4326}.get(name)


def _csv(data: bytes) -> Table:
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, lines = [], []
    start = 1
    for row in reader:
        rows.append(row)
        lines.append(start)
        start = reader.line_num + 1
    return Table(rows, lines, fmt="csv", encoding=encoding)


def _xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationError({"file": _("Not a readable Excel (xlsx) file: %s") % exc}) from None
    ws = wb.worksheets[0]
    rows, lines = [], []
    for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
        rows.append(["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                     for v in row])
        lines.append(i)
    wb.close()
    return Table(rows, lines, fmt="xlsx")


def _features(props: list[dict], geoms: list[bytes | None], srid: int, fmt: str) -> Table:
    names: list[str] = []
    for p in props:
        for k in p:
            if k not in names:
                names.append(k)
    rows = [names] + [["" if p.get(k) is None else str(p.get(k)) for k in names] for p in props]
    return Table(rows, list(range(0, len(rows))), [None, *geoms], srid, fmt, header_fixed=True)


def _geojson(data: bytes) -> Table:
    from django.contrib.gis.geos import GEOSGeometry

    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError({"file": _("Not a readable GeoJSON file: %s") % exc}) from None
    srid = 4326  # RFC 7946
    crs = (doc.get("crs") or {}).get("properties", {}).get("name", "")
    if crs:
        m = re.search(r"EPSG:{1,2}(\d+)$", crs) or re.search(r"CRS84$", crs)
        srid = check_srid(int(m.group(1)) if m and m.groups() else (4326 if m else None), "GeoJSON crs")
    feats = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    props, geoms = [], []
    for n, f in enumerate(feats or [], start=1):
        props.append(f.get("properties") or {})
        g = f.get("geometry")
        try:
            geoms.append(bytes(GEOSGeometry(json.dumps(g)).wkb) if g else None)
        except Exception as exc:
            raise ValidationError({"file": _("Feature %(n)d: unreadable geometry (%(err)s)") % {"n": n, "err": exc}}) \
                from None
    return _features(props, geoms, srid, "geojson")


def _gpkg_wkb(blob: bytes) -> bytes | None:
    """GeoPackage geometry blob → WKB: 'GP', version, flags (envelope size in bits 1–3), srs id, envelope."""
    if blob is None or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b10000:  # empty geometry
        return None
    env = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((flags >> 1) & 0b111, 0)
    return bytes(blob[8 + env:])


def _gpkg(data: bytes) -> Table:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.gpkg"
        path.write_bytes(data)
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            table, column, srs = con.execute(
                "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c "
                "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name WHERE c.data_type = 'features' "
                "ORDER BY c.table_name LIMIT 1").fetchone()
            org = con.execute("SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys "
                              "WHERE srs_id = ?", [srs]).fetchone()
            cur = con.execute(f'SELECT * FROM "{table.replace(chr(34), "")}"')
            names = [d[0] for d in cur.description]
            records = cur.fetchall()
            con.close()
        except (sqlite3.Error, TypeError) as exc:
            raise ValidationError({"file": _("Not a readable GeoPackage: %s") % exc}) from None
    srid = check_srid(int(org[1]) if org and str(org[0]).upper() == "EPSG" else None, "GeoPackage")
    gi = names.index(column)
    props = [{k: v for k, v in zip(names, r, strict=True) if k != column and k != "fid"} for r in records]
    return _features(props, [_gpkg_wkb(r[gi]) for r in records], srid, "gpkg")


def _safe_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise ValidationError({"file": _("The zip file holds %d entries; at most %d are accepted")
                               % (len(infos), MAX_ZIP_ENTRIES)})
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in Path(name).parts or ":" in name:
            raise ValidationError({"file": _("Unsafe path in the zip file: %s") % name})
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ValidationError({"file": _("Links are not accepted in the zip file: %s") % name})
        total += info.file_size
        if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO:
            raise ValidationError({"file": _("%s expands more than %d times: refused as a possible zip bomb")
                                   % (name, MAX_ZIP_RATIO)})
    if total > MAX_UNZIPPED_BYTES:
        raise ValidationError({"file": _("The zip file expands to %(mb)d MB; at most %(max)d MB")
                               % {"mb": total // 2**20, "max": MAX_UNZIPPED_BYTES // 2**20}})
    return infos


def _shapefile(data: bytes) -> Table:
    from django.contrib.gis.gdal import DataSource

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValidationError({"file": _("Not a zip file; a Shapefile is uploaded as a .zip of .shp, .shx, .dbf "
                                         "(and .prj)")}) from None
    infos = _safe_members(zf)
    by_ext = {Path(i.filename).suffix.lower(): i for i in infos if not i.is_dir()}
    missing = [e for e in (".shp", ".shx", ".dbf") if e not in by_ext]
    if missing:
        raise ValidationError({"file": _("The zip file lacks %s") % ", ".join(missing)})
    prj = zf.read(by_ext[".prj"]).decode("latin-1") if ".prj" in by_ext else ""
    srid = _prj_srid(prj) if prj else None
    if prj and srid is None:
        raise ValidationError({"crs": _("The .prj names a coordinate system that is not accepted; allowed: JGD2011 "
                                        "lon/lat or plane zones I–XIX, JGD2000, WGS 84")})
    encoding = zf.read(by_ext[".cpg"]).decode("ascii", "ignore").strip() if ".cpg" in by_ext else ""
    with tempfile.TemporaryDirectory() as tmp:
        for ext in (".shp", ".shx", ".dbf"):  # never the .prj: GDAL must not parse it
            (Path(tmp) / f"ledger{ext}").write_bytes(zf.read(by_ext[ext]))
        props, geoms = [], []
        for enc in ([encoding] if encoding else ["utf-8", "cp932"]):
            try:
                layer = DataSource(str(Path(tmp) / "ledger.shp"), encoding=enc.lower().replace("shift_jis", "cp932"))[0]
                names = layer.fields
                props = [{name: feat[i].value for i, name in enumerate(names)} for feat in layer]
                geoms = [bytes(feat.geom.wkb) for feat in layer]
                break
            except UnicodeDecodeError:
                continue
    table = _features(props, geoms, srid, "shapefile")
    if srid is None:
        table.warnings.append(_("The Shapefile has no .prj; give its EPSG code (srid)"))
    return table


def read_table(data: bytes, filename: str) -> Table:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is %(mb)d MB; at most %(max)d MB")
                               % {"mb": len(data) // 2**20, "max": MAX_UPLOAD_BYTES // 2**20}})
    ext = Path(filename).suffix.lower()
    readers = {".csv": _csv, ".txt": _csv, ".xlsx": _xlsx, ".geojson": _geojson, ".json": _geojson,
               ".gpkg": _gpkg, ".zip": _shapefile}
    if ext not in readers:
        raise ValidationError({"file": _("Unsupported file type %(ext)r; allowed: %(allowed)s")
                               % {"ext": ext, "allowed": ", ".join(readers)}})
    return readers[ext](data)
