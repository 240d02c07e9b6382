"""A measure for a whole lot (措置 for every member of an engine lot in one step): all or nothing, the lot's cost
split exactly over the members, a neighbour's member refused by name, the lot page's form and the API."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from assets.history import Actor
from assets.models import Asset, ChangeRecord, Via
from clusters.models import AssetScore
from clusters.services import run_create, run_execute
from inspections.measure_services import measure_record_for_lot, split_cost
from inspections.models import AssetCondition, Measure
from inspections.services import inspection_record
from tests.conftest import make_asset

SYS = Actor.system(Via.API)


def client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def lots(world):
    """Two 八潮市 pipes at 緊急度Ⅰ side by side (one lot of 八潮市 alone), and a pair straddling the 八潮市/草加市
    boundary (one cross-municipal lot)."""
    own = [make_asset(world.yashio, "sewer_pipe", external_id=f"Y-{i}", lon=139.840 + 0.0006 * i, built=1965,
                      diameter_mm=300 + 300 * i, length_m=40.0 + 30 * i) for i in range(2)]
    cross = [make_asset(world.yashio, "sewer_pipe", external_id="X-Y", lon=139.8195, built=1965),
             make_asset(world.soka, "sewer_pipe", external_id="X-S", lon=139.8230, built=1965)]
    for p in own + cross:
        inspection_record(actor=SYS, asset=p, inspected_on="2024-02-01", grade="I")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    own_lot = AssetScore.objects.get(run=run, asset=own[0]).cluster
    cross_lot = AssetScore.objects.get(run=run, asset=cross[0]).cluster
    assert own_lot.member_count == 2 and cross_lot.municipality_count == 2 and own_lot != cross_lot
    return run, own_lot, cross_lot, own, cross


def lot_url(lot, api=False):
    return (f"/api/v1/runs/{lot.run_id}/clusters/{lot.rank}/measures" if api
            else f"/runs/{lot.run_id}/clusters/{lot.rank}/")


def test_one_step_records_a_linked_measure_for_every_member_and_completion_applies_to_each(world, lots):
    _run, own_lot, _cross, own, _c = lots
    assert all(AssetCondition.objects.get(asset=p).action_due_on for p in own)
    ms = measure_record_for_lot(actor=Actor(world.alice, Via.UI), cluster=own_lot, kind="管更生",
                                started_on="R6.6.1", completed_on="2024-11-30", cost_yen="19,100,000円",
                                contractor="中川管工")
    assert sorted(m.asset_id for m in ms) == sorted(p.pk for p in own)
    assert all(m.cluster_id == own_lot.pk and m.kind.code == "pipe_rehabilitation" for m in ms)
    # A completed rehabilitation clears each member's deadline, and each has its own history.
    assert all(AssetCondition.objects.get(asset=p).action_due_on is None for p in own)
    assert ChangeRecord.objects.filter(content_type__model="measure", object_id__in=[str(m.pk) for m in ms],
                                       actor_name="alice").count() == 2


def test_a_completed_removal_retires_every_member(world, lots):
    _run, own_lot, _cross, own, _c = lots
    measure_record_for_lot(actor=SYS, cluster=own_lot, kind="撤去", started_on="2024-04-01",
                           completed_on="2024-05-01")
    assert set(Asset.objects.filter(pk__in=[p.pk for p in own]).values_list("status", flat=True)) == {"removed"}
    with pytest.raises(ValidationError) as e:  # the lot's members are retired: no further measure
        measure_record_for_lot(actor=SYS, cluster=own_lot, kind="repair", started_on="2024-06-01")
    assert own[0].global_id in e.value.message_dict["asset"][0]


def test_all_or_nothing_one_bad_member_stores_nothing_and_is_named(world, lots):
    _run, own_lot, _cross, own, _c = lots
    Asset.objects.filter(pk=own[1].pk).update(built_fiscal_year=2024)  # the start below predates it
    with pytest.raises(ValidationError) as e:
        measure_record_for_lot(actor=SYS, cluster=own_lot, kind="repair", started_on="2023-06-01",
                               completed_on="2023-07-01", cost_yen=1_000_000)
    msg = e.value.message_dict["started_on"][0]
    assert own[1].global_id in msg and own[0].global_id not in msg and "2024" in msg
    assert Measure.objects.count() == 0
    assert all(AssetCondition.objects.get(asset=p).action_due_on for p in own)
    with pytest.raises(ValidationError) as e:  # a kind no member can take names the allowed ones
        measure_record_for_lot(actor=SYS, cluster=own_lot, kind="通行止め改築", started_on="2024-06-01")
    assert "管更生 (pipe_rehabilitation)" in e.value.message_dict["kind"][0]
    assert Measure.objects.count() == 0


def test_the_lots_cost_is_split_by_the_engines_member_costs_and_adds_up_exactly(world, lots):
    _run, own_lot, _cross, _own, _c = lots
    ms = measure_record_for_lot(actor=SYS, cluster=own_lot, kind="repair", started_on="2024-06-01",
                                cost_yen=10_000_001)
    engine = dict(own_lot.members.values_list("asset_id", "cost"))
    assert sum(m.cost_yen for m in ms) == 10_000_001
    total = sum(engine.values())
    for m in ms:
        assert abs(m.cost_yen - 10_000_001 * engine[m.asset_id] / total) < 2
    largest = max(ms, key=lambda m: engine[m.asset_id])
    assert largest.cost_yen == 10_000_001 - sum(m.cost_yen for m in ms if m is not largest)
    ms = measure_record_for_lot(actor=SYS, cluster=own_lot, kind="repair", started_on="2024-06-02")
    assert [m.cost_yen for m in ms] == [None, None]  # no cost given: none invented


def test_split_cost_by_hand():
    assert split_cost(100, [1.0, 1.0, 1.0]) == [34, 33, 33]  # the remainder on the largest (the first of equals)
    assert split_cost(10, [1.0, 3.0]) == [2, 8]
    assert split_cost(7, [0.0, 0.0]) == [4, 3]  # nothing costed by the engine: equal shares
    assert split_cost(None, [1.0, 2.0]) == [None, None]


@given(st.integers(0, 10**12), st.lists(st.floats(0, 1e10, allow_nan=False), min_size=1, max_size=40))
def test_split_cost_always_adds_up(total, weights):
    parts = split_cost(total, weights)
    assert sum(parts) == total and all(p >= 0 for p in parts) and len(parts) == len(weights)


def test_a_neighbours_member_refuses_the_lot_naming_it_unless_administrator(world, lots):
    _run, _own, cross_lot, _o, (mine, theirs) = lots
    with pytest.raises(PermissionDenied) as e:
        measure_record_for_lot(actor=Actor(world.alice, Via.UI), cluster=cross_lot, kind="repair",
                               started_on="2024-06-01")
    assert theirs.global_id in str(e.value) and mine.global_id not in str(e.value)
    with pytest.raises(PermissionDenied) as e:  # a coordinator writes nothing by themselves
        measure_record_for_lot(actor=Actor(world.carol, Via.UI), cluster=cross_lot, kind="repair",
                               started_on="2024-06-01")
    assert theirs.global_id in str(e.value) and mine.global_id in str(e.value)
    assert Measure.objects.count() == 0
    ms = measure_record_for_lot(actor=Actor(world.admin, Via.UI), cluster=cross_lot, kind="repair",
                                started_on="2024-06-01", cost_yen=3)
    assert {m.asset.owner_id for m in ms} == {"112348", "112216"} and sum(m.cost_yen for m in ms) == 3


def test_the_lot_page_form_records_for_the_whole_lot(world, lots):
    _run, own_lot, cross_lot, own, _c = lots
    c = client(world.alice)
    page = c.get(lot_url(own_lot)).content.decode()
    assert 'id="lot-measure-form"' in page and "管更生" in page and "<script>" not in page
    r = c.post(lot_url(own_lot), {"kind": "repair", "started_on": "2024-06-01", "completed_on": "2024-09-30",
                                  "cost_yen": "5,000,000", "contractor": "八潮建設", "notes": "一括"})
    assert r.status_code == 302 and r["Location"] == lot_url(own_lot)
    ms = Measure.objects.filter(cluster=own_lot)
    assert ms.count() == 2 and sum(m.cost_yen for m in ms) == 5_000_000
    assert all(AssetCondition.objects.get(asset=p).action_due_on is None for p in own)
    page = c.get(lot_url(own_lot)).content.decode()
    assert 'id="lot-measures"' in page and "八潮建設" in page
    # Bad input comes back with the field named and nothing stored.
    r = c.post(lot_url(own_lot), {"kind": "repair", "started_on": "2099-01-01", "cost_yen": "abc"})
    assert r.status_code == 422 and "abc" in r.content.decode() and Measure.objects.count() == 2
    # A lot with a neighbour's member: no form, and a post is refused.
    assert 'id="lot-measure-form"' not in c.get(lot_url(cross_lot)).content.decode()
    assert c.post(lot_url(cross_lot), {"kind": "repair", "started_on": "2024-06-01"}).status_code == 403
    for user in (world.carol, world.victor):
        assert 'id="lot-measure-form"' not in client(user).get(lot_url(own_lot)).content.decode()
    assert Measure.objects.count() == 2


def test_api_records_for_a_lot(world, lots):
    _run, own_lot, cross_lot, own, (_mine, theirs) = lots
    c = client(world.alice)

    def post(lot, data, who=c, rank=None):
        url = lot_url(lot, api=True) if rank is None else f"/api/v1/runs/{lot.run_id}/clusters/{rank}/measures"
        return who.post(url, json.dumps(data), content_type="application/json")

    r = post(own_lot, {"kind": "repair", "started_on": "2024-06-01", "cost_yen": 999})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["count"] == 2 and body["cluster"] == own_lot.pk
    assert set(Measure.objects.filter(pk__in=body["ids"]).values_list("asset_id", flat=True)) == {p.pk for p in own}
    r = post(cross_lot, {"kind": "repair", "started_on": "2024-06-01"})
    assert r.status_code == 403 and theirs.global_id in r.json()["detail"]
    assert post(own_lot, {"kind": "repair", "started_on": "2024-06-01"}, rank=999).status_code == 404
    assert post(own_lot, {"kind": "repair", "started_on": "2024-06-01"}, who=client(world.charlie)).status_code == 404
    r = post(own_lot, {"kind": "床版打替", "started_on": "2024-06-01"})
    assert r.status_code == 422 and "管更生 (pipe_rehabilitation)" in r.json()["errors"]["kind"][0]
    assert Measure.objects.count() == 2


def test_api_links_one_measure_to_its_lot_and_no_lot_of_another_region(world, lots):
    _run, own_lot, cross_lot, own, _c = lots

    def post(who, asset, lot):
        return client(who).post("/api/v1/measures", json.dumps({
            "asset": asset.global_id, "kind": "repair", "started_on": "2024-06-01", "cluster": lot.pk}),
            content_type="application/json")

    r = post(world.alice, own[0], own_lot)
    assert r.status_code == 201, r.content
    assert r.json()["cluster"] == own_lot.pk and Measure.objects.get(pk=r.json()["id"]).cluster_id == own_lot.pk
    r = post(world.alice, own[1], cross_lot)  # a lot it is not in
    assert r.status_code == 422 and own[1].global_id in r.json()["errors"]["cluster"][0]
    # 輪島市's engineer, on his own asset, cannot reach a lot of 中川's run: as if there were none.
    wajima_pipe = make_asset(world.wajima, "sewer_pipe", external_id="W-1", lon=136.899, lat=37.391)
    assert post(world.charlie, wajima_pipe, own_lot).status_code == 404
    assert Measure.objects.count() == 1
