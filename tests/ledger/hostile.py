"""Hostile ledger files, generated: every class of file that once answered 500 or exhausted the machine.

Each case is built from scratch (no fixtures on disk) and stays small on disk where it can: the exhaustion
cases are zip bombs of XML or compact JSON, only the blank-line CSV is as big as it claims (48 MB).
`heavy` cases are the resource-exhaustion ones: the corpus test runs them in a subprocess and measures its
peak memory."""

import io
import json
import random
import sqlite3
import struct
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

LON, LAT = 139.839, 35.822  # 八潮市
PRJ_JGD2011 = 'GEOGCS["GCS_JGD_2011",DATUM["D_JGD_2011",SPHEROID["GRS_1980",6378137.0,298.257222101]],' \
              'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'


@dataclass(frozen=True)
class Hostile:
    name: str  # the file name; its extension picks the reader
    kind: str
    expect: str  # what the error must say (English)
    build: Callable[[], bytes]
    heavy: bool = False


# --- Shapefile (points), written by hand so that any coordinate can be given ---------------------------------

def _shp_header(code_len_words: int, bbox) -> bytes:
    return (struct.pack(">7i", 9994, 0, 0, 0, 0, 0, code_len_words) + struct.pack("<2i", 1000, 1)
            + struct.pack("<4d", *bbox) + struct.pack("<4d", 0, 0, 0, 0))


