import json

import pytest
from django.test import Client

from tests.conftest import make_asset


def client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def region_with_work(world, settings):
    settings.ENGINE_SYNC = True
    make_asset(world.yashio, "sewer_pipe", external_id="Y", lon=139.8195, built=1960)
    make_asset(world.soka, "sewer_pipe", external_id="S", lon=139.8230, built=1960)
    return world


def start(c, **params):
    return c.post("/api/v1/runs", json.dumps({"region": "nakagawa", "params": params}), content_type="application/json")


def test_a_coordinator_starts_a_run_and_reads_the_ranked_clusters(region_with_work):
    w = region_with_work
    c = client(w.carol)
    r = start(c)
    assert r.status_code == 202
    run = c.get(f"/api/v1/runs/{r.json()['id']}").json()
    assert run["status"] == "done" and run["progress"] == 100 and run["summary"]["clusters"] == 1
    clusters = c.get(f"/api/v1/runs/{run['id']}/clusters?cross_municipal=true").json()
    assert clusters["count"] == 1 and clusters["items"][0]["geometry"]["type"] == "MultiPolygon"
    detail = c.get(f"/api/v1/runs/{run['id']}/clusters/1").json()
    assert {m["owner"] for m in detail["members"]} == {"112348", "112216"}
    # An engineer of a member town reads the region's results too.
    assert client(w.alice).get(f"/api/v1/runs/{run['id']}/clusters").json()["count"] == 1


def test_compare_two_runs_says_what_moved_and_why(region_with_work):
    c = client(region_with_work.carol)
    a = start(c).json()["id"]
    b = start(c, horizon_years=3, lof_action_threshold=0.99).json()["id"]
    diff = c.get(f"/api/v1/runs/{a}/compare/{b}").json()
    assert diff["params"]["horizon_years"] == {"a": 10, "b": 3}
    assert diff["top_risk_moves"] and diff["top_risk_moves"][0]["lof"]["b"] < diff["top_risk_moves"][0]["lof"]["a"]


def test_a_runs_overrides_are_checked_like_the_parameters_page(region_with_work):
    """A run cannot use a value the parameters page and PUT …/params refuse (one range table, clusters.labels)."""
    from clusters.models import EngineRun

    c = client(region_with_work.carol)
    before = EngineRun.objects.count()
    r = c.post("/api/v1/runs", json.dumps({"region": "nakagawa", "params": {"horizon_years": 99}}),
               content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422
    message = r.json()["errors"]["horizon_years"][0]
    assert "1" in message and "30" in message
    assert EngineRun.objects.count() == before


def test_engineers_and_outsiders_cannot_start_runs_and_outsiders_see_none(region_with_work):
    w = region_with_work
    assert start(client(w.alice)).status_code == 403
    assert start(client(w.charlie)).status_code == 404
    rid = start(client(w.carol)).json()["id"]
    assert client(w.charlie).get(f"/api/v1/runs/{rid}").status_code == 404
    assert client(w.charlie).get("/api/v1/runs").json()["count"] == 0


def test_region_parameters_sent_as_json_hold_no_control_character(region_with_work):
    """They are stored as sent: a weight's name or a text value with a control character is a 422 naming its path
    and the character (core.text), and nothing is stored."""
    from clusters.models import RegionParams

    c = client(region_with_work.carol)
    for body, where, char in (({"weights": {"risk\x01": 1.0}}, "weights.'risk\\x01'", "U+0001"),
                              ({"annualization": "linear\x1b"}, "annualization", "U+001B")):
        r = c.put("/api/v1/regions/nakagawa/params", json.dumps(body), content_type="application/json")
        assert r.status_code == 422 and char in r.json()["errors"][where][0], r.content
    assert not RegionParams.objects.exists()


def test_region_parameters_are_editable_by_coordinators_with_defaults(region_with_work):
    w = region_with_work
    c = client(w.carol)
    r = c.put("/api/v1/regions/nakagawa/params", json.dumps({"cluster_distance_m": 150}),
              content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["effective"]["cluster_distance_m"] == 150
    bad = c.put("/api/v1/regions/nakagawa/params", json.dumps({"nope": 1}), content_type="application/json",
                HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 422 and "allowed" in bad.json()["errors"]["nope"][0]
    assert "cluster_distance_m" in bad.json()["errors"]["nope"][0]  # the names it allows
    assert client(w.alice).put("/api/v1/regions/nakagawa/params", json.dumps({}),
                               content_type="application/json").status_code == 403
    assert start(c).json()["params"]["cluster_distance_m"] == 150
