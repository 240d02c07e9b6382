import numpy as np
import pandas as pd
import pytest

from clusters.engine.deterioration import Hazards
from clusters.engine.params import Params
from clusters.engine.scoring import COMPONENTS, score

P = Params()
H = {k: Hazards(tuple(v), 0, "default") for k, v in P.default_hazards.items()}


def frame(rows):
    return pd.DataFrame(rows)


def pipe(**kw):
    return {"kind": "sewer_pipe", "state": 2, "years": 3.0, "diameter_mm": 300, "depth_m": 2.0, "length_m": 50.0,
            "road_row": -1, **kw}


def road(**kw):
    return {"kind": "road_segment", "state": 1, "years": 2.0, "length_m": 50.0, "width_m": 6.0, "traffic": 100,
            "emergency": False, **kw}


def test_a_pipe_under_an_emergency_road_outranks_an_identical_pipe_under_a_quiet_lane():
    df = frame([road(traffic=30000, emergency=True), road(traffic=80), pipe(road_row=0), pipe(road_row=1)])
    s = score(df, H, P)
    assert s.lof[2] == pytest.approx(s.lof[3])
    assert s.risk[2] > s.risk[3]
    k = COMPONENTS.index("road_above")
    assert s.components[2, k] > s.components[3, k]


def test_dig_once_puts_a_pipe_and_its_road_in_one_lot_and_counts_the_saving():
    df = frame([road(state=3), pipe(state=3, road_row=0), pipe(state=0, years=1.0, road_row=0)])
    s = score(df, H, P)
    assert list(s.action[:2]) == ["renew", "renew"] and s.action[2] == "monitor"
    assert list(s.work_type) == ["road_sewer", "road_sewer", "sewer"]
    assert s.dig_once_saving[1] == pytest.approx(2.0 * 50 * 6_000)


def test_costs_follow_the_unit_costs():
    df = frame([pipe(state=3, diameter_mm=1000, length_m=10.0)])
    s = score(df, H, P)
    assert s.cost[0] == pytest.approx((100_000 + 150 * 1000) * 10)
    assert s.risk_removed[0] == pytest.approx((s.lof[0] - s.lof_after[0]) * s.cof[0])


def test_new_assets_are_monitored():
    s = score(frame([pipe(state=0, years=1.0)]), H, P)
    assert s.action[0] == "monitor" and s.cost[0] == 0 and s.risk_removed[0] == 0


def test_uninspected_old_assets_are_judged_by_age():
    s = score(frame([pipe(state=-1, years=60.0), pipe(state=-1, years=5.0)]), H, P)
    assert s.expected_state[0] > s.expected_state[1] and s.lof[0] > s.lof[1]
    assert np.isfinite(s.risk).all()


def test_assets_at_ii_are_preventive_candidates_repaired_not_renewed():
    """予防保全 (MLIT, domain.md §7) acts at Ⅱ, before Ⅲ: a Ⅱ bridge whose P(Ⅳ within 10 years) is below the
    action threshold must still be a work candidate, or a preventive plan could only ever act at Ⅲ."""
    bridge = {"kind": "bridge", "state": 1, "years": 0.5, "length_m": 20.0, "width_m": 8.0, "traffic": 500}
    s = score(frame([bridge, {**bridge, "state": 0}, pipe(state=1, years=0.5)]), H, P)
    assert s.lof[0] < P.lof_action_threshold
    assert s.action[0] == "repair" and s.action[2] == "repair"  # bridge Ⅱ, sewer 緊急度Ⅲ
    assert s.action[1] == "monitor"  # Ⅰ: nothing to do
    assert s.cost[0] == pytest.approx(s.repair_cost[0]) and s.repair_cost[0] < s.renew_cost[0]
