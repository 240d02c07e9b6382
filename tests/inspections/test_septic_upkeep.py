"""Septic 保守点検 / 清掃 due dates (浄化槽法 第10条; 浄化槽法施行規則 第6条 and 第7条) and the 不適正 guidance date
(浄化槽法 第12条 指導・助言 — not a legal deadline), as the condition table and the work list carry them."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from assets.history import Actor
from assets.models import Via
from inspections import selectors
from inspections.condition import refresh_conditions, septic_method
from inspections.models import AssetCondition, GradingScheme
from inspections.services import inspection_record
from tests.conftest import make_asset

TODAY = timezone.localdate()


def record(world, asset, grade, on, **kw):
    return inspection_record(actor=Actor(world.alice, Via.UI), asset=asset, grade=grade, inspected_on=on, **kw)


def cond(tank):
    return AssetCondition.objects.get(asset=tank)


def methods():
    return GradingScheme.objects.get(code="septic_maintenance", is_current=True).params["methods"]


@pytest.mark.parametrize(("text", "key"), [
    ("分離接触ばっ気", "separation_contact"), ("嫌気ろ床接触ばっ気方式", "separation_contact"),
    ("脱窒ろ床 接触ばっ気", "separation_contact"), ("ﾀﾞﾂﾁﾂ", None), ("全ばっ気", "full_aeration"),
    ("全ばつ気方式", "full_aeration"), ("接触ばっ気", "contact_other"), ("回転板接触", "contact_other"),
    ("活性汚泥（長時間ばっ気）", "activated_sludge"), ("", None), ("不明", None),
])
def test_treatment_method_text_maps_to_the_table_keys(world, text, key):
    """浄化槽法施行規則 第6条 names the 処理方式; the ledger's free text (全角/半角, spaces, ばつ/ばっ) maps to them,
    the longer names first (接触ばっ気 is part of 分離接触ばっ気); unknown → None (the table's default)."""
    assert septic_method(text, methods()) == key


@pytest.mark.parametrize(("treatment", "method", "persons", "last", "due"), [
    # 合併 分離接触ばっ気 等: ≤20人 4か月, 21–50人 3か月 (施行規則6条)
    ("combined", "嫌気ろ床接触ばっ気", 5, "2025-01-10", "2025-05-10"),
    ("combined", "分離接触ばっ気", 21, "2025-01-10", "2025-04-10"),
    # 活性汚泥: 1週
    ("combined", "活性汚泥", 50, "2025-01-10", "2025-01-17"),
    # 単独 全ばっ気: ≤20 3か月, 21–300 2か月
    ("single", "全ばっ気", 10, "2025-01-10", "2025-04-10"),
    ("single", "全ばっ気", 100, "2025-01-10", "2025-03-10"),
    # 単独 散水ろ床等: 6か月
    ("single", "散水ろ床", 10, "2025-01-10", "2025-07-10"),
    # unknown 処理方式: the conservative default, 3 months
    ("combined", "", 5, "2025-01-10", "2025-04-10"),
])
def test_maintenance_falls_due_by_the_article_6_table(world, treatment, method, persons, last, due):
    """浄化槽法施行規則 第6条: 保守点検の回数 by 処理方式 and 処理対象人員, counted from the latest 保守点検 record."""
    tank = make_asset(world.yashio, "septic_tank", external_id="S-M", treatment=treatment, treatment_method=method,
                      capacity_persons=persons)
    record(world, tank, "保守点検", last, scheme="septic_maintenance")
    assert cond(tank).maintenance_due_on == datetime.date.fromisoformat(due)


def test_cleaning_yearly_and_full_aeration_every_six_months(world):
    """浄化槽法施行規則 第7条: 清掃 at least once a year; 全ばっ気方式 about every 6 months."""
    yearly = make_asset(world.yashio, "septic_tank", external_id="S-C1", treatment_method="嫌気ろ床接触ばっ気")
    half = make_asset(world.yashio, "septic_tank", external_id="S-C2", treatment="single",
                      treatment_method="全ばっ気")
    for t in (yearly, half):
        record(world, t, "清掃", "2025-03-01", scheme="septic_maintenance")
    assert cond(yearly).cleaning_due_on == datetime.date(2026, 3, 1)
    assert cond(half).cleaning_due_on == datetime.date(2025, 9, 1)


def test_without_records_due_from_opening(world):
    """No 保守点検/清掃 on record: counted from opening (1 April of the built 年度), so the lapse shows."""
    tank = make_asset(world.yashio, "septic_tank", external_id="S-O", built=2024,
                      treatment_method="分離接触ばっ気")
    c = cond(tank)
    assert c.maintenance_due_on == datetime.date(2024, 8, 1) and c.cleaning_due_on == datetime.date(2025, 4, 1)


def test_the_table_is_catalogue_data_a_prefecture_may_change(world):
    """A prefecture with a stricter table edits the catalogue (params.maintenance); no code changes."""
    tank = make_asset(world.yashio, "septic_tank", external_id="S-P", treatment_method="分離接触ばっ気")
    record(world, tank, "保守点検", "2025-01-10", scheme="septic_maintenance")
    scheme = GradingScheme.objects.get(code="septic_maintenance", is_current=True)
    scheme.params = {**scheme.params, "maintenance": [
        {"method": "separation_contact", "months": 2}, *scheme.params["maintenance"]]}
    scheme.save(update_fields=["params"])
    refresh_conditions([tank.pk])
    assert cond(tank).maintenance_due_on == datetime.date(2025, 3, 10)


def test_lapsed_maintenance_and_cleaning_are_on_the_work_list_with_their_basis(world):
    """浄化槽法 第10条 / 施行規則 第6条・第7条: a lapsed 保守点検 or 清掃 is overdue work, with its legal basis, and the
    overdue page names it in Japanese."""
    tank = make_asset(world.yashio, "septic_tank", external_id="S-L", treatment_method="分離接触ばっ気")
    on = TODAY - datetime.timedelta(days=400)
    record(world, tank, "保守点検", on.isoformat(), scheme="septic_maintenance")
    record(world, tank, "清掃", on.isoformat(), scheme="septic_maintenance")
    rows = [r for r in selectors.work_items(selectors.work_list(principal=world.alice))
            if r["global_id"] == tank.global_id]
    by_work = {r["work"]: r for r in rows}
    assert by_work["maintenance"]["is_overdue"] and by_work["cleaning"]["is_overdue"]
    assert "施行規則 第6条" in by_work["maintenance"]["legal_basis_ja"]
    assert "施行規則 第7条" in by_work["cleaning"]["legal_basis_ja"]
    assert by_work["maintenance"]["is_legal"] and by_work["cleaning"]["is_legal"]
    c = Client()
    c.force_login(world.alice)
    html = c.get("/inspections/overdue/?work=maintenance", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert tank.global_id in html and "保守点検" in html and "施行規則 第6条" in html


def test_improper_is_a_guidance_date_not_a_legal_deadline(world):
    """浄化槽法 第12条: a 不適正 result leads to the prefecture's 指導・助言. The 6 months stay as catalogue data
    (guidance_months), stored as guidance_due_on, never action_due_on (the legal measures deadline the plan
    must meet); the work list shows it as 改善指導の目安（法定期限ではない）."""
    tank = make_asset(world.yashio, "septic_tank", external_id="S-I")
    on = TODAY - datetime.timedelta(days=200)
    record(world, tank, "不適正", on.isoformat(), legal_basis="11条")
    c = cond(tank)
    assert c.action_due_on is None
    assert c.guidance_due_on is not None and (c.guidance_due_on - on).days in range(181, 185)  # 6 months
    rows = selectors.work_items(selectors.work_list(principal=world.alice))
    works = {r["work"] for r in rows if r["global_id"] == tank.global_id}
    assert "measure" not in works and "guidance" in works
    row = next(r for r in rows if r["global_id"] == tank.global_id and r["work"] == "guidance")
    assert not row["is_legal"] and "法定期限ではない" in row["legal_basis_ja"]
    cl = Client()
    cl.force_login(world.alice)
    html = cl.get("/inspections/overdue/?work=guidance", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "改善指導の目安（法定期限ではない）" in html


def test_the_asset_page_shows_the_septic_dates_in_japanese(world):
    """施行規則 第6条/第7条 and 浄化槽法 第12条 on the tank's own page; the guidance date says it is no legal deadline."""
    tank = make_asset(world.yashio, "septic_tank", external_id="S-A", treatment_method="分離接触ばっ気")
    record(world, tank, "不適正", (TODAY - datetime.timedelta(days=30)).isoformat(), legal_basis="11条")
    c = Client()
    c.force_login(world.alice)
    html = c.get(f"/assets/{tank.global_id}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "保守点検期限" in html and "清掃期限" in html and "改善指導の目安日（法定期限ではない）" in html
