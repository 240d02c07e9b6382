"""Ledger files to rows: CSV (UTF-8, UTF-8 with BOM, CP932), Excel, GeoJSON, GeoPackage, zipped Shapefile.

Safety: coordinate systems are accepted only from an allow-list of EPSG codes, recognised by name or code
without ever handing a file's WKT or PROJ text to GDAL (before 3.9 it cannot stop such text from reading
files or the network); GeoPackages are read with sqlite3 and their geometry blobs decoded here; zip files are
checked for path traversal, links, encryption and decompression bombs before anything is extracted.

Hostile files: every reader bounds what it keeps (records, cells, columns, characters per cell) and refuses
a file as soon as a bound is passed; sizes that only show after decompression (xlsx shared strings and rows,
zip members, GeoJSON containers) are counted on the raw bytes BEFORE any parser builds objects. GeoPackages
are read from base tables only (never a view, a virtual table or a generated column, so no SQL from the file
runs), with a row limit and a time limit. Every coordinate a GIS file brings is checked to be finite and
plausible before the geometry goes further."""

import csv
import io
import json
import logging
import re
import sqlite3
import stat
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from assets.geometry import PLANE_LIMIT_M, coordinate_limit, from_geojson
from core.text import text_encoding

log = logging.getLogger(__name__)

# JGD2011 and JGD2000 lon/lat and plane rectangular zones, and WGS 84.
ALLOWED_SRIDS = {4326, 6668, 4612, *range(6669, 6688), *range(2443, 2462)}
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
MAX_ZIP_RATIO = 100
MAX_ZIP_ENTRIES = 50
# Bounds on what one file may bring (README, "Ledger sync"): with them an import stays under 1 GB of memory.
MAX_RECORDS = 200_000  # data rows, features or API records: checked by _check_records only
MAX_LINES = 1_000_000  # CSV lines and xlsx rows, blank ones included
MAX_CELLS = 3_000_000  # non-blank cells (xlsx: cells and shared strings)
MAX_COLUMNS = 1_000
MAX_CELL_CHARS = 1_048_576  # one cell (e.g. the WKT of a long pipe); Python's csv stops at 131,072 by default
MAX_XLSX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_JSON_OBJECTS = 1_000_000  # '{' in a GeoJSON file
MAX_JSON_ARRAYS = 4_000_000  # '['
# The stated time bound for reading a file: 10 s + 1 s per MB (GeoPackage queries are interrupted at it).
READ_SECONDS, READ_SECONDS_PER_MB = 10, 1

# Raised once for the process: the limit is global in the csv module; every cell is checked against the bound.
csv.field_size_limit(MAX_CELL_CHARS)


@dataclass
class Table:
    rows: list[list[str]]  # every row as read, header and title rows included
    lines: list[int]  # the line (or sheet row, or feature number) each row starts on
    geoms: list[bytes | None] | None = None  # WKB per row (GIS files), aligned with rows
    srid: int | None = None
    fmt: str = ""
    encoding: str = ""
    header_fixed: bool = False  # GIS files: row 0 is the attribute names
    # Set by the readers here: every cell is text, and (`no_blank_rows`) blank rows were dropped while reading
    # (GIS files keep them, aligned with their geometries), so the importer need not look at each again.
    text_cells: bool = False
    no_blank_rows: bool = False
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


def _refuse(message: str, **params) -> ValidationError:
    return ValidationError({"file": _(message) % params if params else _(message)})


def _where(unit: str, n: int) -> str:
    """How a row is named in messages: a line (CSV), a row (of a sheet), a feature (GIS) or a record (API)."""
    return {"line": _("Line %d"), "row": _("Row %d"), "feature": _("Feature %d"), "record": _("Record %d")}[unit] % n


def _check_records(count: int, where) -> None:
    """The one bound on records per file or API batch (MAX_RECORDS), applied where the count is first known:
    rows as they are read (`_Rows`), and GeoJSON features, a Shapefile layer, a GeoPackage query or an API
    batch before any of their geometries is built. `where()` names the place for the message."""
    if count > MAX_RECORDS:
        raise ValidationError({"file": _("%(where)s: the file holds more than %(max)s records; split it")
                               % {"where": where(), "max": f"{MAX_RECORDS:,}"}})


