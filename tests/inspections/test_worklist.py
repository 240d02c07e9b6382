"""The work list (issue 12): inspections AND measures due, days overdue, the legal basis, live assets only,
never-inspected assets with a sensible first due date, the person's own municipality by default, downloads."""

import csv
import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone

from assets.history import Actor
from assets.models import Via
from assets.services import asset_retire
from inspections import selectors
from inspections.condition import refresh_conditions
from inspections.models import AssetCondition, GradingScheme
from inspections.services import inspection_record
from tests.conftest import make_asset

TODAY = timezone.localdate()


def record(world, asset, grade, on, user=None, **kw):
    return inspection_record(actor=Actor(user or world.alice, Via.UI), asset=asset, grade=grade,
                             inspected_on=on.isoformat(), **kw)


def items(principal, **kw):
    return selectors.work_items(selectors.work_list(principal=principal, **kw))


def by_asset(rows, asset, work):
    return next(r for r in rows if r["global_id"] == asset.global_id and r["work"] == work)


def client(user):
    c = Client()
    c.force_login(user)
    return c


# ---- what is due, with days and the legal basis ------------------------------------------------------
def test_measures_due_are_listed_beside_inspections_with_days_and_legal_basis(world):
    """告示426号: a Ⅳ bridge's measures are due at once; 緊急度Ⅰ pipe within 1 year (domain §2.1, §2.4, §7)."""
    bridge = make_asset(world.yashio, "bridge", external_id="B-4")
    inspected = TODAY - datetime.timedelta(days=400)
    record(world, bridge, "IV", inspected)
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="P-1")
    record(world, pipe, "I", inspected, scheme="sewer_kinkyu")
    rows = items(world.alice)
    measure = by_asset(rows, bridge, "measure")
    assert measure["due_on"] == inspected and measure["days_overdue"] == 400
    assert "告示第426号 区分Ⅳ" in measure["legal_basis_ja"] and "class IV" in measure["legal_basis_en"]
    assert measure["grade_label"] == "IV Urgent action stage" and measure["grade_label_ja"] == "Ⅳ 緊急措置段階"
    assert measure["owner_name"] == "八潮市" and measure["kind"] == "bridge" and measure["name"] == "テストbridge"
    pipe_row = by_asset(rows, pipe, "measure")
    assert pipe_row["days_overdue"] == (TODAY - AssetCondition.objects.get(asset=pipe).action_due_on).days == 400 - (
        (inspected.replace(year=inspected.year + 1) - inspected).days)
    assert "緊急度Ⅰ" in pipe_row["legal_basis_ja"]
    # The bridge's next inspection (5 years) is not overdue, so it is not in the overdue-only list …
    assert not [r for r in rows if r["global_id"] == bridge.global_id and r["work"] == "inspection"]
    # … and only measures are listed when asked for measures.
    assert {r["work"] for r in items(world.alice, work="measure")} == {"measure"}


def test_due_within_n_days_shows_days_left(world):
    """A septic tank inspected 11 months ago falls due (浄化槽法 第11条, yearly) within 90 days, not overdue."""
    tank = make_asset(world.yashio, "septic_tank", external_id="S-1")
    on = TODAY - datetime.timedelta(days=330)
    record(world, tank, "適正", on, legal_basis="11条")
    due = AssetCondition.objects.get(asset=tank).next_due_on
    # (Its 保守点検/清掃, with no record, are overdue from opening: tests/inspections/test_septic_upkeep.py.)
    assert not [r for r in items(world.alice, work="inspection") if r["global_id"] == tank.global_id]
    row = by_asset(items(world.alice, within=90), tank, "inspection")
    assert row["days_left"] == (due - TODAY).days > 0 and not row["is_overdue"]
    assert row["legal_basis_ja"].startswith("浄化槽法 第11条")


# ---- live assets only --------------------------------------------------------------------------------
def test_a_retired_asset_never_appears(world):
    """Failed before: the condition row of a retired asset stayed, so the list kept showing it."""
    bridge = make_asset(world.yashio, "bridge", external_id="B-R", built=1970)
    record(world, bridge, "IV", TODAY - datetime.timedelta(days=30))
    assert {r["work"] for r in items(world.alice) if r["global_id"] == bridge.global_id} == {"measure"}
    asset_retire(actor=Actor(world.alice, Via.UI), asset=bridge, reason="撤去")
    assert not [r for r in items(world.alice, within=3650) if r["global_id"] == bridge.global_id]
    assert bridge.global_id not in client(world.alice).get("/inspections/overdue/?within=3650").content.decode()
    assert bridge.global_id not in str(client(world.alice).get("/api/v1/overdue?within=3650").json())
    # The retirement itself removed its condition: nothing falls due for it.
    assert not AssetCondition.objects.filter(asset=bridge).exists()


