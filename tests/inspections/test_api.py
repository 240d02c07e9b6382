import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inspections.models import AssetCondition, Inspection
from tests.conftest import jpeg_bytes, make_asset


def client(user):
    c = Client()
    c.force_login(user)
    return c


def post(c, url, data):
    return c.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def kinds(world):
    return {k: make_asset(world.yashio, k, external_id=f"{k}-1") for k in
            ("road_segment", "bridge", "sewer_pipe", "manhole", "septic_tank")}


PAYLOADS = {
    "bridge": {"grade": "Ⅱ"},
    "road_segment": {"observations": {"crack_pct": 45, "rut_mm": 10}},
    "sewer_pipe": {"observations": {"span": {"corrosion": "B", "sag": "B"}}},
    "manhole": {"grade": "劣化なし"},
    "septic_tank": {"grade": "不適正", "legal_basis": "11条"},
}
# road_segment: Ⅲ from surface measures alone, Ⅲ-1 or Ⅲ-2 not told (舗装点検要領, domain.md §2.3; issue 14).
EXPECTED = {"bridge": "II", "road_segment": "III", "sewer_pipe": "II", "manhole": "none", "septic_tank": "improper"}


def test_an_engineer_logs_one_inspection_of_each_kind_through_the_api(world, kinds):
    c = client(world.alice)
    for kind, asset in kinds.items():
        r = post(c, "/api/v1/inspections", {"asset": asset.global_id, "inspected_on": "2025-07-01", **PAYLOADS[kind]})
        assert r.status_code == 201, r.content
        body = r.json()
        assert body["grade"] == EXPECTED[kind] and body["kind"] == kind
        cond = AssetCondition.objects.get(asset=asset)
        assert cond.grade.code == EXPECTED[kind]
    listed = c.get("/api/v1/inspections?municipality=112348&date_from=2025-01-01").json()
    assert listed["count"] == 5
    one = c.get(f"/api/v1/inspections?asset={kinds['bridge'].global_id}").json()["items"]
    assert [i["grade"] for i in one] == ["II"]
    assert c.get("/api/v1/inspections?grade=improper").json()["count"] == 1


def test_bad_input_over_the_api_names_the_field_and_stores_nothing(world, kinds):
    c = client(world.alice)
    r = post(c, "/api/v1/inspections", {"asset": kinds["bridge"].global_id, "inspected_on": "2099-01-01", "grade": "I"})
    assert r.status_code == 422 and "inspected_on" in r.json()["errors"]
    r = post(c, "/api/v1/inspections", {"asset": kinds["bridge"].global_id, "inspected_on": "2025-01-01",
                                        "grade": "Ⅴ"})
    # The API answers in the request's language (Japanese by default), naming the allowed grades.
    assert r.status_code == 422 and "選べる判定: I (Ⅰ 健全)" in r.json()["errors"]["grade"][0]
    assert Inspection.objects.count() == 0


def test_the_outsider_can_neither_read_nor_write_inspections(world, kinds):
    bridge = kinds["bridge"]
    r = post(client(world.alice), "/api/v1/inspections", {"asset": bridge.global_id, "inspected_on": "2025-07-01",
                                                          "grade": "I"})
    pk = r.json()["id"]
    outsider = client(world.charlie)
    assert outsider.get("/api/v1/inspections").json()["count"] == 0
    assert outsider.get(f"/api/v1/inspections/{pk}").status_code == 404
    assert post(outsider, "/api/v1/inspections", {"asset": bridge.global_id, "inspected_on": "2025-07-01",
                                                  "grade": "IV"}).status_code == 404
    r = outsider.patch(f"/api/v1/inspections/{pk}", json.dumps({"grade": "IV"}), content_type="application/json")
    assert r.status_code == 404
    neighbour = client(world.bob)  # reads the region, writes only 草加市
    assert neighbour.get(f"/api/v1/inspections/{pk}").status_code == 200
    assert post(neighbour, "/api/v1/inspections", {"asset": bridge.global_id, "inspected_on": "2025-07-01",
                                                   "grade": "IV"}).status_code == 403
    assert Inspection.objects.get(pk=pk).grade.code == "I" and Inspection.objects.count() == 1


def test_stale_update_is_refused(world, kinds):
    c = client(world.alice)
    pk = post(c, "/api/v1/inspections", {"asset": kinds["bridge"].global_id, "inspected_on": "2025-07-01",
                                         "grade": "I"}).json()["id"]
    ok = c.patch(f"/api/v1/inspections/{pk}", json.dumps({"grade": "II", "version": 1}), content_type="application/json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = c.patch(f"/api/v1/inspections/{pk}", json.dumps({"grade": "III", "version": 1}),
                    content_type="application/json")
    assert stale.status_code == 409 and Inspection.objects.get(pk=pk).grade.code == "II"


def test_photos_upload_over_the_api(world, kinds, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = client(world.alice)
    pk = post(c, "/api/v1/inspections", {"asset": kinds["bridge"].global_id, "inspected_on": "2025-07-01",
                                         "grade": "I"}).json()["id"]
    r = c.post(f"/api/v1/inspections/{pk}/photos", {"photos": [SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")]})
    assert r.status_code == 201
    photo = r.json()[0]
    # Served by the scope-checking view, not from /media/.
    assert photo["thumbnail_url"] == f"/files/photos/{photo['id']}/thumbnail/"
    thumb = c.get(photo["thumbnail_url"])
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    r = c.post(f"/api/v1/inspections/{pk}/photos", {"photos": [SimpleUploadedFile("a.txt", b"hello", "text/plain")]})
    assert r.status_code == 422
    assert c.get(f"/api/v1/inspections/{pk}").json()["photos"][0]["original_name"] == "a.jpg"


def test_overdue_list_is_scoped(world, kinds):
    alice = client(world.alice).get("/api/v1/overdue").json()
    assert {i["asset"] for i in alice["items"]} >= {kinds["bridge"].global_id}
    assert client(world.charlie).get("/api/v1/overdue").json()["count"] == 0
