"""Issue 17, maps in a real browser: MapLibre GL inside Leaflet draws the vector tiles at z8 and z16 over a
basemap; with 地理院タイル blocked (a closed network) the basemap drawn from our own data takes over."""

import os
from pathlib import Path

from tests.web.browsing import BROWSER_TEST, sign_in, wait_for, watch_csp

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
    blocked = []
    page.route("**/cyberjapandata.gsi.go.jp/**", lambda route: (blocked.append(route.request.url), route.abort()))
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
    png = Path(__file__).resolve().parents[2] / "static/vendor/leaflet/images/layers.png"
    page = sign_in(browser, live_server, "carol")
    page.route("**/cyberjapandata.gsi.go.jp/**",
               lambda route: route.fulfill(status=200, content_type="image/png", body=png.read_bytes()))
    page.goto(f"{live_server.url}/en/map/?region=nakagawa")
    wait_for(page, "document.getElementById('regionmap').dataset.basemap === 'gsi'")
    page.wait_for_timeout(500)
    assert page.evaluate("document.getElementById('regionmap').dataset.basemap") == "gsi"
    link = page.locator(".leaflet-control-attribution a[href='https://maps.gsi.go.jp/development/ichiran.html']")
    assert link.text_content() == "地理院タイル"
    pixels(page, "map-gsi.png")
