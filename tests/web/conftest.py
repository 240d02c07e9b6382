"""The browser tests' fixtures. Chromium is launched once for a run of consecutive browser tests (pytest-django
runs the transactional tests, these among them, together) and stopped before the first test that does not use it:
Playwright's synchronous API keeps an asyncio loop running in this thread while it is up, which no other test
should meet. Each page a test opens (tests.web.browsing.sign_in) has a browser context of its own, with its own
cookies and cache, and every context is closed after the test."""

import os

import pytest
from django.contrib.gis.geos import LineString

from tests.web.browsing import CHROMIUM


class _Chromium:
    def __init__(self):
        self._playwright = None
        self.browser = None

    def get(self):
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the loop above; Django checks for one
            self._playwright = sync_playwright().start()
            try:
                self.browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            except BaseException:
                self.stop()
                raise
        return self.browser

    def stop(self):
        browser, playwright = self.browser, self._playwright
        self.browser = self._playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


_chromium = _Chromium()


@pytest.fixture
def browser():
    """Debian's Chromium, headless; the pages and contexts a test opens are closed after it."""
    b = _chromium.get()
    yield b
    for context in list(b.contexts):
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        if _chromium.browser is not None and "browser" not in getattr(nextitem, "fixturenames", ()):
            _chromium.stop()


def pytest_sessionfinish(session):
    if _chromium.browser is not None:
        _chromium.stop()


@pytest.fixture
def lots(world, settings, tmp_path):
    """Failing pipes in two towns, so a run has lots to rank and a plan has work to schedule."""
    from assets.history import Actor
    from assets.models import Via
    from assets.services import asset_create
    from inspections.services import inspection_record

    settings.ENGINE_SYNC = True
    settings.MEDIA_ROOT = tmp_path
    for k, (owner, lon) in enumerate(((world.yashio, 139.835), (world.yashio, 139.845), (world.soka, 139.80))):
        pipe = asset_create(actor=Actor.system(Via.SYSTEM), owner=owner, kind="sewer_pipe", source="daicho",
                            external_id=f"P-{k}", geom=LineString((lon, 35.822), (lon + 0.0005, 35.822), srid=6668),
                            built_fiscal_year=1965, detail={"drainage_system": "sanitary", "material": "rc",
                                                            "diameter_mm": 400, "length_m": 50.0})
        inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-05-01", grade="緊急度Ⅰ")
    return world
