"""Hostile input to the steering pages (pins on the plan page, the region's parameters page): a 4xx naming the
field and what it accepts, nothing stored; two coordinators at once lose nothing."""

import pytest

from assets.history import Actor
from assets.models import Via
from clusters.models import RegionParams
from clusters.param_form import fields_for, params_version, value_of
from clusters.services import region_params_update
from reports.models import Plan, PlanPin
from reports.pins import MAX_REASON_CHARS, pin_set, plan_first_fy
from reports.services import plan_create, plan_execute
from tests.assets.test_races import together
from tests.reports.test_pins import steer  # noqa: F401  the fixture: a run with lots, with and without deadlines


@pytest.fixture
def plan(steer):  # noqa: F811
    return plan_execute(plan_create(principal=steer.carol, run=steer.run, horizon_years=5).pk, render=False)


def _pins_post(client, plan, **fields):
    data = {"action": "pin", "rank": "1", "fiscal_year": str(plan_first_fy() + 1), "reason": "地元要望", **fields}
    return client.post(f"/plans/{plan.pk}/pins/", data)


def test_a_rank_or_pin_number_int_refuses_is_a_422_naming_it(steer, plan, client):  # noqa: F811
    """"²" is a digit to str.isdigit but not to int(): it was a 500."""
    client.force_login(steer.carol)
    plans = Plan.objects.count()
    r = _pins_post(client, plan, rank="²")
    assert r.status_code == 422 and "rank" in r.context["errors"]
    r = _pins_post(client, plan, action="end", pin="²")
    assert r.status_code == 422 and "pin" in r.context["errors"]
    r = _pins_post(client, plan, rank="9" * 40)
    assert r.status_code == 422 and "rank" in r.context["errors"]
    assert not PlanPin.objects.exists() and Plan.objects.count() == plans


def test_a_nul_in_a_form_field_is_a_400_naming_the_field_and_nothing_is_stored(steer, plan, client):  # noqa: F811
    """PostgreSQL text cannot hold a NUL: the reason reached the INSERT and answered 500."""
    client.force_login(steer.carol)
    r = _pins_post(client, plan, rank=str(steer.free[0].rank), reason="地元\x00要望")
    assert r.status_code == 400 and b"reason" in r.content and b"NUL" in r.content
    assert not PlanPin.objects.exists()


def test_a_reason_longer_than_a_paragraph_is_refused_with_the_limit(steer, plan, client):  # noqa: F811
    client.force_login(steer.carol)
    r = _pins_post(client, plan, rank=str(steer.free[0].rank), reason="あ" * (MAX_REASON_CHARS + 1))
    assert r.status_code == 422 and str(MAX_REASON_CHARS) in " ".join(r.context["errors"]["reason"])
    assert not PlanPin.objects.exists()


def test_a_control_character_in_a_reason_or_a_parameter_is_a_422_naming_field_and_character(steer, plan,  # noqa: F811
                                                                                           client):
    """Past the NUL (config/middleware.py), any control character (core.text): the reason is printed with the plan."""
    client.force_login(steer.carol)
    r = _pins_post(client, plan, rank=str(steer.free[0].rank), reason="地元\x01要望")
    assert r.status_code == 422 and "U+0001" in " ".join(r.context["errors"]["reason"])
    assert not PlanPin.objects.exists()
    values, version = _page_values(steer, cluster_distance_m="15\x7f0")
    r = client.post(f"/regions/{steer.region.slug}/params/", {**values, "version": version})
    assert r.status_code == 422 and "U+007F" in str(r.context["errors"]["cluster_distance_m"])
    assert not RegionParams.objects.filter(region=steer.region).exists()


@pytest.mark.django_db(transaction=True)
def test_coordinators_pinning_the_same_lot_at_once_leave_one_active_pin(steer):  # noqa: F811
    """With no current pin there was no row to lock: both inserted and the second hit the unique constraint
    (a 500). Now they take turns, and the later one ends the earlier one, as in sequence."""
    fy = plan_first_fy() + 1
    for lot in steer.free[:2]:
        for _round in range(3):
            PlanPin.objects.filter(region=steer.region).delete()
            results = together([lambda k=k, lot=lot: pin_set(actor=Actor(steer.carol, Via.UI), cluster=lot, mode="pin",
                                                             fiscal_year=fy + k % 3, reason=f"要望{k}")
                                for k in range(4)])
            assert not [r for r in results if isinstance(r, Exception)], results
            assert PlanPin.objects.filter(region=steer.region, ended_at__isnull=True).count() == 1
            assert PlanPin.objects.filter(region=steer.region).count() == 4


def _page_values(steer, **changes):  # noqa: F811
    members = list(steer.region.members.order_by("code").values_list("code", "name"))
    stored = RegionParams.objects.filter(region=steer.region).values_list("params", flat=True).first() or {}
    from clusters.engine.params import Params

    effective = Params.from_dict(stored)
    values = {f.key: "" if value_of(effective, f.key) is None else str(value_of(effective, f.key))
              for f in fields_for(members)}
    values.update(changes)
    return values, params_version(stored)


@pytest.mark.parametrize("value", ["inf", "Infinity", "-inf", "nan", "1e400"])
@pytest.mark.parametrize("key", ["horizon_years", "max_lot_members", "cluster_distance_m"])
def test_a_parameter_that_is_not_a_finite_number_is_a_422_naming_the_field(steer, client, key, value):  # noqa: F811
    """int(float("inf")) raised OverflowError (a 500) on the integer fields."""
    client.force_login(steer.carol)
    values, version = _page_values(steer, **{key: value})
    r = client.post(f"/regions/{steer.region.slug}/params/", {**values, "version": version})
    assert r.status_code == 422 and key in r.context["errors"]
    assert not RegionParams.objects.filter(region=steer.region).exists()


def test_saving_over_another_coordinators_newer_save_is_refused_not_lost(steer, client):  # noqa: F811
    """Both open the page; A saves cluster_distance_m, then B (whose form still holds A's old value, as the page
    posts every field) saves the horizon. Before, B's save put the old distance back: A's change was lost."""
    a_form, version = _page_values(steer, cluster_distance_m="150")
    b_form, b_version = _page_values(steer, horizon_years="12")
    assert version == b_version
    client.force_login(steer.carol)
    assert client.post(f"/regions/{steer.region.slug}/params/", {**a_form, "version": version}).status_code == 302
    r = client.post(f"/regions/{steer.region.slug}/params/", {**b_form, "version": b_version})
    assert r.status_code == 422 and "version" in r.context["errors"]
    assert RegionParams.objects.get(region=steer.region).params == {"cluster_distance_m": 150.0}
    # The page now shows what is saved (A's distance) and the new version: saving again works.
    shown = {row["f"].key: row["value"] for rows in r.context["groups"].values() for row in rows}
    assert float(shown["cluster_distance_m"]) == 150.0
    again, new_version = _page_values(steer, horizon_years="12")
    assert client.post(f"/regions/{steer.region.slug}/params/", {**again, "version": new_version}).status_code == 302
    assert RegionParams.objects.get(region=steer.region).params == {"cluster_distance_m": 150.0, "horizon_years": 12}
    # The service without a version (the API, a script) saves as before.
    region_params_update(actor=Actor(steer.carol, Via.UI), region=steer.region, values={"horizon_years": 15})
    assert RegionParams.objects.get(region=steer.region).params["horizon_years"] == 15
