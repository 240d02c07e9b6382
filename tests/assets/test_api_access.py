"""Who is asking and what they may do: tokens on every handler, and the one rule for changing an owner."""

import json

import pytest
from django.test import Client

from assets.models import ApiToken, Asset, Membership, Role
from tests.conftest import make_asset


def bearer(world, municipality=None, *, can_write=True, source="daicho"):
    _t, key = ApiToken.issue(name="台帳", municipality=municipality or world.yashio, source=source,
                             can_write=can_write)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ACCEPT_LANGUAGE": "en"}


def session(user):
    c = Client()
    c.force_login(user)
    return c


def inspect(c, gid, day="2024-05-01", grade="II", **headers):
    body = {"asset": gid, "inspected_on": day, "grade": grade}
    return c.post("/api/v1/inspections", json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def bridge(world):
    return make_asset(world.yashio, "bridge", external_id="B-1")


def test_a_write_token_records_and_reads_inspections_of_its_own_assets(client, world, bridge):
    token = bearer(world)
    r = inspect(client, bridge.global_id, **token)
    assert r.status_code == 201, r.content
    listed = client.get("/api/v1/inspections", **token).json()
    assert listed["count"] == 1 and listed["items"][0]["asset"] == bridge.global_id
    assert client.get(f"/api/v1/inspections/{r.json()['id']}", **token).status_code == 200
    assert client.get("/api/v1/overdue", **token).status_code == 200
    near = client.get("/api/v1/assets/near?lon=139.839&lat=35.822", **token)
    assert near.status_code == 200 and [f["properties"]["global_id"] for f in near.json()["features"]] == [
        bridge.global_id]


def test_a_read_token_reads_but_does_not_record(client, world, bridge):
    token = bearer(world, can_write=False)
    assert inspect(client, bridge.global_id, **token).status_code == 403
    assert client.get("/api/v1/inspections", **token).json()["count"] == 0
    assert client.get("/api/v1/assets/near?lon=139.839&lat=35.822", **token).json()["features"]


def test_another_municipalitys_token_sees_nothing_of_ours(client, world, bridge):
    inspect(session(world.alice), bridge.global_id)
    token = bearer(world, world.wajima)
    assert inspect(client, bridge.global_id, **token).status_code == 404
    assert client.get("/api/v1/inspections", **token).json()["count"] == 0
    assert client.get("/api/v1/assets/near?lon=139.839&lat=35.822", **token).json()["features"] == []


def test_a_token_reads_the_runs_and_plans_of_its_region_but_cannot_start_them(client, world, settings):
    settings.ENGINE_SYNC = True
    make_asset(world.yashio, "sewer_pipe", external_id="Y", lon=139.8195, built=1960)
    run = session(world.carol).post("/api/v1/runs", json.dumps({"region": "nakagawa"}),
                                    content_type="application/json").json()
    plan = session(world.carol).post("/api/v1/plans", json.dumps({"region": "nakagawa"}),
                                     content_type="application/json")
    assert plan.status_code == 202, plan.content
    token = bearer(world)
    assert client.get("/api/v1/runs", **token).json()["count"] == 1
    assert client.get(f"/api/v1/runs/{run['id']}", **token).status_code == 200
    assert client.get(f"/api/v1/runs/{run['id']}/clusters", **token).status_code == 200
    assert client.get("/api/v1/plans", **token).json()["count"] == 1
    assert client.get(f"/api/v1/plans/{plan.json()['id']}", **token).status_code == 200
    assert client.post("/api/v1/runs", json.dumps({"region": "nakagawa"}), content_type="application/json",
                       **token).status_code == 403
    outsider = bearer(world, world.wajima)
    assert client.get("/api/v1/runs", **outsider).json()["count"] == 0
    assert client.get(f"/api/v1/runs/{run['id']}", **outsider).status_code == 404
    assert client.get(f"/api/v1/plans/{plan.json()['id']}", **outsider).status_code == 404


# ---- changing the owner ------------------------------------------------------------------------------------

def patch(c, asset, data, **headers):
    return c.patch(f"/api/v1/assets/{asset.global_id}", json.dumps({"version": asset.version, "data": data}),
                   content_type="application/json", **headers)


@pytest.fixture
def operated(world):
    """草加市's pipe that 八潮市 operates: alice writes it through the operator branch."""
    pipe = make_asset(world.soka, "sewer_pipe", external_id="S-op", lon=139.805, lat=35.825)
    Asset.objects.filter(pk=pipe.pk).update(operator_id="112348")
    pipe.refresh_from_db()
    return pipe


def test_an_operator_cannot_move_the_asset_to_its_own_municipality(world, operated):
    r = patch(session(world.alice), operated, {"owner": "112348", "operator": "112348"})
    # The API answers in Japanese by default (Accept-Language decides).
    assert r.status_code == 403 and "両方の団体の書き込み権限" in r.json()["detail"], r.json()
    operated.refresh_from_db()
    assert (operated.owner_id, operated.version) == ("112216", 1)
    # The operator still edits what an operator may.
    assert patch(session(world.alice), operated, {"name": "八潮が管理する管"}).status_code == 200


def test_an_owner_cannot_push_an_asset_into_another_municipality(world):
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="Y-1")
    r = patch(session(world.alice), pipe, {"owner": "112216", "operator": "112348"})
    assert r.status_code == 403
    assert Asset.objects.get(pk=pipe.pk).owner_id == "112348"
    token = bearer(world)
    assert patch(Client(), pipe, {"owner": "112216", "operator": "112348"}, **token).status_code == 403
    assert Asset.objects.get(pk=pipe.pk).owner_id == "112348"


def test_writing_for_both_municipalities_or_being_administrator_allows_the_hand_over(world):
    # 八潮市 and 草加市 are neighbours: a pipe on their border moves from one to the other.
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="Y-2", lon=139.821, lat=35.823)
    Membership.objects.create(user=world.alice, role=Role.ENGINEER, municipality=world.soka)
    r = patch(session(world.alice), pipe, {"owner": "112216"})
    assert r.status_code == 200, r.content
    pipe.refresh_from_db()
    assert pipe.owner_id == "112216"
    assert patch(session(world.admin), pipe, {"owner": "112348"}).status_code == 200


def test_the_admin_form_applies_the_same_rule(world, operated):
    c = session(world.alice)
    page = c.get(f"/admin/assets/asset/{operated.pk}/change/")
    assert page.status_code == 200
    # For an operator the owner is not a field at all, so a forged POST cannot change it.
    form = page.context["adminform"].form
    assert "owner" not in form.fields
