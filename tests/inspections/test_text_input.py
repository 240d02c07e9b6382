"""Text recorded with an inspection or a measure (inspector, notes, grade as entered, observations, reasons) holds
no control character, lone surrogate or U+FFFE/U+FFFF; notes and reasons may hold tabs and line breaks. The API
answers 422 naming the field and the character as U+XXXX, the field form shows it on the field, an import names
the record, and nothing is stored. The rule is one function (core.text) the services call, so the API and the
pages cannot differ."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.history import Actor
from assets.models import ChangeRecord
from inspections.models import Inspection, Measure
from inspections.services import inspection_record
from tests.conftest import make_asset, signed_in
from tests.core.test_text import SPECIAL, _refused


@pytest.fixture
def alice(world):
    return signed_in(world.alice)


@pytest.fixture
def bridge(world):
    return make_asset(world.yashio, "bridge", external_id="BR-1", built=1970)


@pytest.fixture
def recorded(world, bridge):
    return inspection_record(actor=Actor.system(), asset=bridge, inspected_on="2024-06-01", grade="II",
                             inspector="八潮 太郎", notes="定期点検")


def post(c, url, data):
    return c.post(url, json.dumps(data), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("fields, field, char", [
    ({"notes": "ひび割れ\x01"}, "notes", "U+0001"),
    ({"notes": "遊離石灰\x7f"}, "notes", "U+007F"),
    ({"notes": "剥離\ud83d"}, "notes", "U+D83D"),  # half of an emoji's surrogate pair
    ({"inspector": "八潮\t太郎"}, "inspector", "U+0009"),  # a name is one line
    ({"inspector": "八潮 太郎\n"}, "inspector", "U+000A"),
    ({"grade": "II\x0c"}, "grade", "U+000C"),
    ({"observations": {"members": [{"member": "Mg0101", "damage_type": "7", "degree": "d", "grade": "II"},
                                   {"member": "Mg\x1f0102", "damage_type": "7", "degree": "d", "grade": "II"}]},
      "grade": "II"}, "observations.members[1].member", "U+001F"),
])
def test_api_create_refuses_a_forbidden_character_naming_field_and_character(alice, bridge, fields, field, char):
    r = post(alice, "/api/v1/inspections", {"asset": bridge.global_id, "inspected_on": "2025-06-01", "grade": "II",
                                            **fields})
    assert r.status_code == 422, r.content
    assert field in r.json()["errors"] and char in r.json()["errors"][field][0], r.json()
    assert not Inspection.objects.exists()


def test_notes_keep_their_tabs_and_line_breaks_exactly(alice, bridge):
    notes = "主桁\tひび割れ 0.2mm\r\n支承\t腐食\n"
    r = post(alice, "/api/v1/inspections", {"asset": bridge.global_id, "inspected_on": "2025-06-01", "grade": "II",
                                            "notes": notes})
    assert r.status_code == 201, r.content
    assert Inspection.objects.get().notes == notes


def test_api_patch_refuses_and_leaves_the_inspection_as_it_was(alice, recorded):
    r = alice.patch(f"/api/v1/inspections/{recorded.pk}", json.dumps({"notes": "再判定\x02", "version": 1}),
                    content_type="application/json")
    assert r.status_code == 422 and "U+0002" in r.json()["errors"]["notes"][0]
    stored = Inspection.objects.get(pk=recorded.pk)
    assert (stored.notes, stored.version) == ("定期点検", 1)


def test_the_field_form_shows_the_error_on_the_field_and_stores_nothing(alice, bridge):
    r = alice.post(f"/en/inspections/new/{bridge.global_id}/", {"inspected_on": "2025-06-01", "grade": "II",
                                                                "inspector": "八潮\x1b太郎", "notes": "a\r\nb"})
    assert r.status_code == 422
    assert list(r.context["errors"]) == ["inspector"] and "U+001B" in r.context["errors"]["inspector"][0]
    assert ("Inspector" in dict(r.context["error_list"]) or "inspector" in dict(r.context["error_list"]))
    assert "U+001B" in r.content.decode()
    assert not Inspection.objects.exists()


def test_correcting_and_withdrawing_refuse_it_in_the_fields_and_the_reason(world, alice, recorded):
    r = alice.post(f"/en/inspections/{recorded.pk}/correct/", {"inspected_on": "2024-06-01", "grade": "III",
                                                              "method": "近接目視", "notes": "再判定\x08",
                                                              "reason": "判定の入力誤り", "version": "1"})
    assert r.status_code == 422 and "U+0008" in r.context["errors"]["notes"][0]
    r = alice.post(f"/en/inspections/{recorded.pk}/correct/", {"inspected_on": "2024-06-01", "grade": "III",
                                                              "method": "近接目視", "reason": "誤り\x01",
                                                              "version": "1"})
    assert r.status_code == 422 and "U+0001" in r.context["errors"]["reason"][0]
    r = alice.post(f"/en/inspections/{recorded.pk}/withdraw/", {"reason": "誤入力\x1b"}, follow=True)
    shown = " ".join(str(m) for m in r.context["messages"])
    assert "reason: contains U+001B" in shown, shown
    stored = Inspection.objects.get(pk=recorded.pk)
    assert (stored.grade.code, stored.version, stored.withdrawn_at) == ("II", 1, None)
    assert not ChangeRecord.objects.filter(object_id=str(recorded.pk), action__in=("update", "retire")).exists()


def test_a_csv_import_names_record_and_field_and_keeps_multi_line_notes(alice, world, bridge):
    make_asset(world.yashio, "bridge", external_id="BR-2", built=1970)
    head = "団体コード,橋梁ID,点検日,判定区分,点検者,備考\r\n"
    bad = head + '112348,BR-2,2024-07-02,Ⅱ,八\x0b潮,ok\r\n112348,BR-1,2024-07-01,Ⅱ,八潮,"1行目\r\n2行目"\r\n'
    r = alice.post("/api/v1/inspections/import", {"file": SimpleUploadedFile("i.csv", bad.encode())},
                   HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422, r.content
    # (a cell's ends are trimmed as before, \x0b being whitespace to str.strip; inside, it is refused)
    assert r.json()["errors"] == ["Record 1 (line 2) inspector: contains U+000B (a control character) at character "
                                  "2; it is not allowed"]
    assert not Inspection.objects.exists()
    good = head + '112348,BR-1,2024-07-01,Ⅱ,八潮,"1行目\r\n2行目\t続き"\r\n'
    r = alice.post("/api/v1/inspections/import", {"file": SimpleUploadedFile("i.csv", good.encode())})
    assert r.status_code == 200, r.content
    assert Inspection.objects.get().notes == "1行目\r\n2行目\t続き"


def test_measures_refuse_it_in_contractor_and_notes(alice, world, bridge):
    body = {"asset": bridge.global_id, "kind": "repair", "started_on": "2024-06-01"}
    r = post(alice, "/api/v1/measures", {**body, "contractor": "八潮\t建設", "notes": "\x01"})
    assert r.status_code == 422, r.content
    assert set(r.json()["errors"]) == {"contractor", "notes"}
    assert "U+0009" in r.json()["errors"]["contractor"][0] and "U+0001" in r.json()["errors"]["notes"][0]
    assert not Measure.objects.exists()
    r = post(alice, "/api/v1/measures", {**body, "contractor": "八潮建設", "notes": "断面修復\r\n再塗装"})
    assert r.status_code == 201 and Measure.objects.get().notes == "断面修復\r\n再塗装"


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.lists(st.one_of(st.characters(), st.sampled_from(SPECIAL)), max_size=12).map("".join))
def test_any_note_is_either_stored_exactly_or_refused_naming_notes(alice, bridge, value):
    """Through the API: a note is stored as sent (tabs and line breaks too) or refused naming `notes`."""
    sent = json.loads(json.dumps(value))  # what the server reads: JSON joins "\ud800\udc00" into one character
    count = Inspection.objects.count()
    r = post(alice, "/api/v1/inspections", {"asset": bridge.global_id, "inspected_on": "2025-06-01", "grade": "II",
                                            "notes": value})
    bad = [ch for ch in sent if _refused(ch, multiline=True)]
    if bad:
        assert r.status_code == 422, (value, r.content)
        errors = r.json()["errors"]
        named = [k for k in errors if k.endswith("notes")]  # `notes`, or the JSON path of a NUL (config/middleware)
        assert named and any(f"U+{ord(ch):04X}" in errors[named[0]][0] for ch in bad)
        assert Inspection.objects.count() == count
    else:
        assert r.status_code == 201, (value, r.content)
        assert Inspection.objects.get(pk=r.json()["id"]).notes == sent
