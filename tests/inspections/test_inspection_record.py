import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assets.history import Actor
from assets.models import ChangeRecord, Via
from inspections.models import AssetCondition, Inspection, InspectionPhoto
from inspections.services import inspection_delete, inspection_record, inspection_update, parse_date
from tests.conftest import jpeg_bytes, make_asset


def months_later(day: datetime.date, months: int) -> datetime.date:
    y, m = divmod(day.month - 1 + months, 12)
    return day.replace(year=day.year + y, month=m + 1)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def record(world, asset, **kw):
    kw.setdefault("inspected_on", "2025-06-10")
    return inspection_record(actor=Actor(world.alice, Via.UI), asset=asset, **kw)


def test_bridge_inspection_sets_condition_and_five_year_due_date(world):
    bridge = make_asset(world.yashio, "bridge")
    insp = record(world, bridge, grade="判定3", observations={
        "members": [{"member": "Mg0101", "damage_type": "7", "degree": "d", "measure": "C1", "grade": "III"}]})
    c = AssetCondition.objects.get(asset=bridge)
    assert (c.grade.code, c.inspected_on, c.score) == ("III", datetime.date(2025, 6, 10), 0.35)
    assert c.next_due_on == datetime.date(2030, 6, 10)
    assert c.action_due_on == datetime.date(2030, 6, 10)  # Ⅲ: act before the next inspection
    assert insp.grade_input == "判定3" and insp.method == "近接目視"


def test_pavement_grade_and_mci_come_from_the_measures(world):
    road = make_asset(world.yashio, "road_segment")
    insp = record(world, road, observations={"crack_pct": "25", "rut_mm": "12", "iri": "2.5"})
    assert insp.grade.code == "II"
    # No σ given: the least of MCI0 = 4.33, MCI1 = 10 − 2.23·25^0.3 = 4.14 and MCI2 = 6.99.
    assert insp.observations["derived"]["mci"] == pytest.approx(10 - 2.23 * 25 ** 0.3, abs=0.01)
    assert AssetCondition.objects.get(asset=road).next_due_on == datetime.date(2030, 6, 10)  # a class-1 road


def test_a_concrete_road_is_graded_on_the_concrete_thresholds(world):
    """舗装点検要領 6-2 (domain.md §2.3): the road segment's pavement type in the ledger selects the thresholds;
    a bare Ⅲ is recorded as Ⅲ, not silently Ⅲ-1, and is due for repair like Ⅲ-1/Ⅲ-2."""
    concrete = make_asset(world.yashio, "road_segment", external_id="R-C", pavement_type="concrete")
    asphalt = make_asset(world.yashio, "road_segment", external_id="R-A")
    assert record(world, concrete, observations={"crack_pct": "25"}).grade.code == "III"
    assert record(world, asphalt, observations={"crack_pct": "25"}).grade.code == "II"
    bare = record(world, asphalt, grade="Ⅲ", inspected_on="2025-07-01")
    assert (bare.grade.code, bare.grade_input) == ("III", "Ⅲ")
    assert AssetCondition.objects.get(asset=asphalt).action_due_on == datetime.date(2030, 7, 1)
    with pytest.raises(ValidationError) as exc:
        record(world, concrete, observations={"rut_mm": "12"})
    assert "observations.rut_mm" in exc.value.message_dict


def test_minor_roads_and_ordinary_pipes_have_no_legal_cycle(world):
    road = make_asset(world.yashio, "road_segment", road_class="municipal_other", external_id="R-2")
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="P-2")
    record(world, road, grade="I")
    record(world, pipe, grade="III")
    assert AssetCondition.objects.get(asset=road).next_due_on is None
    assert AssetCondition.objects.get(asset=pipe).next_due_on is None


def test_corrosion_prone_sewer_urgency_I_must_be_acted_on_within_a_year(world):
    """domain.md §2.4.1: two items at A (腐食, たるみ) make 緊急度Ⅰ (one A alone is Ⅱ since issue 14)."""
    pipe = make_asset(world.yashio, "sewer_pipe", is_corrosion_prone=True)
    insp = record(world, pipe, observations={"span": {"corrosion": "A", "sag": "A"}})
    assert insp.grade.code == "I" and insp.method == "TVカメラ"
    c = AssetCondition.objects.get(asset=pipe)
    assert c.next_due_on == datetime.date(2030, 6, 10)
    assert c.action_due_on == datetime.date(2026, 6, 10)


def test_septic_article_11_is_yearly(world):
    tank = make_asset(world.yashio, "septic_tank")
    insp = record(world, tank, grade="概ね適正", legal_basis="第11条")
    assert (insp.grade.code, insp.legal_basis) == ("mostly_proper", "11条")
    assert AssetCondition.objects.get(asset=tank).next_due_on == datetime.date(2026, 6, 10)


def test_septic_needs_to_say_which_statutory_inspection(world):
    tank = make_asset(world.yashio, "septic_tank")
    with pytest.raises(ValidationError) as exc:
        record(world, tank, grade="適正")
    assert "7条, 11条" in exc.value.message_dict["legal_basis"][0]


def test_septic_maintenance_records_do_not_change_the_condition(world):
    tank = make_asset(world.yashio, "septic_tank")
    record(world, tank, grade="適正", legal_basis="11条")
    record(world, tank, scheme="septic_maintenance", grade="清掃", inspected_on="2025-08-01")
    c = AssetCondition.objects.get(asset=tank)
    assert c.grade.code == "proper" and c.inspected_on == datetime.date(2025, 6, 10)


