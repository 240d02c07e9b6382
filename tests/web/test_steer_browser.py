"""Coordinators steer the plan, in a real browser (issue 15): the works by year filtered and downloaded, a lot
pinned and the plan made again around it, a legally due lot refused, the region's parameters edited (a range
error, then saved and run) and the new run compared with the last one, old → new. Japanese pages (no /en/)."""

import pytest

from assets.history import Actor
from assets.models import Via
from inspections.services import inspection_record
from tests.conftest import make_asset, make_pipe
from tests.web.browsing import BROWSER_TEST, sign_in

pytestmark = BROWSER_TEST


@pytest.fixture
def planned(world, settings, tmp_path):
    """A Ⅳ bridge (legally due at once, 告示426号), a pipe at 緊急度Ⅰ (within a year) and worn pipes (緊急度Ⅲ, no
    deadline) in two towns; a run and a plan made from it."""
    from clusters.services import run_create, run_execute
    from reports.services import plan_create, plan_execute

    settings.ENGINE_SYNC = True
    settings.MEDIA_ROOT = tmp_path
    bridge = make_asset(world.yashio, "bridge", external_id="BR-1", lon=139.86, lat=35.83, length_m=12.0, width_m=5.0)
    inspection_record(actor=Actor.system(Via.SYSTEM), asset=bridge, inspected_on="2022-06-01", grade="Ⅳ")
    for k in range(4):
        owner, lon = (world.yashio, 139.823 + 0.006 * k) if k % 2 == 0 else (world.soka, 139.789 + 0.006 * k)
        pipe = make_pipe(owner, external_id=f"P-{k}", lon=lon, lat=35.807, diameter_mm=300)
        inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-05-01",
                          grade="緊急度Ⅰ" if k == 3 else "緊急度Ⅲ")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    # A budget that funds every lot, so each town has works to list.
    world.plan = plan_execute(plan_create(principal=world.carol, run=run, horizon_years=5,
                                          budget_per_year=1e11).pk, render=False)
    world.bridge_lot = next(c for c in run.clusters.all() if c.work_type == "bridge")
    world.free_lot = next(c for c in run.clusters.order_by("-rank") if not c.outlook.get("mandatory"))
    return world


def test_a_coordinator_filters_downloads_and_pins_a_lot_then_the_plan_is_made_again(browser, live_server, planned,
                                                                                      tmp_path):
    from openpyxl import load_workbook

    from reports.pins import plan_first_fy

    page = sign_in(browser, live_server, "carol")
    page.goto(f"{live_server.url}/plans/{planned.plan.pk}/")
    shown = page.locator("#works tr[data-rank]").count()
    assert shown >= 3
    page.select_option("#f-muni", planned.soka.code)
    page.click("#works-filter button[type=submit]")
    page.wait_for_url("**municipality=*")
    assert 0 < page.locator("#works tr[data-rank]").count() < shown
    with page.expect_download() as dl:
        page.click("#works-xlsx")
    path = tmp_path / "works.xlsx"
    dl.value.save_as(path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][-1] == "草加市（円）" and len(rows) - 1 == page.locator("#works tr[data-rank]").count()
    # The Ⅳ bridge's lot cannot be excluded: the law first, said in Japanese.
    page.fill("#pin-rank", str(planned.bridge_lot.rank))
    page.select_option("#pin-action", "exclude")
    page.fill("#pin-reason", "予算不足")
    page.click("#pin-form button[type=submit]")
    page.wait_for_selector("#pin-errors")
    assert "除外できません" in page.text_content("#pin-errors")
    # A lot without a deadline pinned two years on: a new plan, the lot done then, marked as set by hand.
    target = plan_first_fy() + 2
    page.fill("#pin-rank", str(planned.free_lot.rank))
    page.select_option("#pin-action", "pin")
    page.select_option("#pin-fy", str(target))
    page.fill("#pin-reason", "舗装工事と同時に施工")
    page.click("#pin-form button[type=submit]")
    page.wait_for_url(lambda url: f"/plans/{planned.plan.pk}/" not in url and "/plans/" in url)
    row = page.locator(f"#works tr.by-hand[data-rank='{planned.free_lot.rank}']")
    assert row.count() == 1 and row.get_attribute("data-fy") == str(target)
    assert "年度を固定" in row.text_content()
    assert "舗装工事と同時に施工" in page.text_content("#pins")


def test_a_coordinator_edits_the_parameters_and_sees_the_new_run_against_the_last(browser, live_server, planned):
    page = sign_in(browser, live_server, "carol")
    page.goto(f"{live_server.url}/regions/{planned.region.slug}/params/")
    page.fill("[name='cluster_distance_m']", "99999")
    page.click("#params-form button[name=save]")
    page.wait_for_selector("#params-errors")
    assert "工区にまとめる距離" in page.text_content("#params-errors")
    assert "5,000" in page.text_content("#params-errors")
    page.fill("[name='cluster_distance_m']", "150")
    page.fill(f"[name='budget.{planned.soka.code}']", "80,000,000")
    page.click("#params-run")
    page.wait_for_url("**/compare/**", timeout=60_000)
    params = page.text_content("#compare-params")
    assert "工区にまとめる距離" in params and "300 → 150" in params
    totals = page.text_content("#compare-totals")
    assert "対策費の合計" in totals and ("億円" in totals or "百万円" in totals) and "cost_total" not in totals
    # An engineer cannot open the page.
    alice = sign_in(browser, live_server, "alice")
    r = alice.goto(f"{live_server.url}/regions/{planned.region.slug}/params/")
    assert r.status == 403
