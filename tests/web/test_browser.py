"""The screens in a real browser: Playwright driving Debian's Chromium (no browser download), headless."""

import pytest

from tests.web.browsing import BROWSER_TEST, sign_in, wait_for, watch_csp

pytestmark = BROWSER_TEST


# The map is at this zoom and the assets fetched for it are drawn (regionmap.js clears the count while it fetches).
# With an animated zoom Leaflet reports the new zoom from the animation's start, before the fetch for it begins:
# the tests move the map with {animate: false}, so the fetch starts in the same call.
SHOWN_AT = ("(zoom => window.regionMap.getZoom() === zoom && document.getElementById('regionmap').dataset.features > 0"
            " && document.getElementById('map-status').textContent.includes('assets shown'))")


def test_an_inspection_logged_end_to_end(browser, live_server, lots):
    from assets.models import Asset

    pipe = Asset.objects.get(external_id="P-0")
    page = sign_in(browser, live_server, "alice", width=390)  # an engineer, on a phone
    page.goto(f"{live_server.url}/en/inspections/new/{pipe.global_id}/")
    page.check("input[name=grade][value=II]")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/assets/{pipe.global_id}/**")
    assert "緊急度Ⅱ" in page.content()
    assert pipe.inspections.count() == 2


def test_an_engine_run_started_and_its_results_shown_then_a_plan_downloaded(browser, live_server, lots, tmp_path):
    page = sign_in(browser, live_server, "carol")
    page.goto(f"{live_server.url}/en/runs/")
    page.click("#start-run button[type=submit]")
    page.wait_for_url("**/runs/*/", timeout=60_000)
    rows = page.locator("#clusters tr")
    assert rows.count() >= 3  # header + the lots
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#plan-pdf", timeout=60_000)
    with page.expect_download() as dl:
        page.click("#plan-pdf")
    path = tmp_path / "plan.pdf"
    dl.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    page.click("#plan-open")  # the scenarios, compared with charts
    page.wait_for_selector("#scenarios")
    assert page.locator("#scenarios tr").count() == 7  # header + 2 strategies × 3 budget levels
    assert page.locator("#chart-risk svg polyline").count() == 7  # six scenarios + doing nothing


def test_asset_list_filters_and_the_lot_page(browser, live_server, lots):
    from clusters.services import run_create, run_execute

    run = run_execute(run_create(principal=lots.carol, region=lots.region).pk)
    page = sign_in(browser, live_server, "bob", width=390)  # 草加市's engineer sees his town and neighbours
    page.goto(f"{live_server.url}/en/assets/?kind=sewer_pipe")
    assert page.locator("#assets tr").count() == 4
    page.goto(f"{live_server.url}/en/assets/?municipality=112216")
    assert page.locator("#assets tr").count() == 2
    carol = sign_in(browser, live_server, "carol")
    carol.goto(f"{live_server.url}/en/runs/{run.pk}/clusters/1/")
    assert carol.locator("#members tr").count() >= 2 and carol.locator("#shares tr").count() >= 2


def test_sign_in_then_the_map_draws_boundaries_lots_and_assets_and_a_hostile_name_shows_as_text(browser, live_server,
                                                                                                lots):
    """The map after signing in: boundaries, lots and the assets of the view; a tap on a pipe whose name is markup
    shows the name as text, runs nothing and breaks no Content-Security-Policy rule. (One test: each step needs the
    same run, sign-in and map.)"""
    from assets.models import Asset
    from clusters.services import run_create, run_execute

    hostile = '<img src=x onerror="window.__xss=1">'
    pipe = Asset.objects.get(external_id="P-0")
    Asset.objects.filter(pk=pipe.pk).update(name=hostile)
    run_execute(run_create(principal=lots.carol, region=lots.region).pk)
    page = sign_in(browser, live_server, "carol")
    problems = watch_csp(page)
    r = page.goto(f"{live_server.url}/en/map/?region=nakagawa")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    wait_for(page, "document.getElementById('regionmap').dataset.boundaries > 0")  # fitted to them: no later move
    wait_for(page, "document.getElementById('regionmap').dataset.lots > 0")
    # The first view (fitted to the boundaries, zoom 14) already shows assets, and an animated zoom would fetch
    # only when it ends ("loading…" then): move at once, and wait for the assets of the view set here.
    page.evaluate("window.regionMap.setView([35.822, 139.8355], 16, {animate: false})")
    wait_for(page, f"{SHOWN_AT}(16)")
    assert "assets shown" in page.text_content("#map-status")
    page.evaluate("window.regionMap.setView([35.822, 139.8355], 17, {animate: false})")
    wait_for(page, f"{SHOWN_AT}(17)")  # else the popup opens on the last view's markers, then they are replaced
    # A tap on the pipe (MapLibre draws it; regionmap.js asks what was drawn under the tap).
    page.evaluate("window.regionMap.fire('click', {latlng: L.latLng(35.822, 139.83525)})")
    popup = page.wait_for_selector(".leaflet-popup-content .popup-name")
    assert popup.text_content() == hostile
    assert page.locator(".leaflet-popup-content img").count() == 0
    assert page.evaluate("window.__xss") is None
    assert not problems, problems


def test_the_main_pages_carry_the_csp_and_report_no_violation(browser, live_server, lots):
    from assets.models import Asset
    from clusters.services import run_create, run_execute
    from reports.services import plan_create, plan_execute

    run = run_execute(run_create(principal=lots.carol, region=lots.region).pk)
    plan = plan_execute(plan_create(principal=lots.carol, run=run).pk)
    pipe = Asset.objects.get(external_id="P-0")
    pages = {"carol": [("/en/map/?region=nakagawa", "#regionmap[data-boundaries]"), ("/en/runs/", "#runs"),
                       (f"/en/runs/{run.pk}/", "#clusters"), (f"/en/runs/{run.pk}/clusters/1/", "#lotmap .leaflet-pane"),
                       (f"/en/plans/{plan.pk}/", "#scenarios"), ("/en/assets/", "#assets")],
             "alice": [("/en/inspections/new/", "#map canvas"), (f"/en/inspections/new/{pipe.global_id}/", "form"),
                       (f"/en/assets/{pipe.global_id}/", "h1")],
             "admin": [("/en/admin/", "#content"), (f"/en/admin/assets/asset/{pipe.pk}/change/", "#id_geom_map canvas")]}
    for user, urls in pages.items():
        page = sign_in(browser, live_server, user)
        problems = watch_csp(page)
        for url, ready in urls:
            r = page.goto(live_server.url + url)
            assert r.status == 200, url
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
            page.wait_for_selector(ready, state="attached", timeout=15_000)
            page.wait_for_timeout(300)  # late violations (tiles, fetches) still count
        assert not problems, (user, problems)


def test_the_work_list_is_cards_on_a_phone_and_the_language_switch_goes_both_ways(browser, live_server, lots):
    """Issue 15: at 390 px the work list is one card per item (no squeezed columns, nothing wider than the
    screen); English and back to Japanese keep the page (/en/x ↔ /x)."""
    page = sign_in(browser, live_server, "alice", width=390)
    page.goto(f"{live_server.url}/en/inspections/overdue/?municipality=all&within=3650")
    rows = page.locator("#overdue tbody tr")
    assert rows.count() >= 1
    assert not page.locator("#overdue thead").is_visible()
    box = rows.first.bounding_box()
    assert box["width"] <= 390 and box["height"] > 60  # a card: the fields stacked, not one thin row
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("header form.lang button")  # 日本語
    page.wait_for_url(lambda url: "/en/" not in url)
    assert page.url.endswith("/inspections/overdue/?municipality=all&within=3650")
    assert page.locator("html").get_attribute("lang") == "ja"
    page.click("header form.lang button")  # English
    page.wait_for_url(lambda url: "/en/inspections/overdue/" in url)
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_menu_fits_one_line_on_a_phone_and_opens_without_a_script(browser, live_server, world, language):
    """At 390 px the header is one line (the brand, the menu toggle, the language switch) and the menu unfolds
    below it from a <details> toggle, with scripts off; at 1280 px the links are on the header's line."""
    prefix = "/en" if language == "en" else ""
    context = browser.new_context(viewport={"width": 390, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}{prefix}/accounts/login/")
    page.fill("#id_username", "admin")  # the longest menu: 管理画面 too
    page.fill("#id_password", "pw-admin")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "login" not in url)
    page.goto(f"{live_server.url}{prefix}/assets/")
    assert page.locator("header.top").bounding_box()["height"] < 60
    assert page.locator("details.menu summary").is_visible() and page.locator("header form.lang button").is_visible()
    assert not page.locator("#site-nav").is_visible()
    page.click("details.menu summary")
    assert page.locator("#site-nav").is_visible()
    links = page.locator("#site-nav a")
    assert links.count() == 10 and all(links.nth(i).is_visible() for i in range(10))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click(f"#site-nav a[href='{prefix}/map/']")
    page.wait_for_url(f"**{prefix}/map/")
    assert not page.locator("#site-nav").is_visible()  # a new page starts folded
    context.close()
    desktop = sign_in(browser, live_server, "admin", width=1280)
    desktop.goto(f"{live_server.url}{prefix}/assets/")
    assert desktop.locator("header.top").bounding_box()["height"] < 60
    assert desktop.locator("#site-nav").is_visible() and not desktop.locator("details.menu").is_visible()
    box = desktop.locator(f"#site-nav a[href='{prefix}/accounts/sign-out/']").bounding_box()
    assert box["y"] < 30  # the last link on the header's one line