def test_manhole_inspection(world):
    mh = make_asset(world.yashio, "manhole")
    assert record(world, mh, grade="2").grade.code == "II"


def test_a_new_never_inspected_bridge_is_due_at_once(world):
    bridge = make_asset(world.yashio, "bridge", built=1970)
    assert AssetCondition.objects.get(asset=bridge).next_due_on == datetime.date(2019, 7, 1)


def test_history_records_inspection_changes(world):
    bridge = make_asset(world.yashio, "bridge")
    insp = record(world, bridge, grade="II")
    inspection_update(actor=Actor(world.alice, Via.API), inspection=insp, data={"grade": "III", "notes": "再判定"})
    recs = list(ChangeRecord.objects.filter(content_type__model="inspection", object_id=str(insp.pk)).order_by("id"))
    assert [r.action for r in recs] == ["create", "update"]
    assert recs[1].before["grade"] == "II" and recs[1].after["grade"] == "III" and recs[1].via == "api"
    assert AssetCondition.objects.get(asset=bridge).grade.code == "III"
    inspection_delete(actor=Actor(world.alice, Via.UI), inspection=insp, reason="誤登録")
    assert ChangeRecord.objects.filter(object_id=str(insp.pk), action="delete", content_type__model="inspection").exists()
    assert AssetCondition.objects.get(asset=bridge).grade is None


# ---- bad input: refused with field and allowed values, nothing stored ------------------------------
def nothing_stored():
    return Inspection.objects.count() == 0 and InspectionPhoto.objects.count() == 0


def test_a_grade_outside_the_scheme_is_refused(world):
    bridge = make_asset(world.yashio, "bridge")
    with pytest.raises(ValidationError) as exc:
        record(world, bridge, grade="適正")
    assert "allowed: I (Ⅰ 健全), II" in exc.value.message_dict["grade"][0]
    assert nothing_stored()


def test_a_date_in_the_future_is_refused(world):
    bridge = make_asset(world.yashio, "bridge")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        record(world, bridge, grade="I", inspected_on=tomorrow.isoformat())
    assert "future" in exc.value.message_dict["inspected_on"][0]
    assert nothing_stored()


def test_an_asset_of_another_municipality_is_refused(world):
    bridge = make_asset(world.yashio, "bridge")
    for persona in (world.charlie, world.bob, world.carol, world.victor):
        with pytest.raises(PermissionDenied):
            inspection_record(actor=Actor(persona, Via.UI), asset=bridge, inspected_on="2025-06-10", grade="I")
    assert nothing_stored()


def test_photos_are_stored_with_thumbnails(world, media):
    bridge = make_asset(world.yashio, "bridge")
    heic = pytest.importorskip("pillow_heif") and jpeg_bytes(fmt="HEIF")
    insp = record(world, bridge, grade="I", photos=[
        SimpleUploadedFile("deck.jpg", jpeg_bytes(), "image/jpeg"),
        SimpleUploadedFile("bearing.png", jpeg_bytes(fmt="PNG"), "image/png"),
        SimpleUploadedFile("IMG_0001.HEIC", heic, "image/heic"),
    ])
    photos = list(insp.photos.order_by("id"))
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png", "image/heic"]
    assert all((media / p.thumbnail.name).exists() and (media / p.image.name).exists() for p in photos)
    assert photos[0].width == 64


def test_a_non_image_photo_is_refused_and_nothing_is_stored(world, media):
    bridge = make_asset(world.yashio, "bridge")
    with pytest.raises(ValidationError) as exc:
        record(world, bridge, grade="I", photos=[SimpleUploadedFile("ok.jpg", jpeg_bytes(), "image/jpeg"),
                                                 SimpleUploadedFile("report.pdf", b"%PDF-1.4 ...", "image/jpeg")])
    assert "allowed: JPEG, PNG, HEIC" in exc.value.message_dict["photos[2]"][0]
    assert nothing_stored() and not any(media.rglob("*.*"))


def test_an_oversized_photo_is_refused(world, media):
    bridge = make_asset(world.yashio, "bridge")
    big = SimpleUploadedFile("huge.jpg", b"\xff\xd8" + b"0" * (15 * 1024 * 1024 + 1), "image/jpeg")
    with pytest.raises(ValidationError) as exc:
        record(world, bridge, grade="I", photos=[big])
    assert "15 MB" in exc.value.message_dict["photos[1]"][0]
    assert nothing_stored()


@pytest.mark.parametrize("text, day", [("2024-05-01", (2024, 5, 1)), ("2024/5/1", (2024, 5, 1)),
                                       ("R6.5.1", (2024, 5, 1)), ("令和6年5月1日", (2024, 5, 1)),
                                       ("H31.4.30", (2019, 4, 30)), ("令和元年5月1日", (2019, 5, 1)),
                                       ("２０２４年５月１日", (2024, 5, 1))])
def test_dates_are_read_in_every_common_spelling(text, day):
    assert parse_date(text) == datetime.date(*day)


def test_a_bad_date_names_the_accepted_spellings():
    with pytest.raises(ValidationError) as exc:
        parse_date("2024-13-01")
    assert "R6.5.1" in exc.value.message_dict["inspected_on"][0]
