"""Vector tiles (Mapbox Vector Tile, PostGIS ST_AsMVT through django-vectortiles) for the region map.

Three tilesets, each scoped to the signed-in person like every other read (assets.access):
- /tiles/assets/{z}/{x}/{y}.pbf — the assets they may see. Up to zoom CELL_MAX_ZOOM one point per grid cell
  (`asset_cells`: count, most common kind, mean severity of the graded ones), so a z8 tile of a 30,000-asset
  region stays under a kilobyte; from zoom 12 every asset (at zoom 12–13 only where the tile holds at most
  DETAIL_MAX_ASSETS; a denser tile is aggregated too) (`assets`: global_id, name, kind, grade, severity).
- /tiles/lots/{run}/{z}/{x}/{y}.pbf — the lots (群) of one engine run they may see (`lots`).
- /tiles/base/{z}/{x}/{y}.pbf — the closed-network basemap drawn from our own data: municipal boundaries
  (`boundaries`), reference roads (`roads_ref`, clusters.ReferenceRoad) and the registry's road segments
  (`roads`). There is no river data in the registry, so there is no river layer.

Every answer carries an ETag made of the data version (latest change-feed id and latest asset update), the
person's scope and the tile address, and `Cache-Control: private`; the bytes are cached under the same key, so
an unchanged tile costs two index lookups and a 304 when the browser asks again.
"""

import hashlib

import mercantile
from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models.functions import PointOnSurface, Transform
from django.core.cache import cache
from django.db import connection, connections, router, transaction
from django.db.models import Case, F, FloatField, Func, Max, Q, Value, When
from django.db.models.functions import Cast
from django.http import Http404, HttpResponse
from vectortiles import VectorLayer
from vectortiles.backends.postgis.functions import MakeEnvelope

from assets import access
from assets.models import Asset, AssetStatus, ChangeRecord, Kind
from clusters.models import Cluster, ReferenceRoad
from clusters.selectors import run_list

CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
CELL_MAX_ZOOM = 11  # zooms 0–11 aggregate; 12 and closer: every asset …
# … except where a tile at zoom 12–13 would hold more than DETAIL_MAX_ASSETS of them (a town centre of a
# 1,000,000-asset region puts tens of thousands in one z12 tile: 20 s to draw under load, and unreadable): that
# tile is aggregated too, and from zoom 14 (a tile ~2 km wide) every asset is drawn.
DENSE_MAX_ZOOM = 13
DETAIL_MAX_ASSETS = 5000
CELLS_PER_TILE = 32  # grid cells per tile side at low zoom (MapLibre draws 512 px tiles: one point per 16 px)
MAX_ZOOM = 22
CACHE_SECONDS = 24 * 3600
# Road classes drawn on the fallback basemap when zoomed out: the through roads a reader orients by.
MAJOR_ROADS = ("national", "prefectural")
MAJOR_ROADS_UNTIL = 10  # at zoom ≤ 10 only MAJOR_ROADS


def _severity():
    """Current grade as 0 (sound) … 1 (worst state of its scheme), as inspections.selectors.severity does per
    asset, but in SQL: the rank over its scheme's highest rank (one small query for those, not one per row)."""
    from inspections.models import Grade

    worst = Grade.objects.values("scheme_id").annotate(m=Max("rank")).values_list("scheme_id", "m")
    rank = Cast(F("condition__grade__rank"), FloatField())
    return Case(*[When(condition__grade__scheme_id=scheme, then=rank / max(m, 1)) for scheme, m in worst],
                default=Value(None), output_field=FloatField())


def _visible_assets(principal):
    return access.assets_visible(principal).exclude(status=AssetStatus.REMOVED)


class _Layer(VectorLayer):
    """django-vectortiles asks get_vector_tile_queryset() without the tile; ours thin roads by zoom."""

    z = 0

    def get_tile(self, x, y, z):
        self.z = z
        return super().get_tile(x, y, z)


