"""Measures (措置) on record: the service, the condition they change, retirement, the API, the CSV import, the
asset page and form, and the 措置着手率 / 措置完了率."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assets.history import Actor
from assets.models import Asset, ChangeRecord, Via
from assets.models.history import Action
from inspections.measure_selectors import measure_rates
from inspections.measure_services import measure_record, measure_update
from inspections.models import AssetCondition, Measure
from inspections.services import inspection_record
from tests.conftest import make_asset

SYS = Actor.system(Via.API)


def client(user):
    c = Client()
    c.force_login(user)
    return c


def post(c, url, data):
    return c.post(url, json.dumps(data), content_type="application/json")


def patch(c, url, data):
    return c.patch(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def bridge3(world):
    """A 八潮市 bridge judged Ⅲ in 2023: measures due in 2028."""
    b = make_asset(world.yashio, "bridge", external_id="BR-3", built=1970)
    inspection_record(actor=SYS, asset=b, inspected_on="2023-05-01", grade="III")
    return b


def cond(asset) -> AssetCondition:
    return AssetCondition.objects.select_related("treated_by").get(asset=asset)


def test_a_completed_repair_after_the_inspection_clears_the_deadline(world, bridge3):
    assert cond(bridge3).action_due_on == datetime.date(2028, 5, 1)
    m = measure_record(actor=Actor(world.alice, Via.UI), asset=bridge3, kind="補修・修繕", started_on="R6.6.1",
                       completed_on="2024-11-30", cost_yen="12,000,000円", contractor="八潮建設")
    assert (m.kind.code, m.started_on, m.cost_yen) == ("repair", datetime.date(2024, 6, 1), 12_000_000)
    c = cond(bridge3)
    assert c.action_due_on is None and c.treated_by_id == m.pk
    assert c.grade.code == "III"  # the legal record of the inspection stays as it was
    rec = ChangeRecord.objects.get(content_type__model="measure", object_id=str(m.pk), action=Action.CREATE)
    assert rec.after["kind"] == "repair" and rec.actor_name == "alice"


def test_a_repair_still_in_progress_keeps_the_deadline_until_completion_is_entered(world, bridge3):
    m = measure_record(actor=SYS, asset=bridge3, kind="repair", started_on="2024-06-01")
    assert cond(bridge3).action_due_on == datetime.date(2028, 5, 1) and cond(bridge3).treated_by_id is None
    measure_update(actor=SYS, measure=m, data={"completed_on": "2024-12-01"}, expected_version=1)
    m.refresh_from_db()
    assert m.version == 2 and cond(bridge3).action_due_on is None
    updates = ChangeRecord.objects.filter(content_type__model="measure", object_id=str(m.pk), action=Action.UPDATE)
    assert updates.get().after == {"completed_on": "2024-12-01"}


def test_a_new_inspection_after_the_repair_sets_the_deadline_again(world, bridge3):
    measure_record(actor=SYS, asset=bridge3, kind="renewal", started_on="2023-06-01", completed_on="2023-09-01")
    assert cond(bridge3).action_due_on is None
    inspection_record(actor=SYS, asset=bridge3, inspected_on="2024-05-01", grade="IV")
    c = cond(bridge3)
    assert c.treated_by_id is None and c.action_due_on == datetime.date(2024, 5, 1)


@pytest.mark.parametrize("kind", ["通行規制", "応急措置"])
def test_an_interim_measure_is_recorded_but_keeps_the_deadline(world, bridge3, kind):
    m = measure_record(actor=SYS, asset=bridge3, kind=kind, started_on="2024-01-10", completed_on="2024-01-10")
    assert m.kind.effect == "interim"
    assert cond(bridge3).action_due_on == datetime.date(2028, 5, 1) and cond(bridge3).treated_by_id is None


def test_a_completed_removal_retires_the_asset(world, bridge3):
    m = measure_record(actor=Actor(world.alice, Via.UI), asset=bridge3, kind="撤去", started_on="2024-04-01",
                       completed_on="2024-10-31")
    bridge3.refresh_from_db()
    assert bridge3.status == "removed" and bridge3.retired_on == datetime.date(2024, 10, 31)
    assert not AssetCondition.objects.filter(asset=bridge3).exists()  # off the condition table / work list
    assert ChangeRecord.objects.filter(content_type__model="asset", object_id=str(bridge3.pk), action=Action.RETIRE).exists()
    with pytest.raises(ValidationError) as e:  # a retired asset takes no new measure
        measure_record(actor=SYS, asset=bridge3, kind="repair", started_on="2024-11-01")
    assert "asset" in e.value.message_dict
    with pytest.raises(ValidationError):  # nor can its completed removal be undone
        measure_update(actor=SYS, measure=m, data={"completed_on": None})


def test_a_removal_not_yet_completed_leaves_the_asset_in_service(world, bridge3):
    m = measure_record(actor=SYS, asset=bridge3, kind="removal", started_on="2024-04-01")
    assert Asset.objects.get(pk=bridge3.pk).status != "removed"
    measure_update(actor=SYS, measure=m, data={"completed_on": "2024-05-01"})
    assert Asset.objects.get(pk=bridge3.pk).status == "removed"


def test_bad_measures_name_the_field_and_the_allowed_values(world, bridge3):
    with pytest.raises(ValidationError) as e:
        measure_record(actor=SYS, asset=bridge3, kind="管更生", started_on="平成99年1月1日", completed_on="2099-01-01",
                       cost_yen="-5")
    errs = e.value.message_dict
    assert "補修・修繕 (repair)" in errs["kind"][0] and "管更生" not in errs["kind"][0].split("allowed:")[1]
    assert "平成" in errs["started_on"][0] and "future" in errs["completed_on"][0] and "cost_yen" in errs
    with pytest.raises(ValidationError) as e:
        measure_record(actor=SYS, asset=bridge3, kind="repair", started_on="2024-05-01", completed_on="2024-04-01")
    assert "before the start" in e.value.message_dict["completed_on"][0]
    assert Measure.objects.count() == 0


def test_only_engineers_who_may_write_the_asset_record_measures(world, bridge3):
    for user in (world.victor, world.bob, world.charlie):
        with pytest.raises(PermissionDenied):
            measure_record(actor=Actor(user, Via.UI), asset=bridge3, kind="repair", started_on="2024-05-01")
    assert Measure.objects.count() == 0


# --- API ---------------------------------------------------------------------------------------------------------

def test_api_create_list_get_and_patch_with_version(world, bridge3):
    c = client(world.alice)
    r = post(c, "/api/v1/measures", {"asset": bridge3.global_id, "kind": "repair", "started_on": "2024-06-01",
                                     "cost_yen": 5_000_000, "contractor": "草加組"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind_label"] == "補修・修繕" and body["effect"] == "resolve" and body["completed_on"] is None
    pk = body["id"]
    assert c.get("/api/v1/measures?completed=false").json()["count"] == 1
    assert c.get("/api/v1/measures?completed=true").json()["count"] == 0
    assert c.get(f"/api/v1/measures/{pk}").json()["contractor"] == "草加組"
    r = patch(c, f"/api/v1/measures/{pk}", {"completed_on": "2024-10-01", "version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert cond(bridge3).action_due_on is None
    r = patch(c, f"/api/v1/measures/{pk}", {"notes": "stale", "version": 1})
    assert r.status_code == 409 and r.json()["version"] == 2
    assert Measure.objects.get(pk=pk).notes == ""


def test_api_measures_are_scoped_like_inspections(world, bridge3):
    m = measure_record(actor=SYS, asset=bridge3, kind="repair", started_on="2024-06-01")
    out = client(world.charlie)
    assert out.get(f"/api/v1/measures/{m.pk}").status_code == 404
    assert out.get("/api/v1/measures").json()["count"] == 0
    assert post(out, "/api/v1/measures", {"asset": bridge3.global_id, "kind": "repair",
                                          "started_on": "2024-06-01"}).status_code == 404
    assert patch(client(world.victor), f"/api/v1/measures/{m.pk}", {"notes": "x"}).status_code == 403
    r = post(client(world.alice), "/api/v1/measures", {"asset": bridge3.global_id, "kind": "布設替え",
                                                       "started_on": "2024-06-01"})
    assert r.status_code == 422 and "補修・修繕 (repair)" in r.json()["errors"]["kind"][0]


def test_api_with_a_token(world, bridge3):
    from assets.models import ApiToken

    _t, key = ApiToken.issue(name="daicho", municipality=world.yashio, source="daicho")
    c = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    r = post(c, "/api/v1/measures", {"asset": bridge3.global_id, "kind": "repair", "started_on": "2024-06-01",
                                     "completed_on": "2024-07-01"})
    assert r.status_code == 201, r.content
    rec = ChangeRecord.objects.get(content_type__model="measure", object_id=str(r.json()["id"]))
    assert rec.actor_name == "token:daicho"


# --- CSV import --------------------------------------------------------------------------------------------------

def _csv(text: str, encoding="cp932"):
    return SimpleUploadedFile("m.csv", text.encode(encoding), "text/csv")


def test_csv_import_cp932_wareki_all_or_nothing(world, bridge3):
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="P-9", built=1975)
    inspection_record(actor=SYS, asset=pipe, inspected_on="2024-02-01", grade="I")
    c = client(world.alice)
    good = ("措置一覧\n団体コード,台帳番号,措置区分,着手日,完了日,工事費(円),施工者,備考\n"
            "112348,BR-3,補修,R6.6.1,令和6年11月30日,\"12,000,000\",八潮建設,\n"
            "112348,P-9,管更生,2024/7/1,,8000000,中川管工,施工中\n")
    bad = good + "112348,P-9,橋梁架替,R6.7.1,R6.6.1,abc,,\n112348,NOPE,補修,R6.7.1,,,,\n"
    r = c.post("/api/v1/measures/import", {"file": _csv(bad)})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert any(e.startswith("Record 3 (line 5) kind:") and "管更生 (pipe_rehabilitation)" in e for e in errors)
    assert any(e.startswith("Record 3 (line 5) cost_yen:") for e in errors)
    assert any(e.startswith("Record 4 (line 6) external_id:") for e in errors)
    assert Measure.objects.count() == 0 and cond(bridge3).action_due_on is not None
    r = c.post("/api/v1/measures/import", {"file": _csv(good), "dry_run": "true"})
    assert r.status_code == 200 and r.json()["created"] == 2 and Measure.objects.count() == 0
    r = c.post("/api/v1/measures/import", {"file": _csv(good)})
    assert r.status_code == 200 and r.json() | {"errors": []} == r.json() and r.json()["encoding"] == "cp932"
    assert Measure.objects.count() == 2 and cond(bridge3).action_due_on is None
    assert cond(pipe).treated_by_id is None  # 管更生 still in progress
    assert ChangeRecord.objects.filter(content_type__model="measure").count() == 2


def test_csv_import_utf8_removal_retires_and_refuses_foreign_assets(world, bridge3):
    theirs = make_asset(world.wajima, "bridge", external_id="W-1", lon=136.9, lat=37.39)
    c = client(world.alice)
    text = f"共通ID,措置,着手日,完了日\n{theirs.global_id},撤去,2024-01-01,2024-02-01\n"
    r = c.post("/api/v1/measures/import", {"file": _csv(text, "utf-8")})
    assert r.status_code == 422 and "Record 1 (line 2) asset" in r.json()["errors"][0]
    text = f"共通ID,措置,着手日,完了日\n{bridge3.global_id},撤去,2024-01-01,2024-02-01\n"
    r = c.post("/api/v1/measures/import", {"file": _csv(text, "utf-8")})
    assert r.status_code == 200, r.content
    assert Asset.objects.get(pk=bridge3.pk).status == "removed"


def test_csv_import_limits(world, settings):
    from inspections import importing

    c = client(world.alice)
    r = c.post("/api/v1/measures/import", {"file": _csv("a,b\n1,2\n")})
    assert r.status_code == 422 and "措置区分" in r.json()["errors"]["file"][0]
    big = SimpleUploadedFile("m.csv", b"x" * (importing.MAX_UPLOAD_BYTES + 1), "text/csv")
    assert c.post("/api/v1/measures/import", {"file": big}).status_code == 413


# --- pages -------------------------------------------------------------------------------------------------------

def test_the_asset_page_lists_measures_and_the_form_records_one(world, bridge3):
    c = client(world.alice)
    r = c.get(f"/assets/{bridge3.global_id}/measures/new/")
    assert r.status_code == 200 and "補修・修繕" in r.content.decode() and "管更生" not in r.content.decode()
    r = c.post(f"/assets/{bridge3.global_id}/measures/new/", {"kind": "repair", "started_on": "2024-06-01",
                                                               "completed_on": "2099-01-01"})
    assert r.status_code == 422 and Measure.objects.count() == 0
    r = c.post(f"/assets/{bridge3.global_id}/measures/new/", {"kind": "repair", "started_on": "2024-06-01",
                                                               "cost_yen": "3,000,000", "contractor": "八潮建設"})
    assert r.status_code == 302
    m = Measure.objects.get()
    page = c.get(f"/assets/{bridge3.global_id}/").content.decode()
    assert 'id="measures"' in page and "八潮建設" in page and f"/measures/{m.pk}/edit/" in page
    r = c.post(f"/measures/{m.pk}/edit/", {"kind": "repair", "started_on": "2024-06-01", "completed_on": "2024-09-01",
                                           "cost_yen": "3000000", "contractor": "八潮建設", "version": "1"})
    assert r.status_code == 302
    page = c.get(f"/assets/{bridge3.global_id}/").content.decode()
    assert 'id="treated"' in page and f"#{m.pk}" in page
    r = c.post(f"/measures/{m.pk}/edit/", {"kind": "repair", "started_on": "2024-06-01", "version": "1"})
    assert r.status_code == 422 and 'id="form-errors"' in r.content.decode()
    assert Measure.objects.get().completed_on == datetime.date(2024, 9, 1)  # the stale form changed nothing
    assert client(world.victor).get(f"/assets/{bridge3.global_id}/measures/new/").status_code == 403


def test_the_rates_page_in_japanese(world, bridge3):
    from django.utils import translation

    measure_record(actor=SYS, asset=bridge3, kind="repair", started_on="2024-06-01")
    with translation.override("ja"):
        r = client(world.carol).get("/measures/rates/?region=nakagawa", HTTP_ACCEPT_LANGUAGE="ja")
    body = r.content.decode()
    assert r.status_code == 200 and 'id="rates-total"' in body and "100%" in body and "八潮市" in body


# --- rates -------------------------------------------------------------------------------------------------------

def test_rates_count_started_and_completed_of_judged_assets(world):
    def bridge(ext, grade, on="2023-05-01", owner=None):
        lon = 139.805 if owner else 139.839
        b = make_asset(owner or world.yashio, "bridge", external_id=ext, lon=lon, lat=35.825)
        inspection_record(actor=SYS, asset=b, inspected_on=on, grade=grade)
        return b

    done, started, interim, idle = bridge("a", "III"), bridge("b", "IV"), bridge("c", "IV"), bridge("d", "III")
    bridge("e", "II")  # not judged to need measures
    old = bridge("f", "III", on="2015-05-01")  # judged in an earlier cycle: not counted
    removed = bridge("g", "III", owner=world.soka)
    before = bridge("h", "III")
    measure_record(actor=SYS, asset=done, kind="repair", started_on="2023-08-01", completed_on="2024-01-01")
    measure_record(actor=SYS, asset=started, kind="renewal", started_on="2024-03-01")
    measure_record(actor=SYS, asset=interim, kind="通行規制", started_on="2023-05-02")
    measure_record(actor=SYS, asset=old, kind="repair", started_on="2016-01-01", completed_on="2016-05-01")
    measure_record(actor=SYS, asset=removed, kind="撤去", started_on="2024-01-01", completed_on="2024-03-01")
    measure_record(actor=SYS, asset=before, kind="repair", started_on="2020-01-01", completed_on="2020-06-01")
    del idle
    rows = measure_rates(principal=world.carol, codes=["112348", "112216"], on=datetime.date(2025, 3, 31))
    total = next(r for r in rows if r.municipality is None and r.kind is None)
    assert (total.judged, total.started, total.completed, total.interim_only) == (6, 3, 2, 1)
    yashio = next(r for r in rows if r.municipality == "112348" and r.kind == "bridge")
    assert (yashio.judged, yashio.started, yashio.completed) == (5, 2, 1)
    assert yashio.started_rate == pytest.approx(0.4) and yashio.completed_rate == pytest.approx(0.2)
    soka = next(r for r in rows if r.municipality == "112216" and r.kind is None)
    assert (soka.judged, soka.completed) == (1, 1)  # a completed 撤去 is a completed measure
    # As of a day before the repair was completed, it had only started.
    rows = measure_rates(principal=world.carol, codes=["112348"], on=datetime.date(2023, 12, 31))
    total = next(r for r in rows if r.municipality is None and r.kind is None)
    assert (total.started, total.completed) == (1, 0)


def test_rates_are_scoped(world, bridge3):
    theirs = make_asset(world.wajima, "bridge", external_id="W-1", lon=136.9, lat=37.39)
    inspection_record(actor=SYS, asset=theirs, inspected_on="2023-05-01", grade="IV")
    assert measure_rates(principal=world.charlie, codes=["112348"]) == []
    rows = measure_rates(principal=world.alice, on=datetime.date(2025, 1, 1))
    assert {r.municipality for r in rows} == {None, "112348"}
    r = client(world.alice).get("/api/v1/measures/rates?region=nakagawa&on=2025-01-01")
    assert r.status_code == 200 and r.json()[0]["judged"] == 1 and r.json()[0]["kind_label"] == "計"
    assert client(world.charlie).get("/api/v1/measures/rates?region=nakagawa").status_code == 404
