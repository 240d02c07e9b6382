"""Real GIS clients against a live server: GDAL's OAPIF driver (ogrinfo/ogr2ogr from gdal-bin, as QGIS uses the
same protocol) and owslib's OGC API Features client, signed in with an API token as a Bearer header."""

import json
import shutil
import subprocess

import pytest
from django.core.signals import request_started

from assets.models import ApiToken
from tests.conftest import make_asset
from tests.ogc.helpers import bulk_pipes

pytestmark = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="gdal-bin is not installed")


@pytest.fixture
def requests_seen():
    """Paths (with query) the live server was asked for: it runs in this process, so request_started sees them."""
    seen = []

    def record(sender, environ=None, **kw):
        if environ and environ.get("PATH_INFO", "").startswith("/ogc/"):
            seen.append(environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", ""))

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


@pytest.fixture
def municipality_of_2500(transactional_db, world):
    """八潮 with 2,500 sewer pipes; 草加 (same region) with 3 that 八潮's token must not read."""
    bulk_pipes(world.yashio, 2500)
    bulk_pipes(world.soka, 3, lon0=139.70, start=900_000)
    _t, key = ApiToken.issue(name="QGIS", municipality=world.yashio, source="daicho", can_write=False)
    return key


def _gdal(args, key, tmp_path):
    env = {"GDAL_HTTP_HEADERS": f"Authorization: Bearer {key}", "CPL_DEBUG": "OFF", "GDAL_HTTP_UNSAFESSL": "YES",
           "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def test_gdal_reads_a_whole_municipality_with_every_attribute(live_server, municipality_of_2500, requests_seen,
                                                              tmp_path):
    """The issue: GDAL reading the registry got 5,000 of 30,003 features, silently. Through /ogc/ it follows the
    `next` links to the end: 2,500 features with limit 1000 are 3 pages, each with its kind's attributes."""
    out = tmp_path / "pipes.geojson"
    _gdal(["ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live_server.url}/ogc", "sewer_pipe",
           "-oo", "PAGE_SIZE=1000"], municipality_of_2500, tmp_path)
    fc = json.loads(out.read_text())
    assert len(fc["features"]) == 2500
    assert len({f["properties"]["global_id"] for f in fc["features"]}) == 2500
    assert {f["properties"]["owner"] for f in fc["features"]} == {"112348"}
    props = fc["features"][0]["properties"]
    assert {"diameter_mm", "material", "drainage_system", "grade", "next_due_on", "built_fiscal_year"} <= set(props)
    # GDAL fetches the first page once more to establish the layer's fields: 3 distinct pages.
    pages = {u for u in requests_seen if "/collections/sewer_pipe/items" in u and "limit=1000" in u}
    assert len(pages) == 3, requests_seen
    info = _gdal(["ogrinfo", "-ro", "-so", f"OAPIF:{live_server.url}/ogc", "sewer_pipe"], municipality_of_2500,
                 tmp_path).stdout
    # Field types from the collection's schema (describedBy), not guessed from the first page.
    assert "Feature Count: 2500" in info
    for field in ("diameter_mm: Integer", "length_m: Real", "next_due_on: Date", "updated_at: DateTime",
                  "is_trunk: Integer(Boolean)", "cover_depth_m: Real", "material_label: String"):
        assert field in info, (field, info)


def test_gdal_with_a_cql2_filter(live_server, municipality_of_2500, requests_seen, tmp_path):
    """A CQL2 filter evaluated by the server (Part 3): GDAL passes it in the dataset URL's query, which it keeps
    on every request (the `next` links carry it too), and reads only the 625 matching features."""
    out = tmp_path / "big.geojson"
    url = f"{live_server.url}/ogc?filter=diameter_mm%3E%3D350%20AND%20material%3D%27rc%27&filter-lang=cql2-text"
    _gdal(["ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{url}", "sewer_pipe", "-oo", "PAGE_SIZE=1000"],
          municipality_of_2500, tmp_path)
    feats = json.loads(out.read_text())["features"]
    # i odd → rc; diameter 200 + 50·(i mod 4) ≥ 350 → i mod 4 = 3: 625 of 2,500.
    assert len(feats) == 625
    assert all(f["properties"]["diameter_mm"] == 350 and f["properties"]["material"] == "rc" for f in feats)
    items = [u for u in requests_seen if "/items?" in u]
    assert items and all("filter=" in u for u in items) and not any("after=" in u for u in items), requests_seen
    # An attribute filter gives the same features (GDAL 3.6 evaluates it itself: it finds neither the
    # queryables nor the filter languages in OpenAPI documents, so only the URL's filter reaches the server).
    out2 = tmp_path / "where.geojson"
    _gdal(["ogr2ogr", "-f", "GeoJSON", str(out2), f"OAPIF:{live_server.url}/ogc", "sewer_pipe", "-oo",
           "PAGE_SIZE=1000", "-where", "diameter_mm = 350 AND material = 'rc'"], municipality_of_2500, tmp_path)
    assert len(json.loads(out2.read_text())["features"]) == 625


def test_owslib_client(live_server, municipality_of_2500, world):
    """owslib.ogcapi.features.Features, a Python client: collections, items with limit and a CQL2 filter, one
    feature, queryables."""
    from owslib.ogcapi.features import Features

    make_asset(world.yashio, "bridge", external_id="BR-9", lon=139.84, lat=35.83)
    w = Features(f"{live_server.url}/ogc", headers={"Authorization": f"Bearer {municipality_of_2500}"})
    assert "sewer_pipe" in w.feature_collections() and "bridge" in w.feature_collections()
    assert w.collection("sewer_pipe")["storageCrs"].endswith("/6668")
    page = w.collection_items("sewer_pipe", limit=10)
    assert len(page["features"]) == 10 and page["numberMatched"] == 2500
    big = w.collection_items("sewer_pipe", limit=1000, filter="diameter_mm = 350", **{"filter-lang": "cql2-text"})
    assert big["numberMatched"] == 625 and len(big["features"]) == 625
    bridge = w.collection_items("bridge")["features"][0]
    assert bridge["properties"]["structure_type"] == "pc"
    assert w.collection_item("bridge", bridge["id"])["id"] == bridge["id"]
    assert "diameter_mm" in w.collection_queryables("sewer_pipe")["properties"]
