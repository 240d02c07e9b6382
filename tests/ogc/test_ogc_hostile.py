"""Hostile requests to the OGC API's items: each is a 400 naming the parameter and what it accepts, never a 500
(an impossible date, a digit int() refuses, a CQL2 literal of the wrong type, a NUL inside CQL2 JSON, a
condition nested past the recursion limit)."""

import json

import pytest

from tests.ogc.test_ogc_api import reg  # noqa: F401  the registry fixture

ITEMS = "/ogc/collections/sewer_pipe/items"


def _bad(client, **params) -> str:
    r = client.get(ITEMS, params)
    assert r.status_code == 400, (params, r.status_code, r.content[:300])
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    return body["description"]


@pytest.mark.parametrize("value", ["2024-13-45", "2024-02-30T00:00:00Z", "0000-01-01", "2024-01-01/2024-02-31"])
def test_an_impossible_date_is_a_400_naming_datetime(world, reg, client, value):  # noqa: F811
    """Django's parse_date raises ValueError on a well-formed impossible date; it reached the client as a 500."""
    client.force_login(world.alice)
    assert "datetime" in _bad(client, datetime=value)


def test_a_date_queryable_with_an_impossible_date_is_a_400_naming_it(world, reg, client):  # noqa: F811
    client.force_login(world.alice)
    assert "last_inspected_on" in _bad(client, last_inspected_on="2024-02-30")


def test_digits_python_reads_as_digits_but_int_refuses_are_refused_cleanly(world, reg, client):  # noqa: F811
    client.force_login(world.alice)
    assert "crs" in _bad(client, crs="EPSG:²")
    r = client.get("/ogc/collections/inspections/items/²")
    assert r.status_code == 404 and r.json()["code"] == "NotFound"


@pytest.mark.parametrize(("cql", "named"), [
    ("name = 1", "name"),
    ("diameter_mm = 'abc'", "diameter_mm"),
    ("diameter_mm BETWEEN 'a' AND 5", "diameter_mm"),
    ("name IN ('a', 1)", "name"),
    ("diameter_mm LIKE '3%'", "LIKE"),
    ("last_inspected_on = 'abc'", "last_inspected_on"),
    ("is_trunk = 1", "is_trunk"),
])
def test_a_cql2_literal_of_the_wrong_type_is_a_400_naming_the_property(world, reg, client, cql, named):  # noqa: F811
    """The database would refuse the comparison (DataError / ProgrammingError): checked first against the
    queryables' types."""
    client.force_login(world.alice)
    assert named in _bad(client, filter=cql)


@pytest.mark.parametrize("cql", ["diameter_mm = 600", "600 = diameter_mm", "is_trunk = false",
                                 "last_inspected_on > '2020-01-01' OR last_inspected_on IS NULL",
                                 "name LIKE 'テスト%'", "length_m BETWEEN 1 AND 100.5"])
def test_well_typed_filters_still_answer(world, reg, client, cql):  # noqa: F811
    client.force_login(world.alice)
    r = client.get(ITEMS, {"filter": cql})
    assert r.status_code == 200, (cql, r.content[:300])


def test_cql2_json_that_is_not_a_condition_or_holds_a_nul_is_a_400(world, reg, client):  # noqa: F811
    client.force_login(world.alice)
    nul = json.dumps({"op": "=", "args": [{"property": "name"}, "a\x00b"]})  # "\u0000": past the query-string check
    assert "NUL" in _bad(client, filter=nul, **{"filter-lang": "cql2-json"})
    for scalar in ("1", '"x"', "null"):
        assert "filter" in _bad(client, filter=scalar, **{"filter-lang": "cql2-json"})


def test_a_filter_past_the_nesting_limit_is_a_400_not_a_recursion_error(world, reg, client):  # noqa: F811
    """`a AND b AND …` nests one level per term; 1,000 terms overflowed Django's recursive SQL compiler."""
    from ogc.query import MAX_FILTER_CHARS, MAX_FILTER_DEPTH

    client.force_login(world.alice)
    chain = " AND ".join(["length_m>1"] * 1000)
    assert len(chain) < MAX_FILTER_CHARS
    assert str(MAX_FILTER_DEPTH) in _bad(client, filter=chain)
    deep = '{"op":"not","args":[' * 150 + json.dumps({"op": "=", "args": [{"property": "diameter_mm"}, 1]}) + "]}" * 150
    assert "filter" in _bad(client, filter=deep, **{"filter-lang": "cql2-json"})
    assert f"{MAX_FILTER_CHARS:,}" in _bad(client, filter="name = '" + "a" * MAX_FILTER_CHARS + "'")
    ok = client.get(ITEMS, {"filter": " AND ".join(["diameter_mm > 1"] * 50)})
    assert ok.status_code == 200
