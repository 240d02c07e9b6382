"""Coordinators steer the plan (issue 15): pins and exclusions honoured by the optimizer, refused where they would
break a legal deadline (legal deadlines are constraints, never weights: 道路法施行規則 第4条の5の6 and 平成26年国交省
告示426号 — bridge Ⅳ 緊急措置段階 at once; 下水道 緊急度Ⅰ 原則1年以内), kept per region across runs with their
history; the region's parameters page (labels, units, ranges; coordinators only) and the compare page."""

import io
import itertools

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assets.history import Actor
from assets.models import ChangeRecord, Via
from clusters.models import RegionParams
from clusters.services import region_params_update, run_create, run_execute
from inspections.services import inspection_record
from reports.models import PlanPin
from reports.pins import match_pins, pin_end, pin_set, plan_first_fy
from reports.planning.optimizer import feasible, greedy, objective_of, solve
from reports.planning.scenarios import PINNED_OUT, items_of, problem_for
from reports.services import plan_create, plan_execute
from tests.conftest import make_asset, make_pipe
from tests.reports.test_legal_deadlines import outlooks

# --- the optimizer honours the pins (pure) ---


def test_a_pinned_lot_is_done_in_its_year_even_when_the_pins_cost_more_than_the_budget():
    rng = np.random.default_rng(3)
    o = outlooks(5, 8, rng)
    fixed = np.array([-1, 4, -1, -1, -1])
    p = problem_for(o, "preventive", 6, np.full((6, 1), 1.0), fixed)  # a budget that funds nothing
    for plan in (solve(p), greedy(p)):
        assert plan.year[1] == 4 and feasible(p, plan.year)
        assert (plan.year[[0, 2, 3, 4]] == -1).all()
    assert p.effective_budget()[4, 0] == pytest.approx(p.cost[1, 4])  # the overrun, reported by the plan


def test_an_excluded_lot_is_never_scheduled_and_the_rest_is_still_optimal():
    rng = np.random.default_rng(4)
    o = outlooks(4, 4, rng)
    fixed = np.array([PINNED_OUT, -1, 2, -1])
    p = problem_for(o, "preventive", 3, np.full((3, 1), 150.0), fixed)
    plan = solve(p, rel_gap=0.0)
    assert plan.year[0] == -1 and plan.year[2] == 2
    best = max(objective_of(p, np.array(y)) for y in itertools.product(range(-1, 3), repeat=4)
               if feasible(p, np.array(y)))
    assert plan.objective == pytest.approx(best, rel=1e-9)


def test_a_pinned_mandatory_lot_is_done_whole_by_its_deadline_and_a_pin_past_it_is_an_error():
    """告示426号: a Ⅳ bridge's lot (deadline plan year 1 here) pinned to year 1 is done whole then, never split;
    pinned to year 2 the problem refuses (the service has already refused it with a message)."""
    rng = np.random.default_rng(5)
    o = outlooks(3, 6, rng, deadline=[1, -1, -1])
    p = problem_for(o, "preventive", 4, np.full((4, 1), 500.0), np.array([1, -1, -1]))
    it = items_of(o, 4)
    plan = solve(p)
    assert plan.year[0] == 1 and (plan.year[it.cluster == 0][1:] == -1).all()
    with pytest.raises(ValueError):
        problem_for(o, "preventive", 4, np.full((4, 1), 500.0), np.array([2, -1, -1]))


# --- the service rules (database) ---


@pytest.fixture
def steer(world, settings, tmp_path):
    """A Ⅳ bridge (a lot with a legal deadline) and worn pipes graded 緊急度Ⅲ (no deadline), each its own lot."""
    settings.MEDIA_ROOT = tmp_path
    settings.ENGINE_SYNC = True
    bridge = make_asset(world.yashio, "bridge", external_id="BR-1", lon=139.86, lat=35.83, length_m=12.0, width_m=5.0)
    inspection_record(actor=Actor.system(), asset=bridge, inspected_on="2022-06-01", grade="Ⅳ")
    for k in range(4):
        owner, lon = (world.yashio, 139.823 + 0.006 * k) if k % 2 == 0 else (world.soka, 139.789 + 0.006 * k)
        pipe = make_pipe(owner, external_id=f"P-{k}", lon=lon, lat=35.807, diameter_mm=300)
        inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-05-01", grade="緊急度Ⅰ" if k == 3
                          else "緊急度Ⅲ")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    lots = list(run.clusters.order_by("rank"))
    mandatory = [c for c in lots if (c.outlook or {}).get("mandatory")]
    free = [c for c in lots if not (c.outlook or {}).get("mandatory")]
    assert mandatory and len(free) >= 2, [(c.rank, c.work_type, bool(c.outlook.get("mandatory"))) for c in lots]
    world.run, world.mandatory, world.free = run, mandatory, free
    return world


