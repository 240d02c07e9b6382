"""The 個別施設計画 itself (issue 15): a municipality's plan is its own (its name on the cover, its text, its
体制), has the sections a published 長寿命化修繕計画 / 個別施設計画 has, and lists every bridge one by one in the
PDF and in the xlsx / CP932 CSV download.

What such a plan must contain: the インフラ長寿命化基本計画 (国, 平成25年) asks each 行動計画 to be carried out by
個別施設計画 stating per facility the 点検・診断 results, the measures, their 時期 and 費用; domain.md §7 "個別施設計画
lists each facility (bridges one by one) with state, next inspection, measure, 年度 and cost"; §1.4 (outputs per
asset type plus the group's); §7 予防保全 vs 事後保全 with the 縮減額 shown as MLIT does."""

import csv
import io
import random
import subprocess

import pytest
from openpyxl import load_workbook

from assets.history import Actor
from assets.models import Asset
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from reports.models import PlanProfile
from reports.pdf.money import largest_remainder, split_million
from reports.services import plan_create, plan_execute
from tests.conftest import make_asset
from tests.reports.test_plan import bad_pipes, pdf_text


def page_text(path, page: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def flat(text: str) -> str:
    return "".join(text.split())  # table cells wrap, and Japanese has no spaces


def body(text: str) -> str:
    """The document after its 目次 (which names every heading once more)."""
    return text[text.index("1.計画の概要", text.index("付録3手法と前提条件")):]


@pytest.fixture
def bridges(world, settings, tmp_path):
    """八潮市's bridges in different states (one never inspected, one built 昭和48年度), one of 草加市's, and
    failing pipes so the run has lots across both cities."""
    settings.MEDIA_ROOT = tmp_path
    own = []
    for k, (grade, built) in enumerate([("Ⅰ", 1990), ("Ⅱ", 1973), ("Ⅲ", 1965), (None, 2001)]):
        b = make_asset(world.yashio, "bridge", external_id=f"BR-{k}", lon=139.85 + 0.004 * k, lat=35.83,
                       built=built, length_m=10.0 + k, width_m=6.0, route_name=f"市道{k}号線")
        if grade:
            inspection_record(actor=Actor.system(), asset=b, inspected_on="2023-07-01", grade=grade)
        own.append(b)
    other = make_asset(world.soka, "bridge", external_id="BR-S", lon=139.80, lat=35.83, length_m=30.0, width_m=7.0)
    inspection_record(actor=Actor.system(), asset=other, inspected_on="2023-07-01", grade="Ⅲ")
    bad_pipes(world, 6)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    return run, own, other


def test_every_bridge_of_yashio_is_in_its_per_facility_table_in_the_pdf_and_the_xlsx(world, bridges, client):
    """domain.md §7: bridges one by one with state, next inspection, measure, 年度 and cost — all of them, in both
    the PDF and the spreadsheet; 架設年度 in 和暦 (core.wareki, 1973 → 昭和48年度)."""
    run, own, other = bridges
    plan = plan_execute(plan_create(principal=world.alice, run=run, municipality=world.yashio).pk)
    text = body(flat(pdf_text(plan.pdf.path)))
    table = text[text.index("6.1橋梁（施設ごと）"):text.index("6.2道路・下水道")]
    for b in own:
        assert b.global_id in table, b.global_id
    assert other.global_id not in table  # 草加市's bridge is not in 八潮市's table
    assert "昭和48年度" in table and "未点検" in table and "市道2号線" in table
    client.force_login(world.alice)
    r = client.get(f"/api/v1/plans/{plan.pk}/facilities?format=xlsx")
    assert r.status_code == 200 and "spreadsheetml" in r["Content-Type"]
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["橋梁（施設ごと）"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0].startswith("八潮市") and rows[1][:4] == ("番号", "施設名", "施設ID", "路線名")
    ids = {row[2] for row in rows[2:]}
    assert ids == {b.global_id for b in own}
    by_id = {row[2]: dict(zip(rows[1], row, strict=True)) for row in rows[2:]}
    assert by_id[own[1].global_id]["架設年度"] == "昭和48年度" and by_id[own[3].global_id]["健全性"] == "未点検"
    assert by_id[own[1].global_id]["橋長(m)"] == 11.0 and by_id[own[1].global_id]["管理者"] == "八潮市"
    assert "道路・下水道・浄化槽（群ごと）" in wb.sheetnames
    r = client.get(f"/api/v1/plans/{plan.pk}/facilities?format=csv")
    assert r.status_code == 200 and "Shift_JIS" in r["Content-Type"]
    got = list(csv.reader(io.StringIO(r.content.decode("cp932"))))
    assert got[0][2] == "施設ID" and {row[2] for row in got[1:]} == {b.global_id for b in own}
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    assert 'id="plan-facilities-xlsx"' in page and 'id="plan-facilities-csv"' in page


def test_a_municipality_plan_is_authored_by_the_municipality_with_its_own_text_and_department(world, bridges):
    """A municipality's 個別施設計画 is its own: its name on the cover (not the lead body's), its 行動計画 named in
    the 位置付け, its 体制; the coordinator's targets (新技術・集約撤去) and the PDCA review year from the profile."""
    run, own, _ = bridges
    PlanProfile.objects.create(region=world.region, department="県土整備部（群マネ推進室）",
                               new_technology_target="令和12年度までに橋梁点検の3割でドローンを活用",
                               consolidation_target="令和12年度までに2橋の集約・撤去を検討", review_fiscal_year=2030)
    PlanProfile.objects.create(region=world.region, municipality=world.yashio, department="建設部道路治水課")
    plan = plan_execute(plan_create(principal=world.alice, run=run, municipality=world.yashio).pk)
    cover = flat(page_text(plan.pdf.path, 1))
    assert "八潮市" in cover and "建設部道路治水課" in cover and "埼玉県" not in cover
    text = flat(pdf_text(plan.pdf.path))
    assert "八潮市が策定した行動計画（公共施設等総合管理計画）の下に位置付ける個別施設計画" in text
    assert "八潮市建設部道路治水課が所管" in text and "県土整備部" not in text  # the lead's department is not its
    assert "令和12年度に計画（Plan）を見直す" in text
    assert "ドローンを活用" in text and "2橋の集約・撤去を検討" in text
    region = plan_execute(plan_create(principal=world.carol, run=run).pk)
    cover = flat(page_text(region.pdf.path, 1))
    assert "埼玉県" in cover and "県土整備部（群マネ推進室）" in cover
    assert "群の個別施設計画" in flat(pdf_text(region.pdf.path))


def test_the_region_plan_has_the_sections_of_a_published_plan_in_order(world, bridges):
    """The sections a published 個別施設計画 / 長寿命化修繕計画 has, in its order, with the ranking of all lots and
    the parameters (by Japanese name and unit, never a code) in the appendix."""
    run, own, other = bridges
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk)
    text = flat(pdf_text(plan.pdf.path))
    order = ["目次", "1.計画の概要", "1.1背景・目的", "1.2計画の位置付け", "インフラ長寿命化基本計画", "行動計画",
             "2.対象施設", "3.健全性の現状", "3.3老朽化率", "4.点検計画", "5.緊急に対策を要する施設",
             "6.個別施設の対策計画", "6.1橋梁（施設ごと）", "6.2道路・下水道（群・路線ごと）", "6.3浄化槽（群ごと）",
             "7.広域連携の群と費用負担", "8.中長期の費用", "8.1予防保全と事後保全の比較", "9.新技術の活用と集約・撤去",
             "10.体制とフォローアップ", "フォローアップ（PDCA）", "付録1群の優先順位（全群）", "付録2群別調書",
             "付録3手法と前提条件"]
    after, at = body(text), 0
    for heading in order[1:]:  # each one after the one before (ValueError names the first out of order)
        at = after.index(heading, at)
    assert after.index("インフラ長寿命化基本計画") < after.index("行動計画") < after.index("2.対象施設")
    assert "橋数：5橋" in text and "橋面積" in text and "下水道管渠" in text and "φ300〜450mm" in text
    assert "縮減額(億円)" in text and "縮減できる見込み" in text
    for b in [*own, other]:
        assert b.global_id in text
    appendix = text[text.rindex("付録3手法と前提条件"):]
    assert "割引率" in appendix and "対策を要する劣化確率" in appendix and "影響度の重み：交通量" in appendix
    for code in ("lof_action_threshold", "discount_rate", "plan:", '"traffic"', "preventive", "levelled"):
        assert code not in appendix, code


