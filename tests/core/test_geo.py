"""The GeoFuncs write the same SQL answers the hand-written strings gave: same simplification, same precision,
and the short CRS member PostGIS adds by default for a geometry outside EPSG:4326."""

from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import MultiPolygon, Point
from django.db import connection

from assets.models import Municipality
from core.geo import X, Y, simplified_geojson


def test_orm_reads_match_the_raw_postgis_sql(db):
    # A round town: 256 vertices, so the ~30 m tolerance really drops some.
    round_town = MultiPolygon(Point(139.8123456, 35.8234567, srid=6668).buffer(0.01, quadsegs=64), srid=6668)
    Municipality.objects.create(code="112348", kind="city", name="八潮市", prefecture="埼玉県", boundary=round_town)
    with connection.cursor() as cur:
        cur.execute("SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary, 0.0003), 5), "
                    "ST_X(ST_PointOnSurface(boundary)), ST_Y(ST_PointOnSurface(boundary)) FROM assets_municipality")
        raw = cur.fetchone()
    orm = Municipality.objects.values_list(simplified_geojson("boundary", tolerance=0.0003, precision=5),
                                           X(PointOnSurface("boundary")), Y(PointOnSurface("boundary"))).get()
    assert orm == raw
    assert '"crs":{"type":"name","properties":{"name":"EPSG:6668"}}' in orm[0]
    assert orm[0].count("[") < len(round_town.coords[0][0])  # simplified
