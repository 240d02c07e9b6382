from django.contrib.contenttypes.models import ContentType
from django.test import Client

from assets.history import Actor
from assets.models import Asset, ChangeRecord, Via
from assets.services import asset_retire, asset_update
from tests.conftest import make_pipe


def records(asset):
    return list(ChangeRecord.objects.filter(content_type=ContentType.objects.get_for_model(Asset),
                                            object_id=str(asset.pk)).order_by("time", "id"))


def test_create_records_who_how_and_the_values(world):
    a = make_pipe(world.yashio, actor=Actor(world.alice, Via.UI))
    (rec,) = records(a)
    assert (rec.action, rec.via, rec.user, rec.actor_name) == ("create", "ui", world.alice, "alice")
    assert rec.after["global_id"] == a.global_id
    assert rec.after["detail.diameter_mm"] == 300
    assert rec.before is None


def test_update_records_only_the_changed_values_before_and_after(world):
    a = make_pipe(world.yashio)
    asset_update(actor=Actor(world.alice, Via.API), asset=a, data={"name": "新名称"}, detail={"diameter_mm": 450})
    rec = records(a)[-1]
    assert rec.action == "update" and rec.via == "api"
    assert rec.before == {"detail.diameter_mm": 300, "name": "テスト管渠"}
    assert rec.after == {"detail.diameter_mm": 450, "name": "新名称"}


def test_an_update_that_changes_nothing_leaves_no_record_and_keeps_the_version(world):
    a = make_pipe(world.yashio)
    a = asset_update(actor=Actor(world.alice, Via.UI), asset=a, data={"name": "テスト管渠"})
    assert len(records(a)) == 1 and a.version == 1


def test_retirement_is_recorded(world):
    a = make_pipe(world.yashio)
    asset_retire(actor=Actor(world.alice, Via.UI), asset=a, reason="浄化槽へ転換")
    rec = records(a)[-1]
    assert (rec.action, rec.after["status"], rec.message) == ("retire", "removed", "浄化槽へ転換")


def test_admin_edits_are_recorded_and_shown_in_the_admin_history(world):
    a = make_pipe(world.yashio)
    c = Client()
    c.force_login(world.alice)
    page = c.get(f"/admin/assets/asset/{a.pk}/change/")
    assert page.status_code == 200
    form = {
        "kind": a.kind, "owner": a.owner_id, "operator": "", "name": "管理画面で変更", "status": "in_service",
        "retired_on": "", "source": a.source, "external_id": a.external_id, "built_fiscal_year": "1985",
        "built_year_text": "", "important_facility_note": "",
        "geom": a.geom.transform(3857, clone=True).json,  # the map widget posts web-mercator GeoJSON
        "sewer_pipe-TOTAL_FORMS": "1", "sewer_pipe-INITIAL_FORMS": "1", "sewer_pipe-MIN_NUM_FORMS": "1",
        "sewer_pipe-MAX_NUM_FORMS": "1", "sewer_pipe-0-asset": str(a.pk),
        "sewer_pipe-0-drainage_system": "sanitary",
        "sewer_pipe-0-material": "rc", "sewer_pipe-0-diameter_mm": "300", "sewer_pipe-0-length_m": "50.0",
        "sewer_pipe-0-cover_depth_m": "", "sewer_pipe-0-upstream_manhole": "",
        "sewer_pipe-0-downstream_manhole": "", "sewer_pipe-0-road_segment": "", "sewer_pipe-0-house_connections": "",
        "sewer_pipe-0-renewal_method": "unknown",
    }
    r = c.post(f"/admin/assets/asset/{a.pk}/change/", form)
    errors = r.context and r.context["adminform"].form.errors
    assert r.status_code == 302, errors
    a.refresh_from_db()
    assert a.name == "管理画面で変更" and a.version == 2
    rec = records(a)[-1]
    assert (rec.via, rec.actor_name, rec.after.get("name")) == ("admin", "alice", "管理画面で変更")
    history = c.get(f"/admin/assets/asset/{a.pk}/history/").content.decode()
    assert "管理画面で変更" in history and "alice" in history
