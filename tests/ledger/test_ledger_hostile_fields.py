"""Hostile fields around the ledger (the upload page's srid, source, kind and column/value mapping; the 点検調書 and
the xlsx downloads fed with names holding formulas and control characters; two loads saving a mapping at once):
a 4xx naming the field and what it accepts, nothing stored, files that open as text."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from assets.models import Asset, ExternalId
from inspections.models import Inspection
from ledger.mappings import save_mapping
from ledger.models import LedgerImport, LedgerMapping
from tests.assets.test_races import together
from tests.conftest import make_asset

CSV = "管理番号,名称,延長,幅員,架設年度,緯度,経度,橋種\nB-9,学園橋,10,5,1990,35.822,139.839,ＲＣ\n".encode()
PAGE = {"kind": "bridge", "municipality": "112348", "action": "check"}


def _upload(client, **fields):
    return client.post("/en/ledger/import/", {**PAGE, "file": SimpleUploadedFile("b.csv", CSV), **fields})


@pytest.mark.parametrize(("field", "value", "named"), [
    ("srid", "9" * 40, "srid"),  # past a database integer: was a DataError (500)
    ("srid", "-1", "srid"),  # the row's check constraint: was an IntegrityError (500)
    ("srid", "2", "srid"),
    ("source", "x" * 200, "source"),  # past the column's 32/40 characters: was a DataError (500)
    ("source", "台帳\x01", "source"),
    ("kind", "castle", "kind"),
])
def test_a_field_outside_its_allowed_values_is_a_422_naming_it_and_no_import_is_kept(world, client, settings, tmp_path,
                                                                                      field, value, named):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.alice)
    r = _upload(client, **{field: value})
    assert r.status_code == 422 and r.context["error"].startswith(named), r.context["error"]
    assert not LedgerImport.objects.exists() and not Asset.objects.exists()


@pytest.mark.parametrize(("extra", "named"), [
    ({"colh-0": "延長", "col-0": "detail.no_such_field"}, "detail.no_such_field"),  # was a KeyError (500)
    ({"valw-0": "ＲＣ", "val-0": "granite", "valf-0": "detail.structure_type"}, "granite"),  # was accepted silently
    ({"valw-0": "ＲＣ", "val-0": "rc", "valf-0": "detail.no_such_field"}, "detail.no_such_field"),
])
def test_a_mapping_to_an_unknown_field_or_value_is_a_422_listing_the_allowed_ones(world, client, settings, tmp_path,
                                                                                  extra, named):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.alice)
    token = _upload(client).context["pending"]
    kept = LedgerImport.objects.count()
    r = client.post("/en/ledger/import/", {**PAGE, "pending": token, "action": "load", **extra})
    assert r.status_code == 422 and named in r.context["error"] and "allowed" in r.context["error"]
    assert LedgerImport.objects.count() == kept and not Asset.objects.exists()
    assert not LedgerMapping.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_loads_saving_words_of_the_same_ledger_at_once_keep_both(world):
    """save_mapping read the row, merged and saved: the second save put back the row as it had read it."""
    for round_ in range(4):
        LedgerMapping.objects.all().delete()
        words = [f"型{round_}-{k}" for k in range(4)]
        results = together([lambda w=w: save_mapping(municipality="112348", kind="bridge", source="ledger", mapping={
            "columns": {f"列{w}": "name"}, "values": {"detail.structure_type": {w: "rc"}}}) for w in words])
        assert not [r for r in results if isinstance(r, Exception)], results
        m = LedgerMapping.objects.get(owner_id="112348", kind="bridge", source="ledger")
        assert set(m.value_mapping["detail.structure_type"]) == set(words)
        assert set(m.columns) == {f"列{w}" for w in words}


def _formula_cells(wb):
    return [(ws.title, c.coordinate, c.value) for ws in wb for row in ws.iter_rows() for c in row
            if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("="))]


def test_the_chousho_writes_names_and_notes_as_text_never_formulas_or_illegal_characters(world, client):
    """openpyxl stores text starting with "=" as a live formula, and refuses the whole workbook for one control
    character (IllegalCharacterError: a 500 for every download of the bridge)."""
    a = make_asset(world.yashio, "bridge", external_id="B-1")
    ExternalId.objects.create(asset=a, system="xroad", value="BR0-112348-00001")
    Asset.objects.filter(pk=a.pk).update(name='=HYPERLINK("http://evil.example/","学園橋")')
    client.force_login(world.alice)
    insp = client.post("/api/v1/inspections", json.dumps({
        "asset": a.global_id, "inspected_on": "2024-05-01", "grade": "II", "notes": "+cmd|' /C calc'!A0",
        "inspector": "@SUM(1)"}), content_type="application/json")
    assert insp.status_code == 201, insp.content
    # The API refuses control characters now (core.text); notes stored before it did may still hold one.
    Inspection.objects.filter(pk=insp.json()["id"]).update(notes="+cmd|' /C calc'!A0\u0001")
    r = client.get(f"/api/v1/bridges/{a.global_id}/chousho")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert _formula_cells(wb) == []
    assert wb["様式1"]["B3"].value == '\'=HYPERLINK("http://evil.example/","学園橋")'
    assert wb["様式1"]["B21"].value == "'+cmd|' /C calc'!A0"  # the control character dropped, the text kept
    Asset.objects.filter(pk=a.pk).update(name="学園\x01橋\x0b")
    r = client.get(f"/api/v1/bridges/{a.global_id}/chousho")
    assert r.status_code == 200 and load_workbook(io.BytesIO(r.content))["様式1"]["B3"].value == "学園橋"


@pytest.mark.parametrize("url", ["/en/assets/download/?format=xlsx", "/en/inspections/download/?format=xlsx",
                                 "/api/v1/ledger/export?kind=bridge&municipality=112348&format=xlsx"])
def test_an_xlsx_download_survives_a_name_with_control_characters(world, client, url):
    """One name with a control character (stored before the API refused them) failed every xlsx download of its
    municipality; dropping it must not turn "\\x01=cmd" into a live formula either."""
    a = make_asset(world.yashio, "bridge", external_id="B-1")
    Asset.objects.filter(pk=a.pk).update(name="\x01=cmd|' /C calc'!A0")
    client.force_login(world.alice)
    if "inspections" in url:
        from assets.history import Actor
        from inspections.services import inspection_record

        inspection_record(actor=Actor.system(), asset=a, inspected_on="2024-05-01", grade="II")
    r = client.get(url)
    assert r.status_code == 200, r.content[:300]
    wb = load_workbook(io.BytesIO(r.content))
    assert _formula_cells(wb) == []
    assert "'=cmd|' /C calc'!A0" in [c for ws in wb for row in ws.iter_rows(values_only=True) for c in row]
