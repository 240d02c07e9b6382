"""Bridge removal (役割を終えた橋): the detour on the road network without the bridge, and renewal vs removal."""

import numpy as np
import pytest
from django.contrib.gis.geos import LineString

from assets.history import Actor
from assets.models import Via
from assets.services import asset_create
from clusters.engine.consolidation import bridge_keep_or_remove, crf
from clusters.engine.network import Edges, detours
from clusters.engine.params import Params
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from tests.conftest import make_asset

P = Params()


def ladder() -> Edges:
    """Two 200 m lanes crossing a river 300 m apart (links 1 and 2), joined by roads at both ends (3, 4), and
    a dead-end lane (5) crossing the same river farther east."""
    seg = {1: (0, 0, 0, 200), 2: (300, 0, 300, 200), 3: (0, 200, 300, 200), 4: (0, 0, 300, 0),
           5: (900, 0, 900, 200)}
    ids = np.array(list(seg))
    x0, y0, x1, y1 = np.array(list(seg.values()), dtype=float).T
    return Edges(ids, x0, y0, x1, y1, np.hypot(x1 - x0, y1 - y0))


def test_detour_is_the_way_round_minus_the_link():
    extra = detours(ladder(), np.array([1, 2, 5]), cutoff_m=5000)
    # Without lane 1: 300 + 200 + 300 = 800 m instead of 200 m.
    assert extra[:2] == pytest.approx([600.0, 600.0])
    assert np.isnan(extra[2])  # the dead-end lane has no way round


def test_a_way_round_longer_than_the_cutoff_is_not_looked_for():
    assert np.isnan(detours(ladder(), np.array([1]), cutoff_m=500)[0])


def test_ends_a_few_centimetres_apart_are_one_junction():
    e = ladder()
    jittered = Edges(e.ids, e.x0 + 0.04, e.y0 - 0.03, e.x1, e.y1, e.length)
    assert detours(jittered, np.array([1]), cutoff_m=5000)[0] == pytest.approx(600.0)


def keep_or_remove(traffic, detour_m=600.0, deck=160.0):
    return bridge_keep_or_remove(
        deck_m2=deck, traffic=traffic, detour_m=detour_m, renew_cost=deck * P.cost_bridge_renew_m2,
        removal_cost_m2=P.cost_bridge_removal_m2, om_per_m2_year=P.bridge_om_per_m2_year, life=P.bridge_life_years,
        rate=P.discount_rate, cost_per_vehicle_km=P.detour_cost_per_vehicle_km, period=P.lcc_period_years)


def test_renewal_vs_removal_by_hand():
    # Keep: 160 m² × 700,000 = 112 M × crf(4 %, 60) + 160 × 2,000 a year.
    # Remove: 160 × 150,000 = 24 M × crf(4 %, 60), plus 20 vehicles × 365 days × 0.6 km × 80 yen.
    r = keep_or_remove(20)
    keep = 112e6 * crf(0.04, 60) + 320_000
    remove = 24e6 * crf(0.04, 60) + 20 * 365 * 0.6 * 80
    assert (r.annual_cost_keep, r.annual_cost_remove) == (pytest.approx(keep), pytest.approx(remove))
    assert r.recommendation == "remove"
    assert r.saving_per_year == pytest.approx(keep - remove)
    assert r.lcc_saving == pytest.approx((keep - remove) / crf(0.04, 50))
    assert r.break_even_traffic == pytest.approx((keep - 24e6 * crf(0.04, 60)) / (365 * 0.6 * 80))
    busy = keep_or_remove(r.break_even_traffic * 1.1)
    assert busy.recommendation == "renew"
    assert keep_or_remove(20, detour_m=float("nan")).recommendation == "no_alternative_route"


def road(owner, ext, coords, traffic, **detail):
    return asset_create(actor=Actor.system(Via.SYSTEM), owner=owner, kind="road_segment", source="daicho",
                        external_id=ext, name="", geom=LineString(*coords, srid=6668), built_fiscal_year=1970,
                        detail={"road_class": "municipal_other", "length_m": 200.0, "traffic_volume": traffic,
                                **detail})


@pytest.fixture
def river_town(world):
    """八潮市: a river along 35.822 N crossed by two quiet lanes 0.003° (≈ 270 m) apart, joined north and south,
    each with a bridge; the west one is in 健全性Ⅳ. Farther east a dead-end lane crosses on a Ⅳ bridge too."""
    w, e, far, s, n, mid = 139.835, 139.838, 139.845, 35.821, 35.823, 35.822
    links = {
        "west": road(world.yashio, "L-west", ((w, s), (w, n)), 20),
        "east": road(world.yashio, "L-east", ((e, s), (e, n)), 20),
        "north": road(world.yashio, "L-north", ((w, n), (e, n)), 20),
        "south": road(world.yashio, "L-south", ((w, s), (e, s)), 20),
        "dead_end": road(world.yashio, "L-far", ((far, s), (far, n)), 20),
    }
    bridges = {}
    for name, lon, grade in (("west", w, "Ⅳ"), ("east", e, "Ⅰ"), ("dead_end", far, "Ⅳ")):
        b = make_asset(world.yashio, "bridge", external_id=f"B-{name}", lon=lon, lat=mid, built=1965)
        inspection_record(actor=Actor.system(), asset=b, inspected_on="2025-06-01", grade=grade)
        bridges[name] = b
    return links, bridges


def metric_length(asset) -> float:
    return asset.geom.transform(6677, clone=True).length


def test_engine_finds_the_detour_on_the_network_and_recommends_removal(world, river_town):
    links, bridges = river_town
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    found = {b["asset_id"]: b for b in run.summary["bridge_removals"]}
    assert set(found) == {bridges["west"].pk, bridges["dead_end"].pk}  # the sound east bridge is not screened
    west = found[bridges["west"].pk]
    way_round = metric_length(links["north"]) + metric_length(links["east"]) + metric_length(links["south"])
    expected = way_round - metric_length(links["west"])
    assert west["detour_m"] == pytest.approx(expected, abs=0.5)
    assert west["traffic"] == 20 and west["recommendation"] == "remove"
    assert found[bridges["dead_end"].pk]["recommendation"] == "no_alternative_route"
    assert run.summary["remove_bridges"] == 1
    # The bridge's lot carries the comparison, so the cluster page can show it.
    cluster = run.clusters.get(members__asset=bridges["west"])
    assert cluster.consolidation["bridge_removal"][0]["global_id"] == bridges["west"].global_id


def test_the_user_cost_of_the_detour_can_tip_it_to_renewal(world, river_town):
    _links, bridges = river_town
    run = run_execute(run_create(principal=world.carol, region=world.region,
                                 overrides={"detour_cost_per_vehicle_km": 2_000}).pk)
    west = next(b for b in run.summary["bridge_removals"] if b["asset_id"] == bridges["west"].pk)
    assert west["recommendation"] == "renew" and west["annual_cost_remove"] > west["annual_cost_keep"]


def test_busy_or_emergency_bridges_are_not_candidates(world, river_town):
    from assets.models import RoadSegment

    links, bridges = river_town
    RoadSegment.objects.filter(asset=links["west"]).update(traffic_volume=5_000)
    RoadSegment.objects.filter(asset=links["dead_end"]).update(is_emergency_route=True)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    assert run.summary["bridge_removals"] == []
    # The bridge now scores the traffic of the road it carries.
    score = run.scores.get(asset=bridges["west"])
    assert score.c_traffic == pytest.approx(5 * np.log10(5_001) / np.log10(50_001))