# ---- never inspected: a first due date a municipality can act on --------------------------------------
def test_never_inspected_first_due_dates(world):
    """道路法施行規則 (2014-07-01): a bridge is due the later of one 5-year cycle after the start of the legal cycle
    and 2 years after opening (道路橋定期点検要領: 初回点検は供用開始後2年以内).
    浄化槽法 7条: a new tank 8 months after use begins; an old tank one yearly cycle after
    the registry duty (2020-04-01), not 1985-12-01 as the old rule said (that was the bug: due 41 years ago)."""
    old_bridge = make_asset(world.yashio, "bridge", external_id="B-1970", built=1970)
    new_bridge = make_asset(world.yashio, "bridge", external_id="B-2016", built=2016)
    old_tank = make_asset(world.yashio, "septic_tank", external_id="S-1985", built=1985)
    new_tank = make_asset(world.yashio, "septic_tank", external_id="S-2026", built=2026)
    due = dict(AssetCondition.objects.values_list("asset_id", "next_due_on"))
    assert due[old_bridge.pk] == datetime.date(2019, 7, 1)
    assert due[new_bridge.pk] == datetime.date(2019, 7, 1)  # opened FY2016: 2018-04-01 is before the cycle's start
    assert due[old_tank.pk] == datetime.date(2021, 4, 1)
    assert due[new_tank.pk] == datetime.date(2026, 12, 1)
    row = by_asset(items(world.alice), old_tank, "inspection")
    assert row["never_inspected"] and row["legal_basis_ja"].startswith("浄化槽法 第7条")


def test_the_first_due_date_is_a_catalogue_parameter(world):
    """A prefecture whose cycle started later sets params.legal.first_due.from; no code changes."""
    bridge = make_asset(world.yashio, "bridge", external_id="B-P", built=1970)
    assert AssetCondition.objects.get(asset=bridge).next_due_on == datetime.date(2019, 7, 1)
    scheme = GradingScheme.objects.get(code="bridge_kenzen", is_current=True)
    scheme.params = {**scheme.params, "legal": {**scheme.params["legal"], "first_due": {"from": "2016-04-01"}}}
    scheme.save(update_fields=["params"])
    # A catalogue edit is no asset change: the operator rebuilds (manage.py refresh_conditions).
    refresh_conditions([bridge.pk])
    assert AssetCondition.objects.get(asset=bridge).next_due_on == datetime.date(2021, 4, 1)


def test_never_inspected_is_labelled_on_the_page_in_japanese(world):
    bridge = make_asset(world.yashio, "bridge", external_id="B-N", built=1970)
    c = client(world.alice)
    c.cookies["django_language"] = "ja"
    html = c.get("/inspections/overdue/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert bridge.global_id in html and "未点検" in html and "道路法施行規則 第4条の5の6" in html
    assert "never inspected" not in html and "days overdue" not in html


# ---- whose list --------------------------------------------------------------------------------------
def test_an_engineer_sees_their_own_municipality_by_default_a_coordinator_the_region(world):
    ours = make_asset(world.yashio, "bridge", external_id="B-Y", built=1970)
    theirs = make_asset(world.soka, "bridge", external_id="B-S", built=1970, actor=Actor(world.bob, Via.UI),
                        lon=139.805, lat=35.825)
    far = make_asset(world.wajima, "bridge", external_id="B-W", built=1970, actor=Actor(world.charlie, Via.UI),
                     lon=136.899, lat=37.391)
    gids = lambda rows: {r["global_id"] for r in rows}  # noqa: E731
    assert gids(items(world.alice)) == {ours.global_id}
    assert gids(items(world.alice, municipality="all")) == {ours.global_id, theirs.global_id}
    assert gids(items(world.carol)) == {ours.global_id, theirs.global_id}
    assert gids(items(world.carol, municipality=world.soka.code)) == {theirs.global_id}
    assert gids(items(world.charlie, municipality="all")) == {far.global_id}
    assert gids(items(world.charlie, municipality=world.yashio.code)) == set()


def test_filters_and_sorting(world):
    bridge = make_asset(world.yashio, "bridge", external_id="B-1", built=1970)
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="P-9")
    record(world, pipe, "I", TODAY - datetime.timedelta(days=800), scheme="sewer_kinkyu")
    assert {r["kind"] for r in items(world.alice, kind="sewer_pipe")} == {"sewer_pipe"}
    due = [r["due_on"] for r in items(world.alice)]
    assert due == sorted(due) and len(due) == 2
    assert [r["due_on"] for r in items(world.alice, sort="-due")] == sorted(due, reverse=True)
    assert [r["global_id"] for r in items(world.alice, sort="kind")] == [bridge.global_id, pipe.global_id]


