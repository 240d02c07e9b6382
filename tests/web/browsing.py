"""Helpers of the browser tests (Playwright driving Debian's Chromium, no browser download); their fixtures are
in tests/web/conftest.py."""

import os
import shutil
import time

import pytest

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")

# Every browser test: a live server, so committed data (transaction=True), and Chromium installed.
BROWSER_TEST = [pytest.mark.django_db(transaction=True),
                pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium package is not installed")]


def sign_in(browser, live_server, user: str, width: int = 1280):
    """A new page in a context of its own (its own cookies), signed in as `user` (password pw-<user>)."""
    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    page.goto(f"{live_server.url}/en/accounts/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", f"pw-{user}")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda url: "login" not in url)
    return page


def wait_for(page, expression: str, timeout: float = 30.0) -> None:
    """Poll an expression through the debugger protocol: page.wait_for_function evaluates its predicate with
    eval() inside the page, which the Content-Security-Policy (rightly) refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def watch_csp(page) -> list:
    """Every CSP violation and every error the page reports, collected for the assertions."""
    problems = []
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text or "CSP violation" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
    return problems


GSI_TILES = "**/cyberjapandata.gsi.go.jp/**"
GSI_TERMS = "a[href='https://maps.gsi.go.jp/development/ichiran.html']"


def block_gsi(page) -> list:
    """地理院タイル unreachable, as on a closed network: every request to it is aborted. Returns the list of the
    URLs that were asked for (the maps must have tried GSI first)."""
    asked: list = []

    def abort(route, _request=None):
        asked.append(route.request.url)
        route.abort()

    page.route(GSI_TILES, abort)
    return asked


def serve_gsi_stub(page) -> None:
    """地理院タイル answering: a small PNG of our own for every tile (the real server is not reached in tests)."""
    from pathlib import Path

    png = (Path(__file__).resolve().parents[2] / "static/vendor/leaflet/images/layers.png").read_bytes()
    page.route(GSI_TILES, lambda route: route.fulfill(status=200, content_type="image/png", body=png))
