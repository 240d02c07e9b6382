"""Issue 17, maps: vector tiles scoped to the reader, small at low zoom, cached by the data version; the basemap
setting and its Content-Security-Policy; no asset from a CDN on any page, template or vendored script."""

import re
from pathlib import Path

import mercantile
import pytest
from django.contrib.gis.geos import LineString
from django.urls import reverse

from assets.history import Actor
from assets.models import Asset, Kind, Via
from tests.conftest import make_pipe

ROOT = Path(__file__).resolve().parents[2]
LON, LAT = 139.830, 35.822


def tile_url(kind, z, lon=LON + 0.0002, lat=LAT):
    t = mercantile.tile(lon, lat, z)
    return f"/tiles/{kind}/{z}/{t.x}/{t.y}.pbf"


@pytest.fixture
def pipes(world):
    """One pipe in 八潮市 (alice's), one in 草加市 (bob's) next to it: both fall in the same tiles."""
    return make_pipe(world.yashio, external_id="Y-1", lon=LON), make_pipe(world.soka, external_id="S-1", lon=LON + 0.0003)


@pytest.mark.parametrize("z", [8, 12, 16])
def test_a_tile_never_carries_assets_the_reader_may_not_see(world, pipes, client, z):
    """assets.access: a viewer of 八潮市 (victor) sees only 八潮市's assets; an outsider (charlie, 輪島市) none.
    At z ≥ 12 the tile names each asset; at low zoom it carries counts, so the count must be the reader's."""
    yashio, soka = pipes
    client.force_login(world.victor)
    victor = client.get(tile_url("assets", z))
    client.force_login(world.carol)
    carol = client.get(tile_url("assets", z))
    client.force_login(world.charlie)
    charlie = client.get(tile_url("assets", z))
    assert victor.status_code == carol.status_code == 200
    assert victor["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert charlie.status_code == 204 and charlie.content == b""
    if z >= 12:
        assert yashio.global_id.encode() in victor.content and soka.global_id.encode() not in victor.content
        assert yashio.global_id.encode() in carol.content and soka.global_id.encode() in carol.content
        assert b"sewer_pipe" in victor.content and b"grade" in victor.content
    else:
        assert b"asset_cells" in victor.content and yashio.global_id.encode() not in victor.content
        # Two pipes in one cell: the coordinator's cell counts 2, the viewer's 1 (MVT varint values).
        assert victor.content != carol.content


def test_a_dense_tile_at_zoom_12_or_13_is_aggregated_and_zoom_14_draws_every_asset(world, pipes, client,
                                                                                    monkeypatch):
    """A z12–13 tile holding more than DETAIL_MAX_ASSETS visible assets is drawn as counted cells (a town centre of a
    1,000,000-asset region holds tens of thousands); one holding fewer, and every tile from z14, names each asset.
    The count is the reader's: the viewer of 八潮市 sees one pipe here, the coordinator two."""
    from web import tiles

    yashio, soka = pipes
    monkeypatch.setattr(tiles, "DETAIL_MAX_ASSETS", 1)
    client.force_login(world.carol)  # two visible pipes in the tile: over the limit of one
    for z in (12, 13):
        dense = client.get(tile_url("assets", z)).content
        assert b"asset_cells" in dense and yashio.global_id.encode() not in dense
    detailed = client.get(tile_url("assets", 14)).content
    assert yashio.global_id.encode() in detailed and soka.global_id.encode() in detailed
    client.force_login(world.victor)  # one visible pipe: not over the limit, drawn as itself at z12
    assert yashio.global_id.encode() in client.get(tile_url("assets", 12)).content


def test_tiles_need_a_signed_in_reader(world, pipes, client):
    """Like every page: anonymous readers are sent to sign in, and get no tile."""
    for kind in ("assets", "base"):
        r = client.get(tile_url(kind, 14))
        assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_a_z8_tile_of_a_30000_asset_region_stays_small(world, client):
    """Low zoom is aggregated per grid cell: 30,000 assets over ~15 km make a z8 tile of a few kilobytes."""
    from django.db import connection

    from assets.models import SewerPipe

    # 200 pipes a row, 150 rows, 80 m apart: written set-based in SQL (30,000 ORM objects took half a minute), with
    # the values the model's defaults give.
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO assets_asset (global_id, owner_id, kind, source, external_id, name, geom, built_year_text,
                                      status, serves_important_facility, important_facility_note, version,
                                      created_at, updated_at)
            SELECT '112348-SP-' || lpad(k::text, 6, '0'), %(owner)s, %(kind)s, 'bulk', k::text, '',
                   ST_SetSRID(ST_MakeLine(ST_MakePoint(%(lon)s + (k %% 200) * 0.0008, %(lat)s + (k / 200) * 0.0008),
                                          ST_MakePoint(%(lon)s + (k %% 200) * 0.0008 + 0.0004,
                                                       %(lat)s + (k / 200) * 0.0008)), 6668),
                   '', %(status)s, false, '', 1, now(), now()
            FROM generate_series(0, 29999) AS k""",
                    {"owner": world.yashio.code, "kind": Kind.SEWER_PIPE, "lon": LON, "lat": LAT,
                     "status": Asset._meta.get_field("status").get_default()})
        cur.execute("""
            INSERT INTO assets_sewerpipe (asset_id, drainage_system, material, diameter_mm, length_m, is_trunk,
                                          is_regional, is_corrosion_prone, renewal_method)
            SELECT id, 'sanitary', 'rc', 300, 40.0, false, false, false, %s FROM assets_asset WHERE source = 'bulk'""",
                    [SewerPipe._meta.get_field("renewal_method").get_default()])
    assert Asset.objects.filter(source="bulk", sewer_pipe__isnull=False).count() == 30_000
    client.force_login(world.alice)
    r = client.get(tile_url("assets", 8, LON + 0.08, LAT + 0.06))
    assert r.status_code == 200
    assert len(r.content) < 20_000, len(r.content)
    detail = client.get(tile_url("assets", 16, LON + 0.0002, LAT))
    assert b"112348-SP-000000" in detail.content


def test_tiles_carry_an_etag_of_the_data_version_and_answer_304(world, pipes, client):
    client.force_login(world.alice)
    url = tile_url("assets", 15)
    first = client.get(url)
    etag = first["ETag"]
    assert "private" in first["Cache-Control"] and "max-age" in first["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    # A change anywhere in the registry is a new data version: the old ETag no longer matches.
    make_pipe(world.yashio, external_id="Y-2", lon=LON + 0.0001)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # A reader with another scope (victor: 八潮市 only, no 草加市 pipe) gets another ETag: caches never mix them.
    client.force_login(world.victor)
    assert client.get(url)["ETag"] != changed["ETag"]


def test_the_lot_tiles_are_those_of_a_run_the_reader_may_see(world, pipes, client):
    from clusters.services import run_create, run_execute
    from inspections.services import inspection_record

    for p in pipes:
        inspection_record(actor=Actor.system(Via.SYSTEM), asset=p, inspected_on="2025-05-01", grade="緊急度Ⅰ")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    client.force_login(world.carol)
    r = client.get(f"/tiles/lots/{run.pk}/15/{mercantile.tile(LON, LAT, 15).x}/{mercantile.tile(LON, LAT, 15).y}.pbf")
    assert r.status_code == 200 and b"lots" in r.content and b"work_type" in r.content
    client.force_login(world.charlie)
    assert client.get(f"/tiles/lots/{run.pk}/15/0/0.pbf").status_code == 404


def test_the_fallback_basemap_has_boundaries_and_roads(world, pipes, client):
    """The closed-network basemap: municipal boundaries (assets.Municipality) and roads (clusters.ReferenceRoad,
    registry road segments); no river data exists in the registry."""
    from clusters.models import ReferenceRoad
    from tests.conftest import make_asset

    ReferenceRoad.objects.create(geom=LineString((LON - 0.01, LAT), (LON + 0.01, LAT), srid=6668),
                                 road_class="national", name="国道4号", source="test")
    make_asset(world.yashio, "road_segment", external_id="R-1")
    client.force_login(world.alice)
    r = client.get(tile_url("base", 14))
    assert r.status_code == 200
    for layer in (b"boundaries", b"roads_ref", b"roads", "八潮市".encode()):
        assert layer in r.content
    zoomed_out = client.get(tile_url("base", 8))
    assert b"roads_ref" in zoomed_out.content  # a national road: shown when zoomed out too


def test_the_basemap_setting_and_its_csp(world, client, settings):
    """MAP_BASEMAP=gsi (default): 地理院タイル with its attribution; img-src allows exactly that host beside our own."""
    client.force_login(world.carol)
    r = client.get(reverse("region-map") + "?region=nakagawa")
    csp = r["Content-Security-Policy"]
    img = re.search(r"img-src ([^;]*)", csp).group(1).split()
    assert "https://cyberjapandata.gsi.go.jp" in img
    assert set(img) == {"'self'", "data:", "blob:", "https://cyberjapandata.gsi.go.jp"}  # no OSM: the admin uses GSI too
    assert re.search(r"worker-src ([^;]*)", csp).group(1).split() == ["'self'"]
    config = r.context["basemap"]  # core.basemap: the one configuration every map's basemap.js reads
    assert config["basemap"] == "gsi" and config["tiles"].startswith("https://cyberjapandata.gsi.go.jp/xyz/pale/")
    assert config["tileAttribution"] == "地理院タイル"
    assert config["tileAttributionUrl"] == "https://maps.gsi.go.jp/development/ichiran.html"
    assert config["baseTiles"] == "/tiles/base/{z}/{x}/{y}.pbf"
    assert 'id="basemap-config"' in r.content.decode()
    settings.MAP_BASEMAP = "local"
    assert client.get(reverse("region-map") + "?region=nakagawa").context["basemap"]["tiles"] == ""


def _settings_with(**env):
    import os
    import subprocess
    import sys

    code = "import django; django.setup(); from django.conf import settings as s; print(s.CONTENT_SECURITY_POLICY)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env})


def test_the_basemap_setting_refuses_unknown_values():
    out = _settings_with(MAP_BASEMAP="osm")
    assert out.returncode != 0 and "MAP_BASEMAP must be gsi or local" in out.stderr


def test_a_local_basemap_allows_no_outside_host_at_all():
    """MAP_BASEMAP=local (a closed network): the policy names no host but our own."""
    out = _settings_with(MAP_BASEMAP="local")
    assert out.returncode == 0, out.stderr
    assert "http" not in out.stdout and "'img-src': [\"'self'\", 'data:', 'blob:']" in out.stdout


def test_the_map_legend_uses_japanese_kind_and_work_type_labels(world, client):
    from django.utils import translation

    client.force_login(world.carol)
    with translation.override("ja"):
        config = client.get("/map/?region=nakagawa", HTTP_ACCEPT_LANGUAGE="ja").context["map_config"]
    labels = {k["value"]: k["label"] for k in config["kinds"]}
    assert labels["sewer_pipe"] != "Sewer pipe" and labels["bridge"] != "Bridge"
    assert config["conditions"][-1] == "未点検"


# --- no CDN ---------------------------------------------------------------------------------------------------

# Hosts a page may name in a plain link (documentation, the basemap's credit): never loaded by the page itself.
LINK_HOSTS = {"maps.gsi.go.jp", "nlftp.mlit.go.jp"}


def _external_loads(html: str) -> list[str]:
    """script src, link href (stylesheets, icons), img src, url() in CSS pointing off-site; plain <a href>
    links to documentation are allowed for LINK_HOSTS only."""
    found = []
    for m in re.finditer(r"<(script|link|img|iframe|source|video|audio|object|embed)\b[^>]*>", html, re.I):
        if re.search(r"""(?:src|href|data)\s*=\s*["']?\s*(?:https?:)?//""", m.group(0), re.I):
            found.append(m.group(0))
    found += [m.group(0) for m in re.finditer(r"url\(\s*[\"']?(?:https?:)?//[^)]*\)", html, re.I)]
    for m in re.finditer(r"<a\b[^>]*href\s*=\s*[\"']https?://([^/\"']+)", html, re.I):
        if m.group(1) not in LINK_HOSTS:
            found.append(m.group(0))
    return found


def test_no_template_loads_anything_from_another_host():
    templates = list((ROOT / "templates").rglob("*.html")) + list(ROOT.glob("*/templates/**/*.html"))
    assert len(templates) > 20
    bad = {str(t.relative_to(ROOT)): _external_loads(t.read_text()) for t in templates}
    assert not {k: v for k, v in bad.items() if v}


def test_no_rendered_page_loads_anything_from_another_host(world, client):
    client.force_login(world.carol)
    urls = [reverse("region-map") + "?region=nakagawa", reverse("runs"), "/api/v1/docs", reverse("asset-list")]
    pages = {url: client.get(url) for url in urls}
    client.logout()
    pages[reverse("admin:login")] = client.get(reverse("admin:login"))
    pages[reverse("login")] = client.get(reverse("login"))
    for url, r in pages.items():
        assert r.status_code == 200, url
        assert not _external_loads(r.content.decode()), (url, _external_loads(r.content.decode()))
    assert "ninja/swagger-ui-bundle.js" in pages["/api/v1/docs"].content.decode()  # django-ninja's own copy


# Hosts the vendored files may name: XML namespaces, licence and documentation links in comments, the
# MapLibre/Leaflet credit links, and OpenLayers' built-in sources the admin widget does not use (it draws the
# basemap's tiles; the CSP would refuse the others anyway). A new host (a CDN loader) fails here.
VENDOR_HOSTS = {
    "maplibre-gl": {"www.w3.org", "github.com", "maplibre.org", "maplibre.invalid"},
    "maplibre-gl-leaflet": set(),
    "leaflet": {"www.w3.org", "leafletjs.com", "bugzilla.mozilla.org"},
    "ol": {"www.opengis.net", "www.w3.org", "schemas.opengis.net", "www.topografix.com", "github.com", "iiif.io",
           "earth.google.com", "www.openstreetmap.org", "www.microsoft.com", "tile.openstreetmap.org", "stamen.com",
           "stamen-tiles-", "maps.google.com", "feross.org", "epsg.io", "developers.google.com",
           "dev.virtualearth.net", "creativecommons.org", "www.google.com", "mapserver.gis.umn.edu",
           "library.stanford.edu"},
}


def test_vendored_scripts_fetch_nothing_from_a_cdn():
    """static/js (ours) names no outside host at all; each vendored library only the hosts listed above."""
    host = re.compile(r"https?://([a-zA-Z0-9.-]+)")
    ours = [p for p in (ROOT / "static").rglob("*") if p.suffix in {".js", ".css"} and "vendor" not in p.parts]
    assert ours and not {str(p): host.findall(p.read_text()) for p in ours if host.findall(p.read_text())}
    for lib in (ROOT / "static" / "vendor").iterdir():
        named = set()
        for p in lib.rglob("*"):
            if p.suffix in {".js", ".css"}:
                named |= set(host.findall(p.read_text(errors="replace")))
        assert named <= VENDOR_HOSTS[lib.name], (lib.name, named - VENDOR_HOSTS[lib.name])
    assert (ROOT / "static/vendor/maplibre-gl/LICENSE.txt").exists()
    assert (ROOT / "static/vendor/maplibre-gl-leaflet/LICENSE").exists()
