"""PostGIS functions GeoDjango lacks, for reads written with the ORM (annotate, values_list), and the one way
an outline leaves the database as GeoJSON for maps and the PDF."""

from django.contrib.gis.db.models import FloatField
from django.contrib.gis.db.models.functions import AsGeoJSON, GeoFunc, GeomOutputGeoFunc

__all__ = ["SimplifyPreserveTopology", "X", "Y", "simplified_geojson"]


class SimplifyPreserveTopology(GeomOutputGeoFunc):
    """ST_SimplifyPreserveTopology(geom, tolerance): fewer vertices, never an invalid or vanished polygon."""

    function = "ST_SimplifyPreserveTopology"

    def __init__(self, expression, tolerance: float, **extra):
        super().__init__(expression, self._handle_param(tolerance, "tolerance", (int, float)), **extra)


class X(GeoFunc):
    """ST_X(point): a point's first coordinate (the longitude, in the registry's SRID 6668)."""

    function = "ST_X"
    arity = 1
    output_field = FloatField()


class Y(GeoFunc):
    """ST_Y(point): a point's second coordinate (the latitude, in the registry's SRID 6668)."""

    function = "ST_Y"
    arity = 1
    output_field = FloatField()


def simplified_geojson(field: str, *, tolerance: float, precision: int) -> AsGeoJSON:
    """ST_AsGeoJSON(ST_SimplifyPreserveTopology(field, tolerance), precision) as clients have always had it.
    crs=True keeps the short CRS member ("EPSG:6668") that PostGIS writes by default for a geometry not in
    EPSG:4326; Django's AsGeoJSON would otherwise leave it out."""
    return AsGeoJSON(SimplifyPreserveTopology(field, tolerance), precision=precision, crs=True)