def carol(w):
    return Actor(w.carol, Via.UI)


def test_a_lot_with_a_legal_deadline_cannot_be_excluded_or_pinned_past_it(steer):
    """Legal deadlines are constraints, never weights (domain.md §7; 告示426号 Ⅳ: at once)."""
    lot = next(c for c in steer.mandatory if c.work_type == "bridge")
    with pytest.raises(ValidationError) as exc:
        pin_set(actor=carol(steer), cluster=lot, mode="exclude", reason="予算不足")
    message = " ".join(exc.value.message_dict["mode"])
    assert "Ⅳ" in message and lot.outlook["mandatory"]["due"] in message  # says which work and its deadline
    with pytest.raises(ValidationError) as exc:
        pin_set(actor=carol(steer), cluster=lot, mode="pin", fiscal_year=plan_first_fy() + 3, reason="後回し")
    assert "fiscal_year" in exc.value.message_dict
    # By its deadline (overdue: the plan's first 年度) it may be pinned.
    pin = pin_set(actor=carol(steer), cluster=lot, mode="pin", fiscal_year=plan_first_fy(), reason="先行実施")
    assert pin.fiscal_year == plan_first_fy()
    assert not PlanPin.objects.filter(mode="exclude").exists()


def test_only_coordinators_pin_and_a_reason_and_a_year_in_range_are_required(steer):
    lot = steer.free[0]
    with pytest.raises(PermissionDenied):
        pin_set(actor=Actor(steer.alice, Via.UI), cluster=lot, mode="exclude", reason="x")
    with pytest.raises(ValidationError) as exc:
        pin_set(actor=carol(steer), cluster=lot, mode="pin", fiscal_year=1999, reason="")
    assert set(exc.value.message_dict) == {"reason", "fiscal_year"}
    assert not PlanPin.objects.exists()


def test_a_new_pin_ends_the_old_one_and_the_history_is_kept(steer):
    lot = steer.free[0]
    first = pin_set(actor=carol(steer), cluster=lot, mode="pin", fiscal_year=plan_first_fy() + 1, reason="地元要望")
    second = pin_set(actor=carol(steer), cluster=lot, mode="exclude", reason="他事業と調整")
    first.refresh_from_db()
    assert first.ended_at is not None and first.ended_by == steer.carol and second.ended_at is None
    pin_end(actor=carol(steer), pin_id=second.pk, region=steer.region)
    assert PlanPin.objects.filter(region=steer.region).count() == 2
    assert not PlanPin.objects.filter(ended_at__isnull=True).exists()
    assert ChangeRecord.objects.filter(content_type__model="planpin").count() == 4  # 2 set, 2 ended


