"""What the readers guarantee the importer, so that the importer checks nothing twice: no NUL in any cell of any
table (the importer has no NUL check of its own), one bound on records (MAX_RECORDS, one check), GeoJSON checked
before GEOS sees it, coordinates checked by one rule, numeric ranges taken from the model fields."""

import io
import json
import subprocess
import zipfile

import numpy as np
import pytest
import shapely
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from openpyxl import Workbook

import assets.geometry
from assets.history import Actor
from assets.models import Asset, Via
from ledger import readers
from ledger.fields import DOMAIN_RANGE, bounds, fields_for
from ledger.importer import import_ledger
from ledger.readers import far_out, read_table, records_table
from tests.ledger.hostile import LAT, LON, geopackage, gp_point, shapefile, zipped

POINT = {"type": "Point", "coordinates": [LON, LAT]}


def features(n: int, geometry=POINT, **props) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"施設番号": f"M-{k}", **props}, "geometry": geometry}
        for k in range(n)]}).encode()


def xlsx(rows) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def refused(read, *args) -> str:
    with pytest.raises(ValidationError) as exc:
        read(*args)
    return " ".join(exc.value.messages)


# ---- NUL: refused by every reader, so the importer never sees one ---------------------------------------------
@pytest.mark.parametrize("name, data", [
    ("nul.csv", "マンホール番号,名称\nM-1,a\x00b\n".encode()),
    ("nul-value.geojson", features(1, 名称="a\x00b")),
    ("nul-name.geojson", json.dumps({"type": "Feature", "properties": {"名\x00称": "x"}, "geometry": POINT}).encode()),
    ("nul.gpkg", geopackage([(gp_point(LON, LAT), "M-\x001")])),
])
def test_every_reader_refuses_a_nul_before_the_importer_sees_it(name, data):
    assert "NUL" in refused(read_table, data, name)


def test_api_records_are_held_to_the_readers_bounds_even_without_the_middleware():
    message = refused(records_table, [{"マンホール番号": "M-1", "名称": "a\x00b", "geometry": POINT}])
    assert "Record 1, column 2: the cell holds a NUL character" in message
    with pytest.raises(ValidationError) as exc:
        records_table([{"マンホール番号": "M-1", "x" * 10: "y" * (readers.MAX_CELL_CHARS + 1)}])
    assert list(exc.value.message_dict) == ["records"]


def test_api_records_read_as_before():
    table = records_table([{"マンホール番号": "M-1", "名称": None, "geometry": POINT},
                           {"マンホール番号": "M-2", "深さ": 2.5}])
    assert table.rows == [["マンホール番号", "名称", "深さ"], ["M-1", "", ""], ["M-2", "", "2.5"]]
    assert table.lines == [0, 1, 2] and table.srid == 6668 and table.header_fixed and table.fmt == "json"
    assert table.geoms[0] is None and table.geoms[2] is None and shapely.from_wkb(table.geoms[1]).x == LON
    by_columns = records_table([{"マンホール番号": "M-1", "経度": LON, "緯度": LAT}])
    assert by_columns.geoms is None and by_columns.srid is None  # the places come from the columns


# ---- one bound on records ----------------------------------------------------------------------------------
@pytest.fixture
def three(monkeypatch):
    """MAX_RECORDS is one constant read by one check: lowering it lowers the bound of every reader."""
    monkeypatch.setattr(readers, "MAX_RECORDS", 3)
    built = []
    real = readers.from_geojson
    monkeypatch.setattr(readers, "from_geojson", lambda *a, **kw: built.append(1) or real(*a, **kw))
    return built


@pytest.mark.parametrize("name, build", [
    ("x.csv", lambda n: "\n".join(["マンホール番号,経度,緯度"] + [f"M-{k},{LON},{LAT}" for k in range(n)]).encode()),
    ("x.xlsx", lambda n: xlsx([["マンホール番号", "経度", "緯度"]] + [[f"M-{k}", LON, LAT] for k in range(n)])),
    ("x.geojson", features),
    ("x.gpkg", lambda n: geopackage([(gp_point(LON, LAT), f"M-{k}") for k in range(n)])),
    ("x.zip", lambda n: zipped(shapefile([(LON, LAT)] * n, [f"M-{k}" for k in range(n)]))),
])
def test_every_reader_keeps_to_the_one_record_bound(three, name, build):
    assert len(read_table(build(3), name).rows) == 4  # the header and three records
    three.clear()
    assert "the file holds more than 3 records; split it" in refused(read_table, build(4), name)
    assert three == []  # refused before any GeoJSON geometry was built


