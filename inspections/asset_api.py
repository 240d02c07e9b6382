"""The registry's asset lists and map layers, with each asset's condition (current grade, severity): registry
data joined with what inspections keep per asset, so they are served from here, above the registry. Same paths
and tags as the rest of the asset API (assets.api); this router is added before it, so `/assets/near` is not
taken for a global id."""

import json
import math
from datetime import datetime

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from assets import access
from assets.api import GEOJSON_PRECISION, AssetOut, asset_columns, json_response
from assets.geometry import JAPAN_BBOX, check_lonlat, parse_bbox
from core.jsonsql import json_page
from core.pagination import MAX_LIMIT, MAX_OFFSET
from inspections import selectors

router = Router(tags=["assets"])


def _filtered(request, municipality, kind, status, q, bbox, updated_since, grade):
    return selectors.asset_list_by_grade(
        principal=access.principal_of(request), grade=grade, municipality=municipality, kind=kind, status=status,
        q=q, bbox=parse_bbox(bbox) if bbox else None, updated_since=updated_since)


def _grade(a, attr: str):
    return getattr(a.condition.grade, attr) if hasattr(a, "condition") and a.condition.grade else None


# Matches are counted (`count`, numberMatched) up to this many: a count costs a scan of every match, so beyond it
# the page would cost less than its count and it is left out (null / omitted; OGC API Features allows omitting
# numberMatched). A 1,000-feature page of a map or a GIS client is counted; a whole region is not.
COUNT_CAP = 10_000
GEOJSON_COUNT_CAP = COUNT_CAP
CURSOR = Query(None, ge=0, le=2**62, description="keyset cursor: follow the `next` link")


class AssetPage(Schema):
    items: list[AssetOut]
    count: int | None = Field(None, description=f"matching assets, when at most {COUNT_CAP:,} (else null)")


def _next_url(request, last: int) -> str:
    params = request.GET.copy()
    params.pop("offset", None)
    params["after"] = str(last)
    return request.build_absolute_uri(request.path) + "?" + params.urlencode()


@router.get("/assets", response=AssetPage)
def list_assets(request, municipality: str | None = None, kind: str | None = None, status: str | None = None,
                q: str | None = None, bbox: str | None = None, updated_since: datetime | None = None,
                grade: str | None = None,
                limit: int = Query(100, ge=1, le=MAX_LIMIT, description=f"items per page, 1–{MAX_LIMIT}"),
                offset: int = Query(0, ge=0, le=MAX_OFFSET, description="items to skip; `next` (Link) is faster"),
                after: int | None = CURSOR):
    """Filter by municipality, kind, status, bbox (lon/lat), updated since, current grade code (e.g. III).
    In record order; the next page is linked in the `Link` header (rel=next, keyset: `after`), and `count` says
    how many match when at most 10,000. The page is written by PostgreSQL in one query."""
    qs = _filtered(request, municipality, kind, status, q, bbox, updated_since, grade)
    page = json_page(qs, asset_columns(), limit=limit, after=after, offset=offset if after is None else 0,
                     count_cap=COUNT_CAP)
    response = json_response(f'{{"items":{page.array},"count":{json.dumps(page.matched)}}}')
    if page.last is not None:
        response["Link"] = f'<{_next_url(request, page.last)}>; rel="next"; type="application/json"'
    return response


def geojson_columns() -> dict:
    """The properties of /assets.geojson's features: the registry's columns and the current condition."""
    return {**_GEOJSON_COLUMNS, "severity": selectors.severity_expression()}


_GEOJSON_COLUMNS = {"global_id": "global_id", "kind": "kind", "owner": "owner_id", "source": "source",
                    "external_id": "external_id", "name": "name", "status": "status",
                    "built_fiscal_year": "built_fiscal_year", "version": "version",
                    "grade": F("condition__grade__code"), "grade_label": F("condition__grade__label")}
_GEOJSON_GEOMETRY = AsGeoJSON("geom", precision=GEOJSON_PRECISION)


@router.get("/assets.geojson")
def assets_geojson(request, municipality: str | None = None, kind: str | None = None,
                   status: str | None = None,
                   q: str | None = None, bbox: str | None = None, updated_since: datetime | None = None,
                   grade: str | None = None, limit: int = Query(5000, ge=1, le=50_000),
                   after: int | None = CURSOR,
                   offset: int = Query(0, ge=0, le=MAX_OFFSET, description="deprecated: follow `next` instead")):
    """The same filters as GeoJSON for GIS tools, paged by `limit` (at most 50,000): each page says how many
    features match (numberMatched, when at most 10,000) and it returned (numberReturned), and links the next page
    (rel=next, in `links` and as an RFC 8288 Link header; keyset on the record number). GIS clients are better
    served by the OGC API at /ogc/ (one layer per kind with its attributes). Written by PostgreSQL in one query."""
    qs = _filtered(request, municipality, kind, status, q, bbox, updated_since, grade)
    page = json_page(qs, geojson_columns(), limit=limit, after=after, offset=offset if after is None else 0,
                     feature_id="global_id", geometry=_GEOJSON_GEOMETRY,
                     count_cap=GEOJSON_COUNT_CAP)
    links = [{"href": request.build_absolute_uri(), "rel": "self", "type": "application/geo+json"}]
    next_url = _next_url(request, page.last) if page.last is not None else None
    if next_url:
        links.append({"href": next_url, "rel": "next", "type": "application/geo+json"})
    tail = {"numberReturned": page.returned, "links": links,
            # Kept for the map page and older scripts; `next` is the standard way on.
            "next_offset": offset + limit if next_url and after is None else None}
    if page.matched is not None:
        tail["numberMatched"] = page.matched
    body = '{"type":"FeatureCollection","features":' + page.array + "," + json.dumps(tail, ensure_ascii=False)[1:]
    response = json_response(body)
    if next_url:
        response["Link"] = f'<{next_url}>; rel="next"; type="application/geo+json"'
    return response


@router.get("/assets/near")
def assets_near(request, lon: float = Query(..., ge=JAPAN_BBOX[0], le=JAPAN_BBOX[2]),
                lat: float = Query(..., ge=JAPAN_BBOX[1], le=JAPAN_BBOX[3]),
                radius_m: float = Query(400, ge=10, le=3000), limit: int = Query(300, ge=1, le=1000)):
    """GeoJSON of the visible assets nearest a point, for picking one on a map (bounded, never the region)."""
    from django.contrib.gis.db.models.functions import GeometryDistance
    from django.contrib.gis.geos import Point

    # Before any geometry is built: GEOS aborts the process on some extreme values.
    lon, lat = check_lonlat(lon, lat, field="lon/lat")
    if not math.isfinite(radius_m):
        raise ValidationError({"radius_m": _("A number of metres from 10 to 3000")})
    dlat = radius_m / 111_000
    dlon = dlat / max(0.2, math.cos(math.radians(lat)))
    box = Polygon.from_bbox((lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    box.srid = 6668
    here = Point(lon, lat, srid=6668)
    qs = (selectors.asset_list_by_grade(principal=access.principal_of(request), bbox=box)
          .annotate(d=GeometryDistance("geom", here)).order_by("d")
          .select_related("condition__grade")[:limit])
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(a.geom.geojson), "properties": {
            "global_id": a.global_id, "name": a.name, "kind": a.kind, "kind_label": a.get_kind_display(),
            "grade": _grade(a, "label")}}
        for a in qs]}
