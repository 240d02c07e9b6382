"""Ledger values that must be refused, not stored or crashed on: too long, beyond their column type or any sense,
not finite, NUL, 和暦 years outside their era, columns named twice, rows of another municipality, coordinates
far out; the error report of a huge bad file is capped; an export imports back exactly."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from assets.history import Actor
from assets.models import ApiToken, Asset, ChangeRecord, Via
from ledger.importer import MAX_ERRORS_SHOWN, import_ledger

SYSTEM = Actor.system(Via.IMPORT)


@pytest.fixture
def token(world):
    _t, key = ApiToken.issue(name="下水道台帳システム", municipality=world.yashio, source="gesuido")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ACCEPT_LANGUAGE": "en"}


def pipe(k: int, **values) -> dict:
    rec = {"管渠番号": f"K-{k}", "名称": f"幹線{k}", "管種": "ヒューム管", "管径": 300, "延長": 40.5, "排除方式": "汚水",
           "布設年度": "S48", "geometry": {"type": "LineString",
                                       "coordinates": [[139.835 + k * 1e-4, 35.822], [139.8355 + k * 1e-4, 35.822]]}}
    rec.update(values)
    return rec


def upsert(client, token, records, kind="sewer_pipe", **extra):
    body = {"kind": kind, "records": records, **extra}
    return client.post("/api/v1/ledger/upsert", json.dumps(body), content_type="application/json", **token)


def post_file(client, token, text: str, kind="sewer_pipe", name="ledger.csv", encoding="utf-8", **form):
    return client.post("/api/v1/ledger/import", {"file": SimpleUploadedFile(name, text.encode(encoding)),
                                                 "kind": kind, **form}, **token)


def unchanged():
    return Asset.objects.count(), ChangeRecord.objects.count()


def has(errors: list[str], record: int, field: str, *words: str) -> bool:
    return any(e.startswith(f"Record {record} ") and f" {field}: " in e and all(w in e for w in words)
               for e in errors)


def test_values_beyond_their_column_are_refused_naming_record_field_and_range(client, world, token):
    before = unchanged()
    r = upsert(client, token, [pipe(1, 管渠番号="K" * 65), pipe(2, 名称="名" * 201), pipe(3, 管径=99999999999),
                               pipe(4, 管径=-300), pipe(5), pipe(6, 延長=1e9)])
    assert r.status_code == 422, r.content
    errors = r.json()["errors"]
    assert has(errors, 1, "external_id", "65 characters", "at most 64")
    assert has(errors, 2, "name", "201 characters", "at most 200")
    assert has(errors, 3, "detail.diameter_mm", "99999999999", "1 to 12,000")
    assert has(errors, 4, "detail.diameter_mm", "-300", "1 to 12,000")
    assert has(errors, 6, "detail.length_m", "more than 0 and at most 100,000")
    assert not any(e.startswith("Record 5 ") for e in errors)
    assert unchanged() == before
    septic = {"浄化槽番号": "J-1", "処理方式区分": "合併", "人槽": 40000,
              "geometry": {"type": "Point", "coordinates": [139.839, 35.822]}}
    r = upsert(client, token, [septic], kind="septic_tank")
    assert r.status_code == 422 and has(r.json()["errors"], 1, "detail.capacity_persons", "40000", "1 to 30,000")
    assert unchanged() == before


def test_infinite_and_nan_lengths_are_refused(client, world, token):
    r = post_file(client, token, "管渠番号,管種,管径,延長,排除方式,経度,緯度\n"
                                 "K-1,ヒューム管,300,inf,汚水,139.839,35.822\n"
                                 "K-2,ヒューム管,300,NaN,汚水,139.839,35.823\n"
                                 "K-3,ヒューム管,300,1e999,汚水,139.839,35.824\n", kind="sewer_pipe")
    assert r.status_code == 422, r.content
    errors = r.json()["errors"]
    for n, word in ((1, "inf"), (2, "NaN"), (3, "1e999")):
        assert has(errors, n, "detail.length_m", word, "not a finite number"), errors
    assert Asset.objects.count() == 0


def test_nul_bytes_in_a_csv_cell_are_refused_and_named(client, world, token):
    r = post_file(client, token, "マンホール番号,名称,経度,緯度\nM-1,ok,139.839,35.822\nM-2,bad\x00name,139.839,35.823\n",
                  kind="manhole")
    assert r.status_code == 422, r.content
    # The CSV reader refuses NUL bytes before any cell is read, naming the line (record 2 is on line 3).
    assert any("Line 3" in m and "NUL" in m for m in r.json()["errors"]["file"]), r.json()
    r = upsert(client, token, [{"マンホール番号": "M-\x00", "名称": "x",
                                "geometry": {"type": "Point", "coordinates": [139.839, 35.822]}}], kind="manhole")
    # Refused before any view by the API's JSON check, which names the record and field by their JSON path.
    assert r.status_code == 422 and "records[0].マンホール番号" in r.json()["errors"], r.json()
    assert Asset.objects.count() == 0


@pytest.mark.parametrize("spelling, message", [
    ("平成99年", "平成 runs 平成元年–平成31年 (1989–2019)"),
    ("昭和0年", "昭和 runs 昭和元年–昭和64年 (1926–1989)"),
    ("H32", "平成 runs"),
    ("大正16年度", "大正元年–大正15年"),
    ("明治46年", "明治元年–明治45年"),
    ("R0", "令和元年 (2019) onwards"),
])
def test_wareki_years_outside_their_era_are_refused_with_the_range(world, spelling, message):
    lines = ["マンホール番号,設置年度,経度,緯度", f"M-1,{spelling},139.839,35.822", "M-2,平成31年,139.839,35.823",
             "M-3,昭和64年,139.839,35.824", "M-4,令和元年,139.839,35.825", "M-5,明治45年,139.839,35.826"]
    report = import_ledger(actor=SYSTEM, data="\n".join(lines).encode(), filename="mh.csv", kind="manhole",
                           municipality="112348")
    assert not report.ok and len(report.errors) == 1, report.errors
    assert has(report.errors, 1, "built_fiscal_year", message), report.errors
    assert Asset.objects.count() == 0
    fixed = "\n".join(lines).replace(spelling, "S48").encode()
    report = import_ledger(actor=SYSTEM, data=fixed, filename="mh.csv", kind="manhole", municipality="112348")
    assert report.ok and report.created == 5
    assert sorted(Asset.objects.values_list("built_fiscal_year", flat=True)) == [1912, 1973, 1989, 2019, 2019]


def test_a_field_named_by_two_columns_is_read_from_neither_and_both_are_named(client, world, token):
    """Issue 16: which of 深さ and 人孔深 is right cannot be guessed; a warning names both and the field, neither
    is read (the record is still loaded), and both are listed as columns not read."""
    r = post_file(client, token, "マンホール番号,深さ,経度,緯度,人孔深\nM-1,2.0,139.839,35.822,9.0\n", kind="manhole")
    assert r.status_code == 200, r.content
    message = json.dumps(r.json()["warnings"], ensure_ascii=False)
    assert "2 ('深さ')" in message and "5 ('人孔深')" in message and "detail.depth_m" in message
    assert {i["column"] for i in r.json()["ignored"]} == {"深さ", "人孔深"}
    assert Asset.objects.get().manhole.depth_m is None


def test_two_id_columns_are_refused_naming_both(client, world, token):
    r = post_file(client, token, "マンホール番号,人孔番号,経度,緯度\nM-1,M-1,139.839,35.822\n", kind="manhole")
    assert r.status_code == 422, r.content
    message = json.dumps(r.json(), ensure_ascii=False)
    assert "1 ('マンホール番号')" in message and "2 ('人孔番号')" in message
    assert Asset.objects.count() == 0


def test_the_command_refuses_rows_of_another_municipality_than_the_one_given(world, tmp_path):
    path = tmp_path / "mh.csv"
    path.write_text("団体コード,マンホール番号,経度,緯度\n112348,M-1,139.839,35.822\n112216,M-2,139.805,35.825\n"
                    "11234,M-3,139.839,35.823\n", encoding="cp932")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path), kind="manhole", municipality="112348", stdout=out)
    assert "Record 2 (line 3) owner: 団体コード 112216 differs from the municipality this import is for (112348)" \
        in out.getvalue()
    assert "Record 1 " not in out.getvalue() and "Record 3 " not in out.getvalue()
    assert Asset.objects.count() == 0
    # Without --municipality the file may hold several municipalities (the system may write them all).
    call_command("import_ledger", str(path), kind="manhole", stdout=io.StringIO())
    assert sorted(Asset.objects.values_list("owner_id", flat=True)) == ["112216", "112348", "112348"]


@pytest.mark.parametrize("header, row, field", [
    ("経度,緯度", "1e308,0", "lon/lat"),
    ("経度,緯度", "inf,35.8", "lon/lat"),
    ("経度,緯度", "35.822,139.839", "lon/lat"),
    ("始点経度,始点緯度,終点経度,終点緯度", "139.839,35.822,1e300,35.822", "lon1/lat1"),
])
def test_coordinates_far_out_are_refused_before_a_geometry_is_built(world, header, row, field):
    kind = "sewer_pipe" if "始点" in header else "manhole"
    extra = ",管種,管径,延長,排除方式" if kind == "sewer_pipe" else ""
    values = ",ヒューム管,300,40,汚水" if kind == "sewer_pipe" else ""
    text = f"台帳番号,{header}{extra}\nA-1,{row}{values}\n"
    report = import_ledger(actor=SYSTEM, data=text.encode(), filename="x.csv", kind=kind, municipality="112348")
    assert has(report.errors, 1, field, "Longitude must be a number from 122.0 to 154.5"), report.errors
    if row.startswith("35.822"):
        assert "swapped" in report.errors[0]
    assert Asset.objects.count() == 0


def test_plane_coordinates_far_out_are_refused(world):
    text = "台帳番号,X座標,Y座標\nA-1,1e308,514\nA-2,-19750,nan\nA-3,-19750,514\n"
    report = import_ledger(actor=SYSTEM, data=text.encode(), filename="x.csv", kind="manhole", municipality="112348",
                           srid=6677)
    assert has(report.errors, 1, "plane_x/plane_y", "between -3,000,000 and 3,000,000"), report.errors
    assert has(report.errors, 2, "plane_x/plane_y", "between"), report.errors
    assert not any(e.startswith("Record 3 ") for e in report.errors)


def test_wkt_far_out_is_refused(world):
    text = '台帳番号,形状(WKT)\nA-1,"POINT (1e308 1e308)"\nA-2,"POINT (139.839 35.822)"\n'
    report = import_ledger(actor=SYSTEM, data=text.encode(), filename="x.csv", kind="manhole", municipality="112348")
    assert has(report.errors, 1, "wkt", "far out of range"), report.errors
    assert len(report.errors) == 1


def test_a_file_of_many_bad_rows_reports_the_first_thousand_and_the_count(client, world, token, settings):
    # Checked in the request here; above LEDGER_ASYNC_ROWS the same report is kept with the background job
    # (tests/ledger/test_ledger_imports_kept.py).
    settings.LEDGER_ASYNC_ROWS = 100_000
    n = 30_000
    text = "マンホール番号,深さ,経度,緯度\n" + "".join(f"M-{k},deep,139.839,35.822\n" for k in range(n))
    r = post_file(client, token, text, kind="manhole")
    assert r.status_code == 422
    body = r.json()
    assert len(body["errors"]) == MAX_ERRORS_SHOWN and body["error_count"] == n and body["errors_truncated"]
    assert body["errors"][0].startswith("Record 1 (line 2) detail.depth_m") and \
        body["errors"][-1].startswith(f"Record {MAX_ERRORS_SHOWN} ")
    assert f"{n} bad records, {n} errors (the first {MAX_ERRORS_SHOWN} are listed)" in body["summary"]
    assert len(r.content) < 300_000
    assert Asset.objects.count() == 0


def test_export_and_import_round_trip_exactly(client, world, token):
    names = ["=HYPERLINK(\"http://x\")", "+81-3", "-12", "@SUM(A1)", "'=already quoted", "''=twice", "'plain",
             "普通の名前"]
    records = [{"マンホール番号": f"M-{k}", "名称": name, "深さ(m)": 2.0,
                "geometry": {"type": "Point", "coordinates": [139.835 + k * 0.0005, 35.822]}}
               for k, name in enumerate(names)]
    assert upsert(client, token, records, kind="manhole").json()["created"] == len(names)
    # Names as stored (the API takes them as given, with the quotes).
    stored = dict(Asset.objects.values_list("external_id", "name"))
    assert stored["M-0"] == names[0] and stored["M-5"] == "''=twice"
    history = ChangeRecord.objects.count()
    for fmt, encoding in (("csv-cp932", "cp932"), ("csv", "utf-8"), ("xlsx", None)):
        body = client.get(f"/api/v1/ledger/export?kind=manhole&format={fmt}", **token).content
        if fmt == "csv-cp932":
            assert "'=HYPERLINK" in body.decode(encoding)  # neutralised for Excel
        name = "out.xlsx" if fmt == "xlsx" else "out.csv"
        back = client.post("/api/v1/ledger/import", {"file": SimpleUploadedFile(name, body), "kind": "manhole"},
                           **token).json()
        assert (back["created"], back["updated"], back["unchanged"]) == (0, 0, len(names)), (fmt, back)
    assert dict(Asset.objects.values_list("external_id", "name")) == stored
    assert ChangeRecord.objects.count() == history


def test_cp932_export_refuses_characters_it_cannot_write_and_utf8_keeps_them(client, world, token):
    records = [{"マンホール番号": "M-1", "名称": "桜橋🌸", "geometry": {"type": "Point", "coordinates": [139.835, 35.822]}},
               {"マンホール番号": "M-2", "名称": "𠮷野", "geometry": {"type": "Point", "coordinates": [139.836, 35.822]}},
               {"マンホール番号": "M-3", "名称": "普通", "geometry": {"type": "Point", "coordinates": [139.837, 35.822]}}]
    assert upsert(client, token, records, kind="manhole").json()["created"] == 3
    r = client.get("/api/v1/ledger/export?kind=manhole&format=csv-cp932", **token)
    assert r.status_code == 422
    message = json.dumps(r.json(), ensure_ascii=False)
    gids = dict(Asset.objects.values_list("external_id", "global_id"))
    assert gids["M-1"] in message and gids["M-2"] in message and gids["M-3"] not in message
    assert "format=csv (UTF-8)" in message
    utf8 = client.get("/api/v1/ledger/export?kind=manhole&format=csv", **token)
    assert utf8.status_code == 200 and "桜橋🌸" in utf8.content.decode("utf-8")
    back = client.post("/api/v1/ledger/import", {"file": SimpleUploadedFile("out.csv", utf8.content),
                                                 "kind": "manhole"}, **token).json()
    assert (back["created"], back["updated"], back["unchanged"]) == (0, 0, 3), back