class AssetLayer(_Layer):
    id = "assets"
    geom_field = "geom"
    min_zoom = CELL_MAX_ZOOM + 1
    max_zoom = MAX_ZOOM
    tile_fields = ("global_id", "name", "kind", "grade", "severity")
    tile_buffer = 64

    def __init__(self, principal):
        self.principal = principal

    def get_queryset(self):
        return _visible_assets(self.principal).annotate(grade=F("condition__grade__code"), severity=_severity())


class AssetCellLayer(VectorLayer):
    """Low zoom: the visible assets counted per grid cell (each asset where its point-on-surface falls, so
    every asset is counted in exactly one tile)."""

    id = "asset_cells"
    min_zoom = 0
    max_zoom = DENSE_MAX_ZOOM  # above CELL_MAX_ZOOM only for dense tiles (asset_tile decides)
    tile_extent = 4096

    def __init__(self, principal):
        self.principal = principal

    def get_tile(self, x, y, z):
        if not self.check_in_zoom_levels(z):
            return b""
        xmin, ymin, xmax, ymax = mercantile.xy_bounds(x, y, z)
        cell = (xmax - xmin) / CELLS_PER_TILE
        pt = Transform(PointOnSurface("geom"), 3857)
        qs = (_visible_assets(self.principal).filter(geom__intersects=MakeEnvelope(xmin, ymin, xmax, ymax, 3857))
              .annotate(px=Func(pt, function="ST_X", output_field=FloatField()),
                        py=Func(pt, function="ST_Y", output_field=FloatField()), sev=_severity())
              .values("kind", "px", "py", "sev").order_by())
        inner, params = qs.query.sql_with_params()
        # The assets first (MATERIALIZED: else the planner pushes the cell bounds into the asset scan, guesses one
        # row and joins the conditions by nested loop), then cell indices in a sub-select, so the GROUP BY and
        # the cell centre use the same columns.
        sql = f"""
            WITH s AS MATERIALIZED ({inner})
            SELECT ST_AsMVT(t.*, %s, %s, 'geom') FROM (
              SELECT count(*)::int AS count, mode() WITHIN GROUP (ORDER BY c.kind) AS kind,
                     avg(c.sev) AS severity,
                     ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(%s + (c.i + 0.5) * %s, %s + (c.j + 0.5) * %s), 3857),
                                  ST_MakeEnvelope(%s, %s, %s, %s, 3857), %s, 0, true) AS geom
              FROM (SELECT s.kind, s.sev, floor((s.px - %s) / %s) AS i, floor((s.py - %s) / %s) AS j
                    FROM s
                    WHERE s.px >= %s AND s.px < %s AND s.py >= %s AND s.py < %s) c
              GROUP BY c.i, c.j) t"""
        args = [*params, self.id, self.tile_extent, xmin, cell, ymin, cell, xmin, ymin, xmax, ymax, self.tile_extent,
                xmin, cell, ymin, cell, xmin, xmax, ymin, ymax]
        with transaction.atomic(), connection.cursor() as cursor:
            # The spatial filter's cost estimate switches on JIT compilation, which alone takes longer than the
            # query (0.8 s of 1.2 s for 30,000 assets).
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(sql, args)
            row = cursor.fetchone()[0]
        return bytes(row) if row else b""


class LotLayer(_Layer):
    id = "lots"
    tile_fields = ("rank", "name", "work_type", "member_count", "total_cost")
    tile_buffer = 64

    def __init__(self, run):
        self.run = run

    def get_queryset(self):
        return Cluster.objects.filter(run=self.run, geom__isnull=False)


class BoundaryLayer(_Layer):
    id = "boundaries"
    geom_field = "boundary"
    tile_fields = ("code", "name")

    def __init__(self, principal):
        self.principal = principal

    def get_queryset(self):
        from assets.models import Municipality

        regions = access.regions_visible(self.principal)
        codes = set(access.municipalities_visible(self.principal).values_list("code", flat=True))
        return (Municipality.objects.filter(Q(regions__in=regions) | Q(led_regions__in=regions) | Q(code__in=codes))
                .exclude(kind="prefecture").filter(boundary__isnull=False).distinct())


