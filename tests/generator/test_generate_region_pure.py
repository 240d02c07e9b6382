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


def test_each_pipe_has_house_connections_from_the_housing_it_serves():
    # 取付管数 (domain.md §4.2) for the sewer → 浄化槽 decision per branch (§7): built-up near the hall, sparse at
    # the sewered zone's edge, none on the prefecture's 流域 trunk.
    from generator.layout import HOUSES_PER_100M_CENTRE, house_connections

    g = generate(small_region(), 4000, 5)
    sp = g.details["sewer_pipe"]
    assert sp["house_connections"].notna().all() and (sp["house_connections"] >= 0).all()
    assert (sp.loc[sp["is_regional"], "house_connections"] == 0).all()
    assert sp.loc[~sp["is_regional"], "house_connections"].sum() > 0
    rng = np.random.default_rng(0)
    rel = np.repeat([0.0, 1.0], 2000)
    sparse_town = house_connections(rng, rel, np.full(4000, 100.0), 60.0).reshape(2, -1).mean(axis=1)
    dense_town = house_connections(rng, rel, np.full(4000, 100.0), 8600.0).reshape(2, -1).mean(axis=1)
    assert abs(sparse_town[0] - HOUSES_PER_100M_CENTRE[0]) < 0.5 and sparse_town[1] < 2.0  # 輪島: thins out
    assert abs(dense_town[0] - HOUSES_PER_100M_CENTRE[1]) < 0.5 and dense_town[1] > 10  # 草加: built-up throughout


def test_house_connections_are_seed_stable_and_leave_the_rest_of_the_region_as_it_was():
    a, b, c = generate(small_region(), 3000, 4), generate(small_region(), 3000, 4), generate(small_region(), 3000, 9)
    counts = [g.details["sewer_pipe"]["house_connections"].to_numpy() for g in (a, b, c)]
    assert (counts[0] == counts[1]).all()
    assert len(counts[0]) != len(counts[2]) or (counts[0] != counts[2]).any()
    # They draw from a stream of their own: every other column is what the seed gave before they existed.
    from generator import layout

    before = layout.house_connections
    try:
        layout.house_connections = lambda rng, rel, length_m, density: np.zeros(len(rel), dtype=int)
        without = generate(small_region(), 3000, 4)
    finally:
        layout.house_connections = before
    assert without.assets.drop(columns="key").equals(a.assets.drop(columns="key"))
    assert without.details["sewer_pipe"].drop(columns="house_connections").equals(
        a.details["sewer_pipe"].drop(columns="house_connections"))


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


def test_every_bridge_names_the_road_it_carries():
    """A bridge's 路線 is the road on it, as a 橋梁台帳 lists it (the asset page, the plan's 個別施設計画 table and
    PDF print it): a town street's bridge carries that street's 市道 number, the trunk's the 県道."""
    import dataclasses

    region = dataclasses.replace(small_region(), rivers=[("中川", 100.0), ("綾瀬川", 40.0), ("大場川", 20.0)])
    g = generate(region, 8000, 3)
    assets = g.assets.set_index("key")
    bridges = g.details["bridge"].set_index("key")
    assert len(bridges) > 5 and (bridges["route_name"].str.len() > 0).all()
    roads = g.details["road_segment"].set_index("key")
    road_geom = shapely.from_wkb(assets.loc[roads.index, "geom"].to_numpy())
    tree = shapely.STRtree(road_geom)
    for key, row in bridges.iterrows():
        owner = assets.at[key, "owner"]
        if owner == "110001":
            assert row["route_name"] == "県道 中川幹線通り"
            continue
        point = shapely.from_wkb(assets.at[key, "geom"])
        on = [roads.index[i] for i in tree.query(point, predicate="dwithin", distance=1e-7)]
        names = {roads.at[k, "route_name"] for k in on if assets.at[k, "owner"] == owner}
        assert names == {row["route_name"]}, (row["route_name"], names)
        town = "八潮市" if owner == "112348" else "三郷市"
        assert row["route_name"].startswith(f"{town}道") and row["route_name"].endswith("号線")
