"""The PDF renderer is pure: a PlanDocument built by hand (plain dataclasses) in, a valid PDF out, with no database
(no `db` fixture, so any query would fail the test; the file passes with DATABASE_URL naming no database) and no
Django settings or models on import."""

import os
import subprocess
import sys
from pathlib import Path

from reports.pdf.model import (
    Aging,
    Area,
    ClusterPage,
    ClusterRow,
    Facility,
    InspectionRow,
    LotLine,
    LotShare,
    MeasureRate,
    Member,
    PlanDocument,
    Quantity,
)
from reports.pdf.render import render_pdf

ROOT = Path(__file__).resolve().parents[2]
FYS = [2027, 2028, 2029]


def _square(lon, lat, d):
    return [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d), (lon - d, lat - d)]


def _scenario(strategy, level, spend, treated):
    return {"strategy": strategy, "level": level, "objective": 120.0 * level, "greedy_objective": 100.0 * level,
            "budget": [2e7, 2e7, 2e7], "spend": spend, "risk": [9.0, 7.5, 6.0], "risk_untreated": [9.0, 9.8, 10.7],
            "backlog": [3e7, 2e7, 1e7], "treated": treated, "lcc50": 4.2e8 / level, "greedy_shortfall": 0,
            "legal": {"shortfall_total": {"count": 1, "cost": 2.5e6}}}


def plan_document() -> PlanDocument:
    lot = ClusterRow(
        id=1, rank=1, key="sewer-3.0", work_type="sewer", members=2, municipalities=["八潮市", "草加市"],
        cost=12_300_000, saving=800_000, risk_removed=4.25, per_myen=0.346, action_mix={"sewer_pipe:renew": 2},
        drivers={"traffic": 3.0, "depth": 1.0, "detour": 0.0}, rings=[_square(139.82, 35.82, 0.002)],
        fiscal_year=2027, consolidation={
            "sewer_vs_septic": {"recommendation": "convert_to_septic", "households": 5, "households_per_km": 12.5,
                                "break_even_per_km": 30.0, "saving_per_year": 1_500_000},
            "bridge_removal": [{"recommendation": "remove", "name": "中川小橋", "global_id": "112348-BR-000009",
                                "traffic": 120, "detour_m": 850, "saving_per_year": 900_000}]})
    members = [Member(global_id=f"112348-SP-00000{i}", kind="sewer_pipe", name=f"八潮幹線{i}号", owner="八潮市",
                      action="renew", cost=6_150_000, grade="緊急度Ⅰ", risk=2.1, lon=139.82 + 0.0005 * i, lat=35.82)
               for i in (1, 2)]
    return PlanDocument(
        title="インフラ群再生計画", scope="中川流域（八潮市）", region="中川流域", lead="埼玉県",
        generated_on="令和8年4月1日", period="令和9年度〜令和11年度", run_id=42, data_timestamp="令和8年3月31日",
        counts=[("下水道管渠", 120), ("橋梁", 8)],
        conditions=[("下水道管渠", [("緊急度Ⅰ", 3), ("緊急度Ⅱ", 10), ("未点検", 107)]), ("橋梁", [("Ⅲ", 2), ("Ⅱ", 6)])],
        ages=[("下水道管渠", [20, 60, 40]), ("橋梁", [2, 4, 2])], age_bands=["〜1969", "1970〜1989", "1990〜"],
        areas=[Area("八潮市", [_square(139.83, 35.82, 0.02)], highlighted=True),
               Area("草加市", [_square(139.80, 35.82, 0.02)])],
        clusters=[lot], pages=[ClusterPage(row=lot, shares=[("八潮市", 8e6), ("草加市", 4.3e6)], members=members,
                                           member_total=5)],
        fiscal_years=FYS, strategy="予防保全",
        scenarios=[_scenario("preventive", 1.0, [1.8e7, 1.9e7, 2e7], 3),
                   _scenario("corrective", 0.5, [1e7, 1e7, 1e7], 1)],
        main=0,
        sewer_septic=[{"key": "sewer-3.0", "sewer_vs_septic": {
            "pipe_km": 0.4, "households": 5, "households_per_km": 12.5, "break_even_per_km": 30.0,
            "annual_cost_renew": 2.4e6, "annual_cost_septic": 0.9e6, "recommendation": "convert_to_septic"}}],
        bridges=[{"name": "中川小橋", "global_id": "112348-BR-000009", "owner": "八潮市", "traffic": 120, "detour_m": None,
                  "annual_cost_keep": 1.2e6, "annual_cost_remove": None, "recommendation": "no_alternative_route"}],
        septic_groups=[{"tanks": 6, "households": 6, "single": 4, "improper": 1, "owners": ["草加市"],
                        "conversion_cost": 5.4e6}],
        hazards={"sewer_kinkyu": {"source": "estimated", "pairs": 37, "expected_years_in_state": [18.0, 9.5, 4.2]}},
        params=[("割引率", "4%"), ("計画期間", "3年")], method=["劣化はマルコフ連鎖で予測した。"],
        credit="出典：国土数値情報（行政区域データ）", plan_id=7,
        urgent=[{"global_id": "112348-SP-000001", "kind": "下水道管渠", "name": "八潮幹線1号", "owner": "八潮市",
                 "grade": "緊急度Ⅰ", "due": "2026-05-01", "deadline": "令和9年度", "plan": "令和9年度に実施"}],
        urgent_summary=[{"kind": "下水道管渠", "grade": "緊急度Ⅰ", "count": 3, "in_time": 2, "short": 1}],
        legal={"due": [3, 0, 1], "scheduled": [2, 0, 1], "scheduled_cost": [5e6, 0, 2e6],
               "shortfall_count": [1, 0, 0], "shortfall_cost": [2.5e6, 0, 0], "split": [],
               "shortfall_total": {"count": 1, "cost": 2.5e6},
               "shortfall_by_year": [{"fiscal_year": 2027, "count": 1, "cost": 2.5e6}],
               "shortfall_by_municipality": [{"name": "八潮市", "count": 1, "cost": 2.5e6}]},
        shortfall=[{"global_id": "112348-SP-000003", "kind": "下水道管渠", "name": "予算不足の管", "owner": "八潮市",
                    "grade": "緊急度Ⅰ", "deadline": "令和9年度", "cost": 2.5e6, "interim": "通行規制"}],
        reduction={"level": 1.0, "corrective_lcc50": 8.4e8, "preventive_lcc50": 4.2e8, "amount": 4.2e8,
                   "percent": 50.0},
        measure_rates=[MeasureRate("下水道管渠", judged=13, started=6, completed=3, interim_only=1),
                       MeasureRate("計", judged=13, started=6, completed=3, interim_only=1)],
        author="八潮市", municipal=True, department="建設部道路治水課", purpose=["八潮市の背景と目的。"],
        review_year="令和13年度", new_technology_target="点検の3割でドローン",
        quantities=[Quantity("橋梁", 8, "橋", [("橋数", "8 橋"), ("橋面積", "1,234 m²")])],
        aging=[Aging("橋梁", known=8, unknown=0, now=0.25, in10=0.5, in20=0.75)],
        inspections=[InspectionRow("橋梁", "近接目視（5年に1回）", "道路法施行規則", [2, 1, 0], 1)],
        facilities=[Facility("112348-BR-000009", "中川小橋", "市道1号線", "八潮市", "昭和48年度", 12.5, 75.0, "Ⅲ",
                             "令和5年度", "令和10年度", "修繕", "令和9年度", 12_300_000)],
        lot_lines=[LotLine("sewer-3.0", "下水道管渠", "八潮中央通り", "0.40 km（2本）", "更新 2", "令和9年度", 1.2e7)],
        lot_shares=[LotShare("sewer-3.0", "下水道管路", 2, "令和9年度", 12_300_000,
                             [("八潮市", 8_049_999), ("草加市", 4_250_001)])],
    )