def test_an_api_batch_keeps_to_the_one_record_bound(three):
    assert len(records_table([{"id": k, "geometry": POINT} for k in range(3)]).rows) == 4
    three.clear()
    message = refused(records_table, [{"id": k, "geometry": POINT} for k in range(4)])
    assert "Record 4: the file holds more than 3 records" in message and three == []


# ---- geometries ---------------------------------------------------------------------------------------------
def test_a_geojson_file_is_checked_before_geos_builds_anything(monkeypatch):
    built = []
    real = assets.geometry.GEOSGeometry
    monkeypatch.setattr(assets.geometry, "GEOSGeometry", lambda *a, **kw: built.append(a) or real(*a, **kw))
    for geometry in ({"type": "Point", "coordinates": [1e308, LAT]},
                     {"type": "LineString", "coordinates": [[LON, LAT], [LON, float("nan")]]},
                     {"type": "Point", "coordinates": [[LON, LAT]]},
                     {"type": "GeometryCollection", "geometries": []}):
        message = refused(read_table, features(1, geometry), "x.geojson")
        assert message.startswith("Feature 1: unreadable geometry (")
    assert built == []
    plane = json.loads(features(1, {"type": "Point", "coordinates": [514.0, -19750.0]}))
    plane["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6677"}}
    assert read_table(json.dumps(plane).encode(), "x.geojson").srid == 6677 and len(built) == 1
    plane["features"][0]["geometry"]["coordinates"] = [514.0, -4e6]
    assert "far out of range (-3000000" in refused(read_table, json.dumps(plane).encode(), "x.geojson")


@pytest.mark.filterwarnings("ignore:invalid value encountered in from_wkt")  # the NaN in the WKT, on purpose
def test_one_coordinate_rule_for_every_geometry():
    geoms = shapely.from_wkt(["POINT (139.8 35.8)", "LINESTRING (139.8 35.8, 139.9 NaN)", "POINT (400 35)",
                              "POINT Z (139.8 35.8 NaN)", "POINT EMPTY", None, "POINT (-19750 514)"])
    assert far_out(geoms, 6668).tolist() == [False, True, True, True, False, False, True]
    assert far_out(geoms, 6677).tolist() == [False, True, False, True, False, False, False]
    assert far_out(geoms, None).tolist() == [False, True, False, True, False, False, False]  # CRS not known yet
    assert far_out(np.array([], dtype=object), 6668).tolist() == []


def test_a_shapefile_whose_crs_comes_later_is_checked_against_it(world, tmp_path):
    src = tmp_path / "src.geojson"
    src.write_bytes(features(1, {"type": "Point", "coordinates": [1000.0, 1000.0]}, 人孔深="2.5"))
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-lco", "ENCODING=CP932", str(tmp_path / "mh.shp"), str(src)],
                   check=True, capture_output=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for ext in ("shp", "shx", "dbf", "cpg"):  # no .prj: the CRS is given with the upload
            zf.write(tmp_path / f"mh.{ext}", f"mh.{ext}")
    assert read_table(buf.getvalue(), "x.zip").srid is None  # plausible for a plane zone: the reader lets it by
    report = import_ledger(actor=Actor.system(Via.IMPORT), data=buf.getvalue(), filename="x.zip", kind="manhole",
                           municipality="112348", srid=6668)
    assert report.errors == ["Record 1 (line 1) geometry: The geometry has coordinates that are not finite numbers "
                             "or far out of range (-360 … 360)"]
    assert Asset.objects.count() == 0


# ---- ranges from the model fields ----------------------------------------------------------------------------
def test_integer_ranges_come_from_the_model_fields_validators(db):
    def field(cls, *validators):
        f = cls(validators=list(validators))
        f.set_attributes_from_name("not_in_domain_range")
        return f

    assert bounds(field(models.PositiveSmallIntegerField)) == (0, 32767)
    assert bounds(field(models.SmallIntegerField)) == (-32768, 32767)
    assert bounds(field(models.IntegerField, MaxValueValidator(10))) == (-2**31, 10)
    assert bounds(field(models.PositiveIntegerField, MinValueValidator(5), MaxValueValidator(lambda: 7))) == (5, 7)
    assert bounds(field(models.FloatField)) == (None, None)
    # A column's own range, narrowed by what makes sense for the attribute.
    span = fields_for("bridge")["detail.span_count"]
    assert (span.lo, span.hi) == DOMAIN_RANGE["span_count"]
