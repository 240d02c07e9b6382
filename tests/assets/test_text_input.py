"""Text the registry is sent (PATCH, retire) holds no control character, lone surrogate or U+FFFE/U+FFFF: a 422
names the field and the character as U+XXXX, and nothing is stored. One such name once failed every xlsx
download of its municipality (core/export.py drops them on the way out; the input side refuses them now)."""

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assets.models import Asset, ChangeRecord
from tests.conftest import make_asset, signed_in
from tests.core.test_text import SPECIAL, _refused


@pytest.fixture
def c(world):
    return signed_in(world.alice)


@pytest.fixture
def bridge(world):
    return make_asset(world.yashio, "bridge", external_id="B-1", route_name="市道1号")


def patch(c, asset, **body):
    return c.patch(f"/api/v1/assets/{asset.global_id}", json.dumps({"version": asset.version, **body}),
                   content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def untouched(asset) -> bool:
    stored = Asset.objects.get(pk=asset.pk)
    return (stored.version, stored.name, stored.external_id, stored.bridge.route_name) == (
        asset.version, asset.name, asset.external_id, "市道1号") and not ChangeRecord.objects.filter(
        object_id=str(asset.pk), action__in=("update", "retire")).exists()


@pytest.mark.parametrize("body, field, char", [
    ({"data": {"name": "中央\x01橋"}}, "name", "U+0001"),
    ({"data": {"name": "中央橋\x7f"}}, "name", "U+007F"),
    ({"data": {"name": "中央\n橋"}}, "name", "U+000A"),  # a name is one line
    ({"data": {"external_id": "B-1\t"}}, "external_id", "U+0009"),
    ({"data": {"built_year_text": "昭和\x1b48年"}}, "built_year_text", "U+001B"),
    ({"data": {"important_facility_note": "病院\r"}}, "important_facility_note", "U+000D"),
    ({"data": {"name": "橋\ud800"}}, "name", "U+D800"),
    ({"data": {"name": "橋\uffff"}}, "name", "U+FFFF"),
    ({"detail": {"route_name": "市道\ufffe1号"}}, "detail.route_name", "U+FFFE"),
    ({"detail": {"crosses_name": "中川\x0b"}}, "detail.crosses_name", "U+000B"),
])
def test_patch_refuses_a_forbidden_character_naming_field_and_character(c, bridge, body, field, char):
    r = patch(c, bridge, **body)
    assert r.status_code == 422, r.content
    assert list(r.json()["errors"]) == [field] and char in r.json()["errors"][field][0], r.json()
    assert untouched(bridge)


def test_patch_answers_in_japanese_by_default(c, bridge):
    r = c.patch(f"/api/v1/assets/{bridge.global_id}", json.dumps({"version": 1, "data": {"name": "橋\x01"}}),
                content_type="application/json", HTTP_ACCEPT_LANGUAGE="ja")
    assert r.status_code == 422 and r.json()["errors"]["name"] == ["2 文字目に制御文字（U+0001）があります。使用できません"]


def test_ordinary_text_with_full_width_and_the_neighbours_of_controls_is_stored_as_sent(c, bridge):
    r = patch(c, bridge, data={"name": "　中央橋（旧）\u00a0\ufffd"}, detail={"route_name": "市道１号"})
    assert r.status_code == 200, r.content
    stored = Asset.objects.get(pk=bridge.pk)
    assert stored.name == "　中央橋（旧）\u00a0\ufffd" and stored.bridge.route_name == "市道１号"


def test_a_c1_control_is_refused_like_a_c0_one(c, bridge):
    """U+0080–U+009F (a stray byte of a broken CP932 or Latin-1 text) print as nothing: refused, named."""
    r = patch(c, bridge, data={"name": "中央\u0085橋"})
    assert r.status_code == 422 and "U+0085" in r.json()["errors"]["name"][0]
    assert Asset.objects.get(pk=bridge.pk).name != "中央\u0085橋"


def test_a_retire_reason_may_span_lines_but_holds_no_control_character(c, bridge):
    url = f"/api/v1/assets/{bridge.global_id}/retire"
    r = c.post(url, json.dumps({"reason": "撤去済み\x08"}), content_type="application/json")
    assert r.status_code == 422 and "U+0008" in r.json()["errors"]["reason"][0]
    assert Asset.objects.get(pk=bridge.pk).status != "removed" and untouched(bridge)
    r = c.post(url, json.dumps({"reason": "撤去済み\r\n\t令和6年度 工事"}), content_type="application/json")
    assert r.status_code == 200, r.content
    assert ChangeRecord.objects.get(object_id=str(bridge.pk), action="retire").message == "撤去済み\r\n\t令和6年度 工事"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.lists(st.one_of(st.characters(), st.sampled_from(SPECIAL)), max_size=12).map("".join))
@example(value="\ud800\udc00")  # a surrogate pair: one character once JSON has read it, stored as such
@example(value="a\x00b")  # refused by config/middleware.py before the service, naming data.name
def test_any_name_is_either_stored_exactly_or_refused_naming_name(c, bridge, value):
    """Through the API (middleware, schema, service, database): never altered, never a 500."""
    sent = json.loads(json.dumps(value))  # what the server reads: JSON joins "\ud800\udc00" into one character
    before = Asset.objects.get(pk=bridge.pk)
    r = patch(c, before, data={"name": value})
    after = Asset.objects.get(pk=bridge.pk)
    bad = [ch for ch in sent if _refused(ch, multiline=False)]
    if bad:
        assert r.status_code == 422, (value, r.content)
        errors = r.json()["errors"]
        named = [k for k in errors if k.endswith("name")]  # `name`, or `data.name` for a NUL (config/middleware)
        assert named and any(f"U+{ord(ch):04X}" in errors[named[0]][0] for ch in bad)
        assert (after.name, after.version) == (before.name, before.version)
    else:
        assert r.status_code == 200, (value, r.content)
        assert after.name == sent
