import pytest
from django.contrib.gis.geos import LineString, Point
from django.core.exceptions import ValidationError

from assets.history import Actor
from assets.models import Via
from assets.services import asset_create

DETAIL = {"manhole_type": "1号"}

# 八潮市役所 (139.839 E, 35.822 N) in JGD2011 plane zone IX (origin 139°50′E, 36°N), worked out by hand:
# northing X ≈ (35.822 − 36) × 110,950 m ≈ −19,749 m; easting Y ≈ 0.00567° × cos 35.91° × 111,320 m ≈ 511 m.
NORTHING, EASTING = -19749.0, 511.0


def manhole(world, geom):
    return asset_create(actor=Actor.system(Via.SYSTEM), owner=world.yashio, kind="manhole", geom=geom,
                        detail=DETAIL)


def test_it_stores_lon_lat_in_jgd2011(world):
    a = manhole(world, Point(139.839, 35.822, srid=6668))
    a.refresh_from_db()
    assert a.geom.srid == 6668
    assert (round(a.geom.x, 6), round(a.geom.y, 6)) == (139.839, 35.822)
    assert a.source_srid == 6668


def test_it_transforms_plane_rectangular_coordinates_with_easting_as_x(world):
    a = manhole(world, Point(EASTING, NORTHING, srid=6677))
    a.refresh_from_db()
    assert a.geom.srid == 6668
    assert a.geom.x == pytest.approx(139.839, abs=2e-4)
    assert a.geom.y == pytest.approx(35.822, abs=2e-4)
    assert a.source_srid == 6677


def test_it_rejects_swapped_plane_axes_with_a_hint(world):
    with pytest.raises(ValidationError) as exc:
        manhole(world, Point(NORTHING, EASTING, srid=6677))
    assert "X is northing" in exc.value.message_dict["geom"][0]


def test_it_rejects_swapped_lat_lon(world):
    with pytest.raises(ValidationError) as exc:
        manhole(world, Point(35.822, 139.839, srid=6668))
    assert "swapped" in exc.value.message_dict["geom"][0]


def test_it_accepts_wgs84_and_converts(world):
    a = manhole(world, Point(139.839, 35.822, srid=4326))
    assert a.geom.srid == 6668 and a.source_srid == 4326


def test_it_rejects_a_geometry_without_srid(world):
    with pytest.raises(ValidationError) as exc:
        manhole(world, Point(139.839, 35.822))
    assert "SRID" in exc.value.message_dict["geom"][0]


def test_it_rejects_a_geometry_type_the_kind_does_not_allow(world):
    with pytest.raises(ValidationError) as exc:
        manhole(world, LineString((139.839, 35.822), (139.84, 35.823), srid=6668))
    assert "allowed: Point" in exc.value.message_dict["geom"][0]


def test_a_rejected_geometry_leaves_nothing_stored(world):
    from assets.models import Asset, AssetSerial

    with pytest.raises(ValidationError):
        manhole(world, Point(35.822, 139.839, srid=6668))
    assert Asset.objects.count() == 0
    assert AssetSerial.objects.count() == 0
