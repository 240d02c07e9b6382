"""Issue 16, "take incomplete records, and show the gaps": a new asset needs only its ledger id, its place and its
kind; inspections a ledger carries are recorded once; a ledger of several municipalities goes to each owner."""

import datetime

from django.contrib.gis.geos import Point

from assets.history import Actor
from assets.models import Asset, Via
from assets.services import asset_create, asset_update
from inspections.models import Inspection
from ledger.completeness import completeness, totals
from ledger.importer import import_ledger

SYSTEM = Actor.system(Via.IMPORT)


def run(lines, kind="sewer_pipe", **kw):
    kw.setdefault("municipality", "112348")
    kw.setdefault("actor", SYSTEM)
    return import_ledger(data="\r\n".join(lines).encode("cp932"), filename="daicho.csv", kind=kind, **kw)


def test_a_new_record_needs_only_its_id_and_place_the_rest_is_stored_empty_with_a_warning(world):
    """Issue 16: every attribute but the ledger id, the location and the kind may be unknown — stored NULL with a
    warning naming the field and the records, never a refusal."""
    report = run(["管渠番号,始点経度,始点緯度,終点経度,終点緯度",
                  "K-1,139.839,35.822,139.8395,35.822", "K-2,139.840,35.822,139.8405,35.822"])
    assert report.ok, report.errors
    assert report.created == 2
    pipe = Asset.objects.select_related("sewer_pipe").get(external_id="K-1").sewer_pipe
    assert (pipe.diameter_mm, pipe.material, pipe.length_m, pipe.drainage_system) == (None, None, None, None)
    assert report.missing == {"built_fiscal_year": 2, "detail.drainage_system": 2, "detail.material": 2,
                              "detail.diameter_mm": 2, "detail.length_m": 2}
    assert any("detail.diameter_mm" in w and "2 new records" in w and "既定値で推計" in w for w in report.warnings)


def test_an_invalid_value_is_still_refused_with_row_field_and_allowed_values(world):
    """Issue 16: a value that cannot be read (a number that is none) is refused, nothing written; a word of a
    local vocabulary the catalogue does not know is stored empty with a warning naming it, its column and the
    allowed values, to be mapped on the upload page (the registry takes ledgers in as they are)."""
    report = run(["管渠番号,管径,始点経度,始点緯度,終点経度,終点緯度", "K-1,太い,139.839,35.822,139.8395,35.822"])
    assert not report.ok and Asset.objects.count() == 0
    assert report.errors[0].startswith("Record 1 (line 2) detail.diameter_mm: '太い' is not a number")
    report = run(["管渠番号,管種,始点経度,始点緯度,終点経度,終点緯度", "K-1,鉄,139.839,35.822,139.8395,35.822"])
    assert report.ok and Asset.objects.get(external_id="K-1").sewer_pipe.material is None
    assert any("unknown value '鉄' in column '管種'; allowed: " in w for w in report.warnings), report.warnings


def test_a_blank_key_attribute_on_update_keeps_the_stored_value(world):
    """A ledger leaving 管径 blank has not said the pipe lost its diameter (the key attributes are kept)."""
    run(["管渠番号,管径,始点経度,始点緯度,終点経度,終点緯度", "K-1,300,139.839,35.822,139.8395,35.822"])
    again = run(["管渠番号,管径,管種,始点経度,始点緯度,終点経度,終点緯度", "K-1,,塩ビ管,139.839,35.822,139.8395,35.822"])
    assert again.ok, again.errors
    pipe = Asset.objects.select_related("sewer_pipe").get(external_id="K-1").sewer_pipe
    assert (pipe.diameter_mm, pipe.material) == (300, "pvc")


def test_the_services_create_a_bridge_with_nothing_but_its_place(world):
    """Issue 16 for the registry's own write path (API, admin): a bridge without 橋長, 幅員, 構造形式, 交差物."""
    b = asset_create(actor=Actor.system(Via.SYSTEM), owner=world.yashio, kind="bridge", geom=Point(139.839, 35.822,
                     srid=6668), external_id="B-1", detail={})
    assert (b.bridge.length_m, b.bridge.structure_type, b.bridge.crosses) == (None, None, None)
    asset_update(actor=Actor.system(Via.SYSTEM), asset=b, detail={"length_m": 12.5})
    b.bridge.refresh_from_db()
    assert b.bridge.length_m == 12.5


BRIDGES = ["橋梁ID,経度,緯度,点検年度,判定区分", "BR-1,139.839,35.822,R5,Ⅲ", "BR-2,139.840,35.823,2022,2",
           "BR-3,139.841,35.824,,"]


