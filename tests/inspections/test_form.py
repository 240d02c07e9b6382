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
    assert r.status_code == 422 and "選べる判定" in r.content.decode()
    assert Inspection.objects.count() == 0


def test_errors_name_fields_in_japanese_and_member_rows_come_back(world, alice):
    """Issue 15: the form answers in Japanese with field labels (never `inspected_on:` or `grade: grade is
    required`), and the member rows entered are shown again when the form comes back with an error."""
    bridge = make_asset(world.yashio, "bridge")
    r = alice.post(f"/inspections/new/{bridge.global_id}/", {
        "inspected_on": "2025-01-01", "member_0": "Mg0101", "damage_type_0": "7", "degree_0": "d",
        "measure_0": "C1", "member_1": "Zz99", "degree_1": "c"})
    html = r.content.decode()
    assert r.status_code == 422
    assert "<b>部材 2 行目: 部材</b>" in html and "Zz99&#x27; は部材記号ではありません" in html
    assert "inspected_on" not in html.split('id="form-errors"')[1].split("</div>")[0]
    assert 'name="member_0" value="Mg0101"' in html and 'name="member_1" value="Zz99"' in html
    assert '<option value="7" selected>' in html and '<option value="C1" selected>' in html
    r = alice.post(f"/inspections/new/{bridge.global_id}/", {"inspected_on": "2025-01-01"})
    html = r.content.decode()
    assert "<b>判定</b>: 判定を選ぶか、判定を導ける観測値を入力してください" in html
    assert "grade is required" not in html
    r = alice.post(f"/inspections/new/{bridge.global_id}/", {"inspected_on": "", "grade": "I"})
    assert "<b>点検日</b>:" in r.content.decode()
    assert Inspection.objects.count() == 0


def test_a_save_is_confirmed_with_the_asset_and_grade(world, alice):
    bridge = make_asset(world.yashio, "bridge")
    r = alice.post(f"/inspections/new/{bridge.global_id}/", {"inspected_on": "2025-09-01", "grade": "II"},
                   follow=True)
    html = r.content.decode()
    assert f"保存しました: {bridge.global_id} {bridge.name} の 2025-09-01 の点検（判定 Ⅱ 予防保全段階）" in html


def test_newer_pavement_and_sewer_observations_through_the_form(world, alice):
    """舗装点検要領 (domain.md §2.3): a concrete road is graded on 目地部の段差 and 目地材の飛散, an MCI-only survey
    by its MCI; 下水道維持管理指針 (§2.4.1): rows on one pipe (pipe number) count as one defective pipe."""
    concrete = make_asset(world.yashio, "road_segment", external_id="C-1", pavement_type="concrete")
    r = alice.post(f"/inspections/new/{concrete.global_id}/", {"inspected_on": "2025-09-01", "joint_fault_mm": "12"})
    assert r.status_code == 302, r.content.decode()[:3000]
    insp = Inspection.objects.get(asset=concrete)
    assert insp.observations["joint_fault_mm"] == "12" and insp.grade.code == "III"
    asphalt = make_asset(world.yashio, "road_segment", external_id="A-1")
    r = alice.post(f"/inspections/new/{asphalt.global_id}/", {"inspected_on": "2025-09-01", "mci": "4.2"})
    assert r.status_code == 302 and Inspection.objects.get(asset=asphalt).grade.code == "II"
    page = alice.get(f"/inspections/new/{asphalt.global_id}/").content.decode()
    for name in ("joint_fault_mm", "mci", "joint_sealant_lost", "base_damage"):
        assert f'name="{name}"' in page
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="S-1")
    post = {"inspected_on": "2025-09-01", "pipe_count": "10", "pipe_item_0": "crack", "pipe_grade_0": "b",
            "pipe_pipe_0": "3", "pipe_item_1": "joint", "pipe_grade_1": "b", "pipe_pipe_1": "3",
            "pipe_item_4": "roots", "pipe_grade_4": "c", "pipe_pipe_4": "99"}
    r = alice.post(f"/inspections/new/{pipe.global_id}/", post)
    html = r.content.decode()
    assert r.status_code == 422 and "管1本ごとの不良 3 行目: 管番号" in html
    assert 'name="pipe_pipe_4" value="99"' in html and '<tr class="pipe-row">' in html  # row 5 shown again
    post["pipe_pipe_4"] = "4"
    assert alice.post(f"/inspections/new/{pipe.global_id}/", post).status_code == 302
    obs = Inspection.objects.get(asset=pipe).observations
    assert [p.get("pipe") for p in obs["pipes"]] == [3, 3, 4]
    assert obs["derived"]["defect_shares"]["c"] == 0.2  # pipes 3 and 4 of 10: two defective pipes, not three


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
