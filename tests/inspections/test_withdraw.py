"""Correcting and withdrawing a recorded inspection (issue 15): who may, what the history keeps, and that a
withdrawn inspection no longer drives the asset's condition."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from assets.history import Actor
from assets.models import ChangeRecord, Via
from inspections.models import AssetCondition, Inspection
from inspections.services import inspection_correct, inspection_record, inspection_withdraw
from tests.conftest import make_asset


@pytest.fixture
def bridge_with_two(world):
    bridge = make_asset(world.yashio, "bridge", built=1970)
    old = inspection_record(actor=Actor.system(), asset=bridge, inspected_on="2021-06-01", grade="II")
    new = inspection_record(actor=Actor.system(), asset=bridge, inspected_on="2025-06-01", grade="IV")
    return bridge, old, new


def test_a_withdrawn_inspection_no_longer_drives_the_condition(world, bridge_with_two):
    """道路法施行規則 第4条の5の6 (domain.md §2.1): records are kept for the life of the structure, and the next
    inspection falls due 5 years after the last one that counts. A withdrawn inspection stays on record (who,
    when, why) but the condition and due date come from the previous valid one."""
    bridge, old, new = bridge_with_two
    assert AssetCondition.objects.get(asset=bridge).grade.code == "IV"
    inspection_withdraw(actor=Actor(world.alice, Via.UI), inspection=new, reason="別の橋の結果を誤入力")
    cond = AssetCondition.objects.get(asset=bridge)
    assert cond.grade.code == "II" and cond.inspection_id == old.pk
    assert cond.next_due_on == datetime.date(2026, 6, 1)
    new.refresh_from_db()
    assert new.withdrawn_at and new.withdrawn_by == world.alice and new.withdraw_reason == "別の橋の結果を誤入力"
    assert Inspection.objects.filter(pk=new.pk).exists()  # kept, not deleted
    rec = ChangeRecord.objects.filter(object_id=str(new.pk), action="retire").get()
    assert rec.message == "別の橋の結果を誤入力" and rec.actor_name == "alice"
    with pytest.raises(ValidationError):  # twice: refused, nothing changes
        inspection_withdraw(actor=Actor(world.alice, Via.UI), inspection=new, reason="again")


def test_withdraw_and_correct_need_a_reason(world, bridge_with_two):
    _bridge, _old, new = bridge_with_two
    with pytest.raises(ValidationError) as exc:
        inspection_withdraw(actor=Actor(world.alice, Via.UI), inspection=new, reason="  ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError):
        inspection_correct(actor=Actor(world.alice, Via.UI), inspection=new, data={"grade": "III"}, reason="")
    assert Inspection.objects.get(pk=new.pk).grade.code == "IV"


def test_a_correction_keeps_before_after_and_reason_and_moves_the_condition(world, bridge_with_two):
    bridge, _old, new = bridge_with_two
    inspection_correct(actor=Actor(world.carol, Via.UI), inspection=new, data={"grade": "III", "notes": "再判定"},
                       reason="判定の入力誤り")
    new.refresh_from_db()
    assert new.grade.code == "III" and new.version == 2
    rec = ChangeRecord.objects.filter(object_id=str(new.pk), action="update").get()
    assert rec.before["grade"] == "IV" and rec.after["grade"] == "III" and rec.message == "判定の入力誤り"
    assert AssetCondition.objects.get(asset=bridge).grade.code == "III"


def test_only_the_municipalitys_engineers_and_coordinators_may_correct(world, bridge_with_two):
    """Permission (issue 15): the asset's municipality's engineers and its region's coordinators only."""
    _bridge, _old, new = bridge_with_two
    for outsider in (world.bob, world.charlie, world.victor):
        with pytest.raises(PermissionDenied):
            inspection_withdraw(actor=Actor(outsider, Via.UI), inspection=new, reason="x")
        with pytest.raises(PermissionDenied):
            inspection_correct(actor=Actor(outsider, Via.UI), inspection=new, data={"grade": "I"}, reason="x")
    assert Inspection.objects.get(pk=new.pk).withdrawn_at is None


def test_the_asset_page_buttons_and_the_withdraw_post(world, bridge_with_two):
    bridge, _old, new = bridge_with_two
    c = Client()
    c.force_login(world.bob)  # reads the region, may not correct
    html = c.get(f"/en/assets/{bridge.global_id}/").content.decode()
    assert f"/inspections/{new.pk}/withdraw/" not in html
    assert c.post(f"/en/inspections/{new.pk}/withdraw/", {"reason": "x"}).status_code == 403
    c.force_login(world.carol)
    html = c.get(f"/en/assets/{bridge.global_id}/").content.decode()
    assert f"/en/inspections/{new.pk}/withdraw/" in html and f"/en/inspections/{new.pk}/correct/" in html
    r = c.post(f"/en/inspections/{new.pk}/withdraw/", {"reason": "wrong bridge"})
    assert r.status_code == 302
    html = c.get(r["Location"]).content.decode()
    assert "Withdrawn: the inspection of 2025-06-01" in html and "wrong bridge" in html
    assert "carol withdrew the inspection of 2025-06-01" in html
    r = c.post(f"/en/inspections/{_old.pk}/correct/", {"inspected_on": "2021-06-01", "grade": "III",
                                                       "method": "近接目視", "reason": ""})
    assert r.status_code == 422 and "Say why the inspection is corrected" in r.content.decode()
    r = c.post(f"/en/inspections/{_old.pk}/correct/", {"inspected_on": "2021-06-01", "grade": "III",
                                                       "method": "近接目視", "reason": "typo", "version": "1"})
    assert r.status_code == 302
    assert AssetCondition.objects.get(asset=bridge).grade.code == "III"
    c.force_login(world.charlie)  # outsider: the inspection does not exist for them
    assert c.post(f"/en/inspections/{_old.pk}/withdraw/", {"reason": "x"}).status_code == 404


def test_a_withdrawn_inspection_is_shown_as_such_and_cannot_be_patched(world, bridge_with_two):
    import json

    _bridge, _old, new = bridge_with_two
    inspection_withdraw(actor=Actor(world.alice, Via.UI), inspection=new, reason="誤入力")
    c = Client()
    c.force_login(world.alice)
    body = c.get(f"/api/v1/inspections/{new.pk}").json()
    assert body["withdrawn_at"] and body["withdraw_reason"] == "誤入力"
    r = c.patch(f"/api/v1/inspections/{new.pk}", json.dumps({"grade": "I"}), content_type="application/json")
    assert r.status_code in (400, 422) and Inspection.objects.get(pk=new.pk).grade.code == "IV"


def test_a_withdrawn_inspection_is_left_out_of_the_deterioration_fit(world, bridge_with_two):
    """The engine's deterioration pairs (clusters.data.load_pairs) read only inspections that count: a grade
    entered in error would read as wear (II → IV in four years) that never happened."""
    from clusters.data import load_pairs

    _bridge, _old, new = bridge_with_two
    assert len(load_pairs(["112348"])) == 1
    inspection_withdraw(actor=Actor(world.alice, Via.UI), inspection=new, reason="誤入力")
    assert len(load_pairs(["112348"])) == 0
