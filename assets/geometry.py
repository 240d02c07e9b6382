"""Geometry intake: every stored geometry is JGD2011 (EPSG:6668) lon/lat; the source CRS is remembered."""

import math

from django.conf import settings
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Japan's extent including remote islands, with a margin: anything outside is a swapped axis or a wrong CRS.
JAPAN_BBOX = (122.0, 20.0, 154.5, 46.0)
# 平面直角座標系 I–XIX: JGD2011 (6669–6687) and JGD2000 (2443–2461). X is northing in both.
PLANE_ZONES = frozenset({*range(6669, 6688), *range(2443, 2462)})
# Plane rectangular coordinates reach about ±1,000 km from a zone's origin; beyond this bound a value is junk.
PLANE_LIMIT_M = 3_000_000.0
# Lon/lat systems: JGD2011, JGD2000, WGS 84.
DEGREE_SRIDS = frozenset({4326, 6668, 4612})


def _bounded(value, lo: float, hi: float) -> bool:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(v) and lo <= v <= hi


def check_lonlat(lon, lat, *, field: str = "lon/lat") -> tuple[float, float]:
    """Longitude and latitude as finite numbers inside Japan's extent, checked before any geometry is built
    (GEOS aborts the process on some extreme values, e.g. 1e308 in its WKT writer)."""
    bx0, by0, bx1, by1 = JAPAN_BBOX
    if not (_bounded(lon, bx0, bx1) and _bounded(lat, by0, by1)):
        raise ValidationError({field: _(
            "Longitude must be a number from %(x0)s to %(x1)s and latitude from %(y0)s to %(y1)s "
            "(JGD2011, Japan); got %(lon)s, %(lat)s") % {
                "x0": bx0, "x1": bx1, "y0": by0, "y1": by1, "lon": str(lon)[:32], "lat": str(lat)[:32]}})
    return float(lon), float(lat)


def parse_bbox(text: str, *, field: str = "bbox"):
    """`lon_min,lat_min,lon_max,lat_max`: four finite numbers inside Japan, in order, checked before GEOS;
    a JGD2011 polygon."""
    from django.contrib.gis.geos import Polygon

    usage = _("lon_min,lat_min,lon_max,lat_max in degrees (JGD2011) inside Japan, e.g. 139.8,35.8,139.9,35.9")
    parts = text.split(",")
    if len(parts) != 4:
        raise ValidationError({field: usage})
    try:
        x0, y0 = check_lonlat(parts[0].strip(), parts[1].strip(), field=field)
        x1, y1 = check_lonlat(parts[2].strip(), parts[3].strip(), field=field)
    except ValidationError:
        raise ValidationError({field: usage}) from None
    if x0 > x1 or y0 > y1:
        raise ValidationError({field: _("The minimum comes first: %s") % usage})
    box = Polygon.from_bbox((x0, y0, x1, y1))
    box.srid = 6668
    return box


def check_plane_xy(x, y, *, field: str = "X/Y") -> tuple[float, float]:
    """Plane rectangular X (northing) and Y (easting) in metres, finite and within a zone's reach."""
    if not (_bounded(x, -PLANE_LIMIT_M, PLANE_LIMIT_M) and _bounded(y, -PLANE_LIMIT_M, PLANE_LIMIT_M)):
        raise ValidationError({field: _(
            "Plane rectangular X and Y must be numbers in metres between %(lo)s and %(hi)s; got %(x)s, %(y)s")
            % {"lo": f"{-PLANE_LIMIT_M:,.0f}", "hi": f"{PLANE_LIMIT_M:,.0f}", "x": str(x)[:32], "y": str(y)[:32]}})
    return float(x), float(y)


def coordinate_limit(srid: int | None) -> float:
    """How far from 0 a coordinate in `srid` may lie before it is junk rather than a place: a plane zone's
    reach, or 360 for degrees (None: degrees). Loose on purpose, so that to_storage can still explain swapped
    axes or a wrong CRS."""
    if srid in PLANE_ZONES:
        return PLANE_LIMIT_M
    return 360.0 if srid is None or srid in DEGREE_SRIDS else 1e8


def check_coordinates(geom: GEOSGeometry, *, field: str = "geom") -> None:
    """Every coordinate of a geometry finite and plausible for its CRS, before it is transformed or written."""
    try:
        xmin, ymin, xmax, ymax = geom.extent
    except Exception:  # an empty or broken geometry has no extent; to_storage names that case
        return
    if geom.srid in PLANE_ZONES:
        check_plane_xy(xmin, ymin, field=field)
        check_plane_xy(xmax, ymax, field=field)
        return
    limit = coordinate_limit(geom.srid)
    if not all(_bounded(v, -limit, limit) for v in (xmin, ymin, xmax, ymax)):
        raise ValidationError({field: _("The geometry has coordinates that are not finite numbers or far out of "
                                        "range (%(lo)s … %(hi)s)") % {"lo": -limit, "hi": limit}})


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
    check_coordinates(geom, field=field)
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


GEOJSON_DEPTH = {"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3, "Polygon": 3, "MultiPolygon": 4}
MAX_GEOJSON_POSITIONS = 200_000


def from_geojson(value, *, field: str = "geometry", srid: int = 6668) -> GEOSGeometry:
    """A GeoJSON geometry object (lon/lat, JGD2011, unless a file names another `srid`) checked by shape and by
    every number (`coordinate_limit`) before GEOS sees it: one out-of-range coordinate can abort the whole
    process inside GEOS, so nothing unchecked reaches it."""
    import json

    if not isinstance(value, dict) or value.get("type") not in GEOJSON_DEPTH:
        raise ValidationError({field: _("A GeoJSON geometry object is required, with type one of %(types)s "
                                        "and lon/lat coordinates (JGD2011)") % {"types": ", ".join(GEOJSON_DEPTH)}})
    depth = GEOJSON_DEPTH[value["type"]]
    limit = coordinate_limit(srid)
    count = 0
    # Iterative walk with a fixed depth per type: no recursion on hostile nesting, no unbounded work.
    stack = [(value.get("coordinates"), depth)]
    while stack:
        node, level = stack.pop()
        if not isinstance(node, list) or (level > 1 and not node):
            raise ValidationError({field: _("The coordinates of a %(type)s are nested %(depth)d deep "
                                            "([lon, lat] positions)") % {"type": value["type"], "depth": depth}})
        if level == 1:
            if len(node) not in (2, 3) or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                                  for v in node):
                raise ValidationError({field: _("A position is [lon, lat] (numbers); got %(p)s")
                                       % {"p": str(node)[:64]}})
            # Loose here; to_storage then names a point outside Japan or swapped axes. A height only finite.
            if not (_bounded(node[0], -limit, limit) and _bounded(node[1], -limit, limit)
                    and all(math.isfinite(v) for v in node[2:])):
                raise ValidationError({field: _("The geometry has coordinates that are not finite numbers or far out "
                                                "of range (%(lo)s … %(hi)s)") % {"lo": -limit, "hi": limit}})
            count += 1
            if count > MAX_GEOJSON_POSITIONS:
                raise ValidationError({field: _("At most %d positions per geometry") % MAX_GEOJSON_POSITIONS})
            continue
        stack.extend((child, level - 1) for child in node)
    try:
        geom = GEOSGeometry(json.dumps({"type": value["type"], "coordinates": value["coordinates"]}))
    except Exception as exc:  # GEOS and GDAL raise several types for unreadable shapes
        raise ValidationError({field: _("Not a readable GeoJSON geometry: %s") % exc}) from None
    geom.srid = srid
    return geom
