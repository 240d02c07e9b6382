"""The coordinate reference systems the OGC API serves (OGC API – Features Part 2).

Geometries are stored in JGD2011 (EPSG:6668). Output is CRS84 (lon/lat) unless `crs` asks for EPSG:4326,
EPSG:6668 or a JGD2011 plane rectangular zone (平面直角座標系 I–XIX, EPSG:6669–6687). The OGC CRS URIs follow the
EPSG axis order: EPSG:4326/6668 are latitude first and the plane zones X (north) first, so their coordinates are
written flipped from PostGIS' x=east order; CRS84 is longitude first."""

from dataclasses import dataclass

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
STORAGE_SRID = 6668
PLANE_ZONES = tuple(range(6669, 6688))


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    # Authority axis order is north first (lat/lon, X/Y of the plane zones): flip PostGIS' east-first output.
    north_first: bool
    # Decimals written: 1e-8° is about a millimetre; plane coordinates are metres.
    precision: int
    geographic: bool


SUPPORTED: dict[str, Crs] = {
    CRS84: Crs(CRS84, 4326, False, 8, True),
    EPSG_URI.format(4326): Crs(EPSG_URI.format(4326), 4326, True, 8, True),
    EPSG_URI.format(6668): Crs(EPSG_URI.format(6668), 6668, True, 8, True),
    **{EPSG_URI.format(z): Crs(EPSG_URI.format(z), z, True, 3, False) for z in PLANE_ZONES},
}
DEFAULT = SUPPORTED[CRS84]
STORAGE_URI = EPSG_URI.format(STORAGE_SRID)


class OgcError(Exception):
    """A bad request parameter: answered 400 with the OGC exception document naming it and what is allowed."""

    def __init__(self, description: str, status: int = 400, code: str = "InvalidParameterValue"):
        super().__init__(description)
        self.description, self.status, self.code = description, status, code


def parse_crs(value: str | None, param: str = "crs") -> Crs:
    """A CRS URI (or its short forms EPSG:6669, [EPSG:6669], OGC:CRS84); unknown ones are a 400 listing the rest."""
    if not value:
        return DEFAULT
    v = value.strip().strip("[]").replace("https://", "http://")
    if v.upper() in ("OGC:CRS84", "CRS84"):
        v = CRS84
    elif v.upper().startswith("EPSG:") and v[5:].isascii() and v[5:].isdigit():  # not "²", which int() refuses
        v = EPSG_URI.format(int(v[5:]))
    try:
        return SUPPORTED[v]
    except KeyError:
        raise OgcError(f"{param}: unsupported CRS {value!r}; allowed: {CRS84}, EPSG 4326, 6668 and "
                       f"6669–6687 as {EPSG_URI.format('<code>')}") from None


def parse_bbox(value: str, crs: Crs):
    """`bbox` as 4 (or 6, with heights ignored) numbers in the axis order of `crs` (Part 2: bbox-crs), as a polygon
    in that CRS with x east. Geographic boxes must lie within ±180/±90."""
    from django.contrib.gis.geos import Polygon

    try:
        nums = [float(x) for x in value.split(",")]
    except ValueError:
        raise OgcError(f"bbox: four numbers separated by commas, got {value!r}") from None
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(abs(n) < 1e8 for n in nums):
        raise OgcError(f"bbox: four finite numbers separated by commas, got {value!r}")
    a1, b1, a2, b2 = nums
    xmin, ymin, xmax, ymax = (b1, a1, b2, a2) if crs.north_first else (a1, b1, a2, b2)
    if crs.geographic and not (-180 <= xmin <= 180 and -180 <= xmax <= 180 and -90 <= ymin <= 90 and -90 <= ymax <= 90):
        raise OgcError(f"bbox: longitudes within ±180 and latitudes within ±90 in {crs.uri}, got {value!r}")
    if xmin > xmax or ymin > ymax:
        raise OgcError(f"bbox: the lower corner comes first, got {value!r}")
    box = Polygon.from_bbox((xmin, ymin, xmax, ymax))
    # CRS84 and EPSG:4326 differ from JGD2011 by centimetres (both ITRF-based): compared as stored.
    box.srid = STORAGE_SRID if crs.srid == 4326 else crs.srid
    return box