class _Rows:
    """Rows as read, with the bounds on records, columns, cells and cell length enforced while reading; blank
    rows are not kept (the line numbers of the kept ones are)."""

    def __init__(self, unit: str):
        self.rows: list[list[str]] = []
        self.lines: list[int] = []
        self.cells = 0
        self.unit = unit  # how a row is named in messages: line, row (of a sheet), feature

    def where(self, line: int) -> str:
        return _where(self.unit, line)

    def add(self, row: list[str], line: int, keep_blank: bool = False) -> None:
        joined = "".join(row)
        if not keep_blank and not joined.strip():
            return
        # The usual row passes every bound: tested whole, in C calls; a row that fails one is looked at cell by
        # cell below, so the message names the column.
        if len(row) <= MAX_COLUMNS and (not row or max(map(len, row)) <= MAX_CELL_CHARS) and "\x00" not in joined:
            self._count(row, line)
            return
        if len(row) > MAX_COLUMNS:
            raise ValidationError({"file": _("%(where)s has %(n)d columns; at most %(max)d are accepted")
                                   % {"where": self.where(line), "n": len(row), "max": MAX_COLUMNS}})
        for col, cell in enumerate(row, start=1):
            if len(cell) > MAX_CELL_CHARS:
                raise ValidationError({"file": _("%(where)s, column %(col)d: the cell has %(n)s characters; at most "
                                                 "%(max)s are accepted") % {"where": self.where(line), "col": col,
                                                                             "n": f"{len(cell):,}",
                                                                             "max": f"{MAX_CELL_CHARS:,}"}})
            if "\x00" in cell:
                raise ValidationError({"file": _("%(where)s, column %(col)d: the cell holds a NUL character; ledger "
                                                 "files are text (UTF-8 or CP932)") % {"where": self.where(line),
                                                                                        "col": col}})
        self._count(row, line)

    def _count(self, row: list[str], line: int) -> None:
        self.cells += len(row)
        if self.cells > MAX_CELLS:
            raise ValidationError({"file": _("%(where)s: the file holds more than %(max)s cells; split it")
                                   % {"where": self.where(line), "max": f"{MAX_CELLS:,}"}})
        _check_records(len(self.rows), lambda: self.where(line))  # the header row comes on top of the records
        self.rows.append(row)
        self.lines.append(line)


def _csv(data: bytes) -> Table:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _refuse("Line %(line)d: the file holds NUL bytes; a ledger CSV is text in UTF-8 or CP932 (a UTF-16 or "
                      "binary file is not accepted)", line=data.count(b"\n", 0, nul) + 1)
    lines = data.count(b"\n") + 1
    if lines > MAX_LINES:
        raise _refuse("The file has %(n)s lines; at most %(max)s are accepted (blank lines included)",
                      n=f"{lines:,}", max=f"{MAX_LINES:,}")
    encoding = text_encoding(data)
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline=""))
    out = _Rows("line")
    rows, starts = out.rows, out.lines
    start = 1
    try:
        for row in reader:
            # The usual row, kept here without a call per row (a 100,000-line ledger): not blank, within every
            # bound (a CSV holds no NUL, refused above). Any other row goes through _Rows.add, which skips it
            # (blank) or refuses the file naming the line, column and bound.
            if ("".join(row).strip() and len(row) <= MAX_COLUMNS and max(map(len, row)) <= MAX_CELL_CHARS
                    and out.cells + len(row) <= MAX_CELLS and len(rows) <= MAX_RECORDS):
                out.cells += len(row)
                rows.append(row)
                starts.append(start)
            else:
                out.add(row, start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _refuse("Line %(line)d: not readable as CSV (%(err)s); a cell may hold at most %(max)s characters",
                      line=start, err=exc, max=f"{MAX_CELL_CHARS:,}") from None
    return Table(out.rows, out.lines, fmt="csv", encoding=encoding, text_cells=True, no_blank_rows=True)


def _zip_read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> bytes:
    """A member's bytes; a damaged or encrypted member is a ValidationError naming it, never a crash."""
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError) as exc:
        raise ValidationError({"file": _("%(what)s: %(name)s cannot be read (%(err)s)")
                               % {"what": what, "name": info.filename, "err": exc}}) from None


