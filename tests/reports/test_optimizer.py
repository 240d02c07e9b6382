"""The plan optimizer: within every budget, exact on small cases (brute force), never below the greedy baseline."""

import itertools

import numpy as np
import pytest

from reports.planning.optimizer import PlanProblem, feasible, greedy, objective_of, solve, spend_of


def random_problem(rng, clusters, years, holders=1, tight=0.4) -> PlanProblem:
    cost = rng.uniform(1, 10, (clusters, years)) * np.linspace(1, 1.5, years)  # deferring costs more
    gain = rng.uniform(0, 5, (clusters, years)) * np.linspace(1.5, 0.5, years)  # and removes less
    eligible = rng.random((clusters, years)) > 0.15
    shares = rng.dirichlet(np.ones(holders), clusters) if holders > 1 else np.ones((clusters, 1))
    budget = np.full((years, holders), cost.mean() * clusters * tight / years / holders)
    return PlanProblem(cost, gain, eligible, shares, budget)


def brute_force(p: PlanProblem) -> float:
    c, h = p.shape
    return max(objective_of(p, np.array(y)) for y in itertools.product(range(-1, h), repeat=c)
               if feasible(p, np.array(y)))


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_on_small_cases(seed):
    rng = np.random.default_rng(seed)
    p = random_problem(rng, clusters=6, years=3, holders=1 + seed % 2)
    plan = solve(p, rel_gap=0.0)
    assert plan.objective == pytest.approx(brute_force(p), rel=1e-9)
    assert feasible(p, plan.year)


@pytest.mark.parametrize("holders", [1, 3])
def test_never_exceeds_a_years_budget_and_beats_or_equals_greedy(holders):
    rng = np.random.default_rng(7)
    p = random_problem(rng, clusters=300, years=10, holders=holders)
    # HiGHS stops at its time limit on this problem whatever the limit (the gap is small after 3 s, about as small
    # after 10): the rules checked hold for whatever plan it has then.
    plan, base = solve(p, time_limit_s=3), greedy(p)
    spend = spend_of(p, plan.year)
    assert (spend <= p.budget + 1e-6).all()
    assert (spend_of(p, base.year) <= p.budget + 1e-6).all()
    assert plan.objective >= base.objective - 1e-9
    assert (plan.year >= 0).sum() > 0


def test_ineligible_years_are_never_chosen():
    rng = np.random.default_rng(3)
    p = random_problem(rng, clusters=40, years=5)
    p.eligible[:, :2] = False  # e.g. corrective work before anything has failed
    plan = solve(p)
    assert not (np.isin(plan.year, [0, 1])).any()


def test_a_greedy_trap_is_avoided():
    # One big job (10 yen, gain 11: 1.1 per yen) or two small ones (6 yen, gain 6.5: 1.08 per yen); budget 12.
    # Greedy takes the big job by its ratio and has 2 yen left; the optimum is both small ones.
    cost = np.array([[10.0], [6.0], [6.0]])
    gain = np.array([[11.0], [6.5], [6.5]])
    p = PlanProblem(cost, gain, np.ones_like(cost, bool), np.ones((3, 1)), np.array([[12.0]]))
    assert greedy(p).objective == pytest.approx(11.0)
    assert solve(p, rel_gap=0.0).objective == pytest.approx(13.0)
