"""OGC API – Features at /ogc/ through Django's test client: the documents GIS clients read (landing page,
conformance, OpenAPI with `limit`, collections with their CRSs), scope, keyset paging, CRSs and axis order
(Part 2), CQL2 filtering (Part 3), and bad input answered 400 naming the parameter."""

import json

import pytest
from django.test import Client

from assets.history import Actor
from assets.models import ApiToken, Via
from inspections.services import inspection_record
from tests.conftest import make_asset
from tests.ogc.helpers import bulk_pipes

EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _token_client(muni) -> Client:
    _t, key = ApiToken.issue(name="gis", municipality=muni, source="daicho", can_write=False)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def reg(world):
    """八潮: a bridge inspected III, a pipe, a manhole; 草加 (same region): a pipe; 輪島 (another region): a pipe."""
    br = make_asset(world.yashio, "bridge", external_id="BR-1", lon=139.84, lat=35.83)
    inspection_record(actor=Actor.system(Via.API), asset=br, inspected_on="2023-05-01", grade="III")
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="P-1", lon=139.841, lat=35.821, diameter_mm=600)
    make_asset(world.yashio, "manhole", external_id="M-1", lon=139.842, lat=35.822, depth_m=2.5)
    make_asset(world.soka, "sewer_pipe", external_id="P-S", lon=139.805, lat=35.825)
    make_asset(world.wajima, "sewer_pipe", external_id="P-W", lon=136.899, lat=37.391)
    return {"bridge": br, "pipe": pipe}


