"""Issue 17, maps in a real browser: MapLibre GL inside Leaflet draws the vector tiles at z8 and z16 over a
basemap; with 地理院タイル blocked (a closed network) the basemap drawn from our own data takes over."""

import os
from pathlib import Path

import pytest

from tests.web.browsing import BROWSER_TEST, GSI_TERMS, block_gsi, serve_gsi_stub, sign_in, wait_for, watch_csp

pytestmark = BROWSER_TEST

SHOTS = Path(os.environ.get("MAP_SCREENSHOTS", "/tmp"))


def pixels(page, name):
    """The map as a screenshot (WebGL clears its buffer once shown, so reading the canvas back gives nothing):
    (share of pixels that are not white, number of strongly coloured pixels: the assets and lots)."""
    import numpy as np
    from PIL import Image

    path = SHOTS / name
    page.locator("#regionmap").screenshot(path=str(path))
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    rgb = rgb[:, 60: rgb.shape[1] * 2 // 3]  # the map, not the zoom buttons or the legend
    not_white = (rgb.min(axis=2) < 246).mean()
    coloured = int(((rgb.max(axis=2) - rgb.min(axis=2)) > 80).sum())
    return not_white, coloured


RENDERED = "(ids => window.regionGL.queryRenderedFeatures({layers: ids.filter(i => window.regionGL.getLayer(i))}).length)"


def _at(page, zoom, lat=35.822, lon=139.8355):
    page.evaluate(f"window.regionMap.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    wait_for(page, f"window.regionMap.getZoom() === {zoom} && document.getElementById('regionmap').dataset.features > 0"
                   " && window.regionGL.loaded() && window.regionGL.areTilesLoaded()")


def test_the_map_draws_tiles_at_z8_and_z16_and_falls_back_to_its_own_basemap(browser, live_server, lots):
    from clusters.services import run_create, run_execute

    run_execute(run_create(principal=lots.carol, region=lots.region).pk)
    page = sign_in(browser, live_server, "carol")
    problems = watch_csp(page)
    blocked = block_gsi(page)
    page.goto(f"{live_server.url}/en/map/?region=nakagawa")
    wait_for(page, "document.getElementById('regionmap').dataset.boundaries > 0")
    wait_for(page, "document.getElementById('regionmap').dataset.basemap === 'local'")
    assert blocked, "the basemap was asked from 地理院タイル first"
    assert "地理院タイル not reachable" in page.text_content("#map-basemap")

    _at(page, 8)
    assert page.evaluate(f"{RENDERED}(['asset-cells'])") > 0  # aggregated at low zoom
    wait_for(page, "document.getElementById('regionmap').dataset.base > 0")  # the boundaries and roads
    not_white, coloured = pixels(page, "map-z8-local.png")
    assert not_white > 0.9 and coloured > 10, (not_white, coloured)  # a basemap, never lines on white

    _at(page, 16)
    assert page.evaluate(f"{RENDERED}(['asset-lines', 'asset-pipes', 'asset-points'])") > 0
    assert page.evaluate(f"{RENDERED}(['lots-fill'])") > 0  # the lot under the pipes
    assert "assets shown" in page.text_content("#map-status")
    assert page.locator("#map-legend").is_visible()
    not_white, coloured = pixels(page, "map-z16-local.png")
    assert not_white > 0.9 and coloured > 200, (not_white, coloured)

    # A tap on a pipe inside a lot opens the pipe, not the lot (lots are drawn underneath).
    page.evaluate("window.regionMap.fire('click', {latlng: L.latLng(35.822, 139.83525)})")
    popup = page.wait_for_selector(".leaflet-popup-content .popup-gid")
    assert popup.text_content().startswith("112348-")
    assert not problems, problems


def test_with_the_basemap_reachable_the_map_keeps_it(browser, live_server, lots):
    """地理院タイル answering (here a stub image for each tile): no fallback, the credit links to the terms."""
    page = sign_in(browser, live_server, "carol")
    serve_gsi_stub(page)
    page.goto(f"{live_server.url}/en/map/?region=nakagawa")
    wait_for(page, "document.getElementById('regionmap').dataset.basemap === 'gsi'")
    page.wait_for_timeout(500)
    assert page.evaluate("document.getElementById('regionmap').dataset.basemap") == "gsi"
    link = page.locator(".leaflet-control-attribution " + GSI_TERMS)
    assert link.text_content() == "地理院タイル"
    pixels(page, "map-gsi.png")


# The colours basemap.js draws the fallback with (background, land, roads): a map showing them has a basemap;
# the old small maps' plain box (#eef2f6) or white has none of them.
BASEMAP_COLOURS = ((0xec, 0xea, 0xe4), (0xf8, 0xf6, 0xef), (0xd4, 0xcf, 0xc3), (0xc9, 0xc4, 0xb8))


def basemap_share(page, selector, name):
    """Share of the map's pixels drawn in the fallback basemap's colours."""
    import numpy as np
    from PIL import Image

    path = SHOTS / name
    page.locator(selector).screenshot(path=str(path))
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    near = np.zeros(rgb.shape[:2], bool)
    for c in BASEMAP_COLOURS:
        near |= (np.abs(rgb - np.array(c)).max(axis=2) <= 4)
    return near.mean()


@pytest.fixture
def bridge(lots):
    from django.contrib.gis.geos import LineString, Point

    from assets.history import Actor
    from assets.models import Via
    from assets.services import asset_create

    # The road the bridge carries, in the registry: the fallback basemap draws the registry's roads.
    asset_create(actor=Actor.system(Via.SYSTEM), owner=lots.yashio, kind="road_segment", external_id="R-1",
                 geom=LineString((139.830, 35.8221), (139.8352, 35.8221), (139.842, 35.8235), srid=6668), detail={})
    return asset_create(actor=Actor.system(Via.SYSTEM), owner=lots.yashio, kind="bridge", name="中川橋",
                        geom=Point(139.8352, 35.8221, srid=6668), external_id="B-1", detail={})


def test_every_small_map_falls_back_to_the_same_basemap(browser, live_server, lots, bridge):  # noqa: F811
    """Issue 17 for the small maps: the asset page (a bridge, a pipe), the lot page, the inspection picker and the
    admin's geometry widget ask 地理院タイル first and, blocked, draw the registry's basemap (static/js/basemap.js),
    never the asset alone on a plain box."""
    from assets.models import Asset
    from clusters.services import run_create, run_execute

    run = run_execute(run_create(principal=lots.carol, region=lots.region).pk)
    pipe = Asset.objects.get(external_id="P-0")
    pages = {"carol": [(f"/en/assets/{bridge.global_id}/", "#assetmap", "bridge"),
                       (f"/en/assets/{pipe.global_id}/", "#assetmap", "pipe"),
                       (f"/en/runs/{run.pk}/clusters/1/", "#lotmap", "lot")],
             "alice": [("/en/inspections/new/", "#map", "pick")],
             "admin": [(f"/en/admin/assets/asset/{pipe.pk}/change/", "#id_geom_map", "admin")]}
    for user, urls in pages.items():
        for width in (390, 1280):
            page = sign_in(browser, live_server, user, width=width)
            problems = watch_csp(page)
            blocked = block_gsi(page)
            for url, map_id, name in urls:
                page.goto(live_server.url + url)
                el = f"document.querySelector('{map_id}')"
                wait_for(page, f"{el}.dataset.basemap === 'local' && {el}.dataset.base > 0")
                page.wait_for_timeout(400)  # the last tiles painted
                share = basemap_share(page, map_id, f"smallmap-{name}-{width}.png")
                assert share > 0.5, (name, width, share)  # a basemap under the asset, not lines on white
                assert "registry" in page.text_content(f"{map_id} .leaflet-control-attribution, {map_id} .ol-attribution")
            assert blocked, "地理院タイル were asked first"
            assert not problems, (user, problems)
            page.close()


def test_with_the_basemap_reachable_the_asset_map_keeps_it(browser, live_server, lots):  # noqa: F811
    """地理院タイル answering: the asset map shows them with the credit linking to the terms, no fallback."""
    from assets.models import Asset

    pipe = Asset.objects.get(external_id="P-0")
    page = sign_in(browser, live_server, "carol")
    serve_gsi_stub(page)
    page.goto(f"{live_server.url}/en/assets/{pipe.global_id}/")
    wait_for(page, "document.getElementById('assetmap').dataset.basemap === 'gsi'")
    page.wait_for_timeout(500)
    assert page.evaluate("document.getElementById('assetmap').dataset.basemap") == "gsi"
    assert page.locator("#assetmap .maplibregl-canvas").count() == 0  # MapLibre starts only for the fallback
    link = page.locator("#assetmap .leaflet-control-attribution " + GSI_TERMS)
    assert link.text_content() == "地理院タイル"