def test_a_ledgers_inspection_results_are_recorded_once(world):
    """Issue 16: a ledger with 点検年度 and 判定区分 records those inspections through the inspection import's grade
    normalisation (Ⅲ, 2 → the scheme's grades); a 点検年度 alone is dated 1 April, the 年度's first day (the
    documented convention, so the next 定期点検 is never due later than the real one); sending it again adds none."""
    report = run(BRIDGES, kind="bridge")
    assert report.ok, report.errors
    assert (report.inspections_recorded, report.inspections_present) == (2, 0)
    first = Inspection.objects.select_related("grade").get(asset__external_id="BR-1")
    assert first.inspected_on == datetime.date(2023, 4, 1) and first.grade.rank == 2
    assert "1 April" in first.notes
    assert Inspection.objects.get(asset__external_id="BR-2").grade.rank == 1
    again = run(BRIDGES, kind="bridge")
    assert (again.inspections_recorded, again.inspections_present) == (0, 2)
    assert Inspection.objects.count() == 2
    assert "inspections: 0 recorded, 2 already present" in again.summary()


def test_an_inspection_day_is_used_and_must_lie_in_its_year(world):
    """点検年月日 gives the day; with a 点検年度 beside it both must agree (a 年度 runs April–March, domain.md §7)."""
    ok = run(["橋梁ID,経度,緯度,点検年月日,健全性", "BR-1,139.839,35.822,R6.5.10,Ⅱ"], kind="bridge")
    assert ok.ok, ok.errors
    assert Inspection.objects.get().inspected_on == datetime.date(2024, 5, 10)
    bad = run(["橋梁ID,経度,緯度,点検年度,点検年月日,健全性", "BR-2,139.839,35.822,2023,2024-05-10,Ⅱ"], kind="bridge")
    assert not bad.ok and "not in the 点検年度 2023" in bad.errors[0]
    assert not Asset.objects.filter(external_id="BR-2").exists()


def test_a_bad_grade_refuses_the_file_naming_the_allowed_grades(world):
    report = run(["橋梁ID,経度,緯度,点検年度,判定区分", "BR-1,139.839,35.822,2023,Ⅴ"], kind="bridge")
    assert not report.ok
    assert report.errors[0].startswith("Record 1 (line 2) grade:") and "allowed" in report.errors[0]
    assert Asset.objects.count() == 0 and Inspection.objects.count() == 0


MULTI = ["市町村,マンホール番号,経度,緯度", "八潮市,M-1,139.839,35.822", "埼玉県草加市,M-2,139.805,35.825"]


def test_a_ledger_of_several_municipalities_goes_row_by_row_to_each_owner(world):
    """Issue 16: a 市町村 column puts each row with its owner when the importer may write for all of them."""
    report = run(MULTI, kind="manhole", municipality=None, actor=Actor(world.admin, Via.IMPORT))
    assert report.ok, report.errors
    assert dict(Asset.objects.values_list("external_id", "owner_id")) == {"M-1": "112348", "M-2": "112216"}


def test_rows_the_importer_may_not_write_are_named_and_nothing_is_written(world):
    """Issue 16: the rows refused are named by number and municipality; the import is one transaction, so the rows
    the importer could write are not written either."""
    report = run(MULTI, kind="manhole", municipality=None, actor=Actor(world.alice, Via.IMPORT))
    assert report.errors == ["Record 2 (line 3) owner: you may not write 112216 (草加市)'s ledger ledger"]
    assert Asset.objects.count() == 0


def test_an_unknown_municipality_name_is_refused(world):
    report = run(["市町村,マンホール番号,経度,緯度", "どこか村,M-1,139.839,35.822"], kind="manhole", municipality=None)
    assert report.errors == ["Record 1 (line 2) owner: no municipality named どこか村 is registered"]


def test_completeness_counts_per_municipality_and_kind_in_one_query(world, django_assert_max_num_queries):
    """Issue 16: data completeness per municipality and kind (share with built year, size, material, traffic)."""
    run(["管渠番号,管径,延長,管種,布設年度,始点経度,始点緯度,終点経度,終点緯度",
         "K-1,300,40,ヒューム管,S50,139.839,35.822,139.8395,35.822", "K-2,,,,,139.840,35.822,139.8405,35.822"])
    with django_assert_max_num_queries(1):
        rows = completeness(["112348", "112216"])
    assert rows == [{"owner": "112348", "owner_name": "八潮市", "kind": "sewer_pipe", "assets": 2, "built": 0.5,
                     "size": 0.5, "material": 0.5, "traffic": None, "inspected": 0.0}]
    assert totals(rows)["built"] == 0.5
