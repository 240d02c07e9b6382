"""OGC API – Features at /ogc/: Part 1 (core, GeoJSON, OpenAPI 3), Part 2 (CRS by reference) and Part 3
(filtering with CQL2 text and JSON, queryables), scoped like the rest of the API.

On django-ninja, as the other API: its own NinjaAPI (so its OpenAPI document is the OGC one, served at /ogc/api
as the landing page's `service-desc`, where GDAL and QGIS read the `limit` parameter's maximum), the same two ways
to sign in (a ledger system's Bearer token, a person's session: assets.api_auth). Handlers return plain
HttpResponses: the bodies are GeoJSON (application/geo+json) written from SQL, and headers such as Content-Crs
and Link are the standard's, so ninja's response models would only get in the way. Only JSON is served (f=json);
there is no HTML."""

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query
from ninja.errors import AuthenticationError, ValidationError

from assets import access
from assets.api_auth import api_auth
from core.text import whole_number
from ogc import collections as cols
from ogc import query
from ogc.crs import CRS84, STORAGE_URI, SUPPORTED, OgcError, parse_crs

GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
]


api = NinjaAPI(title="群マネ OGC API – Features", version="1.0", auth=api_auth(),
               urls_namespace="ogc", openapi_url=None, docs_url=None,
               description="Assets by kind, clusters of the latest run and inspections, for QGIS, ArcGIS and GDAL.")


def _error(request, status: int, code: str, description: str) -> HttpResponse:
    return _json({"code": code, "description": description}, status=status)


@api.exception_handler(OgcError)
def ogc_error(request, exc: OgcError):
    return _error(request, exc.status, exc.code, exc.description)


@api.exception_handler(ValidationError)
def invalid(request, exc: ValidationError):
    # OGC answers bad parameters with 400 (ninja's default is 422).
    described = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors)
    return _error(request, 400, "InvalidParameterValue", described)


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    return _error(request, 401, "Unauthorized", "Sign in, or send Authorization: Bearer <API token>")


def _json(body, *, status: int = 200, content_type: str = JSON, headers: dict | None = None) -> HttpResponse:
    r = HttpResponse(body if isinstance(body, str) else query.dump(body), status=status,
                     content_type=f"{content_type}; charset=utf-8")
    for k, v in (headers or {}).items():
        r[k] = v
    return r


def _url(request, path: str = "") -> str:
    return request.build_absolute_uri(f"/ogc{path}")


def _link(href, rel, type_=JSON, title=None) -> dict:
    return {"href": href, "rel": rel, "type": type_, **({"title": title} if title else {})}