def shapefile(points, ids, *, cpg: bytes | None = b"UTF-8", prj: str | None = PRJ_JGD2011) -> dict[str, bytes]:
    n = len(points)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    bbox = (min(xs), min(ys), max(xs), max(ys))
    body = b"".join(struct.pack(">2i", i + 1, 10) + struct.pack("<i2d", 1, x, y) for i, (x, y) in enumerate(points))
    shp = _shp_header(50 + len(body) // 2, bbox) + body
    shx = _shp_header(50 + 4 * n, bbox) + b"".join(struct.pack(">2i", 50 + 14 * i, 10) for i in range(n))
    width = 20
    dbf = (struct.pack("<BBBBIHH20x", 3, 124, 1, 1, n, 32 + 32 + 1, 1 + width)
           + b"ID".ljust(11, b"\0") + b"C" + b"\0" * 4 + bytes([width, 0]) + b"\0" * 14 + b"\r"
           + b"".join(b" " + i.encode().ljust(width) for i in ids) + b"\x1a")
    files = {"mh.shp": shp, "mh.shx": shx, "mh.dbf": dbf}
    if cpg is not None:
        files["mh.cpg"] = cpg
    if prj is not None:
        files["mh.prj"] = prj.encode()
    return files


def zipped(files: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _zip_bad_crc() -> bytes:
    data = bytearray(zipped(shapefile([(LON, LAT)], ["M-1"]), zipfile.ZIP_STORED))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("mh.dbf")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size - 3] ^= 0xFF  # one byte of the stored .dbf flipped: the CRC no longer matches
    return bytes(data)


def _zip_encrypted() -> bytes:
    data = bytearray(zipped(shapefile([(LON, LAT)], ["M-1"]), zipfile.ZIP_STORED))
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers: "encrypted" bit
        pos = data.find(sig)
        while pos >= 0:
            data[pos + flag_at] |= 0x01
            pos = data.find(sig, pos + 4)
    return bytes(data)


def _shp_garbage() -> bytes:
    rng = random.Random(11)
    return zipped({n: bytes(rng.getrandbits(8) for _ in range(700)) for n in ("mh.shp", "mh.shx", "mh.dbf")})


# --- GeoPackage, written with sqlite3 -----------------------------------------------------------------------

def gp_point(x: float, y: float, srs: int = 6668) -> bytes:
    return b"GP\x00\x01" + struct.pack("<i", srs) + struct.pack("<BIdd", 1, 1, x, y)


def geopackage(rows=None, *, org_id="6668", table_sql=None, extra_sql=()) -> bytes:
    """A minimal GeoPackage: one feature table `mh` (fid, geom, 施設番号); `rows` are (geom value, id)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.gpkg"
        con = sqlite3.connect(path)
        con.executescript("""
            CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT,
                organization_coordsys_id INTEGER, definition TEXT, description TEXT);
            CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT,
                description TEXT, last_change TEXT, min_x REAL, min_y REAL, max_x REAL, max_y REAL, srs_id INTEGER);
            CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT,
                srs_id INTEGER, z TINYINT, m TINYINT);
            INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('mh', 'features', 'mh', 6668);
            INSERT INTO gpkg_geometry_columns VALUES ('mh', 'geom', 'POINT', 6668, 0, 0);
        """)
        con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('JGD2011', 6668, 'EPSG', ?, 'undefined', '')", [org_id])
        con.execute(table_sql or 'CREATE TABLE mh (fid INTEGER PRIMARY KEY, geom BLOB, "施設番号" TEXT)')
        for sql in extra_sql:
            con.execute(sql)
        for geom, ext in rows or []:
            con.execute('INSERT INTO mh (geom, "施設番号") VALUES (?, ?)', [geom, ext])
        con.commit()
        con.close()
        return path.read_bytes()


RECURSIVE_VIEW = ('CREATE VIEW mh AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) '
                  'SELECT n AS fid, NULL AS geom, printf("M-%d", n) AS "施設番号" FROM r')


# --- GeoJSON ------------------------------------------------------------------------------------------------

def feature(coords, ext="M-1") -> dict:
    return {"type": "Feature", "properties": {"施設番号": ext}, "geometry": {"type": "Point", "coordinates": coords}}


def _geojson(doc) -> Callable[[], bytes]:
    return lambda: json.dumps(doc).encode()


def _geojson_deep() -> bytes:
    depth = 100_000
    return (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
            b'{"type": "Point", "coordinates": ' + b"[" * depth + b"]" * depth + b"}}]}")


def _geojson_many_objects() -> bytes:
    return b'{"type": "FeatureCollection", "features": [' + b"{}," * 1_500_000 + b"{}]}"


# --- CSV ----------------------------------------------------------------------------------------------------

CSV_HEADER = "施設番号,深さ(m),経度,緯度\r\n"


def _csv_long_cell() -> bytes:
    from ledger.readers import MAX_CELL_CHARS

    return (CSV_HEADER + f"M-1,2.5,{LON},{LAT},{'x' * (MAX_CELL_CHARS + 1)}\r\n").encode()


# --- xlsx: a real workbook whose parts are then replaced by generated (compressed) XML -----------------------

def _xlsx_with(parts: dict[str, Callable[[zipfile.ZipFile, str], None]], dimension: str | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["施設番号", "深さ(m)"])
    ws.append(["M-1", 2.5])
    src = io.BytesIO()
    wb.save(src)
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            if info.filename in parts:
                parts[info.filename](zout, info.filename)
            else:
                data = zin.read(info)
                if dimension and info.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b'<dimension ref="A1:B2"/>', f'<dimension ref="{dimension}"/>'.encode())
                if info.filename == "[Content_Types].xml" and "xl/sharedStrings.xml" in parts:
                    data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
                                        b'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings'
                                        b'+xml"/></Types>')
                zout.writestr(info.filename, data)
        for name in set(parts) - set(zin.namelist()):
            parts[name](zout, name)
    return out.getvalue()


def _stream(head: bytes, unit: bytes, count: int, tail: bytes) -> Callable[[zipfile.ZipFile, str], None]:
    def write(zout: zipfile.ZipFile, name: str) -> None:
        block = unit * 65536
        with zout.open(name, "w", force_zip64=True) as fh:
            fh.write(head)
            for _ in range(count // 65536):
                fh.write(block)
            fh.write(unit * (count % 65536))
            fh.write(tail)
    return write


SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
              b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_TAIL = b"</sheetData></worksheet>"
SST_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst '
            b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _xlsx_shared_strings(count: int) -> Callable[[], bytes]:
    return lambda: _xlsx_with({"xl/sharedStrings.xml": _stream(SST_HEAD, b"<si><t>a</t></si>", count, b"</sst>")})


def _xlsx_rows() -> bytes:
    return _xlsx_with({"xl/worksheets/sheet1.xml": _stream(SHEET_HEAD, b"<row><c><v>1</v></c></row>", 5_000_000,
                                                           SHEET_TAIL)})


def _xlsx_wide() -> bytes:
    return _xlsx_with({"xl/worksheets/sheet1.xml": _stream(SHEET_HEAD, b'<row><c r="XFD1"><v>1</v></c></row>',
                                                           1_000, SHEET_TAIL)})


CASES = [
    # zips
    Hostile("bad-crc.zip", "manhole", "CRC", _zip_bad_crc),
    Hostile("encrypted.zip", "manhole", "encrypted", _zip_encrypted),
    Hostile("garbage-shp.zip", "manhole", "Not a readable Shapefile", _shp_garbage),
    Hostile("unknown-cpg.zip", "manhole", "KLINGON-42",
            lambda: zipped(shapefile([(LON, LAT)], ["M-1"], cpg=b"KLINGON-42"))),
    Hostile("huge-coords.zip", "manhole", "not finite numbers",
            lambda: zipped(shapefile([(1e308, -1e308)], ["M-1"]))),
    Hostile("nan-coords-no-prj.zip", "manhole", "not finite numbers",
            lambda: zipped(shapefile([(float("nan"), 5.0)], ["M-1"], prj=None))),
    # GeoPackages
    Hostile("text-coordsys.gpkg", "manhole", "is not an EPSG number",
            lambda: geopackage([(gp_point(LON, LAT), "M-1")], org_id="abc")),
    Hostile("text-geometry.gpkg", "manhole", "Feature 1 geometry: not a GeoPackage geometry blob",
            lambda: geopackage([("POINT(139.8 35.8)", "M-1")])),
    Hostile("integer-geometry.gpkg", "manhole", "Feature 2 geometry: not a GeoPackage geometry blob",
            lambda: geopackage([(gp_point(LON, LAT), "M-1"), (12345, "M-2")])),
    Hostile("truncated-geometry.gpkg", "manhole", "Feature 1 geometry: unreadable geometry",
            lambda: geopackage([(gp_point(LON, LAT)[:-9], "M-1")])),
    Hostile("header-only-geometry.gpkg", "manhole", "damaged or truncated",
            lambda: geopackage([(gp_point(LON, LAT)[:8], "M-1")])),
    Hostile("huge-coords.gpkg", "manhole", "not finite numbers",
            lambda: geopackage([(gp_point(float("inf"), LAT), "M-1")])),
    Hostile("missing-geometry-column.gpkg", "manhole", "has no geometry column",
            lambda: geopackage(table_sql='CREATE TABLE mh (fid INTEGER PRIMARY KEY, "施設番号" TEXT, geom2 BLOB)',
                               extra_sql=["INSERT INTO mh (\"施設番号\") VALUES ('M-1')"])),
    Hostile("generated-column.gpkg", "manhole", "generated columns",
            lambda: geopackage([(gp_point(LON, LAT), "M-1")], table_sql=(
                'CREATE TABLE mh (fid INTEGER PRIMARY KEY, geom BLOB, "施設番号" TEXT, '
                "pad BLOB GENERATED ALWAYS AS (zeroblob(400000000)) VIRTUAL)"))),
    Hostile("recursive-view.gpkg", "manhole", "only tables are read, never views",
            lambda: geopackage(table_sql=RECURSIVE_VIEW), heavy=True),
    # GeoJSON
    Hostile("deep.geojson", "manhole", "nested too deeply", _geojson_deep, heavy=True),
    Hostile("array.geojson", "manhole", "the file holds a JSON list", _geojson([feature([LON, LAT])])),
    Hostile("feature-int.geojson", "manhole", "Feature 1: not a GeoJSON Feature object",
            _geojson({"type": "FeatureCollection", "features": [1]})),
    Hostile("crs-string.geojson", "manhole", 'GeoJSON "crs" must be',
            _geojson({"type": "FeatureCollection", "crs": "EPSG:6668", "features": [feature([LON, LAT])]})),
    Hostile("properties-list.geojson", "manhole", 'Feature 2: "properties" must be an object',
            _geojson({"type": "FeatureCollection", "features": [feature([LON, LAT]),
                                                                {"type": "Feature", "properties": [1]}]})),
    Hostile("nan-coords.geojson", "manhole", "Feature 1: unreadable geometry",
            lambda: b'{"type": "Feature", "properties": {"a": 1}, "geometry": {"type": "Point", '
                    b'"coordinates": [NaN, 35.8]}}'),
    Hostile("huge-coords.geojson", "manhole", "not finite numbers",
            _geojson({"type": "FeatureCollection", "features": [feature([1e308, 35.8])]})),
    Hostile("many-objects.geojson", "manhole", "objects and", _geojson_many_objects, heavy=True),
    # CSV
    Hostile("long-cell.csv", "manhole", "Line 2: not readable as CSV (field larger than field limit", _csv_long_cell),
    Hostile("nul.csv", "manhole", "Line 2: the file holds NUL bytes",
            lambda: (CSV_HEADER + f"M-\x001,2.5,{LON},{LAT}\r\n").encode()),
    Hostile("utf16.csv", "manhole", "NUL bytes", lambda: CSV_HEADER.encode("utf-16-le")),
    Hostile("blank-lines.csv", "manhole", "lines; at most", lambda: b"\r\n" * (24 * 2**20), heavy=True),
    Hostile("wide-row.csv", "manhole", "columns; at most", lambda: CSV_HEADER.encode() + b"M-1" + b"," * 6_000_000,
            heavy=True),
    # xlsx
    Hostile("shared-strings-3e7.xlsx", "manhole", "unpacks to", _xlsx_shared_strings(30_000_000), heavy=True),
    Hostile("shared-strings-6e6.xlsx", "manhole", "shared strings table holds more than",
            _xlsx_shared_strings(6_000_000), heavy=True),
    Hostile("rows-5e6.xlsx", "manhole", "rows holds more than", _xlsx_rows, heavy=True),
    Hostile("wide.xlsx", "manhole", "Row 1 has 16384 columns", _xlsx_wide),
    Hostile("dimension.xlsx", "manhole", "geometry: missing", lambda: _xlsx_with({}, dimension="A1:XFD1048576")),
]
