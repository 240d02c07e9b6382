"""Legal deadlines are constraints, not weights (domain.md §7; 道路法施行規則 and 平成26年国土交通省告示第426号 for
bridges: Ⅳ 緊急措置段階 at once, Ⅲ before the next 5-yearly inspection; 下水道 緊急度Ⅰ 原則1年以内, Ⅱ 5年以内).

Mandatory work is funded first and never scheduled after its deadline; what a budget cannot fund is the
shortfall, never dropped silently; a lot too big for the year is split so its mandatory assets go alone."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.planning.optimizer import (
    PlanProblem,
    feasible,
    greedy,
    missed_groups,
    objective_of,
    shortfall_of,
    solve,
)
from reports.planning.scenarios import Outlooks, items_of, problem_for, reduction, scenarios


def outlooks(c: int, t: int, rng, deadline=None, whole_cost=100.0, part_share=0.3) -> Outlooks:
    """`c` lots; lot k's mandatory part is `part_share` of it (risk and cost), due in plan year deadline[k]."""
    risk = rng.uniform(0.5, 3, (c, 1)) * np.linspace(1, 2, t + 1)[None, :]
    regrow = np.tile(np.linspace(0, 0.3, t + 1), (c, 1))
    p_worst = np.clip(np.linspace(0.1, 0.9, t + 1)[None, :] + rng.uniform(-0.1, 0.1, (c, 1)), 0, 1)
    cost_prev = whole_cost * rng.uniform(0.5, 1.5, (c, 1)) * np.linspace(1, 1.4, t + 1)[None, :]
    corr = cost_prev[:, -1] * 1.5
    dl = np.full(c, -1) if deadline is None else np.asarray(deadline)
    has = (dl >= 0)[:, None]
    f = part_share
    return Outlooks(np.arange(100, 100 + c), risk, p_worst, cost_prev, corr, np.full(c, 10.0), regrow,
                    cost_prev[:, 0] / 20, corr / 30, np.ones((c, 1)), ["pooled"],
                    dl, np.where(dl >= 0, 1.0, 0.0), risk * f * has, p_worst * has, cost_prev * f * has,
                    corr * f * has[:, 0], np.full(c, 10.0), regrow * f * has, np.ones((c, 1)))


def brute_force(p: PlanProblem) -> tuple[float, float]:
    """Least shortfall, then most risk removed, over every assignment."""
    n, h = p.shape
    best = None
    for y in itertools.product(range(-1, h), repeat=n):
        y = np.array(y)
        if not feasible(p, y):
            continue
        key = (shortfall_of(p, y), -objective_of(p, y))
        best = key if best is None or key < best else best
    return best[0], -best[1]


@pytest.mark.parametrize("seed", range(8))
def test_mandatory_first_then_optimal_on_the_rest_brute_force(seed):
    rng = np.random.default_rng(seed)
    # Two lots; lot 0 holds an asset due in plan year 0 (a Ⅳ bridge), lot 1 none: 2 + 1 + 1 items, 3 years.
    o = outlooks(2, 4, rng, deadline=[0, -1], whole_cost=rng.uniform(40, 120))
    p = problem_for(o, "preventive", 3, np.full((3, 1), rng.uniform(30, 90)))
    plan = solve(p, rel_gap=0.0)
    short, best = brute_force(p)
    assert feasible(p, plan.year)
    assert shortfall_of(p, plan.year) == pytest.approx(short)
    assert plan.objective == pytest.approx(best, rel=1e-9)
    assert shortfall_of(p, greedy(p).year) >= short


def test_a_bridge_at_iv_is_done_in_the_first_fiscal_year_when_the_budget_allows():
    rng = np.random.default_rng(1)
    # Lot 0 holds a Ⅳ bridge (告示426号: 緊急措置段階, at once): its deadline is plan year 0. It removes the
    # least risk per yen, so a risk-only plan would leave it for later.
    o = outlooks(6, 10, rng, deadline=[0, -1, -1, -1, -1, -1])
    o.risk[0] *= 0.01
    o.m_risk[0] *= 0.01
    need = float(o.cost_preventive[0, 0] + o.overhead[0])
    for strategy in ("preventive", "corrective"):
        for level in (0.2, 0.5, 1.0, 1.5):
            p = problem_for(o, strategy, 5, np.full((5, 1), 1.2 * need * level))
            it = items_of(o, 5)
            bridge = np.flatnonzero((it.cluster == 0) & (it.part != "rest"))  # the lot, or the bridge alone
            allows = p.cost[bridge, 0].min() <= p.budget[0, 0]
            for choice in (solve(p), greedy(p)):
                done = [k for k in bridge if choice.year[k] >= 0]
                if allows:
                    assert done and choice.year[done[0]] == 0, (strategy, level)
                    assert not len(missed_groups(p, choice.year))
                else:
                    assert not done and missed_groups(p, choice.year).tolist() == [0]
            if level == 1.0:
                assert allows  # the test covers both cases


def test_with_no_money_the_bridge_is_in_the_shortfall_with_its_interim_measure():
    rng = np.random.default_rng(2)
    o = outlooks(3, 10, rng, deadline=[0, 2, -1])
    o.mandatory_assets = {0: [{"id": 1, "kind": "bridge"}], 1: [{"id": 2, "kind": "sewer_pipe"}]}
    runs = scenarios(o, 5, np.zeros((5, 1)), levels=(1.0,))
    for s in runs:
        assert (s.plan.year < 0).all()
        legal = s.legal
        assert [e["cluster_id"] for e in legal["shortfall"]] == [100, 101]
        assert legal["shortfall_count"][:3] == [1, 0, 1]
        assert legal["shortfall_cost"][0] > 0
        assert legal["due"][:3] == [1, 0, 1]


