"""The registry's asset lists and map layers, with each asset's condition (current grade, severity): registry
data joined with what inspections keep per asset, so they are served from here, above the registry. Same paths
and tags as the rest of the asset API (assets.api); this router is added before it, so `/assets/near` is not
taken for a global id."""

import json
import math
from datetime import datetime

from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate

from assets import access
from assets.api import AssetOut
from assets.geometry import JAPAN_BBOX, check_lonlat, parse_bbox
from core.pagination import MAX_OFFSET, Paged
from inspections import selectors

router = Router(tags=["assets"])


def _filtered(request, municipality, kind, status, q, bbox, updated_since, grade):
    return selectors.asset_list_by_grade(
        principal=access.principal_of(request), grade=grade, municipality=municipality, kind=kind, status=status,
        q=q, bbox=parse_bbox(bbox) if bbox else None, updated_since=updated_since)


def _grade(a, attr: str):
    return getattr(a.condition.grade, attr) if hasattr(a, "condition") and a.condition.grade else None


@router.get("/assets", response=list[AssetOut])
@paginate(Paged)
def list_assets(request, municipality: str | None = None, kind: str | None = None, status: str | None = None,
                q: str | None = None, bbox: str | None = None, updated_since: datetime | None = None,
                grade: str | None = None):
    """Filter by municipality, kind, status, bbox (lon/lat), updated since, current grade code (e.g. III)."""
    return _filtered(request, municipality, kind, status, q, bbox, updated_since, grade)


# numberMatched is counted up to this many (beyond, the count would cost more than the page and is left out).
GEOJSON_COUNT_CAP = 100_000


@router.get("/assets.geojson")
def assets_geojson(request, response: HttpResponse, municipality: str | None = None, kind: str | None = None,
                   status: str | None = None,
                   q: str | None = None, bbox: str | None = None, updated_since: datetime | None = None,
                   grade: str | None = None, limit: int = Query(5000, ge=1, le=50_000),
                   after: int | None = Query(None, ge=0, le=2**62, description="keyset cursor: follow `next`"),
                   offset: int = Query(0, ge=0, le=MAX_OFFSET, description="deprecated: follow `next` instead")):
    """The same filters as GeoJSON for GIS tools, paged by `limit` (at most 50,000): each page says how many
    features match (numberMatched, when under 100,000) and it returned (numberReturned), and links the next page
    (rel=next, in `links` and as an RFC 8288 Link header; keyset on the record number). GIS clients are better
    served by the OGC API at /ogc/ (one layer per kind with its attributes)."""
    qs = _filtered(request, municipality, kind, status, q, bbox, updated_since, grade).order_by("id")
    matched = qs.order_by()[:GEOJSON_COUNT_CAP + 1].count()
    paged = qs.filter(id__gt=after) if after is not None else qs[offset:]
    page = list(paged.select_related("condition__grade")[:limit + 1])
    more = len(page) > limit
    page = page[:limit]
    severity = selectors.severity(page)
    links = [{"href": request.build_absolute_uri(), "rel": "self", "type": "application/geo+json"}]
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": a.global_id, "geometry": json.loads(a.geom.geojson), "properties": {
            "global_id": a.global_id, "kind": a.kind, "owner": a.owner_id, "source": a.source,
            "external_id": a.external_id, "name": a.name, "status": a.status, "built_fiscal_year": a.built_fiscal_year,
            "version": a.version, "grade": _grade(a, "code"), "grade_label": _grade(a, "label"),
            "severity": severity.get(a.pk)}} for a in page],
        "numberReturned": len(page), "links": links,
        # Kept for the map page and older scripts; `next` is the standard way on.
        "next_offset": offset + limit if more and after is None else None}
    if matched <= GEOJSON_COUNT_CAP:
        body["numberMatched"] = matched
    if more:
        params = request.GET.copy()
        params.pop("offset", None)
        params["after"] = str(page[-1].pk)
        next_url = request.build_absolute_uri(request.path) + "?" + params.urlencode()
        links.append({"href": next_url, "rel": "next", "type": "application/geo+json"})
        response["Link"] = f'<{next_url}>; rel="next"; type="application/geo+json"'
    return body


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