def _poppler(tool: str, path: Path) -> str:
    return subprocess.run([tool, str(path)] + (["-"] if tool == "pdftotext" else []), capture_output=True,
                          text=True, check=True).stdout


def test_a_hand_built_plan_renders_to_a_valid_pdf_with_its_text(tmp_path):
    pdf = render_pdf(plan_document())
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    pages = int(next(line.split()[-1] for line in _poppler("pdfinfo", path).splitlines()
                     if line.startswith("Pages:")))
    assert pages >= 8  # cover, urgent works, status, map, ranking, plan, scenarios, the lot's page, ...
    fonts = _poppler("pdffonts", path).splitlines()[2:]
    assert fonts and all(" yes " in f for f in fonts), fonts  # every face embedded (IPAex), none base-14
    text = "".join(_poppler("pdftotext", path).split())  # table cells wrap, and Japanese has no spaces
    for expected in ("インフラ群再生計画", "中川流域（八潮市）", "令和9年度〜令和11年度", "エンジン実行#42",
                     "sewer-3.0", "八潮幹線2号", "中川小橋", "予算不足の管", "縮減額4.2億円（50.0%）", "措置着手率",
                     "浄化槽へ転換", "迂回路なし", f"-2/{pages}-", "計画#7", "目次", "建設部道路治水課",
                     "中川小橋", "市道1号線", "昭和48年度", "八潮中央通り", "草加市4.3", "八潮市8.0", "12.3", "75%",
                     "令和13年度に計画（Plan）を見直す", "点検の3割でドローン", "橋面積：1,234m²"):
        assert expected in text, expected


def test_a_lot_line_under_many_routes_lays_out(tmp_path):
    """reports.document.routes_text names five routes and counts the rest, so the §6.2 cell stays a few lines."""
    from dataclasses import replace

    doc = plan_document()
    many = "・".join(f"八潮市道{i}号線" for i in range(5)) + " ほか395路線"
    doc = replace(doc, lot_lines=[replace(doc.lot_lines[0], route=many)] * 40)
    path = tmp_path / "plan.pdf"
    path.write_bytes(render_pdf(doc))
    assert "ほか395路線" in "".join(_poppler("pdftotext", path).split())


def test_importing_the_renderer_needs_no_django_settings_and_loads_no_models():
    """In a fresh interpreter without DJANGO_SETTINGS_MODULE: the renderer, its model and its drawings load
    no ORM, no app and no settings."""
    code = ("import sys, reports.pdf.render; "
            "bad = sorted(m for m in sys.modules if m.startswith(('django.db', 'django.apps', 'django.conf', "
            "'assets', 'inspections', 'clusters', 'ledger', 'generator', 'web', 'config')) "
            "or (m.startswith('reports') and not m.startswith('reports.pdf') and m != 'reports')); "
            "print(','.join(bad))")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"importing reports.pdf.render loaded {out}"