def test_the_downloads_are_scoped_to_the_users_municipalities(world, bridges, client):
    """Selectors scoped to the user's municipalities: a reader of the region's plan gets the bridges of the
    municipalities they may read (assets.access), an outsider gets nothing."""
    from assets import access

    run, own, other = bridges
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk, render=False)
    plan.status = "done"
    plan.save(update_fields=["status"])
    client.force_login(world.bob)
    got = list(csv.reader(io.StringIO(client.get(f"/api/v1/plans/{plan.pk}/facilities?format=csv")
                                      .content.decode("cp932"))))
    readable = set(access.municipalities_visible(world.bob).values_list("code", flat=True))
    assert {row[2] for row in got[1:]} == {b.global_id for b in [*own, other] if b.owner_id in readable}
    assert other.global_id in {row[2] for row in got[1:]}
    client.force_login(world.carol)
    wb = load_workbook(io.BytesIO(client.get(f"/api/v1/plans/{plan.pk}/facilities").content))
    assert {r[2] for r in list(wb.worksheets[0].iter_rows(values_only=True))[2:]} == {b.global_id for b in [*own, other]}
    r = client.get(f"/api/v1/plans/{plan.pk}/facilities?format=pdf")
    assert r.status_code == 422 and "xlsx, csv" in r.content.decode()
    client.force_login(world.charlie)
    assert client.get(f"/api/v1/plans/{plan.pk}/facilities").status_code == 404


