"""Bulk CSV import: every bad row reported, nothing stored unless all rows are good."""

import pytest
from django.test import Client

from assets.history import Actor
from assets.models import Via
from inspections.importing import import_csv
from inspections.models import AssetCondition, Inspection
from tests.conftest import make_asset


@pytest.fixture
def bridges(world):
    return [make_asset(world.yashio, "bridge", external_id=f"BR0-112348-{i:05d}") for i in range(1, 4)]


def ledger_csv(rows: list[str]) -> str:
    # Title row, date row, header with a line break inside a cell: how prefectures publish them.
    return "\r\n".join(["八潮市 橋梁点検結果一覧", "令和7年3月31日現在",
                        '団体コード,橋梁ID,"点検\n年月日",判定区分,点検方法,備考', *rows]) + "\r\n"


def test_a_cp932_ledger_file_imports(world, bridges):
    text = ledger_csv(["11234,BR0-112348-00001,R6.7.1,Ⅲ,近接目視,①主桁腐食",
                       "112348,BR0-112348-00002,2024/7/2,判定2,,",
                       "112348,BR0-112348-00003,令和6年7月3日,１,,"])
    report = import_csv(actor=Actor(world.alice, Via.IMPORT), data=text.encode("cp932"))
    assert report.ok, report.errors
    assert (report.encoding, report.rows, report.created) == ("cp932", 3, 3)
    assert sorted(Inspection.objects.values_list("grade__code", flat=True)) == ["I", "II", "III"]
    assert Inspection.objects.get(grade__code="III").notes == "①主桁腐食"
    assert AssetCondition.objects.filter(grade__isnull=False).count() == 3


def test_utf8_with_bom_and_global_ids(world, bridges):
    text = "\ufeff共通ID,点検日,判定\r\n" + f"{bridges[0].global_id},2024-05-01,Ⅱ\r\n"
    report = import_csv(actor=Actor(world.alice, Via.IMPORT), data=text.encode("utf-8"))
    assert report.ok and report.encoding == "utf-8-sig" and report.created == 1


def test_one_bad_row_stores_nothing_and_every_bad_row_is_reported(world, bridges):
    soka_bridge = make_asset(world.soka, "bridge", external_id="BR0-112216-00001", lon=139.805, lat=35.825)
    text = ledger_csv(["112348,BR0-112348-00001,R6.7.1,Ⅲ,,",
                       "112348,BR0-112348-00002,2099-01-01,Ⅱ,,",
                       "112348,BR0-112348-00003,R6.7.1,Ⅴ,,",
                       "112349,BR0-112348-00003,R6.7.1,Ⅰ,,",
                       f"112216,{soka_bridge.external_id},R6.7.1,Ⅰ,,",
                       "112348,BR0-112348-99999,R6.7.1,Ⅰ,,"])
    report = import_csv(actor=Actor(world.alice, Via.IMPORT), data=text.encode("utf-8"))
    assert not report.ok and report.created == 0
    assert Inspection.objects.count() == 0
    joined = "\n".join(report.errors)
    assert "Record 2 (line 5) inspected_on:" in joined
    assert "Record 3 (line 6) grade:" in joined and "allowed" in joined
    assert "Record 4 (line 7) municipality:" in joined and "112348" in joined
    assert "Record 5 (line 8) external_id:" in joined
    assert "Record 6 (line 9) external_id:" in joined
    assert len(report.errors) == 5


def test_dry_run_reports_without_storing(world, bridges):
    text = ledger_csv(["112348,BR0-112348-00001,R6.7.1,Ⅲ,,"])
    report = import_csv(actor=Actor(world.alice, Via.IMPORT), data=text.encode("utf-8"), dry_run=True)
    assert report.ok and report.created == 1 and Inspection.objects.count() == 0


def test_import_over_the_api(world, bridges):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = Client()
    c.force_login(world.alice)
    bad = ledger_csv(["112348,BR0-112348-00001,R6.7.1,Ⅵ,,"]).encode("cp932")
    r = c.post("/api/v1/inspections/import", {"file": SimpleUploadedFile("kyoryo.csv", bad, "text/csv")})
    assert r.status_code == 422 and r.json()["errors"][0].startswith("Record 1 (line 4) grade:")
    good = ledger_csv(["112348,BR0-112348-00001,R6.7.1,Ⅲ,,"]).encode("cp932")
    r = c.post("/api/v1/inspections/import", {"file": SimpleUploadedFile("kyoryo.csv", good, "text/csv")})
    assert r.status_code == 200 and r.json()["created"] == 1


def test_a_file_without_a_header_is_refused(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        import_csv(actor=Actor(world.alice, Via.IMPORT), data=b"a,b\n1,2\n")
    assert "点検日" in exc.value.message_dict["file"][0]


def test_newer_observation_columns(world):
    """Issue 15: the CSV carries every observation the grading rules read — 舗装点検要領 (domain.md §2.3) 目地部の段差
    and 目地材の飛散 for concrete, MCI alone; 下水道維持管理指針 (§2.4.1) span grades, pipe count and per-pipe rows
    (`item:grade[@metres][#pipe]`, Japanese item names allowed)."""
    road = make_asset(world.yashio, "road_segment", external_id="R-1", pavement_type="concrete")
    asphalt = make_asset(world.yashio, "road_segment", external_id="R-2")
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="S-1")
    text = ("共通ID,点検日,目地部の段差,目地材の飛散,MCI,管の腐食,管本数,管1本ごとの不良\r\n"
            f"{road.global_id},2025-05-01,3,あり,,,,\r\n"
            f"{asphalt.global_id},2025-05-01,,,2.5,,,\r\n"
            f"{pipe.global_id},2025-05-01,,,,B,10,クラック:b@4.5#3; joint:b#3; roots:c\r\n")
    report = import_csv(actor=Actor(world.alice, Via.IMPORT), data=text.encode("utf-8"))
    assert report.ok, report.errors
    by_asset = {i.asset_id: i for i in Inspection.objects.all()}
    assert by_asset[road.pk].grade.code == "II"  # step below 5 mm, but the sealant is lost → Ⅱ
    assert by_asset[asphalt.pk].grade.code == "III"  # MCI ≤ 3
    obs = by_asset[pipe.pk].observations
    assert obs["span"] == {"corrosion": "B"} and obs["pipe_count"] == "10"
    assert obs["pipes"][0] == {"item": "crack", "grade": "b", "at_m": 4.5, "pipe": 3}
    assert obs["derived"]["defect_shares"]["c"] == 0.2


def test_a_malformed_pipe_column_names_the_row(world):
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="S-1")
    text = f"共通ID,点検日,管本数,pipes\r\n{pipe.global_id},2025-05-01,10,crack=b\r\n"
    report = import_csv(actor=Actor(world.alice, Via.IMPORT), data=text.encode("utf-8"))
    assert not report.ok and report.errors[0].startswith("Record 1 (line 2) pipes: part 1 (crack=b)")
    assert Inspection.objects.count() == 0