def test_the_plan_honours_pins_and_says_which_works_were_set_by_hand(steer):
    fy0 = plan_first_fy()
    pinned, excluded = steer.free[0], steer.free[1]
    pin = pin_set(actor=carol(steer), cluster=pinned, mode="pin", fiscal_year=fy0 + 3, reason="舗装と同時施工")
    out = pin_set(actor=carol(steer), cluster=excluded, mode="exclude", reason="廃止予定")
    plan = plan_execute(plan_create(principal=steer.carol, run=steer.run, horizon_years=5).pk, render=False)
    actions = {a["cluster_id"]: a for a in plan.result["actions"]}
    assert actions[pinned.pk]["fiscal_year"] == fy0 + 3
    assert actions[pinned.pk]["set_by_hand"] == "pinned" and actions[pinned.pk]["pin_id"] == pin.pk
    assert excluded.pk not in actions
    assert all(a["set_by_hand"] is None for cid, a in actions.items() if cid != pinned.pk)
    pins = {p["pin_id"]: p for p in plan.result["pins"]}
    assert pins[pin.pk]["status"] == "applied" and pins[out.pk]["set_by_hand"] == "excluded"
    assert pins[out.pk]["status"] == "applied" and pins[out.pk]["reason"] == "廃止予定"
    # Every work carries its cost per municipality, adding up to its cost.
    for a in actions.values():
        assert sum(a["by_municipality"].values()) == pytest.approx(a["cost"], abs=len(a["by_municipality"]))
    # The Ⅳ bridge stays in the plan by its deadline whatever was pinned.
    bridge = next(c for c in steer.mandatory if c.work_type == "bridge")
    assert any(a["cluster_id"] == bridge.pk and a["fiscal_year"] == fy0 for a in plan.result["actions"])


def test_a_pin_made_unlawful_by_a_later_inspection_is_not_applied_and_the_plan_says_so(steer):
    """Law first: the lot's pipe is found at 緊急度Ⅰ (下水道 維持管理指針: 原則1年以内) after the lot was pinned three
    years on; the next plan does it by its deadline and reports the pin as refused."""
    from django.utils import timezone

    lot = steer.free[0]
    pin = pin_set(actor=carol(steer), cluster=lot, mode="pin", fiscal_year=plan_first_fy() + 3, reason="地元要望")
    pipe = lot.members.filter(asset__kind="sewer_pipe").first().asset
    inspection_record(actor=Actor.system(), asset=pipe, inspected_on=timezone.localdate().isoformat(), grade="緊急度Ⅰ")
    run = run_execute(run_create(principal=steer.carol, region=steer.region).pk)
    plan = plan_execute(plan_create(principal=steer.carol, run=run, horizon_years=5).pk, render=False)
    entry = next(p for p in plan.result["pins"] if p["pin_id"] == pin.pk)
    assert entry["status"] == "refused_legal"
    done = [a for a in plan.result["actions"] if a["cluster_id"] == entry["cluster_id"]]
    assert done and all(a["set_by_hand"] is None and a["fiscal_year"] < plan_first_fy() + 3 for a in done)


def test_a_plan_without_a_budget_of_its_own_uses_the_regions_budgets(steer):
    """The budgets per municipality set on the region's parameters page (Params.budget_by_municipality)."""
    codes = list(steer.region.members.values_list("code", flat=True))
    RegionParams.objects.create(region=steer.region, params={"budget_by_municipality": {c: 40e6 for c in codes}})
    run = run_execute(run_create(principal=steer.carol, region=steer.region).pk)
    pooled = plan_execute(plan_create(principal=steer.carol, run=run, horizon_years=5).pk, render=False)
    assert pooled.result["base_budget"] == [[40e6 * len(codes)]] * 5
    per = plan_execute(plan_create(principal=steer.carol, run=run, horizon_years=5,
                                   budget_mode="per_municipality").pk, render=False)
    assert all(x == 40e6 for row in per.result["base_budget"] for x in row)


def test_a_pin_follows_its_lot_into_the_next_run(steer):
    """Lot keys and ranks change from run to run; the pin names the lot by its member assets."""
    lot = steer.free[0]
    pin = pin_set(actor=carol(steer), cluster=lot, mode="exclude", reason="廃止予定")
    again = run_execute(run_create(principal=steer.carol, region=steer.region).pk)
    found = match_pins(again, [pin])[pin.pk]
    assert found is not None and found != lot.pk
    assert set(again.clusters.get(pk=found).members.values_list("asset_id", flat=True)) == set(pin.asset_ids)