def _open_zip(data: bytes, message: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise ValidationError({"file": message}) from None


def _check_encrypted(infos: list[zipfile.ZipInfo]) -> None:
    for info in infos:
        if info.flag_bits & 0x1:
            raise ValidationError({"file": _("%s is encrypted; upload the file without a password") % info.filename})


_XML_TAG = {name: re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?" + name + rb"[\s/>]") for name in (b"row", b"c", b"si")}


def _count_tags(zf: zipfile.ZipFile, info: zipfile.ZipInfo, tag: bytes, limit: int, what: str) -> int:
    """Occurrences of an XML element in a zip member, counted on a streaming read (no parser, no tree), stopping
    as soon as the limit is passed."""
    pattern, n, tail = _XML_TAG[tag], 0, b""
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                buf = tail + chunk
                # An element cut at the chunk boundary is counted in the next round (kept in `tail`).
                cut = max(0, len(buf) - 64)
                n += len(pattern.findall(buf, 0, cut))
                tail = buf[cut:]
                if n > limit:
                    raise ValidationError({"file": _("%(what)s holds more than %(max)s of them; split the file")
                                           % {"what": what, "max": f"{limit:,}"}})
            n += len(pattern.findall(tail))
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError) as exc:
        raise ValidationError({"file": _("%(name)s cannot be read (%(err)s)")
                               % {"name": info.filename, "err": exc}}) from None
    if n > limit:
        raise ValidationError({"file": _("%(what)s holds more than %(max)s of them; split the file")
                               % {"what": what, "max": f"{limit:,}"}})
    return n


def _xlsx_precheck(data: bytes) -> None:
    """Sizes openpyxl would only find out by building them: total unpacked size, shared strings (read whole),
    rows and cells of the sheets."""
    zf = _open_zip(data, _("Not a readable Excel (xlsx) file: it is not a zip package"))
    infos = zf.infolist()
    if len(infos) > 1000:
        raise _refuse("The Excel file holds %(n)d parts; at most %(max)d are accepted", n=len(infos), max=1000)
    _check_encrypted(infos)
    total = sum(i.file_size for i in infos)
    if total > MAX_XLSX_UNZIPPED_BYTES:
        raise _refuse("The Excel file unpacks to %(mb)d MB; at most %(max)d MB are accepted",
                      mb=total // 2**20, max=MAX_XLSX_UNZIPPED_BYTES // 2**20)
    rows = cells = 0
    for info in infos:
        name = info.filename.lower()
        if name.endswith("sharedstrings.xml"):
            _count_tags(zf, info, b"si", MAX_CELLS, _("The Excel file's shared strings table"))
        elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
            rows += _count_tags(zf, info, b"row", MAX_LINES - rows, _("The Excel file's rows"))
            cells += _count_tags(zf, info, b"c", MAX_CELLS - cells, _("The Excel file's cells"))


def _cell_text(v) -> str:
    if v is None:
        return ""
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    _xlsx_precheck(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise ValidationError({"file": _("Not a readable Excel (xlsx) file: %s") % exc}) from None
    if not wb.worksheets:
        raise _refuse("The Excel file has no worksheet")
    ws = wb.worksheets[0]
    # A declared dimension (e.g. A1:XFD1048576) would make openpyxl pad every row to it; ignore it.
    ws.reset_dimensions()
    out = _Rows("row")
    i = 0
    try:
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if i > MAX_LINES:
                raise _refuse("The sheet has more than %(max)s rows", max=f"{MAX_LINES:,}")
            cells = [_cell_text(v) for v in row]
            while cells and cells[-1] == "":
                cells.pop()
            out.add(cells, i)
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError({"file": _("Not a readable Excel (xlsx) file: row %(row)d: %(err)s")
                               % {"row": i + 1, "err": exc}}) from None
    finally:
        wb.close()
    return Table(out.rows, out.lines, fmt="xlsx", text_cells=True, no_blank_rows=True)


def far_out(geoms: np.ndarray, srid: int | None) -> np.ndarray:
    """The one coordinate check of ledger geometries (from a file or a WKT column), per geometry: True where a
    coordinate is not a finite number or lies beyond the reach of the CRS (`assets.geometry.coordinate_limit`;
    a CRS not known yet, as in a Shapefile without .prj, gets a plane zone's, the widest). Every coordinate is
    looked at, not the extent: GEOS has no extent for NaN. Missing and empty geometries pass."""
    limit = PLANE_LIMIT_M if srid is None else coordinate_limit(srid)
    out = np.zeros(len(geoms), dtype=bool)
    xy, index = shapely.get_coordinates(geoms, return_index=True)
    with np.errstate(invalid="ignore"):
        out[index[~(np.abs(xy) <= limit).all(axis=1)]] = True
    has_z = shapely.has_z(geoms)
    if has_z.any():
        xyz, zi = shapely.get_coordinates(geoms[has_z], include_z=True, return_index=True)
        out[np.flatnonzero(has_z)[zi[~np.isfinite(xyz[:, 2])]]] = True
    return out


def far_out_message(srid: int | None) -> str:
    limit = PLANE_LIMIT_M if srid is None else coordinate_limit(srid)
    return _("The geometry has coordinates that are not finite numbers or far out of range (%(lo)s … %(hi)s)") % {
        "lo": f"{-limit:,g}", "hi": f"{limit:,g}"}


def _geometry_ok(wkb: bytes | memoryview, srid: int | None, where: str) -> bytes:
    """Decoded and checked WKB: readable, and every coordinate finite and plausible for its CRS (`far_out`)."""
    try:
        shape = shapely.from_wkb(bytes(wkb))
    except Exception as exc:
        raise ValidationError({"file": _("%(where)s: unreadable geometry (%(err)s)") % {"where": where, "err": exc}}) \
            from None
    if far_out(np.array([shape]), srid)[0]:
        raise ValidationError({where: far_out_message(srid)})
    return shapely.to_wkb(shape)


def _geojson_geometry(value, srid: int, n: int) -> bytes:
    """A feature's geometry: its shape and every number checked (`assets.geometry.from_geojson`) before GEOS
    builds anything from it."""
    try:
        return bytes(from_geojson(value, field="geometry", srid=srid).wkb)
    except ValidationError as exc:
        raise ValidationError({"file": _("Feature %(n)d: unreadable geometry (%(err)s)")
                               % {"n": n, "err": " ".join(exc.messages)}}) from None


def _features(props: list[dict], geoms: list[bytes | None], srid: int | None, fmt: str,
              unit: str = "feature") -> Table:
    """Features (or API records) as rows: the property names as the header, one row per feature, kept under
    the same bounds as the rows of a CSV file."""
    names: list[str] = []
    seen: set[str] = set()
    for p in props:
        for k in p:
            if k not in seen:
                seen.add(k)
                names.append(k)
                if len(names) > MAX_COLUMNS:
                    raise _refuse("The features have more than %(max)d different properties", max=MAX_COLUMNS)
    out = _Rows(unit)
    out.add([str(k) for k in names], 0, keep_blank=True)
    for n, p in enumerate(props, start=1):  # blank features are kept: rows stay aligned with geometries
        out.add(["" if p.get(k) is None else str(p.get(k)) for k in names], n, keep_blank=True)
    return Table(out.rows, out.lines, [None, *geoms], srid, fmt, header_fixed=True, text_cells=True)


def _geojson(data: bytes) -> Table:
    objects, arrays = data.count(b"{"), data.count(b"[")
    if objects > MAX_JSON_OBJECTS or arrays > MAX_JSON_ARRAYS:
        raise _refuse("The GeoJSON file holds %(o)s objects and %(a)s arrays; at most %(mo)s and %(ma)s are accepted",
                      o=f"{objects:,}", a=f"{arrays:,}", mo=f"{MAX_JSON_OBJECTS:,}", ma=f"{MAX_JSON_ARRAYS:,}")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError({"file": _("Not a readable GeoJSON file: %s") % exc}) from None
    except RecursionError:
        raise _refuse("Not a readable GeoJSON file: it is nested too deeply") from None
    if not isinstance(doc, dict):
        raise _refuse("Not a GeoJSON FeatureCollection or Feature: the file holds a JSON %(type)s",
                      type=type(doc).__name__)
    srid = 4326  # RFC 7946
    crs = doc.get("crs")
    if crs is not None:
        name = crs.get("properties", {}).get("name", "") if isinstance(crs, dict) else None
        if not isinstance(name, str):
            raise ValidationError({"crs": _('The GeoJSON "crs" must be {"type": "name", "properties": {"name": '
                                            '"urn:ogc:def:crs:EPSG::6668"}}')})
        if name:
            m = re.search(r"EPSG:{1,2}(\d+)$", name) or re.search(r"CRS84$", name)
            srid = check_srid(int(m.group(1)) if m and m.groups() else (4326 if m else None), "GeoJSON crs")
    feats = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    if feats is None:
        feats = []
    if not isinstance(feats, list):
        raise _refuse('The GeoJSON "features" must be a list')
    _check_records(len(feats), lambda: _where("feature", MAX_RECORDS + 1))
    props, geoms = [], []
    for n, f in enumerate(feats, start=1):
        if not isinstance(f, dict):
            raise _refuse("Feature %(n)d: not a GeoJSON Feature object", n=n)
        p, g = f.get("properties"), f.get("geometry")
        if p is not None and not isinstance(p, dict):
            raise _refuse('Feature %(n)d: "properties" must be an object', n=n)
        if g is not None and not isinstance(g, dict):
            raise _refuse('Feature %(n)d: "geometry" must be a GeoJSON geometry object', n=n)
        props.append(p or {})
        geoms.append(_geojson_geometry(g, srid, n) if g else None)
    return _features(props, geoms, srid, "geojson")


def _gpkg_wkb(blob, n: int, srid: int) -> bytes | None:
    """GeoPackage geometry blob → WKB: 'GP', version, flags (envelope size in bits 1–3), srs id, envelope."""
    if blob is None:
        return None
    where = _("Feature %d geometry") % n
    if not isinstance(blob, bytes) or len(blob) < 8 or blob[:2] != b"GP":
        raise ValidationError({"file": _("%(where)s: not a GeoPackage geometry blob") % {"where": where}})
    flags = blob[3]
    if flags & 0b10000:  # empty geometry
        return None
    env = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((flags >> 1) & 0b111)
    if env is None or len(blob) <= 8 + env:
        raise ValidationError({"file": _("%(where)s: the GeoPackage geometry blob is damaged or truncated")
                               % {"where": where}})
    return _geometry_ok(memoryview(blob)[8 + env:], srid, where)


def _gpkg(data: bytes) -> Table:
    """Read with sqlite3 from base tables only: a view, a virtual table or a generated column would run SQL
    the file brings (an endless recursive CTE, say), so such a file is refused before any row is read."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.gpkg"
        path.write_bytes(data)
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        except sqlite3.Error as exc:
            raise ValidationError({"file": _("Not a readable GeoPackage: %s") % exc}) from None
        seconds = READ_SECONDS + READ_SECONDS_PER_MB * len(data) / 2**20
        deadline = time.monotonic() + seconds
        con.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
        con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(MAX_CELL_CHARS * 4, len(data)))
        try:
            srid, names, records, column = _gpkg_read(con)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise _refuse("The GeoPackage took more than %(s)d s to read; refused", s=int(seconds)) from None
            raise ValidationError({"file": _("Not a readable GeoPackage: %s") % exc}) from None
        except sqlite3.Error as exc:
            raise ValidationError({"file": _("Not a readable GeoPackage: %s") % exc}) from None
        finally:
            con.close()
    gi = names.index(column)
    props = [{k: v for k, v in zip(names, r, strict=True) if k != column and k != "fid"} for r in records]
    return _features(props, [_gpkg_wkb(r[gi], n, srid) for n, r in enumerate(records, start=1)], srid, "gpkg")


def _gpkg_read(con: sqlite3.Connection) -> tuple[int, list[str], list[tuple], str]:
    schema = {name: (typ, sql or "") for name, typ, sql in con.execute("SELECT name, type, sql FROM sqlite_master")}

    def base_table(name) -> None:
        typ, sql = schema.get(name, ("", ""))
        if typ != "table" or re.match(r"\s*CREATE\s+VIRTUAL\b", sql, re.I):
            raise ValidationError({"file": _("The GeoPackage's %(name)s is not a table (%(type)s); only tables are "
                                             "read, never views") % {"name": name, "type": typ or _("missing")}})
        generated = [c for c, hidden in con.execute("SELECT name, hidden FROM pragma_table_xinfo(?)", [name])
                     if hidden in (2, 3)]
        if generated:
            raise ValidationError({"file": _("The GeoPackage's table %(name)s has generated columns (%(cols)s); "
                                             "they are not read") % {"name": name, "cols": ", ".join(generated)}})

    for name in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_spatial_ref_sys"):
        base_table(name)
    found = con.execute(
        "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c "
        "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name WHERE c.data_type = 'features' "
        "ORDER BY c.table_name LIMIT 1").fetchone()
    if not found:
        raise _refuse("The GeoPackage has no feature table")
    table, column, srs = found
    if not isinstance(table, str) or not isinstance(column, str):
        raise _refuse("The GeoPackage's gpkg_geometry_columns is damaged")
    base_table(table)
    org = con.execute("SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys "
                      "WHERE srs_id = ?", [srs]).fetchone()
    code = None
    if org and str(org[0]).upper() == "EPSG":
        try:
            code = int(str(org[1]).strip())
        except ValueError:
            raise ValidationError({"crs": _("The GeoPackage's organization_coordsys_id %r is not an EPSG number")
                                   % str(org[1])[:40]}) from None
    srid = check_srid(code, "GeoPackage")
    quoted = '"' + table.replace('"', '""') + '"'
    cur = con.execute(f"SELECT * FROM {quoted} LIMIT {MAX_RECORDS + 1}")
    names = [d[0] for d in cur.description]
    if column not in names:
        raise _refuse("The GeoPackage's table %(table)s has no geometry column %(column)s", table=table[:80],
                      column=column[:80])
    if len(names) > MAX_COLUMNS:
        raise _refuse("The GeoPackage's table has %(n)d columns; at most %(max)d are accepted", n=len(names),
                      max=MAX_COLUMNS)
    records = cur.fetchall()
    _check_records(len(records), lambda: _where("feature", MAX_RECORDS + 1))
    return srid, names, records, column


def _safe_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise ValidationError({"file": _("The zip file holds %d entries; at most %d are accepted")
                               % (len(infos), MAX_ZIP_ENTRIES)})
    _check_encrypted(infos)
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


# What .cpg files say, as Python codec names.
CPG_NAMES = {"utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "cp932": "cp932", "932": "cp932",
             "ansi 932": "cp932", "sjis": "cp932", "shift_jis": "cp932", "shift-jis": "cp932", "ms932": "cp932",
             "windows-31j": "cp932", "euc-jp": "euc_jp", "eucjp": "euc_jp", "20932": "euc_jp", "51932": "euc_jp",
             "iso-8859-1": "latin-1", "latin1": "latin-1", "1252": "cp1252", "ansi 1252": "cp1252",
             "ascii": "ascii", "us-ascii": "ascii"}


def _cpg_encoding(raw: bytes) -> str:
    text = raw.decode("ascii", "ignore").strip()
    if not text:
        return ""
    enc = CPG_NAMES.get(text.lower())
    if enc is None:
        raise ValidationError({"file": _("The .cpg names the encoding %(enc)r, which is not known; allowed: UTF-8, "
                                         "CP932 (Shift_JIS, 932), EUC-JP") % {"enc": text[:40]}})
    return enc


def _shapefile(data: bytes) -> Table:
    from django.contrib.gis.gdal import DataSource

    zf = _open_zip(data, _("Not a zip file; a Shapefile is uploaded as a .zip of .shp, .shx, .dbf (and .prj)"))
    infos = _safe_members(zf)
    by_ext = {Path(i.filename).suffix.lower(): i for i in infos if not i.is_dir()}
    missing = [e for e in (".shp", ".shx", ".dbf") if e not in by_ext]
    if missing:
        raise ValidationError({"file": _("The zip file lacks %s") % ", ".join(missing)})
    prj = _zip_read(zf, by_ext[".prj"], "Shapefile").decode("latin-1") if ".prj" in by_ext else ""
    srid = _prj_srid(prj) if prj else None
    if prj and srid is None:
        raise ValidationError({"crs": _("The .prj names a coordinate system that is not accepted; allowed: JGD2011 "
                                        "lon/lat or plane zones I–XIX, JGD2000, WGS 84")})
    encoding = _cpg_encoding(_zip_read(zf, by_ext[".cpg"], "Shapefile")) if ".cpg" in by_ext else ""
    with tempfile.TemporaryDirectory() as tmp:
        for ext in (".shp", ".shx", ".dbf"):  # never the .prj: GDAL must not parse it
            (Path(tmp) / f"ledger{ext}").write_bytes(_zip_read(zf, by_ext[ext], "Shapefile"))
        props, geoms = [], []
        for enc in ([encoding] if encoding else ["utf-8", "cp932"]):
            try:
                props, geoms = _shp_features(DataSource(str(Path(tmp) / "ledger.shp"), encoding=enc), srid)
                break
            except UnicodeDecodeError:
                if encoding:
                    raise ValidationError({"file": _("The .dbf is not in the encoding its .cpg names (%s)")
                                           % encoding}) from None
                continue
            except ValidationError:
                raise
            except Exception as exc:  # GDAL raises GDALException and others on damaged files
                raise ValidationError({"file": _("Not a readable Shapefile: %s") % exc}) from None
    table = _features(props, geoms, srid, "shapefile")
    if srid is None:
        table.warnings.append(_("The Shapefile has no .prj; give its EPSG code (srid)"))
    return table


def _shp_features(ds, srid: int | None) -> tuple[list[dict], list[bytes | None]]:
    layer = ds[0]
    _check_records(len(layer), lambda: _where("feature", MAX_RECORDS + 1))  # the layer yields len(layer) features
    names = layer.fields
    props, geoms = [], []
    for n, feat in enumerate(layer, start=1):
        props.append({name: feat[i].value for i, name in enumerate(names)})
        g = feat.geom
        geoms.append(_geometry_ok(bytes(g.wkb), srid, _("Feature %d geometry") % n) if g is not None else None)
    return props, geoms


def records_table(records: list[dict]) -> Table:
    """API records ({field or ledger header: value, "geometry": GeoJSON in lon/lat}) as a table, under the bounds
    of a file: records, columns, cells, characters per cell, no NUL."""
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise ValidationError({"records": _("A non-empty list of objects is required")})
    _check_records(len(records), lambda: _where("record", MAX_RECORDS + 1))
    geoms = []
    for n, r in enumerate(records, start=1):
        g = r.get("geometry")
        try:
            # Shape and every number checked before GEOS sees them (an extreme value can abort GEOS).
            geoms.append(bytes(from_geojson(g).wkb) if g else None)
        except ValidationError as exc:
            raise ValidationError({"records": _("Record %(n)d geometry: %(err)s")
                                   % {"n": n, "err": " ".join(exc.messages)}}) from None
    try:
        table = _features([{k: v for k, v in r.items() if k != "geometry"} for r in records], geoms, 6668, "json",
                          unit="record")
    except ValidationError as exc:
        raise ValidationError({"records": exc.messages}) from None
    if all(g is None for g in geoms):  # the places come from columns (lon/lat, X/Y, WKT)
        table.geoms, table.srid = None, None
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
    try:
        return readers[ext](data)
    except ValidationError:
        raise
    except (RecursionError, MemoryError):
        raise _refuse("The file is too complex to read (nesting or size)") from None
    except Exception as exc:
        # The parsers of hostile bytes (GDAL, openpyxl, sqlite) raise many kinds of errors; each known one is
        # named above, and anything else is still the file's fault, not a server error. Logged to be named later.
        log.exception("unexpected error reading ledger file %r", filename[:100])
        raise ValidationError({"file": _("Not a readable %(ext)s file (%(err)s)")
                               % {"ext": ext, "err": type(exc).__name__}}) from None
