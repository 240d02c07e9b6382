"""Scenarios from outlooks: deferred work gets worse, and the gain of acting is the risk-years it removes."""

import numpy as np
import pytest

from reports.planning.scenarios import Outlooks, evaluate, problem_for, scenarios


def outlooks(c=2, t=5) -> Outlooks:
    risk = np.array([[1.0, 2, 3, 4, 5, 6], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]])[:c, :t + 1]
    regrow = np.tile(np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])[:t + 1], (c, 1))
    p_worst = np.array([[0.2, 0.4, 0.6, 0.8, 0.9, 1.0], [0.0] * 6])[:c, :t + 1]
    cost_prev = np.array([[100.0, 110, 120, 130, 140, 150], [50.0] * 6])[:c, :t + 1]
    return Outlooks(np.arange(c), risk, p_worst, cost_prev, np.array([200.0, 80.0])[:c], np.array([10.0, 10.0])[:c],
                    regrow, np.array([5.0, 2.0])[:c], np.array([8.0, 3.0])[:c], np.ones((c, 1)), ["pooled"])


def test_gain_is_the_risk_years_removed_within_the_horizon_by_hand():
    p = problem_for(outlooks(), "preventive", 3, np.full((3, 1), 1e9))
    # Cluster 0 acted on in year 0: (1 + 2 + 3) − (0 + 0.1 + 0.2) = 5.7; in year 2: 3 − 0 = 3.
    assert p.gain[0].tolist() == pytest.approx([5.7, 4.9, 3.0])
    # Deferring costs more: the preventive cost rises with deterioration (plus the lot's mobilization).
    assert p.cost[0].tolist() == [110.0, 120.0, 130.0]


def test_corrective_waits_for_the_worst_state_and_renews():
    p = problem_for(outlooks(), "corrective", 4, np.full((4, 1), 1e9))
    assert p.eligible[0].tolist() == [False, False, True, True]  # p_worst ≥ 0.5 from year 2
    assert not p.eligible[1].any()
    assert p.cost[0].tolist() == [210.0] * 4


def test_evaluate_follows_the_regrowth_after_acting():
    o = outlooks()
    p = problem_for(o, "preventive", 3, np.full((3, 1), 1e9))
    spend, risk, backlog, lcc = evaluate(o, p, np.array([1, -1]), "preventive")
    assert spend.tolist() == [0.0, 120.0, 0.0]
    assert risk.tolist() == pytest.approx([1 + 0.5, 0.0 + 0.5, 0.1 + 0.5])
    assert lcc == pytest.approx(120 + (50 + 10) + (50 - 3) * (5 + 2))


def test_more_budget_never_leaves_more_risk():
    o = outlooks()
    out = scenarios(o, 3, np.full((3, 1), 60.0), levels=(0.5, 1.0, 4.0), strategies=("preventive",))
    ends = [sum(s.risk) for s in out]
    assert ends[0] >= ends[1] >= ends[2]
    assert all((s.spend <= s.budget.sum(axis=1) + 1e-6).all() for s in out)
