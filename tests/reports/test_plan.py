"""Plans from a run: who may make them, what the PDF contains (pdffonts, pdftotext), and the API task."""

import subprocess

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assets.history import Actor
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from reports.models import Plan
from reports.services import plan_create, plan_execute
from tests.conftest import make_pipe


def bad_pipes(world, n: int, start: int = 0) -> None:
    """n failing pipes, ~450 m apart (each its own lot), alternating between 八潮市 and 草加市."""
    for k in range(start, start + n):
        owner, lon0 = (world.yashio, 139.823) if k % 2 == 0 else (world.soka, 139.789)
        j = k // 2
        pipe = make_pipe(owner, external_id=f"P-{k}", lon=lon0 + 0.005 * (j % 6), lat=35.807 + 0.004 * (j // 6),
                         diameter_mm=300 + 50 * (k % 5))
        inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-05-01", grade="緊急度Ⅰ")


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.fixture
def run_of(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    made = []

    def make(n):
        bad_pipes(world, n, start=len(made))
        made.extend(range(n))
        return run_execute(run_create(principal=world.carol, region=world.region).pk)
    return make


def test_the_pdf_embeds_the_japanese_font_and_names_every_section_and_cluster(world, run_of):
    run = run_of(6)
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk)
    assert plan.status == Plan.Status.DONE and plan.pdf
    fonts = subprocess.run(["pdffonts", plan.pdf.path], capture_output=True, text=True, check=True).stdout
    ipa = [line for line in fonts.splitlines() if "IPAex" in line]
    assert ipa and all(line.split()[-5] == "yes" for line in ipa)  # the "emb" column
    assert not [line for line in fonts.splitlines()[2:] if "IPAex" not in line]  # nothing unembedded
    text = pdf_text(plan.pdf.path)
    for heading in ("個別施設計画（長寿命化修繕計画）", "目次", "2. 対象施設", "3. 健全性の現状", "4. 点検計画",
                    "6. 個別施設の対策計画", "7. 広域連携の群と費用負担", "8. 中長期の費用", "9.3 集約・再編の候補",
                    "付録1 群の優先順位（全群）", "付録2 群別調書", "付録3 手法と前提条件", "国土数値情報",
                    f"エンジン実行 #{run.pk}"):
        assert heading in text, heading
    flat = "".join(text.split())
    for key, name in run.clusters.values_list("key", "name"):
        assert name.split("（")[0] in flat and key not in text  # lots by their names, never the engine's keys
    assert "八潮市" in text and "草加市" in text


def test_more_clusters_make_more_pages(world, run_of, tmp_path):
    small = plan_execute(plan_create(principal=world.carol, run=run_of(2)).pk)
    pages_small = pdf_pages(small.pdf.path)
    big = plan_execute(plan_create(principal=world.carol, run=run_of(24)).pk)
    assert big.run.clusters.count() > small.run.clusters.count() + 10
    assert pdf_pages(big.pdf.path) > pages_small


def test_the_plan_keeps_within_budget_and_beats_or_equals_greedy(world, run_of):
    run = run_of(10)
    plan = plan_execute(plan_create(principal=world.carol, run=run, budget_per_year=20_000_000,
                                    budget_mode="per_municipality").pk, render=False)
    r = plan.result
    assert len(r["scenarios"]) == 6 and r["holders"] == ["112216", "112348"]
    for s in r["scenarios"]:
        assert all(spend <= budget + 1 for spend, budget in zip(s["spend"], s["budget"], strict=True))
        assert s["objective"] >= s["greedy_objective"] - 1e-6
    main = r["scenarios"][r["main"]]
    assert main["strategy"] == "preventive" and main["level"] == 1.0
    assert sum(main["budget"]) == pytest.approx(10 * 20_000_000)
    # A municipality's own plan only counts its share of each lot.
    own = plan_execute(plan_create(principal=world.alice, run=run, municipality=world.yashio).pk, render=False)
    assert own.result["holders"] == ["112348"] and own.result["clusters"] == 5


def test_who_may_plan_and_bad_input(world, run_of):
    run = run_of(2)
    with pytest.raises(PermissionDenied):
        plan_create(principal=world.charlie, run=run)  # outsider
    with pytest.raises(PermissionDenied):
        plan_create(principal=world.alice, run=run)  # an engineer may not plan the whole region
    with pytest.raises(ValidationError) as exc:
        plan_create(principal=world.carol, run=run, horizon_years=50, strategy="cheap", budget_per_year=-5,
                    municipality=world.wajima, budget_by_municipality={"999999": 5})
    errors = exc.value.message_dict
    assert set(errors) == {"horizon_years", "strategy", "budget_per_year", "municipality", "budget_by_municipality"}
    assert "preventive, corrective" in errors["strategy"][0]
    assert "112216" in errors["budget_by_municipality"][0]
    assert Plan.objects.count() == 0


def test_the_api_starts_the_plan_as_a_task_and_serves_the_pdf(world, run_of, client, settings):
    settings.ENGINE_SYNC = True
    run = run_of(3)
    client.force_login(world.carol)
    r = client.post("/api/v1/plans", {"region": "nakagawa", "horizon_years": 5}, content_type="application/json")
    assert r.status_code == 202, r.content
    pk = r.json()["id"]
    got = client.get(f"/api/v1/plans/{pk}").json()
    assert got["status"] == "done" and got["run"] == run.pk and got["pdf_url"] == f"/api/v1/plans/{pk}/pdf"
    pdf = client.get(got["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    client.force_login(world.charlie)
    assert client.get(f"/api/v1/plans/{pk}").status_code == 404
    assert client.post("/api/v1/plans", {"region": "nakagawa"}, content_type="application/json").status_code == 404


def test_plan_pdf_command_writes_the_file(world, run_of, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    run_of(3)
    out = StringIO()
    call_command("plan_pdf", region="nakagawa", municipality="112348", out=str(tmp_path / "p.pdf"), stdout=out)
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    assert "PDF written to" in out.getvalue() and "preventive" in out.getvalue()
    assert "八潮市" in pdf_text(tmp_path / "p.pdf")


def iv_bridge(world):
    """八潮市's bridge at 健全性Ⅳ since 2022 (告示426号: 緊急措置段階, measures at once), cheap to repair and
    little risk per yen beside the failing pipes, so a plan ranking by risk alone would leave it."""
    from tests.conftest import make_asset

    bridge = make_asset(world.yashio, "bridge", external_id="BR-11", lon=139.86, lat=35.83, length_m=12.0,
                        width_m=5.0)
    inspection_record(actor=Actor.system(), asset=bridge, inspected_on="2022-06-01", grade="Ⅳ")
    bridge.refresh_from_db()
    return bridge


def test_a_iv_bridge_is_done_in_the_first_year_or_listed_in_the_shortfall_with_its_interim_measure(
        world, run_of, client):
    bridge = iv_bridge(world)
    run = run_of(6)
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk)
    r = plan.result
    fy0 = r["fiscal_years"][0]
    (u,) = [u for u in r["urgent"] if u["asset_id"] == bridge.pk]
    assert u["overdue"] and u["deadline_fy"] == fy0 and u["scheduled_fy"] == fy0
    lot = run.clusters.get(members__asset=bridge).pk
    # The chosen plan (予防保全, 100 %) does the bridge in the first fiscal year, the lot whole or the bridge alone.
    assert [a["year"] for a in r["actions"] if a["cluster_id"] == lot and a["part"] != "rest"] == [0]
    for s in r["scenarios"]:
        if s["level"] >= 1.0 and s["strategy"] == "preventive":
            assert bridge.pk not in {a["asset_id"] for a in s["legal"]["shortfall_assets"]}
    assert r["scenarios"][r["main"]]["legal"]["shortfall_total"]["count"] == 0
    text = pdf_text(plan.pdf.path)
    assert "緊急に対策を要する施設（法定の措置期限）" in text and bridge.global_id in text and "予算不足はない" in text
    # In the body, before the per-facility plan and the costs (the 目次 names both first).
    body = text[text.rindex("1. 計画の概要"):]
    assert body.index("5. 緊急に対策を要する施設") < body.index("6. 個別施設の対策計画") < body.index("8. 中長期の費用")
    # No money: nothing is dropped silently.
    broke = plan_execute(plan_create(principal=world.carol, run=run, budget_per_year=1).pk)
    for s in broke.result["scenarios"]:
        (a,) = [a for a in s["legal"]["shortfall_assets"] if a["asset_id"] == bridge.pk]
        assert a["interim_measure"].startswith("通行規制・通行止め") and a["fiscal_year"] == fy0
        assert a["owner"] == "112348" and a["cost"] > 0
        by_muni = {m["code"]: m for m in s["legal"]["shortfall_by_municipality"]}
        assert by_muni["112348"]["count"] >= 1
        assert s["legal"]["shortfall_count"][0] == s["legal"]["shortfall_total"]["count"] == 7  # bridge + 6 pipes
    text = pdf_text(broke.pdf.path)
    assert "8.4 予算不足" in text and "通行規制・通行止め" in text and "応急措置" in text
    client.force_login(world.carol)
    page = client.get(f"/plans/{broke.pk}/").content.decode()
    assert "通行規制・通行止め" in page and 'id="shortfall"' in page
    api = client.get(f"/api/v1/plans/{broke.pk}").json()
    main = api["result"]["scenarios"][api["result"]["main"]]
    assert main["legal"]["shortfall_total"]["count"] == 7
    assert api["result"]["reduction"]["amount"] == (api["result"]["reduction"]["corrective_lcc50"]
                                                    - api["result"]["reduction"]["preventive_lcc50"])