def test_the_shortfall_lists_assets_and_interim_measures_per_year_and_municipality():
    """The plan's service turns the missed groups into assets with their interim measure (Japanese labels)."""
    import datetime

    from clusters.engine.params import Params
    from reports.services import _legal_detail

    rng = np.random.default_rng(2)
    o = outlooks(2, 10, rng, deadline=[0, -1])
    o.mandatory_assets = {0: [
        {"id": 7, "global_id": "BR-7", "name": "大落古利根11号橋", "kind": "bridge", "owner": "112348", "grade": "IV",
         "grade_label": "Ⅳ 緊急措置段階", "due": "2022-06-01", "cost_preventive": 5_000_000, "cost_corrective": 9_000_000}]}
    s = scenarios(o, 5, np.zeros((5, 1)), levels=(1.0,), strategies=("preventive",))[0].to_dict()

    class P:
        municipality_id = None

    out = _legal_detail(P(), o, s, list(range(2027, 2032)), Params().interim_measures, {"112348": "八潮市"})
    (a,) = out["shortfall_assets"]
    assert a["fiscal_year"] == 2027  # overdue since 2022: due in the first plan year
    assert a["interim_measure"].startswith("通行規制・通行止め")
    assert out["shortfall_by_municipality"] == [{"code": "112348", "name": "八潮市", "count": 1, "cost": 5_000_000}]
    assert out["shortfall_by_year"] == [{"fiscal_year": 2027, "count": 1, "cost": 5_000_000}]
    assert datetime.date.fromisoformat(a["due"]).year == 2022


def test_a_lot_too_big_for_the_year_is_split_and_its_mandatory_asset_goes_alone():
    rng = np.random.default_rng(4)
    o = outlooks(2, 10, rng, deadline=[0, -1], part_share=0.2)
    whole = float(o.cost_preventive[0, 0] + o.overhead[0])
    part = float(o.m_cost_preventive[0, 0] + o.m_overhead[0])
    budget = np.full((5, 1), (part + whole) / 2)  # the mandatory part fits in year 0, the whole lot does not
    for strategy in ("preventive",):
        p = problem_for(o, strategy, 5, budget)
        it = items_of(o, 5)
        for choice in (solve(p), greedy(p)):
            m = int(np.flatnonzero((it.cluster == 0) & (it.part == "mandatory"))[0])
            assert choice.year[0] == -1  # not the whole lot …
            assert choice.year[m] == 0  # … its mandatory part alone, in year 0
            assert not len(missed_groups(p, choice.year))
        s = scenarios(o, 5, budget, levels=(1.0,), strategies=(strategy,))[0]
        assert s.legal["split"] == [{"cluster_id": 100, "year": 0}]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.integers(1, 6), h=st.integers(1, 5), level=st.floats(0.0, 2.0),
       strategy=st.sampled_from(["preventive", "corrective"]))
def test_no_scenario_ever_schedules_a_mandatory_asset_after_its_deadline(seed, c, h, level, strategy):
    rng = np.random.default_rng(seed)
    deadline = np.where(rng.random(c) < 0.6, rng.integers(0, h + 2, c), -1)
    o = outlooks(c, 6, rng, deadline=deadline, part_share=float(rng.uniform(0.1, 0.9)))
    budget = np.full((h, 1), float(o.cost_preventive[:, 0].sum()) / max(h, 1) * level)
    p = problem_for(o, strategy, h, budget)
    it = items_of(o, h)
    for choice in (solve(p, time_limit_s=5), greedy(p)):
        assert feasible(p, choice.year)
        for k in np.flatnonzero(choice.year >= 0):
            if it.part[k] != "rest" and 0 <= deadline[it.cluster[k]] < h:
                assert choice.year[k] <= deadline[it.cluster[k]]
        # Nothing is dropped silently: every mandatory lot is done in time or in the shortfall.
        missed = set(missed_groups(p, choice.year).tolist())
        for lot in np.flatnonzero((deadline >= 0) & (deadline < h)):
            done = [k for k in np.flatnonzero(choice.year >= 0) if it.cluster[k] == lot and it.part[k] != "rest"]
            assert bool(done) != (lot in missed)
    if level == 0:
        assert len(missed_groups(p, solve(p).year)) == int(((deadline >= 0) & (deadline < h)).sum())


def test_preventive_against_corrective_reports_the_reduction():
    rng = np.random.default_rng(5)
    o = outlooks(5, 30, rng)
    runs = scenarios(o, 10, np.full((10, 1), float(o.cost_preventive[:, 0].sum()) / 10), levels=(1.0,))
    r = reduction(runs)
    by = {s.strategy: s.lcc50 for s in runs}
    assert r["amount"] == round(by["corrective"] - by["preventive"])
    assert r["percent"] == pytest.approx(100 * (by["corrective"] - by["preventive"]) / by["corrective"], abs=0.05)


@pytest.mark.parametrize("strategy", ["preventive", "corrective"])
def test_the_default_budget_funds_the_legally_due_work_first(strategy):
    """At 100 % of the default budget the plan's own strategy meets every deadline: overdue work is in the
    first year's budget, the rest is levelled (平準化) over the horizon."""
    from reports.planning.scenarios import default_budget

    rng = np.random.default_rng(9)
    o = outlooks(8, 30, rng, deadline=[0, 0, 0, 1, -1, -1, 3, 12])
    s = scenarios(o, 5, default_budget(o, 5, strategy), levels=(1.0,), strategies=(strategy,))[0]
    assert sum(s.legal["shortfall_count"]) == 0
    assert sum(s.legal["scheduled"]) == 5  # the lot due in year 12 is outside a 5-year plan
