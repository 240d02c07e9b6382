"""Names people use (issue 15): every screen of a small region, rendered in Japanese for a coordinator and a
municipal engineer, shows no raw value where a name belongs — no `septic_tank:renew`, no `septic-29.0`, no
`convert_to_septic` / `running` / `done`, no 6-digit municipality code (tests/rawscan.py)."""

import pytest
from django.db.models import Value
from django.db.models.functions import Concat
from django.test import Client

from assets.history import Actor
from assets.models import Asset
from clusters.models import Cluster
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from tests.conftest import make_asset
from tests.rawscan import scan_html, scan_text, visible_text

SYS = Actor.system()


@pytest.fixture
def region(world):
    """Old pipes across the 八潮市–草加市 line (one cross-municipal lot), two lone septic tanks 800 m apart (two
    single-work lots one contractor could take together), a bridge and a road, all inspected long ago."""
    w = world
    pipes = [make_asset(w.yashio, "sewer_pipe", external_id="Y1", lon=139.8195, lat=35.822, built=1960),
             make_asset(w.soka, "sewer_pipe", external_id="S1", lon=139.8230, lat=35.822, built=1960)]
    for p in pipes:
        inspection_record(actor=SYS, asset=p, inspected_on="2015-04-01", grade="I")
    for i, lon in enumerate((139.845, 139.854)):
        make_asset(w.yashio, "septic_tank", external_id=f"T{i}", lon=lon, lat=35.83, built=1975, treatment="single")
    bridge = make_asset(w.soka, "bridge", external_id="B1", lon=139.80, lat=35.81, built=1960)
    inspection_record(actor=SYS, asset=bridge, inspected_on="2015-04-01", grade="III")
    make_asset(w.yashio, "road_segment", external_id="R1", lon=139.84, lat=35.815, built=1970)
    # make_asset names assets after their kind code (テストseptic_tank): give them names a ledger would.
    Asset.objects.update(name=Concat(Value("テスト施設"), "external_id"))
    hazards = {"default_hazards": {"sewer_kinkyu": [0.3, 0.3, 0.3], "bridge_kenzen": [0.2, 0.2, 0.2]}}
    run = run_execute(run_create(principal=w.carol, region=w.region, overrides=hazards).pk)
    other = run_execute(run_create(principal=w.carol, region=w.region,
                                   overrides={**hazards, "cluster_distance_m": 200}).pk)
    from reports.services import plan_create, plan_execute

    plan = plan_execute(plan_create(principal=w.carol, run=run).pk, render=False)
    return {"run": run, "other": other, "plan": plan, "pipe": pipes[0]}


def pages(region) -> dict[str, str]:
    run, lot = region["run"], Cluster.objects.filter(run=region["run"]).order_by("rank").first()
    single = Cluster.objects.filter(run=run, member_count=1).order_by("rank").first()
    out = {"home": "/", "map": "/map/", "runs": "/runs/", "run": f"/runs/{run.pk}/",
           "cluster": f"/runs/{run.pk}/clusters/{lot.rank}/", "single": f"/runs/{run.pk}/clusters/{single.rank}/",
           "compare": f"/runs/{run.pk}/compare/{region['other'].pk}/", "overdue": "/inspections/overdue/",
           "ledger": "/ledger/import/", "plan": f"/plans/{region['plan'].pk}/"}
    return out


# Where a code is the point: the ledger import names each owner with its 団体コード, the key of a ledger file's
# owner column.
ALLOW = {"ledger": ("112348", "112216", "110001")}

# Screens other parts own: checked, but failing there is theirs to fix (the lead enables them after merging).
OWNED_ELSEWHERE = {"asset list": "owned by engineer screens (templates/web/asset*.html)",
                   "asset": "owned by engineer screens (templates/web/asset*.html)"}


def get(client, url):
    r = client.get(url, follow=True, HTTP_ACCEPT_LANGUAGE="ja")
    assert r.status_code == 200, (url, r.status_code)
    return r.content.decode()


@pytest.mark.parametrize("persona", ["carol", "alice"])
def test_no_raw_values_on_the_screens_people_read(world, region, persona):
    """Every screen of the region, in Japanese, for a coordinator (carol) and a municipal engineer (alice)."""
    client = Client()
    client.force_login(getattr(world, persona))
    problems = {}
    for name, url in pages(region).items():
        if persona == "alice" and name in ("compare",):
            continue
        found = scan_html(get(client, url), allow=ALLOW.get(name, ()))
        if found:
            problems[name] = found
    assert not problems, problems


