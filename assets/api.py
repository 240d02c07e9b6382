"""Registry reads for people signed in to the app. Ledger machine clients and bulk writes come with
the ledger-sync API; every handler here goes through selectors and services scoped by assets.access."""

import json
import math
from datetime import date

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from assets import selectors, services
from assets.history import Actor
from assets.models import Asset, Via

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


@router.get("/assets", response=list[AssetOut])
@paginate
def list_assets(request, municipality: str | None = None, kind: str | None = None, status: str | None = None,
                q: str | None = None):
    return selectors.asset_list(principal=request.user, municipality=municipality, kind=kind, status=status, q=q)


def _get(request, global_id: str) -> Asset:
    return get_object_or_404(selectors.asset_list(principal=request.user), global_id=global_id)


@router.get("/assets/near")
def assets_near(request, lon: float, lat: float, radius_m: float = 400, limit: int = 300):
    """GeoJSON of the visible assets nearest a point, for picking one on a map (bounded, never the region)."""
    from django.contrib.gis.db.models.functions import GeometryDistance
    from django.contrib.gis.geos import Point, Polygon

    radius_m, limit = min(max(radius_m, 10), 3000), min(max(limit, 1), 1000)
    dlat = radius_m / 111_000
    dlon = dlat / max(0.2, math.cos(math.radians(lat)))
    box = Polygon.from_bbox((lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    box.srid = 6668
    here = Point(lon, lat, srid=6668)
    qs = (selectors.asset_list(principal=request.user).filter(geom__bboverlaps=box)
          .annotate(d=GeometryDistance("geom", here)).order_by("d")
          .select_related("condition__grade")[:limit])
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(a.geom.geojson), "properties": {
            "global_id": a.global_id, "name": a.name, "kind": a.kind, "kind_label": a.get_kind_display(),
            "grade": a.condition.grade.label if hasattr(a, "condition") and a.condition.grade else None}}
        for a in qs]}


@router.get("/assets/{global_id}", response=AssetOut)
def get_asset(request, global_id: str):
    return _get(request, global_id)


@router.post("/assets/{global_id}/retire", response=AssetOut)
def retire_asset(request, global_id: str, payload: RetireIn):
    asset = _get(request, global_id)
    return services.asset_retire(actor=Actor(request.user, Via.API), asset=asset,
                                 retired_on=payload.retired_on, reason=payload.reason)
