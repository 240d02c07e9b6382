"""Pins through the API (GET|POST /api/v1/regions/{slug}/pins, DELETE …/pins/{id}): the same services as the plan
page (reports/pins.py), scoped as the rest of the API (assets/access.py). Law first, as on the page: a lot
holding work with a legal deadline (道路法施行規則 第4条の5の6, 平成26年国交省告示426号: bridge Ⅳ at once) cannot be
excluded (domain.md §7: legal deadlines are constraints, never weights)."""

import json

import pytest
from django.test import Client

from assets.models import ChangeRecord
from reports.models import PlanPin
from reports.pins import plan_first_fy
from reports.services import plan_create, plan_execute
from tests.reports.test_pins import steer  # noqa: F401 — the fixture: a Ⅳ bridge's lot and free pipe lots

URL = "/api/v1/regions/nakagawa/pins"


def client_of(user):
    c = Client()
    c.force_login(user)
    return c


def post(c, body, lang="ja"):
    return c.post(URL, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE=lang)


def test_a_coordinator_pins_lists_and_takes_off_a_pin_and_the_next_plan_honours_it(steer):  # noqa: F811
    carol = client_of(steer.carol)
    lot, fy = steer.free[0], plan_first_fy() + 2
    r = post(carol, {"run": steer.run.pk, "rank": lot.rank, "mode": "pin", "fiscal_year": fy, "reason": "地元要望"})
    assert r.status_code == 201, r.content
    pin = r.json()
    assert pin["mode"] == "pin" and pin["fiscal_year"] == fy and pin["active"] and pin["created_by"] == "carol"
    assert pin["label"] == lot.name and pin["work_type"] == lot.work_type and pin["member_count"] == lot.member_count
    assert pin["fiscal_year_label"].endswith("年度") and pin["mode_label"]
    row = PlanPin.objects.get(pk=pin["id"])
    assert sorted(row.asset_ids) == sorted(lot.members.values_list("asset_id", flat=True))
    assert ChangeRecord.objects.get(content_type__model="planpin").via == "api"
    # Listed for whoever reads the region's plans: an engineer of a member town too.
    listed = client_of(steer.alice).get(URL).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == pin["id"]
    # The next plan honours it, as one made after pinning on the page.
    plan = plan_execute(plan_create(principal=steer.carol, run=steer.run, horizon_years=5).pk, render=False)
    action = next(a for a in plan.result["actions"] if a["cluster_id"] == lot.pk)
    assert action["fiscal_year"] == fy and action["set_by_hand"] == "pinned" and action["pin_id"] == pin["id"]
    # Excluding the same lot replaces the pin; the old one is history.
    r = post(carol, {"run": steer.run.pk, "rank": lot.rank, "mode": "exclude", "reason": "廃止予定"})
    assert r.status_code == 201 and r.json()["fiscal_year"] is None
    excluded = r.json()["id"]
    assert [p["id"] for p in carol.get(URL).json()["items"]] == [excluded]
    everything = carol.get(URL + "?ended=true").json()["items"]
    assert [p["id"] for p in everything] == [excluded, pin["id"]] and not everything[1]["active"]
    # Taken off: kept as history, ended by carol; taking it off again changes nothing.
    gone = carol.delete(f"{URL}/{excluded}")
    assert gone.status_code == 200 and not gone.json()["active"] and gone.json()["ended_by"] == "carol"
    assert carol.delete(f"{URL}/{excluded}").status_code == 200
    assert carol.get(URL).json()["count"] == 0 and PlanPin.objects.count() == 2


def test_a_lot_with_a_legal_deadline_cannot_be_excluded_through_the_api_either(steer):  # noqa: F811
    """告示426号: a Ⅳ bridge is to be acted on at once; the refusal names the asset and its deadline."""
    bridge = next(c for c in steer.mandatory if c.work_type == "bridge")
    r = post(client_of(steer.carol), {"run": steer.run.pk, "rank": bridge.rank, "mode": "exclude", "reason": "予算"})
    assert r.status_code == 422
    message = r.json()["errors"]["mode"][0]
    assert "Ⅳ" in message and bridge.outlook["mandatory"]["due"] in message
    assert not PlanPin.objects.exists()


@pytest.mark.parametrize(("body", "field", "says"), [
    ({"mode": "later"}, "mode", "pin, exclude"),
    ({"fiscal_year": 1999}, "fiscal_year", "年度"),
    ({"reason": " "}, "reason", "理由"),
    ({"rank": 999}, "rank", "999"),
])
def test_bad_input_is_refused_naming_the_field_and_what_it_allows(steer, body, field, says):  # noqa: F811
    full = {"run": steer.run.pk, "rank": steer.free[0].rank, "mode": "pin", "fiscal_year": plan_first_fy(),
            "reason": "地元要望", **body}
    r = post(client_of(steer.carol), full)
    assert r.status_code == 422, r.content
    message = " ".join(r.json()["errors"][field])
    assert says in message, message
    if field == "fiscal_year":  # the allowed years in 和暦 as the page shows them and in 西暦 as the API takes them
        assert str(plan_first_fy()) in message
    assert not PlanPin.objects.exists()


def test_engineers_may_read_but_not_pin_and_outsiders_see_nothing(steer):  # noqa: F811
    lot = steer.free[0]
    body = {"run": steer.run.pk, "rank": lot.rank, "mode": "exclude", "reason": "x"}
    assert post(client_of(steer.alice), body).status_code == 403
    assert client_of(steer.charlie).get(URL).status_code == 404
    assert post(client_of(steer.charlie), body).status_code == 404
    made = post(client_of(steer.carol), body).json()["id"]
    assert client_of(steer.alice).delete(f"{URL}/{made}").status_code == 403
    assert client_of(steer.charlie).delete(f"{URL}/{made}").status_code == 404
    assert PlanPin.objects.get(pk=made).ended_at is None


def test_a_run_of_another_region_is_refused_naming_the_run(steer, world):  # noqa: F811
    from assets.models import Region
    from clusters.services import run_create, run_execute

    noto = Region.objects.create(slug="noto", name="能登", lead=world.wajima)
    noto.members.set([world.wajima])
    other = run_execute(run_create(principal=None, region=noto).pk)
    admin = client_of(world.admin)  # sees both regions
    r = post(admin, {"run": other.pk, "rank": 1, "mode": "exclude", "reason": "x"})
    assert r.status_code == 422 and "run" in r.json()["errors"]
    assert "能登" in r.json()["errors"]["run"][0]