def test_the_plan_page_filters_downloads_and_pins_then_plans_again(steer, client):
    from openpyxl import load_workbook

    plan = plan_execute(plan_create(principal=steer.carol, run=steer.run, horizon_years=5).pk, render=False)
    client.force_login(steer.carol)
    page = client.get(f"/plans/{plan.pk}/")
    assert page.status_code == 200 and b'id="works"' in page.content and b'id="pin-form"' in page.content
    n_all = page.content.count(b"data-rank=")
    only = client.get(f"/plans/{plan.pk}/?municipality={steer.soka.code}")
    assert 0 < only.content.count(b"data-rank=") < n_all
    xlsx = client.get(f"/plans/{plan.pk}/works.xlsx?municipality={steer.soka.code}")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("年度", "年度（和暦）", "順位") and rows[0][-1] == "草加市（円）"
    assert len(rows) - 1 == only.content.count(b"data-rank=")
    bridge = next(c for c in steer.mandatory if c.work_type == "bridge")
    refused = client.post(f"/plans/{plan.pk}/pins/", {"action": "exclude", "rank": bridge.rank, "reason": "x"})
    assert refused.status_code == 422 and b"pin-errors" in refused.content
    r = client.post(f"/plans/{plan.pk}/pins/", {"action": "pin", "rank": steer.free[0].rank,
                                                 "fiscal_year": plan_first_fy() + 2, "reason": "地元要望"})
    assert r.status_code == 302
    new = r["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert int(new) != plan.pk
    shown = client.get(r["Location"])
    assert b'class="by-hand"' in shown.content
    client.force_login(steer.alice)  # an engineer reads the plan but cannot steer it
    assert b'id="pin-form"' not in client.get(r["Location"]).content
    assert client.post(f"/plans/{plan.pk}/pins/", {"action": "exclude", "rank": steer.free[1].rank,
                                                   "reason": "x"}).status_code == 403


# --- the region's parameters and the compare page ---


def test_parameters_out_of_range_are_refused_naming_the_field_and_range(steer):
    from django.utils import translation

    with pytest.raises(ValidationError) as exc, translation.override("ja"):
        region_params_update(actor=carol(steer), region=steer.region,
                             values={"cluster_distance_m": "99999", "weights": {"traffic": "abc"},
                                     "horizon_years": "10"})
    errors = exc.value.message_dict
    assert "工区にまとめる距離" in errors["cluster_distance_m"][0] and "5,000" in errors["cluster_distance_m"][0]
    assert "重み：交通量" in errors["weights.traffic"][0]
    assert not RegionParams.objects.filter(region=steer.region).exists()


def test_only_coordinators_change_parameters_and_the_change_is_recorded(steer, client):
    from clusters.engine.params import Params
    from clusters.param_form import fields_for, from_page, value_of

    members = list(steer.region.members.order_by("code").values_list("code", "name"))
    fields = fields_for(members)
    values = {f.key: value_of(Params(), f.key) or "" for f in fields}
    with pytest.raises(PermissionDenied):
        region_params_update(actor=Actor(steer.alice, Via.UI), region=steer.region, values=from_page(fields, values))
    values.update({"cluster_distance_m": "150", f"budget.{steer.soka.code}": "80,000,000"})
    row = region_params_update(actor=carol(steer), region=steer.region, values=from_page(fields, values))
    assert row.params == {"cluster_distance_m": 150.0, "budget_by_municipality": {steer.soka.code: 80_000_000.0}}
    assert ChangeRecord.objects.filter(content_type__model="regionparams").count() == 1
    client.force_login(steer.alice)
    assert client.get(f"/regions/{steer.region.slug}/params/").status_code == 403
    client.force_login(steer.carol)
    page = client.get(f"/regions/{steer.region.slug}/params/")
    assert page.status_code == 200 and "工区にまとめる距離".encode() in page.content


def test_the_compare_page_reads_old_to_new_with_labels_and_money_in_oku_yen(steer, client):
    old = steer.run
    RegionParams.objects.create(region=steer.region, params={"cluster_distance_m": 150.0})
    new = run_execute(run_create(principal=steer.carol, region=steer.region).pk)
    client.force_login(steer.carol)
    page = client.get(f"/runs/{new.pk}/compare/{old.pk}/").content.decode()  # as the run page links it
    assert f"#{old.pk} → #{new.pk}" in page
    assert "工区にまとめる距離" in page and "300 → 150" in page
    assert "cost_total" not in page and "対策費の合計" in page and ("億円" in page or "百万円" in page)
    assert 'id="compare-ranks"' in page