@pytest.mark.parametrize("screen", sorted(OWNED_ELSEWHERE))
def test_no_raw_values_on_screens_owned_elsewhere(world, region, screen, request):
    client = Client()
    client.force_login(world.alice)
    url = {"asset list": "/assets/", "asset": f"/assets/{region['pipe'].global_id}/"}[screen]
    assert not scan_html(get(client, url))


def test_lots_are_named_by_work_type_number_and_municipalities(world, region):
    """The cross-municipal sewer lot is 下水道-001（…市・…市）; numbers run per work type by rank; no key shown."""
    lots = list(Cluster.objects.filter(run=region["run"]).order_by("rank"))
    assert all(c.name and c.seq for c in lots)
    sewer = [c for c in lots if c.work_type == "sewer"]
    assert [c.seq for c in sewer] == list(range(1, len(sewer) + 1))
    cross = next(c for c in sewer if c.municipality_count == 2)
    assert cross.name.startswith("下水道-") and "八潮市" in cross.name and "草加市" in cross.name
    client = Client()
    client.force_login(world.carol)
    text = visible_text(get(client, f"/runs/{region['run'].pk}/"))
    assert cross.name in text and cross.key not in text


def test_a_single_work_lot_says_why_and_offers_its_neighbour(world, region):
    """Two lone septic tanks 800 m apart: each lot says nothing of its type lies within cluster_distance_m, and
    offers the other (within contractor_reach_m) as one contract — on the lot page and the run page."""
    tanks = list(Cluster.objects.filter(run=region["run"], work_type="septic", member_count=1).order_by("rank"))
    assert len(tanks) == 2
    a, b = tanks
    assert a.bundling["alone_within_m"] == 300 and [j["name"] for j in a.bundling["joinable"]] == [b.name]
    assert 700 < a.bundling["joinable"][0]["distance_m"] < 900
    client = Client()
    client.force_login(world.carol)
    page = visible_text(get(client, f"/runs/{region['run'].pk}/clusters/{a.rank}/"))
    assert "300 m" in page and b.name in page
    run_page = visible_text(get(client, f"/runs/{region['run'].pk}/"))
    assert "まとめて発注できる候補" in run_page and a.name in run_page


def test_the_api_gives_the_name_beside_the_key(world, region):
    client = Client()
    client.force_login(world.carol)
    rows = client.get(f"/api/v1/runs/{region['run'].pk}/clusters").json()["items"]
    assert all(r["name"] and r["key"] and r["work_type_label"] for r in rows)
    feats = client.get(f"/api/v1/runs/{region['run'].pk}/clusters.geojson").json()["features"]
    assert all(f["properties"]["name"] for f in feats)
    run = client.get(f"/api/v1/runs/{region['run'].pk}", HTTP_ACCEPT_LANGUAGE="ja").json()
    assert run["progress_text"] in ("完了", "Done")


def test_the_scanner_finds_what_it_should_and_lets_names_through():
    bad = "septic_tank:renew 4 · septic-29.0 · road-2.-2_-22 · convert_to_septic · running 20% · 112437"
    kinds = {f.split(":")[0] for f in scan_text(bad)}
    assert kinds >= {"enum pair", "float lot id", "enum word", "municipality code"}
    good = "下水道-012（八潮市・草加市） 浄化槽 更新 4基 実行中 20%（劣化の推計） 112348-SP-000123 68,866 2024-05-01"
    assert scan_text(good) == []
    assert scan_text("code 112437 here", allow=("112437",)) == []


@pytest.mark.parametrize("for_municipality", [False, True], ids=["region plan", "八潮市 plan"])
def test_no_raw_values_in_the_plan_pdf(world, region, request, tmp_path, for_municipality):
    """Both PDFs — the region's 群 plan and a municipality's own — (pdftotext output) with the same scanner."""
    import shutil
    import subprocess

    from assets.models import Municipality
    from reports.services import plan_create, plan_execute

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    municipality = Municipality.objects.get(code="112348") if for_municipality else None
    plan = plan_execute(plan_create(principal=world.carol, run=region["run"], municipality=municipality).pk)
    pdf = tmp_path / "plan.pdf"
    with plan.pdf.open("rb") as f:
        pdf.write_bytes(f.read())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    assert not scan_text(" ".join(text.split()))


def test_english_pages_under_en_use_the_english_labels(world, region):
    client = Client()
    client.force_login(world.carol)
    run = region["run"]
    text = visible_text(client.get(f"/en/runs/{run.pk}/").content.decode())
    lot = Cluster.objects.filter(run=run, work_type="sewer").first()
    assert "Done" in text and "Sewer" in text and lot.name in text
    assert "完了" not in text