def test_landing_conformance_and_openapi_declare_what_gis_clients_read(world, client):
    """OGC API – Features Part 1 §7.2–7.4: landing page links service-desc/conformance/data; the OpenAPI document
    declares `limit` (minimum 1, maximum 10,000, default 100) on /collections/{collectionId}/items, where GDAL's
    OAPIF driver and QGIS read the largest page they may ask for."""
    client.force_login(world.alice)
    landing = client.get("/ogc/").json()
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["href"].endswith("/ogc/api")
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in conf
    r = client.get("/ogc/api")
    assert r["Content-Type"].startswith("application/vnd.oai.openapi+json")
    doc = r.json()
    params = {p["name"]: p for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 10_000 and params["limit"]["schema"]["minimum"] == 1
    assert params["limit"]["schema"]["default"] == 100
    assert {"bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang"} <= set(params)
    assert doc["servers"][0]["url"].endswith("/ogc")


def test_collections_one_per_kind_with_crs_and_storage_crs(world, reg, client):
    """Part 2 §6.2: each collection lists its CRSs (CRS84 first, EPSG:4326, 6668 and the plane zones 6669–6687)
    and its storageCrs (EPSG:6668, JGD2011)."""
    from assets.kinds import KINDS

    client.force_login(world.alice)
    body = client.get("/ogc/collections").json()
    by_id = {c["id"]: c for c in body["collections"]}
    assert set(by_id) == set(KINDS) | {"clusters", "inspections"}
    pipes = by_id["sewer_pipe"]
    assert pipes["storageCrs"] == EPSG.format(6668)
    assert pipes["crs"][0] == CRS84 and EPSG.format(6669) in pipes["crs"] and EPSG.format(6687) in pipes["crs"]
    assert EPSG.format(6688) not in pipes["crs"]
    # Extent over what alice sees (八潮 and 草加), never 輪島's.
    minx, miny, maxx, maxy = pipes["extent"]["spatial"]["bbox"][0]
    assert 139.8 <= minx <= maxx < 139.9 and 35.8 < miny <= maxy < 35.9
    assert client.get("/ogc/collections/sewer_pipe").json()["id"] == "sewer_pipe"
    assert client.get("/ogc/collections/nope").status_code == 404


def test_items_carry_kind_attributes_and_condition(world, reg, client):
    """The issue: one layer per kind with its ledger attributes (assets/models/details.py) and its condition
    (latest grade, next inspection due: inspections.AssetCondition), as GeoJSON."""
    client.force_login(world.alice)
    r = client.get("/ogc/collections/bridge/items")
    assert r["Content-Type"].startswith("application/geo+json")
    assert r["Content-Crs"] == f"<{CRS84}>"
    fc = r.json()
    [f] = fc["features"]
    assert f["id"] == reg["bridge"].global_id and f["geometry"]["type"] == "Point"
    p = f["properties"]
    assert p["length_m"] == 20.0 and p["structure_type"] == "pc" and p["crosses"] == "river"
    assert p["grade"] == "III" and p["last_inspected_on"] == "2023-05-01" and p["next_due_on"]
    assert p["owner"] == world.yashio.code and p["kind"] == "bridge" and p["kind_label"]
    pipes = client.get("/ogc/collections/sewer_pipe/items").json()
    assert {f["properties"]["owner"] for f in pipes["features"]} == {world.yashio.code, world.soka.code}
    assert {f["geometry"]["type"] for f in pipes["features"]} == {"LineString"}
    assert any(f["properties"]["diameter_mm"] == 600 for f in pipes["features"])
    one = client.get(f"/ogc/collections/sewer_pipe/items/{reg['pipe'].global_id}")
    assert one.status_code == 200 and one.json()["properties"]["diameter_mm"] == 600
    insp = client.get("/ogc/collections/inspections/items").json()["features"]
    assert [(f["properties"]["asset"], f["properties"]["grade"]) for f in insp] == [(reg["bridge"].global_id, "III")]


def test_scope_as_the_rest_of_the_api(world, reg, client):
    """Every collection is scoped like the API (assets.access): a token reads its municipality, an outsider
    never sees (nor can fetch) another region's features; anonymous is 401."""
    tok = _token_client(world.yashio)
    owners = {f["properties"]["owner"] for f in tok.get("/ogc/collections/sewer_pipe/items").json()["features"]}
    assert owners == {world.yashio.code}
    client.force_login(world.charlie)
    body = client.get("/ogc/collections/sewer_pipe/items").json()
    assert {f["properties"]["owner"] for f in body["features"]} == {world.wajima.code}
    assert body["numberMatched"] == 1
    assert client.get(f"/ogc/collections/sewer_pipe/items/{reg['pipe'].global_id}").status_code == 404
    assert client.get("/ogc/collections/inspections/items").json()["features"] == []
    # Every route of the OGC API's own document (the permission matrix leaves /ogc/ to this test): anonymous 401,
    # the outsider's token never sees 八潮's features.
    doc = tok.get("/ogc/api").json()
    other = _token_client(world.wajima)
    for path in doc["paths"]:
        url = "/ogc" + path.replace("{collectionId}", "sewer_pipe").replace("{featureId}", reg["pipe"].global_id)
        assert Client().get(url).status_code == 401, url
        r = other.get(url)
        if "{featureId}" in path:
            assert r.status_code == 404, url  # absent and out of scope answer alike
        else:
            assert r.status_code == 200 and reg["pipe"].global_id not in r.content.decode(), url


def test_keyset_paging_with_next_links_and_number_matched(world, client):
    """Part 1 §7.15.4–7.15.6: numberMatched/numberReturned and a rel=next link (also as an RFC 8288 Link header)
    until the last page; the cursor is the last record number (keyset), so pages never overlap or skip."""
    ids = bulk_pipes(world.yashio, 250)
    client.force_login(world.alice)
    url, seen, pages = "/ogc/collections/sewer_pipe/items?limit=100", [], 0
    while url:
        r = client.get(url)
        fc = r.json()
        pages += 1
        assert fc["numberMatched"] == 250 and fc["numberReturned"] == len(fc["features"])
        seen += [f["id"] for f in fc["features"]]
        nxt = [link["href"] for link in fc["links"] if link["rel"] == "next"]
        assert bool(nxt) == ("Link" in r)
        url = nxt[0] if nxt else None
        if url:
            assert "after=" in url and "offset" not in url and 'rel="next"' in r["Link"]
    assert pages == 3 and len(seen) == len(set(seen)) == len(ids)
    assert client.get("/ogc/collections/sewer_pipe/items?limit=10001").status_code == 400
    assert client.get("/ogc/collections/sewer_pipe/items?limit=0").status_code == 400


def test_crs_output_and_axis_order(world, reg, client):
    """Part 2: `crs` picks the output CRS, echoed in Content-Crs. EPSG:4326 and 6668 are latitude first, the
    JGD2011 plane zones X (north) first — 八潮 in zone IX (EPSG:6677, origin 36°N 139°50'E) is a little south of
    the origin: X negative, Y small; CRS84 stays longitude first."""
    client.force_login(world.alice)
    gid = reg["bridge"].global_id
    lonlat = client.get(f"/ogc/collections/bridge/items/{gid}").json()["geometry"]["coordinates"]
    assert lonlat == pytest.approx([139.84, 35.83])
    for code in (4326, 6668):
        r = client.get(f"/ogc/collections/bridge/items/{gid}?crs={EPSG.format(code)}")
        assert r["Content-Crs"] == f"<{EPSG.format(code)}>"
        assert r.json()["geometry"]["coordinates"] == pytest.approx([35.83, 139.84], abs=1e-6)
    x, y = client.get(f"/ogc/collections/bridge/items/{gid}?crs={EPSG.format(6677)}").json()["geometry"]["coordinates"]
    assert -20_000 < x < -18_000 and abs(y) < 1_000  # 0.17° south of 36°N ≈ 18.9 km; 139.84 vs 139.8333°E
    assert client.get(f"/ogc/collections/bridge/items?crs={EPSG.format(3857)}").status_code == 400


def test_bbox_and_bbox_crs(world, reg, client):
    """Part 1 §7.15.3 bbox (CRS84 lon/lat) and Part 2 bbox-crs, whose axis order is the CRS's (EPSG:4326
    lat/lon)."""
    client.force_login(world.alice)
    base = "/ogc/collections/sewer_pipe/items"

    def owners(q):
        return {f["properties"]["owner"] for f in client.get(base + q).json()["features"]}

    assert owners("?bbox=139.83,35.81,139.85,35.83") == {world.yashio.code}
    assert owners(f"?bbox=35.81,139.83,35.83,139.85&bbox-crs={EPSG.format(4326)}") == {world.yashio.code}
    assert owners(f"?bbox=35.81,139.79,35.83,139.81&bbox-crs={EPSG.format(6668)}") == {world.soka.code}
    assert client.get(base + "?bbox=1,2,3").status_code == 400
    assert client.get(base + "?bbox=35.81,139.83,35.83,139.85").status_code == 400  # lat/lon given as CRS84


def test_cql2_text_json_property_and_datetime_filters(world, reg, client):
    """Part 3: CQL2 text and JSON filters on the queryables, property=value query parameters, datetime; an
    unknown property is a 400 naming the queryables (never an ORM path reaching other tables)."""
    client.force_login(world.alice)
    base = "/ogc/collections/sewer_pipe/items"

    def gids(q):
        r = client.get(base + q)
        assert r.status_code == 200, r.content
        return {f["id"] for f in r.json()["features"]}

    pipe = reg["pipe"].global_id
    assert gids("?filter=diameter_mm >= 500") == {pipe}
    assert gids("?filter=diameter_mm > 100 AND owner = '112216'") == {f"{world.soka.code}-SP-000001"}
    cql_json = json.dumps({"op": "=", "args": [{"property": "diameter_mm"}, 600]})
    assert gids(f"?filter-lang=cql2-json&filter={cql_json}") == {pipe}
    assert gids("?filter=S_INTERSECTS(geometry, POLYGON((139.83 35.81, 139.85 35.81, 139.85 35.83, 139.83 35.83, "
                "139.83 35.81)))") == {pipe}
    assert gids("?diameter_mm=600") == {pipe}
    assert gids("?owner=112216") == {f"{world.soka.code}-SP-000001"}
    assert len(gids("?datetime=2000-01-01T00:00:00Z/..")) == 2
    assert gids("?datetime=../2000-01-01") == set()
    for bad in ("?filter=owner__api_tokens__key_hash = 'x'", "?filter=nonsense ((", "?diameter_mm=big",
                "?nope=1", "?filter-lang=ecql&filter=a=1", "?datetime=yesterday", "?material=steel"):
        r = client.get(base + bad)
        assert r.status_code == 400, (bad, r.status_code)
        assert r.json()["description"]
    queryables = client.get("/ogc/collections/sewer_pipe/queryables").json()["properties"]
    assert queryables["diameter_mm"]["type"] == "integer" and "rc" in queryables["material"]["enum"]


def test_clusters_of_the_latest_run(world, settings, client):
    """The `clusters` collection: the latest finished run of each region the user sees, with name, rank and
    costs; another region's are never shown."""
    from clusters.services import run_create, run_execute

    settings.ENGINE_SYNC = True
    for i in range(3):
        make_asset(world.yashio, "sewer_pipe", external_id=f"C-{i}", lon=139.839 + i * 0.0006, lat=35.822,
                   built=1960)
    old = run_execute(run_create(principal=None, region=world.region).pk)
    new = run_execute(run_create(principal=None, region=world.region).pk)
    client.force_login(world.carol)
    fc = client.get("/ogc/collections/clusters/items").json()
    assert fc["features"] and {f["properties"]["run"] for f in fc["features"]} == {new.pk} != {old.pk}
    p = fc["features"][0]["properties"]
    assert p["region"] == "nakagawa" and p["rank"] >= 1 and p["total_cost"] > 0
    client.force_login(world.charlie)
    assert client.get("/ogc/collections/clusters/items").json()["features"] == []


def test_assets_geojson_pages_with_next_links(world, client):
    """/api/v1/assets.geojson no longer truncates silently: numberMatched/numberReturned, a rel=next link in the
    body and as an RFC 8288 Link header (keyset `after`), the legacy next_offset kept for the map page."""
    bulk_pipes(world.yashio, 120)
    client.force_login(world.alice)
    url, seen = "/api/v1/assets.geojson?limit=50", []
    while url:
        r = client.get(url)
        fc = r.json()
        assert fc["numberMatched"] == 120 and fc["numberReturned"] == len(fc["features"])
        seen += [f["id"] for f in fc["features"]]
        nxt = [link["href"] for link in fc["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
        assert bool(url) == ('rel="next"' in r.get("Link", ""))
    assert len(seen) == len(set(seen)) == 120
    legacy = client.get("/api/v1/assets.geojson?limit=50&offset=100").json()
    assert legacy["numberReturned"] == 20 and legacy["next_offset"] is None


def test_a_page_costs_the_same_queries_whatever_its_size(world, client):
    """Set-based (developers' guide): a page of 250 features with their details and condition costs no more
    queries than a page of 5 — the GeoJSON is written from one query, never one per feature."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bulk_pipes(world.yashio, 250)
    client.force_login(world.alice)
    costs = []
    for limit in (5, 250):
        with CaptureQueriesContext(connection) as ctx:
            assert len(client.get(f"/ogc/collections/sewer_pipe/items?limit={limit}").json()["features"]) == limit
        costs.append(len(ctx.captured_queries))
    assert costs[0] == costs[1] <= 10, costs  # session, user, scope (3), count, page
