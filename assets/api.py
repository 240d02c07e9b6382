"""Registry reads and single-asset writes for people and ledger systems (token or session); bulk writes and the
change feed are in ledger.api. Every handler goes through selectors and services scoped by assets.access."""

import json
import math
from datetime import date, datetime

from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from assets import access, selectors, services
from assets.geometry import JAPAN_BBOX, check_lonlat, from_geojson
from assets.history import Actor
from assets.models import Asset, Via
from core.pagination import MAX_OFFSET, Paged

router = Router(tags=["assets"])


class AssetOut(Schema):
    global_id: str
    kind: str
    owner: str
    operator: str | None
    source: str
    external_id: str | None
    name: str
    status: str
    built_fiscal_year: int | None
    version: int
    geometry: dict

    @staticmethod
    def resolve_owner(obj: Asset) -> str:
        return obj.owner_id

    @staticmethod
    def resolve_operator(obj: Asset) -> str | None:
        return obj.operator_id

    @staticmethod
    def resolve_geometry(obj: Asset) -> dict:
        return json.loads(obj.geom.geojson)


class RetireIn(Schema):
    retired_on: date | None = None
    reason: str = ""


_principal = access.principal_of


def _bbox(text: str) -> Polygon:
    """`lon_min,lat_min,lon_max,lat_max`: four finite numbers inside Japan, in order, checked before GEOS."""
    usage = _("lon_min,lat_min,lon_max,lat_max in degrees (JGD2011) inside Japan, e.g. 139.8,35.8,139.9,35.9")
    parts = text.split(",")
    if len(parts) != 4:
        raise ValidationError({"bbox": usage})
    try:
        x0, y0 = check_lonlat(parts[0].strip(), parts[1].strip(), field="bbox")
        x1, y1 = check_lonlat(parts[2].strip(), parts[3].strip(), field="bbox")
    except ValidationError:
        raise ValidationError({"bbox": usage}) from None
    if x0 > x1 or y0 > y1:
        raise ValidationError({"bbox": _("The minimum comes first: %s") % usage})
    box = Polygon.from_bbox((x0, y0, x1, y1))
    box.srid = 6668
    return box


def _filtered(request, municipality, kind, status, q, bbox, updated_since, grade):
    qs = selectors.asset_list(principal=_principal(request), municipality=municipality, kind=kind, status=status, q=q)
    if bbox:
        qs = qs.filter(geom__bboverlaps=_bbox(bbox))
    if updated_since:
        qs = qs.filter(updated_at__gte=updated_since)
    if grade:
        qs = qs.filter(condition__grade__code=grade)
    return qs


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
    from django.db.models import Max

    from inspections.models import Grade

    worst = dict(Grade.objects.values("scheme_id").annotate(m=Max("rank")).values_list("scheme_id", "m"))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": a.global_id, "geometry": json.loads(a.geom.geojson), "properties": {
            "global_id": a.global_id, "kind": a.kind, "owner": a.owner_id, "source": a.source,
            "external_id": a.external_id, "name": a.name, "status": a.status, "built_fiscal_year": a.built_fiscal_year,
            "version": a.version,
            "grade": a.condition.grade.code if hasattr(a, "condition") and a.condition.grade else None,
            "grade_label": a.condition.grade.label if hasattr(a, "condition") and a.condition.grade else None,
            # 0 = sound … 1 = worst state of its scheme, so one colour scale serves every kind.
            "severity": (a.condition.grade.rank / max(worst.get(a.condition.grade.scheme_id, 1), 1)
                         if hasattr(a, "condition") and a.condition.grade else None)}} for a in page[:limit]],
        "next_offset": offset + limit if len(page) > limit else None}


def _get(request, global_id: str) -> Asset:
    return get_object_or_404(selectors.asset_list(principal=_principal(request)), global_id=global_id)


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
    qs = (selectors.asset_list(principal=_principal(request)).filter(geom__bboverlaps=box)
          .annotate(d=GeometryDistance("geom", here)).order_by("d")
          .select_related("condition__grade")[:limit])
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(a.geom.geojson), "properties": {
            "global_id": a.global_id, "name": a.name, "kind": a.kind, "kind_label": a.get_kind_display(),
            "grade": a.condition.grade.label if hasattr(a, "condition") and a.condition.grade else None}}
        for a in qs]}


def _etag(asset: Asset) -> str:
    return f'"{asset.global_id}-v{asset.version}"'


def _etag_version(asset: Asset, if_match: str) -> int | None:
    """The version an If-Match names for this asset (any of a comma-separated list), or None."""
    for tag in if_match.split(","):
        tag = tag.strip().removeprefix("W/")
        prefix = f'"{asset.global_id}-v'
        if tag.startswith(prefix) and tag.endswith('"') and tag[len(prefix):-1].isdigit():
            return int(tag[len(prefix):-1])
    return None


def _precondition_failed(asset: Asset):
    return Status(412, {"detail": "The asset changed since you read it", "etag": _etag(asset),
                        "version": asset.version})


@router.get("/assets/{global_id}", response=AssetOut)
def get_asset(request, global_id: str, response: HttpResponse):
    asset = _get(request, global_id)
    response["ETag"] = _etag(asset)
    return asset


class AssetPatch(Schema):
    version: int | None = None
    data: dict = {}
    detail: dict = {}


@router.patch("/assets/{global_id}", response={200: AssetOut, 412: dict, 428: dict})
def patch_asset(request, global_id: str, payload: AssetPatch, response: HttpResponse):
    """Change an asset you may write. Send the version you read, as `If-Match` (the ETag) or `version`: a
    stale one gets 412 (If-Match) or 409 (version) and changes nothing."""
    asset = _get(request, global_id)
    if_match = request.headers.get("If-Match")
    if if_match is None and payload.version is None:
        return Status(428, {"detail": "Send If-Match (the ETag you read) or the version you read"})
    precondition = None
    if if_match is not None and if_match.strip() != "*":
        precondition = _etag_version(asset, if_match)
        if precondition is None:
            return _precondition_failed(asset)
    data = dict(payload.data)
    if "geometry" in data:
        data["geom"] = from_geojson(data.pop("geometry"), field="geometry")
    try:
        updated = services.asset_update(actor=Actor(_principal(request), Via.API), asset=asset, data=data,
                                        detail=payload.detail, expected_version=payload.version,
                                        precondition_version=precondition)
    except services.PreconditionFailed:
        asset.refresh_from_db()
        return _precondition_failed(asset)
    response["ETag"] = _etag(updated)
    return updated


@router.post("/assets/{global_id}/retire", response=AssetOut)
def retire_asset(request, global_id: str, payload: RetireIn):
    asset = _get(request, global_id)
    return services.asset_retire(actor=Actor(_principal(request), Via.API), asset=asset,
                                 retired_on=payload.retired_on, reason=payload.reason)


@router.get("/regions/{slug}/boundaries")
def region_boundaries(request, slug: str):
    """The region's municipal boundaries (simplified to ~30 m) as GeoJSON, with the 国土数値情報 credit."""
    from assets.reference.municipalities import CREDIT
    from core.geo import simplified_geojson

    region = get_object_or_404(access.regions_visible(_principal(request)), slug=slug)
    rows = (region.members.exclude(kind="prefecture").filter(boundary__isnull=False).order_by("code")
            .values_list("code", "name", simplified_geojson("boundary", tolerance=0.0003, precision=5)))
    return {"type": "FeatureCollection", "attribution": CREDIT, "features": [
        {"type": "Feature", "id": code, "properties": {"code": code, "name": name}, "geometry": json.loads(g)}
        for code, name, g in rows]}
