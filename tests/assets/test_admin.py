"""The admin writes through assets.services (issue 13: one write path per record): the same checks, the same
history, the same signal to the condition table; a refusal shows on the form as posted and writes nothing."""

from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.geos import LineString, Point
from django.test import Client
from django.utils import timezone

from assets.models import Asset, AssetSerial, ChangeRecord
from inspections.models import AssetCondition
from tests.conftest import make_asset, make_pipe


def session(user):
    c = Client()
    c.force_login(user)
    return c


def records(asset_pk):
    return list(ChangeRecord.objects.filter(content_type=ContentType.objects.get_for_model(Asset),
                                            object_id=str(asset_pk)).order_by("time", "id"))


def _core(owner, geom, **over):
    data = {"kind": "sewer_pipe", "owner": owner, "operator": "", "name": "管理画面の管渠", "status": "in_service",
            "source": "daicho", "external_id": "ADM-1", "built_fiscal_year": "1985", "built_year_text": "",
            "important_facility_note": "", "geom": geom.transform(3857, clone=True).json}
    return data | over


def _pipe_detail(asset_pk="", initial="0", **over):
    data = {"sewer_pipe-TOTAL_FORMS": "1", "sewer_pipe-INITIAL_FORMS": initial, "sewer_pipe-MIN_NUM_FORMS": "1",
            "sewer_pipe-MAX_NUM_FORMS": "1", "sewer_pipe-0-asset": str(asset_pk),
            "sewer_pipe-0-drainage_system": "sanitary", "sewer_pipe-0-material": "rc",
            "sewer_pipe-0-diameter_mm": "300", "sewer_pipe-0-length_m": "50.0", "sewer_pipe-0-cover_depth_m": "",
            "sewer_pipe-0-upstream_manhole": "", "sewer_pipe-0-downstream_manhole": "",
            "sewer_pipe-0-road_segment": "", "sewer_pipe-0-house_connections": "",
            "sewer_pipe-0-renewal_method": "unknown"}
    return data | {f"sewer_pipe-0-{k}": v for k, v in over.items()}


def _change_form(asset, **over):
    return _core(asset.owner_id, asset.geom, external_id=asset.external_id, name=asset.name,
                 built_fiscal_year=str(asset.built_fiscal_year)) | _pipe_detail(asset.pk, initial="1") | over


LINE = LineString((139.839, 35.822), (139.8395, 35.822), srid=6668)


def test_adding_in_the_admin_goes_through_the_service(world):
    r = session(world.alice).post("/admin/assets/asset/add/?kind=sewer_pipe", _core("112348", LINE) | _pipe_detail())
    assert r.status_code == 302, r.context and r.context["adminform"].form.errors
    asset = Asset.objects.get(external_id="ADM-1")
    assert asset.global_id.startswith("112348-") and asset.global_id != "pending" and asset.version == 1
    assert asset.sewer_pipe.length_m == 50.0 and asset.source_srid == 6668
    (rec,) = records(asset.pk)
    assert (rec.action, rec.via, rec.actor_name) == ("create", "admin", "alice")
    assert rec.after["detail.diameter_mm"] == 300
    assert AssetCondition.objects.filter(asset=asset).exists()  # the signal reached the condition table


def test_a_refusal_of_the_service_shows_on_the_form_and_writes_nothing(world):
    c = session(world.alice)
    # A pipe of length 0 passes the form's own checks; the service refuses it.
    r = c.post("/en/admin/assets/asset/add/?kind=sewer_pipe", _core("112348", LINE) | _pipe_detail(length_m="0"))
    assert r.status_code == 200
    inline = r.context["inline_admin_formsets"][0].formset.forms[0]
    assert "Length must be greater than 0" in str(inline.errors["length_m"])
    assert r.context["adminform"].form["name"].value() == "管理画面の管渠"  # the form as posted
    # Outside the owner's area: the service's message on the geometry field.
    far = LineString((136.899, 37.391), (136.8995, 37.391), srid=6668)
    r = c.post("/en/admin/assets/asset/add/?kind=sewer_pipe", _core("112348", far) | _pipe_detail())
    assert r.status_code == 200 and "outside" in str(r.context["adminform"].form.errors["geom"])
    assert not Asset.objects.filter(external_id="ADM-1").exists()
    assert not AssetSerial.objects.filter(owner_id="112348", kind="sewer_pipe").exists()
    assert not ChangeRecord.objects.filter(via="admin").exists()


