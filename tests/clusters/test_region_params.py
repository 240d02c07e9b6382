"""A region's engine parameters are set on its parameters page and with PUT /api/v1/regions/{slug}/params through
one service (clusters.services.region_params_update): the same ranges (clusters.labels.PARAMS), the same
refusals naming the parameter and its range, the same change history, which the page shows."""

import json

import pytest
from django.test import Client

from assets.models import ChangeRecord
from clusters.engine.params import Params
from clusters.models import RegionParams
from clusters.param_form import bound_text, fields_for
from tests.rawscan import scan_html, visible_text

URL = "/api/v1/regions/nakagawa/params"
PAGE = "/regions/nakagawa/params/"


def put(client, body, lang="ja"):
    return client.put(URL, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE=lang)


@pytest.fixture
def carol(world):
    c = Client()
    c.force_login(world.carol)
    return c


def members(world):
    return list(world.region.members.order_by("code").values_list("code", "name"))


def test_the_api_refuses_an_out_of_range_value_naming_the_parameter_and_its_range(world, carol):
    RegionParams.objects.create(region=world.region, params={"cluster_distance_m": 150.0})
    r = put(carol, {"cluster_distance_m": 99_999, "weights": {"traffic": 11}, "horizon_years": 10.5,
                    "objective": "cheapest", "budget_by_municipality": {"112046": 1e8}})
    assert r.status_code == 422, r.content
    errors = r.json()["errors"]
    assert "工区にまとめる距離" in errors["cluster_distance_m"][0]
    assert "10" in errors["cluster_distance_m"][0] and "5,000" in errors["cluster_distance_m"][0]
    assert "重み：交通量" in errors["weights.traffic"][0] and "0" in errors["weights.traffic"][0]
    assert "計画期間" in errors["horizon_years"][0] and "30" in errors["horizon_years"][0]  # a whole number of years
    assert "risk_per_yen" in errors["objective"][0] and "saving" in errors["objective"][0]  # the allowed choices
    # A municipality outside the region: refused naming the members it may name.
    assert "112348" in errors["budget_by_municipality.112046"][0]
    # Nothing stored, nothing recorded.
    assert RegionParams.objects.get(region=world.region).params == {"cluster_distance_m": 150.0}
    assert not ChangeRecord.objects.filter(content_type__model="regionparams").exists()
    # In English on request.
    en = put(carol, {"cluster_distance_m": 99_999}, lang="en").json()["errors"]["cluster_distance_m"][0]
    assert "Distance that joins works into one lot" in en and "5,000" in en


def test_the_page_and_the_api_refuse_the_same_values(world, carol):
    """Every field of the page, just past its upper bound: the API refuses each one under the field's path and
    the page each one under its input, with the same message — one check, so they cannot drift apart."""
    fields = fields_for(members(world))
    too_big = {f.key: str(f.hi * 2 + 1) for f in fields}
    page = carol.post(PAGE, too_big, HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 422
    body = {}
    for f in fields:
        head, _sep, sub = f.path.partition(".")
        if sub:
            body.setdefault(head, {})[sub] = f.hi * 2 + 1
        else:
            body[head] = f.hi * 2 + 1
    errors = put(carol, body).json()["errors"]
    text = visible_text(page.content.decode())
    for f in fields:
        message = errors[f.path][0]
        assert bound_text(f.hi) in message and message in text, (f.key, message)
    # And one just inside the range is taken by both.
    assert put(carol, {f.path.split(".")[0]: f.hi for f in fields if "." not in f.path}).status_code == 200


def test_an_api_change_is_recorded_and_shows_in_the_page_history(world, carol):
    r = put(carol, {"cluster_distance_m": 150, "weights": {"traffic": 2}})
    assert r.status_code == 200, r.content
    stored = r.json()["region"]
    assert stored["cluster_distance_m"] == 150 and stored["weights"]["traffic"] == 2
    assert stored["weights"]["detour"] == Params().weights["detour"]  # a table is completed from the defaults
    record = ChangeRecord.objects.get(content_type__model="regionparams")
    assert record.via == "api" and record.actor_name == "carol"
    html = carol.get(PAGE, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'id="params-history"' in html
    history = visible_text(html[html.index('id="params-history"'):])
    assert "工区にまとめる距離: 300 → 150" in history and "重み：交通量: 1 → 2" in history
    assert "carol" in history and "API" in history
    assert not scan_html(html)  # no raw codes on the page
    # PUT replaces the whole set: what it leaves out goes back to the default (recorded too).
    assert put(carol, {"horizon_years": 12}).json()["region"] == {"horizon_years": 12}
    assert ChangeRecord.objects.filter(content_type__model="regionparams").count() == 2


def test_a_page_save_is_recorded_beside_api_changes_and_keeps_what_the_page_does_not_show(world, carol):
    put(carol, {"discount_rate": 0.02})  # not on the page
    fields = fields_for(members(world))
    posted = {f.key: "" if f.key.startswith("budget.") else str(
        Params().weights[f.key[8:]] if f.key.startswith("weights.") else getattr(Params(), f.key)) for f in fields}
    posted["cluster_distance_m"] = "200"
    assert carol.post(PAGE, posted).status_code == 302
    assert RegionParams.objects.get(region=world.region).params == {"discount_rate": 0.02,
                                                                     "cluster_distance_m": 200.0}
    vias = list(ChangeRecord.objects.filter(content_type__model="regionparams").order_by("id")
                .values_list("via", flat=True))
    assert vias == ["api", "ui"]
    history = visible_text(carol.get(PAGE, HTTP_ACCEPT_LANGUAGE="ja").content.decode())
    assert "割引率: 0.04 → 0.02" in history and "工区にまとめる距離: 300 → 200" in history


def test_only_coordinators_change_parameters_through_the_api(world):
    alice = Client()
    alice.force_login(world.alice)
    assert put(alice, {"cluster_distance_m": 150}).status_code == 403
    assert not RegionParams.objects.exists()


@pytest.mark.parametrize(("body", "path"), [
    ({"nope": 1}, "nope"),
    ({"weights": {"beauty": 1}}, "weights.beauty"),
    ({"weights": [1, 2]}, "weights"),
    ({"default_hazards": {"bridge_kenzen": [0.1, 0.1]}}, "default_hazards.bridge_kenzen"),
    ({"default_hazards": {"bridge_kenzen": [0.1, 0.1, 2]}}, "default_hazards.bridge_kenzen.2"),
    ({"interim_measures": {"bridge": ""}}, "interim_measures.bridge"),
    ({"cluster_distance_m": None}, "cluster_distance_m"),
    ({"cluster_distance_m": True}, "cluster_distance_m"),
    ({"cluster_distance_m": "NaN"}, "cluster_distance_m"),
    ({"septic_subsidy_share_by_municipality": {"112348": 1.5}}, "septic_subsidy_share_by_municipality.112348"),
])
def test_bad_shapes_are_refused_by_path_never_a_500(world, carol, body, path):
    r = put(carol, body, lang="en")
    assert r.status_code == 422, r.content
    assert path in r.json()["errors"], r.json()
    assert not RegionParams.objects.exists()
