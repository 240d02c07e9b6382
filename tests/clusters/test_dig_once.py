"""Dig once assumes open cut (issue 14, consolidation economics): a pipe renewed by 管更生 (rehabilitation from
the manholes) digs no trench, so it shares no road reinstatement with the road above and earns no dig-once
saving. The renewal method is the ledger's 施工方法 when given, else a planning-level default by depth and
diameter (params: pipe_open_cut_max_depth_m, pipe_rehab_max_diameter_mm), each costed at its own unit cost."""

import numpy as np
import pandas as pd
import pytest

from assets.history import Actor
from clusters.engine.deterioration import Hazards
from clusters.engine.params import Params
from clusters.engine.scoring import rehabilitated, score
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from tests.conftest import make_asset

P = Params()
H = {k: Hazards(tuple(v), 0, "default") for k, v in P.default_hazards.items()}


def road(**kw):
    return {"kind": "road_segment", "state": 3, "years": 2.0, "length_m": 50.0, "width_m": 6.0, "traffic": 100,
            "emergency": False, **kw}


def pipe(**kw):
    return {"kind": "sewer_pipe", "state": 3, "years": 3.0, "diameter_mm": 300, "depth_m": 2.0, "length_m": 50.0,
            "road_row": -1, **kw}


def test_a_rehabilitated_pipe_earns_no_dig_once_saving_and_an_open_cut_one_does():
    df = pd.DataFrame([road(), pipe(road_row=0, renewal_method="rehabilitation"),
                       road(), pipe(road_row=2, renewal_method="open_cut")])
    s = score(df, H, P)
    assert list(s.action) == ["renew"] * 4
    assert list(s.work_type) == ["road", "sewer", "road_sewer", "road_sewer"]
    assert s.dig_once_saving[1] == 0.0
    assert s.dig_once_saving[3] == pytest.approx(2.0 * 50 * 6_000)  # trench 2 m × 50 m × resurfacing 6,000 yen/m²
    # Each method at its own unit cost per metre: 管更生 60,000 + 180/mm, open cut 100,000 + 150/mm.
    assert s.cost[1] == pytest.approx((60_000 + 180 * 300) * 50)
    assert s.cost[3] == pytest.approx((100_000 + 150 * 300) * 50)


def test_the_default_method_follows_depth_and_diameter_and_the_ledger_overrides_it():
    df = pd.DataFrame([
        pipe(depth_m=4.0),  # deep: 管更生
        pipe(depth_m=2.0),  # shallow: open cut
        pipe(depth_m=np.nan),  # depth unknown: open cut, the ordinary case of a branch sewer
        pipe(depth_m=8.0, diameter_mm=6000),  # beyond the 更生工法' diameters: open cut (set it per pipe)
        pipe(depth_m=4.0, renewal_method="open_cut"),  # the ledger says open cut
        pipe(depth_m=1.5, renewal_method="rehabilitation"),  # the ledger says 管更生
        pipe(depth_m=4.0, renewal_method="unknown"),  # 不明: the default
        road(depth_m=4.0),
    ])
    assert rehabilitated(df, P).tolist() == [True, False, False, False, False, True, True, False]
    shallow_practice = Params.from_dict({"pipe_open_cut_max_depth_m": 5.0})
    assert not rehabilitated(df, shallow_practice)[0]


def test_the_engine_gives_a_lot_of_rehabilitated_pipes_no_trench_saving(world):
    """Two roads in Ⅲ-2, each over a pipe in 緊急度Ⅰ far apart: the pipe whose ledger says 管更生 forms a sewer
    lot beside its road's, with no dig-once saving; the open-cut one shares one lot and one trench with its road."""
    lots = {}
    for ext, lon, method in (("rehab", 139.830, "rehabilitation"), ("open", 139.850, "open_cut")):
        r = make_asset(world.yashio, "road_segment", external_id=f"R-{ext}", lon=lon, built=1970, width_m=6.0)
        p = make_asset(world.yashio, "sewer_pipe", external_id=f"P-{ext}", lon=lon, built=1965, road_segment=r,
                       cover_depth_m=2.0, renewal_method=method)
        inspection_record(actor=Actor.system(), asset=r, inspected_on="2025-06-01", grade="III-2")
        inspection_record(actor=Actor.system(), asset=p, inspected_on="2025-06-01", grade="緊急度Ⅰ")
        lots[ext] = (r, p)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    rehab_road, rehab_pipe = (run.clusters.get(members__asset=a) for a in lots["rehab"])
    assert rehab_pipe.work_type == "sewer" and rehab_road.work_type == "road" and rehab_pipe != rehab_road
    assert rehab_pipe.dig_once_saving == 0.0 and rehab_road.dig_once_saving == 0.0
    open_lot = run.clusters.get(members__asset=lots["open"][1])
    assert open_lot.work_type == "road_sewer" and open_lot.member_count == 2
    assert open_lot.dig_once_saving == pytest.approx(P.trench_width_m * 50.0 * P.cost_pavement_resurface_m2)
    assert run.summary["pipe_renewal_methods"] == {"open_cut": 1, "rehabilitation": 1}
