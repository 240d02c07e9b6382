"""The engineer's screens (issue 15): the asset page reads in words, lists sort and download within the
person's scope, the language switch goes both ways."""

import csv
import io
import re

import pytest
from django.test import Client

from assets.history import Actor
from assets.models import Via
from assets.services import asset_update
from inspections.services import inspection_record
from tests.conftest import make_asset


@pytest.fixture
def alice(world):
    c = Client()
    c.force_login(world.alice)
    return c


def test_the_asset_page_shows_the_ledger_in_japanese_with_units(world, alice):
    bridge = make_asset(world.yashio, "bridge", length_m=12.0, width_m=6.5, crosses="river")
    html = alice.get(f"/assets/{bridge.global_id}/").content.decode()
    for text in ("<dt>橋長 (m)</dt><dd>12.0</dd>", "<dt>幅員 (m)</dt><dd>6.5</dd>", "<dd>河川</dd>", "<dd>八潮市</dd>",
                 'id="assetmap"', 'id="asset-geom"'):
        assert text in html, text
    assert "112348</dd>" not in html and "kind: bridge" not in html
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="P-9", diameter_mm=250)
    html = alice.get(f"/assets/{pipe.global_id}/").content.decode()
    assert "<dt>管径 (mm)</dt><dd>250</dd>" in html and "<dt>延長 (m)</dt><dd>50.0</dd>" in html
    tank = make_asset(world.yashio, "septic_tank", external_id="T-1", capacity_persons=7)
    assert "<dt>人槽</dt><dd>7</dd>" in alice.get(f"/assets/{tank.global_id}/").content.decode()


def test_the_ledger_number_names_its_source_never_the_code(world, alice):
    """台帳番号 with where the record comes from in words: デモデータ for the generator's `demo`, the ledger
    system's name (its API key's) for a system's own source, 他の台帳 when nobody named it."""
    from assets.models import ApiToken, Asset
    from tests.rawscan import visible_text

    def shown(asset, source, lang="ja"):
        Asset.objects.filter(pk=asset.pk).update(source=source)
        page = alice.get(f"/{'en/' if lang == 'en' else ''}assets/{asset.global_id}/").content.decode()
        return visible_text(re.search(r'id="asset-source">(.*?)</span>', page).group(1))

    bridge = make_asset(world.yashio, "bridge", external_id="BR-7")
    assert shown(bridge, "demo") == "（出典：デモデータ）"
    assert shown(bridge, "demo", "en") == "(from: Demo data)"
    assert shown(bridge, "ledger") == "（出典：台帳の取込）"
    ApiToken.issue(name="下水道台帳システム", municipality=world.yashio, source="gesuido", can_write=True)
    assert shown(bridge, "gesuido") == "（出典：下水道台帳システム）"
    assert shown(bridge, "xyz-sync") == "（出典：他の台帳）"
    assert shown(bridge, "道路台帳") == "（出典：道路台帳）"  # typed in words by a person: shown as it is
    page = visible_text(alice.get(f"/assets/{bridge.global_id}/").content.decode())
    assert "BR-7" in page and "xyz-sync" not in page and "道路台帳" in page


def test_the_history_says_who_changed_what_from_what_to_what(world, alice):
    bridge = make_asset(world.yashio, "bridge", length_m=12.0)
    asset_update(actor=Actor(world.alice, Via.UI), asset=bridge, detail={"length_m": 12.5})
    insp = inspection_record(actor=Actor(world.alice, Via.UI), asset=bridge, inspected_on="2025-05-01", grade="III",
                             observations={"members": [{"member": "Mg0101", "damage_type": "7", "degree": "d",
                                                        "grade": "III"}]}, notes="主桁に剥離")
    html = alice.get(f"/assets/{bridge.global_id}/").content.decode()
    assert "alice が 橋長 を 12.0 から 12.5 に変更" in html
    assert "alice が 2025-05-01 の点検を登録（判定 Ⅲ 早期措置段階）" in html
    assert "Mg0101" in html and "7 剥離・鉄筋露出" in html and "主桁に剥離" in html
    assert "'length_m'" not in html and "detail.length_m" not in html
    html = alice.get(f"/en/assets/{bridge.global_id}/").content.decode()
    assert "alice changed bridge length 橋長 from 12.0 to 12.5" in html
    assert f"inspection-{insp.pk}" in html


def test_the_asset_list_sorts_by_whitelisted_columns(world, alice):
    make_asset(world.yashio, "bridge", external_id="B-2")
    make_asset(world.yashio, "manhole", external_id="A-1")
    html = alice.get("/en/assets/?sort=-ledger").content.decode()
    assert html.index(">B-2<") < html.index(">A-1<")
    html = alice.get("/en/assets/?sort=ledger").content.decode()
    assert html.index(">A-1<") < html.index(">B-2<")
    r = alice.get("/en/assets/?sort=owner__password")  # not a sort key: the default order, no error
    assert r.status_code == 200
    assert 'class="cards"' in r.content.decode()


