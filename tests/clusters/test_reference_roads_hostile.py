"""Hostile files for `load_reference_roads`: a bad file is refused with the feature it stumbled on, or its
unreadable features are skipped and counted, and the roads already stored stay as they were (developers' guide:
bad input never changes stored data)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from clusters.models import ReferenceRoad


def feature(coords, kind="LineString", **props):
    geom = None if coords is None else {"type": kind, "coordinates": coords}
    return {"type": "Feature", "properties": {"cls": "国道", "n": "R4", **props}, "geometry": geom}


def write(tmp_path, features, name="roads.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return str(path)


GOOD = feature([[139.80, 35.80], [139.81, 35.81]])


@pytest.fixture
def stored(db, tmp_path):
    call_command("load_reference_roads", write(tmp_path, [GOOD, GOOD], "first.geojson"), "--source", "src",
                 "--class-field", "cls", verbosity=0)
    assert ReferenceRoad.objects.filter(source="src").count() == 2


def load(path, *extra):
    with translation.override("en"):
        call_command("load_reference_roads", path, "--source", "src", "--class-field", "cls", *extra, verbosity=0)


def test_null_point_and_polygon_features_are_skipped_and_counted(stored, tmp_path, capsys):
    path = write(tmp_path, [GOOD, feature(None), feature([139.8, 35.8], "Point"),
                            feature([[[139.8, 35.8], [139.9, 35.8], [139.9, 35.9], [139.8, 35.8]]], "Polygon")])
    with translation.override("en"):
        call_command("load_reference_roads", path, "--source", "src", "--class-field", "cls")
    assert "3 features without a line skipped" in capsys.readouterr().out
    assert ReferenceRoad.objects.filter(source="src").count() == 1


def test_coordinates_outside_japan_name_the_feature_and_keep_the_stored_roads(stored, tmp_path):
    # A plane-zone file (metres) declared as degrees: GDAL reads it, but no road of a Japanese registry lies there.
    path = write(tmp_path, [GOOD, GOOD, feature([[-8000.0, 12000.0], [-7990.0, 12010.0]])])
    with pytest.raises(CommandError, match=r"Feature 3 lies outside Japan.*--srid"):
        load(path)
    assert ReferenceRoad.objects.filter(source="src").count() == 2


def test_an_empty_or_lineless_file_does_not_wipe_the_source(stored, tmp_path):
    for features in ([], [feature(None), feature([139.8, 35.8], "Point")]):
        with pytest.raises(CommandError, match="holds no road lines.*kept as they were"), translation.override("en"):
            call_command("load_reference_roads", write(tmp_path, features), "--source", "src", verbosity=0)
    assert ReferenceRoad.objects.filter(source="src").count() == 2


@pytest.mark.parametrize("content", [b"garbage", b"\x00\xff" * 50, b'{"type": "FeatureCollection"'])
def test_unreadable_files_are_refused_with_their_path(stored, tmp_path, content):
    path = tmp_path / "bad.geojson"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="bad.geojson"):
        load(str(path))
    assert ReferenceRoad.objects.filter(source="src").count() == 2


def test_bad_arguments_are_refused_before_anything_is_replaced(stored, tmp_path):
    path = write(tmp_path, [GOOD])
    cases = [(["--layer", "7"], "Index out of range"), (["--source-date", "R6.3.31"], "YYYY-MM-DD"),
             (["--class-map", "1"], "write code=class")]
    for extra, message in cases:
        with pytest.raises(CommandError, match=message):
            load(path, *extra)
    with pytest.raises(CommandError, match="at most 200 characters"), translation.override("en"):
        call_command("load_reference_roads", path, "--source", "x" * 300, verbosity=0)
    with pytest.raises(CommandError, match="needs its source"), translation.override("en"):
        call_command("load_reference_roads", path, "--source", "  ", verbosity=0)
    assert ReferenceRoad.objects.filter(source="src").count() == 2


def test_a_file_without_a_coordinate_system_needs_srid(stored, tmp_path):
    """A Shapefile without .prj states no coordinate system: the loader asks for --srid rather than guess."""
    import shutil
    import subprocess

    if not shutil.which("ogr2ogr"):
        pytest.skip("ogr2ogr (GDAL tools) is not installed")
    shp = tmp_path / "roads.shp"
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(shp), write(tmp_path, [GOOD])], check=True)
    (tmp_path / "roads.prj").unlink()
    with pytest.raises(CommandError, match="no coordinate system"):
        load(str(shp))
    load(str(shp), "--srid", "6668")
    assert ReferenceRoad.objects.filter(source="src").count() == 1
