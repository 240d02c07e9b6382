"""The synthesis itself, without a database."""

import numpy as np
import shapely

from generator.history import TRUE_HAZARDS, simulate
from generator.layout import MunicipalityInput, RegionInput, generate


def small_region() -> RegionInput:
    a = shapely.box(139.80, 35.80, 139.84, 35.84)
    b = shapely.box(139.84, 35.80, 139.88, 35.84)
    return RegionInput(
        prefecture_code="110001",
        members=[MunicipalityInput("112348", "八潮市", a, (139.82, 35.82), 90000),
                 MunicipalityInput("112372", "三郷市", b, (139.86, 35.82), 140000)],
        rivers=[("中川", 100.0)], trunk=True, plant_ll=(139.87, 35.805), trunk_name="幹線",
    )


def test_counts_are_exact_for_several_sizes():
    for n in (1500, 4000):
        assert len(generate(small_region(), n, 1).assets) == n


def test_keys_are_unique_and_foreign_keys_point_to_the_right_kinds():
    g = generate(small_region(), 3000, 2)
    kinds = g.assets.set_index("key")["kind"]
    assert g.assets["key"].is_unique
    sp = g.details["sewer_pipe"]
    assert set(kinds[sp["up_key"]]) == {"manhole"}
    assert set(kinds[sp["road_key"]]) == {"road_segment"}


def test_simulated_deterioration_follows_the_hazards():
    rng = np.random.default_rng(0)
    theta = TRUE_HAZARDS["bridge_kenzen"]
    ages = np.full((20000, 1), 10.0)
    states = simulate(rng, ages, theta, repair_prob=0).states[:, 0]
    # P(still in state I after 10 years) = exp(-θ1·10)
    assert abs((states == 0).mean() - np.exp(-theta[0] * 10)) < 0.01


def test_each_town_gets_a_national_and_a_prefectural_road_through_its_lane_nodes():
    """domain.md §7: the detour network includes national and prefectural roads. They are reference roads, not
    assets, and the town's lanes end on them, so the engine's network joins them."""
    g = generate(small_region(), 8000, 2)
    ref = g.reference_roads
    assert sorted(ref["name"]) == ["国道 三郷市バイパス", "国道 八潮市バイパス", "県道 三郷市環状線", "県道 八潮市環状線"]
    assert dict(zip(ref["name"], ref["road_class"], strict=True))["国道 八潮市バイパス"] == "national"
    roads = shapely.from_wkb(g.assets.loc[g.assets["kind"] == "road_segment", "geom"].to_numpy())
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(roads, i)) for i in (0, -1)])
    for line in ref["geom"]:
        vertices = {tuple(np.round(c, 9)) for c in shapely.get_coordinates(line)}
        assert vertices & {tuple(np.round(c, 9)) for c in ends}  # the town's lanes end on it