@pytest.mark.parametrize("param, value", [("sort", "oops"), ("work", "repair"), ("kind", "castle"),
                                          ("within", "-1"), ("within", "99999")])
def test_bad_filters_name_the_parameter(world, param, value):
    r = client(world.alice).get("/api/v1/overdue", {param: value})
    assert r.status_code == 422 and param in str(r.json())
    page = client(world.alice).get("/inspections/overdue/", {param: value})
    html = page.content.decode()
    # In Japanese (the page's language): the error names the bad value and what is allowed.
    assert page.status_code == 400 and 'class="errors"' in html
    assert ("3650" if param == "within" else value) in html
    assert client(world.alice).get("/inspections/overdue/download/", {param: value}).status_code == 400


# ---- API, downloads, queries ------------------------------------------------------------------------
def test_api_work_items(world):
    bridge = make_asset(world.yashio, "bridge", external_id="B-A")
    record(world, bridge, "IV", TODAY - datetime.timedelta(days=100))
    body = client(world.alice).get("/api/v1/overdue").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert (item["asset"], item["work"], item["owner_name"], item["kind"]) == (bridge.global_id, "measure", "八潮市",
                                                                             "bridge")
    assert item["days_overdue"] == (TODAY - AssetCondition.objects.get(asset=bridge).action_due_on).days > 0
    assert "区分Ⅳ" in item["legal_basis"] and "class IV" in item["legal_basis_en"]
    assert item["never_inspected"] is False


def test_downloads_cp932_csv_and_xlsx_with_formulas_neutralised(world):
    from openpyxl import load_workbook

    bridge = make_asset(world.yashio, "bridge", external_id="B-X", built=1970)
    bridge.name = '=HYPERLINK("http://evil","橋")'
    bridge.save(update_fields=["name"])
    c = client(world.alice)
    r = c.get("/inspections/overdue/download/?format=csv")
    assert r.status_code == 200 and r["Content-Type"] == "text/csv; charset=shift_jis"
    assert r["Content-Disposition"].startswith('attachment; filename="work-list-112348-')
    rows = list(csv.reader(io.StringIO(r.content.decode("cp932"))))
    assert rows[0][:3] == ["共通ID", "名称", "種別"] and "根拠" in rows[0]
    assert rows[1][0] == bridge.global_id and rows[1][1] == "'" + bridge.name and rows[1][2] == "橋梁"
    assert "未点検（期限到来）" in rows[1] and "点検" in rows[1]
    r = c.get("/api/v1/overdue/export?format=xlsx&work=inspection")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [[cell.value for cell in row] for row in ws.iter_rows()]
    assert values[0][0] == "共通ID" and values[1][1] == "'" + bridge.name and len(values) == 2
    assert c.get("/api/v1/overdue/export?format=pdf").status_code == 422


def test_cp932_refuses_text_it_cannot_write_naming_the_asset(world):
    bridge = make_asset(world.yashio, "bridge", external_id="B-E", built=1970)
    bridge.name = "𠮷野橋"
    bridge.save(update_fields=["name"])
    r = client(world.alice).get("/api/v1/overdue/export?format=csv")
    assert r.status_code == 422 and bridge.global_id in str(r.json()) and "xlsx" in str(r.json())


def test_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    """The page, the API page and the download each cost a fixed number of queries, for 2 rows or 42."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client(world.alice)
    urls = ["/inspections/overdue/", "/api/v1/overdue", "/inspections/overdue/download/?format=xlsx"]

    def add(n, prefix):
        for i in range(n):
            make_asset(world.yashio, "bridge", external_id=f"{prefix}-{i}", built=1970)

    add(2, "Q")
    with CaptureQueriesContext(connection) as few:
        assert [c.get(u).status_code for u in urls] == [200, 200, 200]
    add(40, "M")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert [c.get(u).status_code for u in urls] == [200, 200, 200]
    assert client(world.alice).get("/api/v1/overdue").json()["count"] == 42


def test_downloads_never_hold_another_regions_assets(world):
    ours = make_asset(world.yashio, "bridge", external_id="B-O", built=1970)
    far = make_asset(world.wajima, "bridge", external_id="B-F", built=1970, actor=Actor(world.charlie, Via.UI),
                     lon=136.899, lat=37.391)
    for user, own, foreign in ((world.carol, ours, far), (world.charlie, far, ours), (world.alice, ours, far)):
        for url in ("/inspections/overdue/download/", "/api/v1/overdue/export"):
            text = client(user).get(url, {"format": "csv", "municipality": "all"}).content.decode("cp932")
            assert own.global_id in text and foreign.global_id not in text