def test_a_change_that_changes_nothing_keeps_the_version_and_leaves_no_record(world):
    pipe = make_pipe(world.yashio, external_id="ADM-2")
    r = session(world.alice).post(f"/admin/assets/asset/{pipe.pk}/change/", _change_form(pipe))
    assert r.status_code == 302, r.context and r.context["adminform"].form.errors
    pipe.refresh_from_db()
    assert pipe.version == 1 and len(records(pipe.pk)) == 1


def test_a_detail_change_is_one_versioned_record(world):
    pipe = make_pipe(world.yashio, external_id="ADM-3")
    r = session(world.alice).post(f"/admin/assets/asset/{pipe.pk}/change/",
                                  _change_form(pipe) | {"sewer_pipe-0-diameter_mm": "450", "built_fiscal_year": "1990"})
    assert r.status_code == 302, r.context and r.context["adminform"].form.errors
    pipe.refresh_from_db()
    assert pipe.version == 2 and pipe.sewer_pipe.diameter_mm == 450 and pipe.built_fiscal_year == 1990
    rec = records(pipe.pk)[-1]
    assert rec.after == {"built_fiscal_year": 1990, "detail.diameter_mm": 450} and rec.via == "admin"


def test_choosing_removed_retires_the_asset(world):
    bridge = make_asset(world.yashio, "bridge", external_id="ADM-B", built=1970)
    assert AssetCondition.objects.filter(asset=bridge).exists()
    form = _core(bridge.owner_id, Point(139.839, 35.822, srid=6668), kind="bridge", external_id="ADM-B",
                 name=bridge.name, built_fiscal_year="1970", status="removed") | {
        "bridge-TOTAL_FORMS": "1", "bridge-INITIAL_FORMS": "1", "bridge-MIN_NUM_FORMS": "1",
        "bridge-MAX_NUM_FORMS": "1", "bridge-0-asset": str(bridge.pk), "bridge-0-length_m": "20.0",
        "bridge-0-width_m": "8.0", "bridge-0-deck_area_m2": "", "bridge-0-structure_type": "pc",
        "bridge-0-span_count": "1", "bridge-0-crosses": "river", "bridge-0-crosses_name": "",
        "bridge-0-detour_length_m": "", "bridge-0-route_name": ""}
    r = session(world.alice).post(f"/admin/assets/asset/{bridge.pk}/change/", form)
    assert r.status_code == 302, r.context and r.context["adminform"].form.errors
    bridge.refresh_from_db()
    assert bridge.status == "removed" and bridge.retired_on == timezone.localdate()
    assert records(bridge.pk)[-1].action == "retire"
    assert not AssetCondition.objects.filter(asset=bridge).exists()


def test_only_an_administrator_deletes_and_the_deletion_is_recorded(world):
    pipe = make_pipe(world.yashio, external_id="ADM-D")
    assert session(world.alice).post(f"/admin/assets/asset/{pipe.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Asset.objects.filter(pk=pipe.pk).exists()
    r = session(world.admin).post(f"/admin/assets/asset/{pipe.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not Asset.objects.filter(pk=pipe.pk).exists()
    rec = records(pipe.pk)[-1]
    assert (rec.action, rec.via, rec.actor_name, rec.before["global_id"]) == ("delete", "admin", "admin",
                                                                               pipe.global_id)


def test_an_asset_with_inspections_is_not_purged_with_them(world):
    from assets.history import Actor
    from assets.models import Via
    from inspections.services import inspection_record

    bridge = make_asset(world.yashio, "bridge", external_id="ADM-I")
    inspection_record(actor=Actor.system(Via.API), asset=bridge, inspected_on="2024-05-01", grade="II")
    r = session(world.admin).post(f"/admin/assets/asset/{bridge.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403 and Asset.objects.filter(pk=bridge.pk).exists()
