"""Geometry intake: every stored geometry is JGD2011 (EPSG:6668) lon/lat; the source CRS is remembered."""

from django.conf import settings
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Japan's extent including remote islands, with a margin: anything outside is a swapped axis or a wrong CRS.
JAPAN_BBOX = (122.0, 20.0, 154.5, 46.0)
# 平面直角座標系 I–XIX: JGD2011 (6669–6687) and JGD2000 (2443–2461). X is northing in both.
PLANE_ZONES = frozenset({*range(6669, 6688), *range(2443, 2462)})


def to_storage(geom, *, allowed_types: tuple[str, ...], field: str = "geom") -> tuple[GEOSGeometry, int]:
    """Return (geometry in EPSG:6668, source SRID) or raise a ValidationError naming the problem."""
    if isinstance(geom, str):
        try:
            geom = GEOSGeometry(geom)
        except (GEOSException, ValueError) as exc:
            raise ValidationError({field: _("Not a readable geometry (WKT, EWKT or GeoJSON): %s") % exc}) from None
    if not isinstance(geom, GEOSGeometry):
        raise ValidationError({field: _("A geometry is required")})
    if not geom.srid:
        raise ValidationError({field: _(
            "The geometry has no coordinate reference system; give an SRID such as EPSG:6668 (lon/lat) "
            "or EPSG:6669–6687 (plane rectangular zones)")})
    if geom.geom_type not in allowed_types:
        raise ValidationError({field: _("%(got)s is not allowed for this kind; allowed: %(allowed)s")
                               % {"got": geom.geom_type, "allowed": ", ".join(allowed_types)}})
    if geom.empty:
        raise ValidationError({field: _("The geometry is empty")})
    source_srid = geom.srid
    target = settings.GEOMETRY_SRID
    if source_srid != target:
        try:
            geom = geom.transform(target, clone=True)
        except Exception as exc:  # GDAL raises several types for unknown or broken CRSs
            raise ValidationError({field: _("Cannot transform from EPSG:%(srid)s: %(err)s")
                                   % {"srid": source_srid, "err": exc}}) from None
    if not geom.valid:
        raise ValidationError({field: _("Invalid geometry: %s") % geom.valid_reason})
    xmin, ymin, xmax, ymax = geom.extent
    bx0, by0, bx1, by1 = JAPAN_BBOX
    if xmin < bx0 or xmax > bx1 or ymin < by0 or ymax > by1:
        hint = ""
        if source_srid in PLANE_ZONES:
            hint = _(" In plane rectangular zones X is northing and comes first; check the axis order.")
        elif source_srid == target and by0 <= xmin and xmax <= by1 and bx0 <= ymin and ymax <= bx1:
            hint = _(" It looks like latitude and longitude are swapped.")
        raise ValidationError({field: _("The geometry lies outside Japan (lon %(x).4f, lat %(y).4f).%(hint)s")
                               % {"x": xmin, "y": ymin, "hint": hint}})
    return geom, source_srid


def check_in_area(geom: GEOSGeometry, boundary, *, source_srid: int | None, owner_name: str,
                  field: str = "geom") -> None:
    """An asset must lie in (or within about 1 km of) its owner's area; a swapped axis usually lands
    well outside, yet still inside Japan, so the bounding box alone does not catch it."""
    if boundary is None or boundary.buffer(0.01).intersects(geom):
        return
    hint = ""
    if source_srid in PLANE_ZONES:
        hint = _(" In plane rectangular zones X is northing and comes first; check the axis order and the zone.")
    raise ValidationError({field: _("The geometry lies outside %(owner)s (lon %(x).4f, lat %(y).4f).%(hint)s")
                           % {"owner": owner_name, "x": geom.centroid.x, "y": geom.centroid.y, "hint": hint}})
