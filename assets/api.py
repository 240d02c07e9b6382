"""Registry reads and single-asset writes for people and ledger systems (token or session); bulk writes and the
change feed are in ledger.api, the asset lists and map layers (which show each asset's condition) in
inspections.asset_api. Every handler goes through selectors and services scoped by assets.access."""

import functools
import json
from datetime import date

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.http import Http404, HttpResponse
from ninja import Router, Schema, Status

from assets import access, selectors, services
from assets.geometry import from_geojson
from assets.history import Actor
from assets.models import Asset, Via
from core.jsonsql import Raw, json_object

_principal = access.principal_of

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


# Decimals of longitude and latitude in GeoJSON written by PostgreSQL: PostGIS writes the shortest text that reads
# back as the stored double, up to this many, so a client that PATCHes back what it read changes nothing.
GEOJSON_PRECISION = 15


@functools.cache
def asset_columns() -> dict:
    """AssetOut's fields as SQL columns (core.jsonsql), in its order: what reads of assets write in PostgreSQL
    instead of through the schema (tests check both give the same object). Read only."""
    return {"global_id": "global_id", "kind": "kind", "owner": "owner_id", "operator": "operator_id",
            "source": "source", "external_id": "external_id", "name": "name", "status": "status",
            "built_fiscal_year": "built_fiscal_year", "version": "version",
            "geometry": Raw(AsGeoJSON("geom", precision=GEOJSON_PRECISION))}


def json_response(body: str, status: int = 200, content_type: str = "application/json") -> HttpResponse:
    return HttpResponse(body, status=status, content_type=f"{content_type}; charset=utf-8")


class RetireIn(Schema):
    retired_on: date | None = None
    reason: str = ""


def _get(request, global_id: str) -> Asset:
    return access.get_or_404(selectors.asset_list(principal=_principal(request)), global_id=global_id)


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
def get_asset(request, global_id: str):
    # Written by PostgreSQL in the query that finds it (the token and its scope came with the sign-in's one).
    found = json_object(selectors.asset_list(principal=_principal(request)).filter(global_id=global_id),
                        asset_columns(), also=("version",))
    if found is None:
        raise Http404  # absent and out of scope answer alike (access.get_or_404)
    body, (version,) = found
    response = json_response(body)
    response["ETag"] = f'"{global_id}-v{version}"'
    return response


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

    region = access.get_or_404(access.regions_visible(_principal(request)), slug=slug)
    rows = (region.members.exclude(kind="prefecture").filter(boundary__isnull=False).order_by("code")
            .values_list("code", "name", simplified_geojson("boundary", tolerance=0.0003, precision=5)))
    return {"type": "FeatureCollection", "attribution": CREDIT, "features": [
        {"type": "Feature", "id": code, "properties": {"code": code, "name": name}, "geometry": json.loads(g)}
        for code, name, g in rows]}