class ReferenceRoadLayer(_Layer):
    """Reference data for the engine (国道・都道府県道 outside the registry), the same for everyone."""

    id = "roads_ref"
    tile_fields = ("road_class", "name")

    def get_queryset(self):
        qs = ReferenceRoad.objects.all()
        return qs.filter(road_class__in=MAJOR_ROADS) if self.z <= MAJOR_ROADS_UNTIL else qs


class RegistryRoadLayer(_Layer):
    id = "roads"
    tile_fields = ("road_class",)
    min_zoom = 8

    def __init__(self, principal):
        self.principal = principal

    def get_queryset(self):
        qs = (_visible_assets(self.principal).filter(kind=Kind.ROAD_SEGMENT)
              .annotate(road_class=F("road_segment__road_class")))
        return qs.filter(road_class__in=MAJOR_ROADS) if self.z <= MAJOR_ROADS_UNTIL else qs


def data_version() -> str:
    """What every tile depends on: the change feed's latest id (creates, edits, retirements, inspections,
    measures) and the latest asset update (writes that bypass the feed, e.g. the demo generator's bulk
    load), plus the reference roads loaded. Three index lookups in one query (a cached tile costs little more)."""
    # From where the tiles' rows are read (a replica for GET /tiles/ when one is configured: config.routers).
    db = connections[router.db_for_read(Asset)]
    q = db.ops.quote_name
    with db.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT max(id) FROM {q(ChangeRecord._meta.db_table)}), "
                       f"(SELECT max(updated_at) FROM {q(Asset._meta.db_table)}), "
                       f"(SELECT max(id) FROM {q(ReferenceRoad._meta.db_table)})")
        change, updated, roads = cursor.fetchone()
    return f"{change or 0}.{updated.timestamp() if updated else 0}.{roads or 0}"


def _scope_key(principal) -> str:
    scope = access.scope_for(principal)
    return "admin" if scope.is_admin else ",".join(sorted(scope.read)) + "|" + ",".join(map(str, sorted(scope.regions)))


def _serve(request, name: str, layers, z: int, x: int, y: int, extra: str = ""):
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise Http404
    principal = access.principal_of(request)
    key = hashlib.sha256(f"{name}:{extra}:{data_version()}:{_scope_key(principal)}:{z}/{x}/{y}".encode()).hexdigest()
    etag = f'"{key[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=60", "Vary": "Cookie"}
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        content = cache.get(f"tile:{key}")
        if content is None:
            content = b"".join(layer.get_tile(x, y, z) for layer in layers())
            cache.set(f"tile:{key}", content, CACHE_SECONDS)
        response = HttpResponse(content, content_type=CONTENT_TYPE, status=200 if content else 204)
    for k, v in headers.items():
        response[k] = v
    return response


def _too_dense(principal, x: int, y: int, z: int) -> bool:
    """More than DETAIL_MAX_ASSETS visible assets in the tile (counted up to one more, on the spatial index)."""
    xmin, ymin, xmax, ymax = mercantile.xy_bounds(x, y, z)
    inside = (_visible_assets(principal).filter(geom__intersects=MakeEnvelope(xmin, ymin, xmax, ymax, 3857))
              .order_by().values("pk")[:DETAIL_MAX_ASSETS + 1])
    return inside.count() > DETAIL_MAX_ASSETS


@login_required
def asset_tile(request, z: int, x: int, y: int):
    principal = access.principal_of(request)

    def layers():
        if z <= CELL_MAX_ZOOM or (z <= DENSE_MAX_ZOOM and _too_dense(principal, x, y, z)):
            return [AssetCellLayer(principal)]
        return [AssetLayer(principal)]

    return _serve(request, "assets", layers, z, x, y)


@login_required
def lot_tile(request, run: int, z: int, x: int, y: int):
    found = run_list(principal=access.principal_of(request)).filter(pk=run).first()
    if found is None:
        raise Http404
    return _serve(request, "lots", lambda: [LotLayer(found)], z, x, y, extra=str(found.pk))


@login_required
def base_tile(request, z: int, x: int, y: int):
    principal = access.principal_of(request)
    return _serve(request, "base", lambda: [BoundaryLayer(principal), ReferenceRoadLayer(), RegistryRoadLayer(principal)],
                  z, x, y)