def _collection(request, c: cols.Collection, extent=None) -> dict:
    base = _url(request, f"/collections/{c.id}")
    out = {
        "id": c.id, "title": str(c.title), "description": str(c.description), "itemType": "feature",
        "crs": list(SUPPORTED), "storageCrs": STORAGE_URI,
        "links": [_link(base, "self"), _link(f"{base}/items", "items", GEOJSON, str(c.title)),
                  _link(f"{base}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                        "application/schema+json"),
                  # The features' schema: GDAL types its fields from it (dates as dates, a column empty on the
                  # first page still numeric) instead of guessing from the first page.
                  _link(f"{base}/schema", "describedBy", "application/schema+json")],
    }
    if extent:
        out["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return out


def _extents(principal) -> dict:
    """Each collection's bounding box over what the principal sees: one grouped query for the asset kinds, one
    for the clusters (inspections are drawn at assets: the union of theirs)."""
    from django.contrib.gis.db.models import Extent

    from assets.models import Asset

    rows = access.assets_visible(principal, Asset.objects.order_by()).values("kind").annotate(e=Extent("geom"))
    out = {r["kind"]: r["e"] for r in rows if r["e"]}
    if out:
        boxes = list(out.values())
        out["inspections"] = (min(b[0] for b in boxes), min(b[1] for b in boxes),
                              max(b[2] for b in boxes), max(b[3] for b in boxes))
    clusters = cols.get("clusters").base(principal).aggregate(e=Extent("geom"))["e"]
    if clusters:
        out["clusters"] = clusters
    return out


def _get_collection(collection_id: str) -> cols.Collection:
    c = cols.get(collection_id)
    if c is None:
        raise OgcError(_("No collection %(id)s") % {"id": collection_id}, status=404, code="NotFound")
    return c


@api.get("/", summary="Landing page")
def landing(request):
    return _json({
        "title": "群マネ OGC API – Features",
        "description": str(_("Shared infrastructure registry: assets, clusters and inspections")),
        "links": [
            _link(_url(request, "/"), "self"),
            _link(_url(request, "/api"), "service-desc", OPENAPI, "OpenAPI 3"),
            _link(_url(request, "/conformance"), "conformance"),
            _link(_url(request, "/collections"), "data"),
        ]})


@api.get("/conformance", summary="Conformance classes")
def conformance(request):
    return _json({"conformsTo": CONFORMANCE})


@api.get("/api", summary="This API's OpenAPI document", include_in_schema=False)
def openapi(request):
    """The OpenAPI document with paths relative to the server /ogc, as the OGC examples write them
    (`/collections/{collectionId}/items`), which is where GDAL and QGIS look for `limit`'s maximum."""
    import copy

    doc = api.get_openapi_schema(path_prefix="")
    doc["paths"] = {("/" + p.lstrip("/")): v for p, v in doc["paths"].items()}
    doc["servers"] = [{"url": _url(request)}]
    template = doc["paths"]["/collections/{collectionId}/items"]["get"]
    for param in template["parameters"]:
        if param["name"] == "filter-lang":
            # "cql-text" is the drafts' name for the text encoding, which GDAL up to 3.6 looks for here.
            param["schema"] = {"type": "string", "enum": [*query.FILTER_LANGS, "cql-text"], "default": "cql2-text"}
    # Each collection's items path with its queryables as query parameters (property=value): GDAL reads them
    # here to send attribute filters to the server instead of downloading everything and filtering itself.
    for c in cols.all_collections().values():
        op = copy.deepcopy(template)
        op["operationId"] = f"items_{c.id}"
        op["parameters"] = [p for p in op["parameters"] if p["name"] != "collectionId"] + [
            {"name": p.name, "in": "query", "required": False, "description": p.title,
             "schema": {"type": p.type, **({"format": p.format} if p.format else {}),
                        **({"enum": [code for code, _label in p.choices]} if p.choices else {})}}
            for p in c.props]
        doc["paths"][f"/collections/{c.id}/items"] = {"get": op}
    return _json(doc, content_type=OPENAPI.split(";")[0])


@api.get("/collections", summary="Collections")
def collections(request):
    extents = _extents(access.principal_of(request))
    return _json({
        "links": [_link(_url(request, "/collections"), "self")],
        "crs": list(SUPPORTED),
        "collections": [_collection(request, c, extents.get(c.id)) for c in cols.all_collections().values()]})


@api.get("/collections/{collectionId}", summary="One collection")
def collection(request, collectionId: str):
    c = _get_collection(collectionId)
    return _json(_collection(request, c, _extents(access.principal_of(request)).get(c.id)))


@api.get("/collections/{collectionId}/queryables", summary="Queryable properties (JSON Schema)")
def queryables(request, collectionId: str):
    c = _get_collection(collectionId)
    props = {"geometry": {"format": "geometry-any", "title": "geometry"}}
    props |= {k: v for k, v in _property_schemas(c).items() if c.prop(k) is not None}  # labels are not queryable
    return _json({"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": _url(request, f"/collections/{c.id}/queryables"), "type": "object",
                  "title": str(c.title), "properties": props, "additionalProperties": False},
                 content_type="application/schema+json")


def _property_schemas(c: cols.Collection) -> dict:
    out = {}
    for p in c.props:
        schema = {"type": p.type, "title": p.title or p.name}
        if p.format:
            schema["format"] = p.format
        if p.choices:
            schema["enum"] = [code for code, _label in p.choices]
        out[p.name] = schema
        if p.choices:
            out[f"{p.name}_label"] = {"type": "string", "title": p.title or p.name}
    return out


@api.get("/collections/{collectionId}/schema", summary="The features' JSON Schema")
def schema(request, collectionId: str):
    c = _get_collection(collectionId)
    return _json({"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": _url(request, f"/collections/{c.id}/schema"), "title": str(c.title), "type": "object",
                  "properties": {"type": {"type": "string"}, "id": {"type": "integer" if c.id_path == "pk" else "string"},
                                 "geometry": {"format": "geometry-any"},
                                 "properties": {"type": "object", "properties": _property_schemas(c)}}},
                 content_type="application/schema+json")


def _crs_header(crs) -> dict:
    return {"Content-Crs": f"<{crs.uri}>"}


@api.get("/collections/{collectionId}/items", summary="Features of a collection")
def items(request, collectionId: str,
          limit: int = Query(query.DEFAULT_LIMIT, ge=1, le=query.MAX_LIMIT,
                             description=f"features per page, 1–{query.MAX_LIMIT:,}; follow the `next` link"),
          bbox: str | None = Query(None, description="minx,miny,maxx,maxy in bbox-crs axis order"),
          bbox_crs: str | None = Query(None, alias="bbox-crs", description="CRS of bbox (default CRS84)"),
          datetime: str | None = Query(None, description="instant or interval a/b, open ends as .."),
          crs: str | None = Query(None, description="output CRS (default CRS84)"),
          filter: str | None = Query(None, description="CQL2 expression"),
          filter_lang: str | None = Query(None, alias="filter-lang", description="cql2-text (default) or cql2-json"),
          filter_crs: str | None = Query(None, alias="filter-crs", description="CRS of filter geometries: CRS84"),
          after: int | None = Query(None, ge=0, description="keyset cursor: the `next` link carries it"),
          f: str | None = Query(None, description="json (the only format)")):
    c = _get_collection(collectionId)
    if f is not None and "json" not in f:  # json, geojson, application/geo+json
        raise OgcError(f"f: json, got {f!r}")
    out_crs = parse_crs(crs)
    base = c.base(access.principal_of(request))
    qs, _narrowed = query.filtered(c, base, request.GET)
    page = query.features(c, qs, out_crs, limit=limit, after=after, count_cap=query.COUNT_CAP)
    self_url = request.build_absolute_uri()
    links = [_link(self_url, "self", GEOJSON), _link(_url(request, f"/collections/{c.id}"), "collection")]
    headers = _crs_header(out_crs)
    if page.last is not None:
        params = request.GET.copy()
        params["after"] = str(page.last)
        params["limit"] = str(limit)
        next_url = request.build_absolute_uri(request.path) + "?" + params.urlencode()
        links.append(_link(next_url, "next", GEOJSON))
        headers["Link"] = f'<{next_url}>; rel="next"; type="{GEOJSON}"'
    head = {"type": "FeatureCollection", "timeStamp": timezone.now().isoformat(timespec="seconds")}
    if page.matched is not None:
        head["numberMatched"] = page.matched
    head["numberReturned"] = page.returned
    head["links"] = links
    body = query.dump(head)[:-1] + ',"features":' + page.array + "}"
    return _json(body, content_type=GEOJSON, headers=headers)


@api.get("/collections/{collectionId}/items/{featureId}", summary="One feature")
def item(request, collectionId: str, featureId: str,
         crs: str | None = Query(None, description="output CRS (default CRS84)")):
    c = _get_collection(collectionId)
    out_crs = parse_crs(crs)
    qs = c.base(access.principal_of(request))
    if c.id_path == "pk":
        pk = whole_number(featureId, 18)
        if pk is None:
            raise OgcError(_("No feature %(id)s") % {"id": featureId}, status=404, code="NotFound")
        qs = qs.filter(pk=pk)
    else:
        qs = qs.filter(**{c.id_path: featureId})
    page = query.features(c, qs, out_crs, limit=1)
    if not page.returned:
        # Absent and out of scope answer alike (as access.get_or_404).
        raise OgcError(_("No feature %(id)s") % {"id": featureId}, status=404, code="NotFound")
    links = query.dump([_link(request.build_absolute_uri(), "self", GEOJSON),
                        _link(_url(request, f"/collections/{c.id}"), "collection")])
    body = page.items[:-1] + ',"links":' + links + "}"
    return _json(body, content_type=GEOJSON, headers=_crs_header(out_crs))
