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
    for heading in ("地域インフラ群 維持管理計画", "1. 施設の現況", "2. 群（クラスター）の配置", "3. 優先順位",
                    "4. 中長期計画", "5. シナリオの比較", "6. 群別調書", "7. 集約・再編の候補", "付録", "国土数値情報",
                    f"エンジン実行 #{run.pk}"):
        assert heading in text, heading
    for key in run.clusters.values_list("key", flat=True):
        assert key in text
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
