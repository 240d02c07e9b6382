"""The field form, driven as a phone's browser would post it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inspections.models import AssetCondition, Inspection
from tests.conftest import jpeg_bytes, make_asset

FORMS = {
    "bridge": {"grade": "III", "member_0": "Mg0101", "damage_type_0": "7", "degree_0": "d", "measure_0": "C1",
               "grade_0": "III"},
    "road_segment": {"crack_pct": "22", "rut_mm": "8", "iri": "2.0"},
    "sewer_pipe": {"span_corrosion": "C", "pipe_count": "10", "pipe_item_0": "crack", "pipe_grade_0": "b",
                   "pipe_at_0": "4.5"},
    "manhole": {"grade": "III"},
    "septic_tank": {"grade": "proper", "legal_basis": "11条"},
}
EXPECTED = {"bridge": "III", "road_segment": "II", "sewer_pipe": "III", "manhole": "III", "septic_tank": "proper"}


@pytest.fixture
def alice(world):
    c = Client()
    c.force_login(world.alice)
    return c


def test_one_inspection_of_each_kind_through_the_form(world, alice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for kind, fields in FORMS.items():
        asset = make_asset(world.yashio, kind, external_id=f"F-{kind}")
        page = alice.get(f"/inspections/new/{asset.global_id}/")
        assert page.status_code == 200 and 'name="grade"' in page.content.decode()
        r = alice.post(f"/inspections/new/{asset.global_id}/", {
            "inspected_on": "2025-09-01", "method": "", "inspector": "八潮 太郎", "notes": "定期点検", **fields,
            "photos": [SimpleUploadedFile("site.jpg", jpeg_bytes(), "image/jpeg")],
        })
        assert r.status_code == 302, r.content.decode()[:2000]
        assert AssetCondition.objects.get(asset=asset).grade.code == EXPECTED[kind]
        detail = alice.get(r["Location"]).content.decode()
        assert "2025-09-01" in detail and "八潮 太郎" in detail
    assert Inspection.objects.count() == 5
    assert Inspection.objects.get(asset__kind="sewer_pipe").observations["pipes"][0]["at_m"] == 4.5


def test_the_form_shows_clear_errors_and_stores_nothing(world, alice):
    bridge = make_asset(world.yashio, "bridge")
    r = alice.post(f"/inspections/new/{bridge.global_id}/", {"inspected_on": "2099-01-01", "grade": "I"})
    assert r.status_code == 422
    html = r.content.decode()
    assert "future" in html or "未来" in html
    r = alice.post(f"/inspections/new/{bridge.global_id}/", {"inspected_on": "2025-01-01"})
    assert r.status_code == 422 and "allowed" in r.content.decode()
    assert Inspection.objects.count() == 0


def test_outsiders_cannot_open_the_form(world):
    bridge = make_asset(world.yashio, "bridge")
    c = Client()
    c.force_login(world.charlie)
    assert c.get(f"/inspections/new/{bridge.global_id}/").status_code == 404
    assert c.post(f"/inspections/new/{bridge.global_id}/", {"inspected_on": "2025-01-01", "grade": "I"}).status_code == 404
    c.force_login(world.bob)
    assert c.get(f"/inspections/new/{bridge.global_id}/").status_code == 403
    assert c.get(f"/assets/{bridge.global_id}/").status_code == 200
    assert Inspection.objects.count() == 0


def test_search_and_map_picking(world, alice):
    bridge = make_asset(world.yashio, "bridge")
    page = alice.get("/inspections/new/?q=112348-BR").content.decode()
    assert bridge.global_id in page
    near = alice.get("/api/v1/assets/near?lon=139.839&lat=35.822&radius_m=200").json()
    assert [f["properties"]["global_id"] for f in near["features"]] == [bridge.global_id]
    c = Client()
    c.force_login(world.charlie)
    assert c.get("/api/v1/assets/near?lon=139.839&lat=35.822").json()["features"] == []


def test_overdue_page(world, alice):
    bridge = make_asset(world.yashio, "bridge", built=1970)
    html = alice.get("/inspections/overdue/?municipality=112348").content.decode()
    assert bridge.global_id in html


def test_sign_in_page(world):
    r = Client().get("/inspections/new/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    c = Client()
    r = c.post("/accounts/login/", {"username": "alice", "password": "pw-alice"})
    assert r.status_code == 302
