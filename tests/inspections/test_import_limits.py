"""Inspection CSV files that must be refused, naming the record and field, with nothing stored: NUL bytes,
和暦 dates outside their era, a column given twice, files over the size limit; and a capped error report."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from assets.history import Actor
from assets.models import Via
from inspections.importing import MAX_ERRORS_SHOWN, MAX_UPLOAD_BYTES, import_csv
from inspections.models import Inspection
from tests.conftest import make_asset


@pytest.fixture
def bridges(world):
    return [make_asset(world.yashio, "bridge", external_id=f"BR-{i}") for i in range(1, 4)]


def run(world, text: str):
    return import_csv(actor=Actor(world.alice, Via.IMPORT), data=text.encode("utf-8"))


def test_a_nul_byte_is_refused_naming_record_and_field(client, world, bridges):
    text = "団体コード,橋梁ID,点検日,判定区分,備考\r\n112348,BR-1,2024-07-01,Ⅱ,ok\r\n112348,BR-2,2024-07-02,Ⅱ,a\x00b\r\n"
    client.force_login(world.alice)
    r = client.post("/api/v1/inspections/import", {"file": SimpleUploadedFile("i.csv", text.encode())},
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422, r.content
    assert r.json()["errors"] == ["Record 2 (line 3) notes: contains U+0000 (a control character) at character 2; "
                                  "it is not allowed"]
    assert Inspection.objects.count() == 0


@pytest.mark.parametrize("date, message", [
    ("平成99年4月1日", "平成 runs 平成元年–平成31年 (1989–2019)"),
    ("H99.4.1", "平成 runs 平成元年–平成31年"),
    ("昭和0年4月1日", "昭和 runs 昭和元年–昭和64年"),
    ("R0.4.1", "令和元年 (2019) onwards"),
])
def test_wareki_dates_outside_their_era_are_refused(world, bridges, date, message):
    report = run(world, f"団体コード,橋梁ID,点検日,判定区分\r\n112348,BR-1,{date},Ⅱ\r\n112348,BR-2,H31.4.30,Ⅱ\r\n")
    assert report.errors and all(e.startswith("Record 1 (line 2) inspected_on: ") for e in report.errors)
    assert message in report.errors[0], report.errors
    assert Inspection.objects.count() == 0


def test_a_column_given_twice_is_refused_naming_both(world, bridges):
    with pytest.raises(ValidationError) as exc:
        run(world, "団体コード,橋梁ID,点検日,判定区分,点検年月日\r\n112348,BR-1,2024-07-01,Ⅱ,2020-07-01\r\n")
    text = " ".join(exc.value.messages)
    assert "3 ('点検日')" in text and "5 ('点検年月日')" in text and "inspected_on" in text
    assert Inspection.objects.count() == 0


def test_a_file_over_the_limit_is_refused_before_it_is_read(client, world, bridges):
    big = ("団体コード,橋梁ID,点検日,判定区分,備考\r\n" + "112348,BR-1,2024-07-01,Ⅱ," + "x" * (MAX_UPLOAD_BYTES + 10)
           + "\r\n").encode()
    client.force_login(world.alice)
    r = client.post("/api/v1/inspections/import", {"file": SimpleUploadedFile("big.csv", big)})
    assert r.status_code == 413 and f"{MAX_UPLOAD_BYTES // 2**20} MB" in r.json()["detail"]
    with translation.override("en"), pytest.raises(ValidationError, match="at most 20 MB"):
        import_csv(actor=Actor(world.alice, Via.IMPORT), data=big)
    assert Inspection.objects.count() == 0


def test_many_bad_rows_report_the_first_thousand_and_the_count(client, world, bridges):
    n = 3000
    text = "団体コード,橋梁ID,点検日,判定区分\r\n" + "".join(f"112348,BR-1,2024-07-01,Ⅸ{k}\r\n" for k in range(n))
    client.force_login(world.alice)
    r = client.post("/api/v1/inspections/import", {"file": SimpleUploadedFile("i.csv", text.encode())},
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422
    body = r.json()
    assert len(body["errors"]) == MAX_ERRORS_SHOWN and body["error_count"] == n
    assert body["errors"][0].startswith("Record 1 (line 2) grade")
    assert Inspection.objects.count() == 0
