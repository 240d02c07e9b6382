"""The registry's asset lists and map layers, with each asset's condition (current grade, severity): registry
data joined with what inspections keep per asset, so they are served from here, above the registry. Same paths
and tags as the rest of the asset API (assets.api); this router is added before it, so `/assets/near` is not
taken for a global id."""

import json
import math
from datetime import datetime

from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
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


@router.get("/assets.geojson")
def assets_geojson(request, municipality: str | None = None, kind: str | None = None, status: str | None = None,
                   q: str | None = None, bbox: str | None = None, updated_since: datetime | None = None,
                   grade: str | None = None, limit: int = Query(5000, ge=1, le=50_000),
                   offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """The same filters as GeoJSON for GIS tools (QGIS: add a vector layer from this URL), paged by
    `limit`/`offset` (at most 50,000)."""
    qs = _filtered(request, municipality, kind, status, q, bbox, updated_since, grade).order_by("id")
    page = list(qs.select_related("condition__grade")[offset:offset + limit + 1])
    severity = selectors.severity(page[:limit])
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": a.global_id, "geometry": json.loads(a.geom.geojson), "properties": {
            "global_id": a.global_id, "kind": a.kind, "owner": a.owner_id, "source": a.source,
            "external_id": a.external_id, "name": a.name, "status": a.status, "built_fiscal_year": a.built_fiscal_year,
            "version": a.version, "grade": _grade(a, "code"), "grade_label": _grade(a, "label"),
            "severity": severity.get(a.pk)}} for a in page[:limit]],
        "next_offset": offset + limit if len(page) > limit else None}


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