def test_the_asset_list_shows_and_sorts_the_route_of_roads_bridges_and_structures(world, alice):
    """A 道路台帳 names each road's 路線; a bridge and a tunnel carry their road's (道路橋定期点検要領 様式1: 路線名)."""
    make_asset(world.yashio, "bridge", external_id="B-R", route_name="八潮市道10号線")
    make_asset(world.yashio, "tunnel", external_id="T-R", route_name="八潮市道2号線")
    make_asset(world.yashio, "manhole", external_id="M-R")  # no route: a dash, sorted last
    html = alice.get("/assets/?sort=route").content.decode()  # numbers as numbers: 2号線 before 10号線
    assert ">路線名<" in html and 'data-label="路線名">八潮市道10号線<' in html
    assert html.index("八潮市道2号線") < html.index("八潮市道10号線") < html.index(">M-R<")
    html = alice.get("/assets/?sort=-route").content.decode()
    assert html.index("八潮市道10号線") < html.index("八潮市道2号線") < html.index(">M-R<")
    rows = list(csv.reader(io.StringIO(alice.get("/assets/download/?format=csv&sort=route").content.decode("cp932"))))
    assert [(row[5], row[6]) for row in rows[1:]] == [("八潮市道2号線", "T-R"), ("八潮市道10号線", "B-R"), ("", "M-R")]


def test_the_asset_list_sorts_names_with_numbers_as_numbers_and_the_unnamed_last(world, alice):
    from assets.models import Asset

    ten, two, none = (make_asset(world.yashio, "bridge", external_id=e) for e in ("N-10", "N-2", "N-0"))
    for asset, name in ((ten, "大場10号橋"), (two, "大場2号橋"), (none, "")):
        Asset.objects.filter(pk=asset.pk).update(name=name)
    html = alice.get("/assets/?sort=name").content.decode()
    assert html.index("大場2号橋") < html.index("大場10号橋") < html.index(none.global_id)
    html = alice.get("/assets/?sort=-name").content.decode()
    assert html.index("大場10号橋") < html.index("大場2号橋") < html.index(none.global_id)


def test_the_asset_list_downloads_in_scope_with_formulas_neutralised(world, alice):
    from openpyxl import load_workbook

    make_asset(world.yashio, "bridge", external_id="=HYPERLINK(1)")
    make_asset(world.wajima, "bridge", external_id="W-1", lon=136.899, lat=37.390)  # outside alice's region
    r = alice.get("/assets/download/?format=csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("cp932"))))
    assert rows[0][:3] == ["共通ID", "名称", "種別"]
    assert rows[0][5:7] == ["路線名", "台帳番号"]
    assert [row[6] for row in rows[1:]] == ["'=HYPERLINK(1)"] and rows[1][2] == "橋梁"
    r = alice.get("/assets/download/?format=xlsx&kind=bridge")
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.max_row == 2 and ws.cell(2, 7).value == "'=HYPERLINK(1)"
    assert alice.get("/assets/download/?format=pdf").status_code == 400


def test_the_work_list_sorts_from_its_column_heads(world, alice):
    make_asset(world.yashio, "bridge", external_id="B-1", built=1960)
    html = alice.get("/en/inspections/overdue/?municipality=112348").content.decode()
    assert "sort=-due" in html and "sort=name" in html and "sort=kind" in html
    assert alice.get("/en/inspections/overdue/?sort=drop").status_code == 400


@pytest.mark.parametrize(("start", "language", "lands"), [
    ("/en/assets/?kind=bridge", "ja", "/assets/?kind=bridge"),
    ("/assets/?kind=bridge", "en", "/en/assets/?kind=bridge"),
    ("/en/", "ja", "/"),
    ("/inspections/overdue/", "en", "/en/inspections/overdue/"),
])
def test_the_language_switch_goes_both_ways(world, alice, start, language, lands):
    r = alice.post("/i18n/setlang/", {"language": language, "next": start})
    assert r.status_code == 302 and r["Location"] == lands
    assert r.cookies["django_language"].value == language


def test_the_language_switch_refuses_other_sites(world, alice):
    r = alice.post("/i18n/setlang/", {"language": "ja", "next": "https://evil.example/en/x"})
    assert r.status_code == 302 and "evil" not in r["Location"]


def test_the_inspection_list_sorts_filters_and_downloads_in_scope(world, alice):
    from openpyxl import load_workbook

    mine = make_asset(world.yashio, "bridge", external_id="B-1")
    theirs = make_asset(world.wajima, "bridge", external_id="W-1", lon=136.899, lat=37.390)
    inspection_record(actor=Actor.system(), asset=mine, inspected_on="2023-05-01", grade="II")
    inspection_record(actor=Actor.system(), asset=mine, inspected_on="2025-05-01", grade="III", notes="+SUM(A1)")
    inspection_record(actor=Actor.system(), asset=theirs, inspected_on="2025-05-02", grade="IV")
    html = alice.get("/en/inspections/").content.decode()
    assert html.index("2025-05-01") < html.index("2023-05-01") and "2025-05-02" not in html
    html = alice.get("/en/inspections/?sort=date").content.decode()
    assert html.index("2023-05-01") < html.index("2025-05-01")
    assert alice.get("/en/inspections/?sort=notes;drop").status_code == 200  # unknown key: default order
    assert "2025-05-01" not in alice.get("/en/inspections/?date_to=2024-12-31").content.decode()
    r = alice.get("/en/inspections/?date_from=someday")
    assert r.status_code == 400 and "is not a date" in r.content.decode()
    r = alice.get("/inspections/download/?format=csv&sort=date")
    rows = list(csv.reader(io.StringIO(r.content.decode("cp932"))))
    assert [row[5] for row in rows[1:]] == ["2023-05-01", "2025-05-01"] and rows[2][11] == "'+SUM(A1)"
    ws = load_workbook(io.BytesIO(alice.get("/inspections/download/?format=xlsx").content)).active
    assert ws.max_row == 3 and ws.cell(1, 8).value == "判定区分"
