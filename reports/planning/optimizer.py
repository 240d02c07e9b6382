"""Which cluster to act on in which year, within each year's budget, to remove the most risk. Pure numpy + HiGHS.

Acting on cluster c in plan year s costs cost[c, s] and brings its members back to new: from then on its
risk regrows along regrow[c, ·] instead of following risk[c, ·]. The gain of that choice is the risk-years
it removes within the horizon, gain[c, s] = Σ_{t ≥ s} risk[c, t] − regrow[c, t − s]; deferring costs more
(cost grows with deterioration) and gains less. At most one action per cluster within the horizon.

The exact plan is a multiple-choice, multi-dimensional knapsack solved as a MIP with HiGHS; the greedy
baseline takes, year by year, the best gain per yen that still fits."""

import os
import sys
from dataclasses import dataclass, field

import highspy
import numpy as np


@dataclass
class PlanProblem:
    cost: np.ndarray  # C × H, yen if acted in plan year s
    gain: np.ndarray  # C × H, risk-years removed if acted in plan year s
    eligible: np.ndarray  # C × H, bool
    shares: np.ndarray  # C × M, each cluster's cost split between the M budget holders (rows sum to 1)
    budget: np.ndarray  # H × M, yen per year per budget holder (M = 1 for a pooled budget)

    @property
    def shape(self) -> tuple[int, int]:
        return self.cost.shape


@dataclass
class PlanChoice:
    year: np.ndarray  # C: plan year acted in, -1 if not within the horizon
    objective: float  # risk-years removed
    method: str  # "highs" or "greedy"
    status: str = "optimal"
    gap: float = 0.0
    seconds: float = 0.0
    spend: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # H × M

    def __post_init__(self):
        self.year = np.asarray(self.year, dtype=int)


def spend_of(problem: PlanProblem, year: np.ndarray) -> np.ndarray:
    """Spend per year per budget holder (H × M) for a choice."""
    c_count, h = problem.shape
    out = np.zeros((h, problem.shares.shape[1]))
    acted = np.flatnonzero(year >= 0)
    np.add.at(out, year[acted], problem.cost[acted, year[acted], None] * problem.shares[acted])
    return out


def objective_of(problem: PlanProblem, year: np.ndarray) -> float:
    acted = np.flatnonzero(year >= 0)
    return float(problem.gain[acted, year[acted]].sum())


def feasible(problem: PlanProblem, year: np.ndarray, tol: float = 1e-6) -> bool:
    acted = np.flatnonzero(year >= 0)
    if not problem.eligible[acted, year[acted]].all():
        return False
    return bool((spend_of(problem, year) <= problem.budget * (1 + tol) + 1e-6).all())


def greedy(problem: PlanProblem) -> PlanChoice:
    """Year by year, the best gain per yen first, while every budget holder's budget still allows it."""
    c_count, h = problem.shape
    year = np.full(c_count, -1)
    for s in range(h):
        left = problem.budget[s].astype(float).copy()
        open_ = np.flatnonzero((year < 0) & problem.eligible[:, s] & (problem.gain[:, s] > 0))
        ratio = problem.gain[open_, s] / np.maximum(problem.cost[open_, s], 1.0)
        for c in open_[np.argsort(-ratio, kind="stable")]:
            need = problem.cost[c, s] * problem.shares[c]
            if (need <= left + 1e-6).all():
                left -= need
                year[c] = s
    return PlanChoice(year, objective_of(problem, year), "greedy", spend=spend_of(problem, year))


def _new_solver() -> highspy.Highs:
    """HiGHS prints its banner from the C++ constructor, before any option can silence it: keep it out of
    the commands' and the worker's output by pointing file descriptor 1 elsewhere for that moment."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            solver = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return solver


def solve(problem: PlanProblem, time_limit_s: float = 20.0, rel_gap: float = 1e-3,
          baseline: PlanChoice | None = None) -> PlanChoice:
    """The exact plan (to `rel_gap`, within `time_limit_s`; the status and gap say how it ended). The greedy
    plan is given to the solver as a starting point, so the answer is never worse than the baseline."""
    import time

    t0 = time.perf_counter()
    c_count, h = problem.shape
    cc, ss = np.nonzero(problem.eligible & (problem.gain > 0))
    n = len(cc)
    base = baseline if baseline is not None else greedy(problem)
    if n == 0:
        return PlanChoice(np.full(c_count, -1), 0.0, "highs", spend=spend_of(problem, np.full(c_count, -1)))
    m = problem.shares.shape[1]
    # Rows: one "at most once" row per cluster, then one budget row per (year, holder).
    rows_once = cc
    rows_budget = c_count + ss * m
    coef_budget = problem.cost[cc, ss, None] * problem.shares[cc]  # n × M
    holder_rows = rows_budget[:, None] + np.arange(m)[None, :]
    nz = coef_budget > 0
    row_idx = np.concatenate([rows_once, holder_rows[nz]])
    col_idx = np.concatenate([np.arange(n), np.repeat(np.arange(n), m).reshape(n, m)[nz]])
    vals = np.concatenate([np.ones(n), coef_budget[nz]])
    order = np.lexsort((row_idx, col_idx))
    row_idx, col_idx, vals = row_idx[order], col_idx[order], vals[order]
    starts = np.searchsorted(col_idx, np.arange(n + 1))

    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = c_count + h * m
    lp.col_cost_ = -problem.gain[cc, ss]  # HiGHS minimizes
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.full(lp.num_row_, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.ones(c_count), problem.budget.reshape(-1).astype(float)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = row_idx
    lp.a_matrix_.value_ = vals
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    solver = _new_solver()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", float(time_limit_s))
    solver.setOptionValue("mip_rel_gap", float(rel_gap))
    solver.setOptionValue("threads", 1)
    solver.passModel(lp)
    start = np.zeros(n)
    picked = base.year[cc] == ss
    start[picked] = 1.0
    sol = highspy.HighsSolution()
    sol.col_value = start.tolist()
    sol.value_valid = True
    solver.setSolution(sol)
    solver.run()
    status = solver.modelStatusToString(solver.getModelStatus())
    x = np.asarray(solver.getSolution().col_value)
    year = np.full(c_count, -1)
    if len(x) == n:
        take = x > 0.5
        year[cc[take]] = ss[take]
    if not feasible(problem, year) or objective_of(problem, year) < base.objective:
        year = base.year  # a time-limited solver that found nothing better keeps the baseline
    info = solver.getInfo()
    gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else 0.0
    return PlanChoice(year, objective_of(problem, year), "highs", status.lower(), gap, time.perf_counter() - t0,
                      spend_of(problem, year))