def test_a_name_cp932_cannot_hold_is_refused_naming_the_bridge_and_the_xlsx_still_has_it(world, bridges, client):
    """core/export.py: a CP932 file refuses what it cannot write (no silent "?"), naming the asset and field."""
    run, own, _ = bridges
    Asset.objects.filter(pk=own[0].pk).update(name="𠮷野橋")
    plan = plan_execute(plan_create(principal=world.alice, run=run, municipality=world.yashio).pk, render=False)
    plan.status = "done"
    plan.save(update_fields=["status"])
    client.force_login(world.alice)
    r = client.get(f"/api/v1/plans/{plan.pk}/facilities?format=csv")
    assert r.status_code == 422 and own[0].global_id in r.content.decode() and "xlsx" in r.content.decode()
    wb = load_workbook(io.BytesIO(client.get(f"/api/v1/plans/{plan.pk}/facilities?format=xlsx").content))
    assert "𠮷野橋" in {r[1] for r in wb.worksheets[0].iter_rows(values_only=True)}


@pytest.mark.parametrize("seed", range(30))
def test_cost_shares_add_up_to_the_printed_total(seed):
    """Money in tables in 百万円 with one decimal; the municipalities' shares of a lot add up to the lot's
    printed total (largest-remainder rounding), so a reader's sum matches the page."""
    rnd = random.Random(seed)
    parts = [rnd.uniform(0, 5e7) for _ in range(rnd.randint(1, 6))]
    total, shown = split_million(sum(parts), parts)
    assert sum(round(float(x.replace(",", "")) * 10) for x in shown) == round(float(total.replace(",", "")) * 10)
    assert all(abs(float(x.replace(",", "")) - p / 1e6) < 0.1 + 1e-9 for x, p in zip(shown, parts, strict=True))


def test_largest_remainder_hands_the_units_left_to_the_largest_remainders():
    assert largest_remainder(10.0, [3.4, 3.3, 3.3], 1.0) == [4, 3, 3]
    assert largest_remainder(1.0, [1 / 3] * 3, 0.1) == [4, 3, 3]
    assert sum(largest_remainder(2.0, [0.66, 0.66, 0.68], 1.0)) == 2


def test_the_plan_settings_are_edited_in_the_admin_by_who_owns_them(world, rf):
    """The coordinator sets the region's targets (新技術・集約撤去, PDCA); a municipality's staff its own 体制;
    neither edits the other's row, and an outsider sees neither."""
    from django.contrib.admin.sites import site

    region_row = PlanProfile.objects.create(region=world.region, consolidation_target="2橋")
    own_row = PlanProfile.objects.create(region=world.region, municipality=world.yashio, department="道路治水課")
    admin = site._registry[PlanProfile]

    def req(user):
        r = rf.get("/admin/")
        r.user = user
        return r

    assert admin.has_change_permission(req(world.carol), region_row)
    assert admin.has_change_permission(req(world.alice), own_row)
    assert not admin.has_change_permission(req(world.alice), region_row)
    assert not admin.has_change_permission(req(world.bob), own_row)
    assert not admin.get_queryset(req(world.charlie)).exists()
