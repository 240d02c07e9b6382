"""Which cluster to act on in which year, within each year's budget, to remove the most risk. Pure numpy + HiGHS.

Acting on cluster c in plan year s costs cost[c, s] and brings its members back to new: from then on its
risk regrows along regrow[c, ·] instead of following risk[c, ·]. The gain of that choice is the risk-years
it removes within the horizon, gain[c, s] = Σ_{t ≥ s} risk[c, t] − regrow[c, t − s]; deferring costs more
(cost grows with deterioration) and gains less. At most one action per cluster within the horizon.

Legal deadlines are constraints, not weights (道路法施行規則 / 告示426号 for bridges: Ⅳ at once, Ⅲ before the
next inspection; 下水道 緊急度Ⅰ within a year, Ⅱ within five). A mandatory group (a lot holding an asset with a
measures deadline) must have one of its items (the whole lot, or its mandatory assets split out) acted on no
later than its deadline year; mandatory items are never eligible after it. When the budget cannot do that the
group is "missed": a slack variable with a penalty larger than any risk gain, so the legal work is funded
first and the shortfall is reported, never dropped silently. Among what is left the plan maximizes risk removed.

Coordinators steer the plan (reports/pins.py): an item pinned to a year (`fixed`) is acted on in that year (its
column's lower bound is 1), and an excluded lot is simply not eligible (scenarios.problem_for). Pinned work is
paid from the year's budget; where the pins alone cost more than a year's budget, that year's limit is raised to
what they cost (`effective_budget`) so the plan stays solvable, and the plan reports the overrun.

The exact plan is a multiple-choice, multi-dimensional knapsack solved as a MIP with HiGHS; the greedy
baseline takes, year by year, the mandatory work due that year first, then the best gain per yen that fits."""

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
    # Items of one group are alternatives (at most one of them, once): a lot, or its mandatory part split out.
    group: np.ndarray | None = None  # N; default: every item its own group
    # An item that may be acted on only if another one is (the rest of a split lot needs its mandatory part),
    # or if that one's group missed its deadline.
    requires: np.ndarray | None = None  # N, item index or -1
    deadline: np.ndarray | None = None  # N, last plan year for the item's mandatory group, or -1
    weight: np.ndarray | None = None  # N, mandatory assets the item's group holds (the shortfall's measure)
    fixed: np.ndarray | None = None  # N, plan year the item is pinned to by hand, or -1

    def __post_init__(self):
        n = self.cost.shape[0]
        self.group = np.arange(n) if self.group is None else np.asarray(self.group, dtype=int)
        self.requires = np.full(n, -1) if self.requires is None else np.asarray(self.requires, dtype=int)
        self.deadline = np.full(n, -1) if self.deadline is None else np.asarray(self.deadline, dtype=int)
        self.weight = (np.where(self.deadline >= 0, 1.0, 0.0) if self.weight is None
                       else np.asarray(self.weight, dtype=float))
        self.fixed = np.full(n, -1) if self.fixed is None else np.asarray(self.fixed, dtype=int)

    @property
    def shape(self) -> tuple[int, int]:
        return self.cost.shape

    def mandatory_groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(group ids, their deadline, their weight) of the groups with a deadline within the horizon."""
        m = (self.deadline >= 0) & (self.deadline < self.shape[1])
        g, first = np.unique(self.group[m], return_index=True)
        return g, self.deadline[m][first], self.weight[m][first]

    def pinned_spend(self) -> np.ndarray:
        """What the pinned items cost, per year per budget holder (H × M)."""
        return spend_of(self, np.where(self.fixed >= 0, self.fixed, -1))

    def effective_budget(self) -> np.ndarray:
        """The budget, raised where the pinned work alone costs more (a pin is honoured, the overrun reported)."""
        return np.maximum(np.asarray(self.budget, dtype=float), self.pinned_spend())


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


def missed_groups(problem: PlanProblem, year: np.ndarray) -> np.ndarray:
    """Mandatory groups with no item acted on by their deadline: the legal shortfall."""
    g, dl, _w = problem.mandatory_groups()
    covered = set(problem.group[(year >= 0) & (year <= problem.deadline)].tolist())
    return np.array([x for x in g.tolist() if x not in covered], dtype=int)


def shortfall_of(problem: PlanProblem, year: np.ndarray) -> float:
    g, _dl, w = problem.mandatory_groups()
    missed = set(missed_groups(problem, year).tolist())
    return float(sum(wi for gi, wi in zip(g.tolist(), w.tolist(), strict=True) if gi in missed))


def feasible(problem: PlanProblem, year: np.ndarray, tol: float = 1e-6) -> bool:
    pinned = problem.fixed >= 0
    if (year[pinned] != problem.fixed[pinned]).any():
        return False
    acted = np.flatnonzero(year >= 0)
    if not problem.eligible[acted, year[acted]].all():
        return False
    if len(np.unique(problem.group[acted])) < len(acted):
        return False
    dl = problem.deadline[acted]
    if ((dl >= 0) & (year[acted] > dl)).any():  # a mandatory item after its deadline
        return False
    missed = set(missed_groups(problem, year).tolist())
    for i in acted[problem.requires[acted] >= 0]:
        j = problem.requires[i]
        if year[j] < 0 and problem.group[j] not in missed:
            return False
    return bool((spend_of(problem, year) <= problem.effective_budget() * (1 + tol) + 1e-6).all())


def _better(problem: PlanProblem, a: np.ndarray, b: np.ndarray) -> bool:
    """Is `a` at least as good as `b`: less legal shortfall first, then more risk removed."""
    sa, sb = shortfall_of(problem, a), shortfall_of(problem, b)
    if abs(sa - sb) > 1e-9:
        return sa < sb
    return objective_of(problem, a) >= objective_of(problem, b) - 1e-9


def greedy(problem: PlanProblem) -> PlanChoice:
    """Year by year: first the mandatory groups due that year (the whole lot if it fits, else its mandatory
    part alone, else it is missed), then the best gain per yen, while every holder's budget allows it."""
    c_count, h = problem.shape
    year = np.full(c_count, -1)
    used: set[int] = set()
    missed: set[int] = set()
    groups, deadlines, _w = problem.mandatory_groups()
    budget = problem.effective_budget() - problem.pinned_spend()  # what the pins leave
    for i in np.flatnonzero(problem.fixed >= 0):  # pinned by hand: done in that year, whatever else
        year[i] = problem.fixed[i]
        used.add(int(problem.group[i]))
    for s in range(h):
        left = budget[s].astype(float).copy()

        def take(i: int, s: int = s) -> bool:
            nonlocal left
            need = problem.cost[i, s] * problem.shares[i]
            in_time = problem.deadline[i] < 0 or s <= problem.deadline[i]
            if problem.eligible[i, s] and in_time and (need <= left + 1e-6).all():
                left -= need
                year[i] = s
                used.add(int(problem.group[i]))
                return True
            return False

        # The legal work due this year first, each at its cheapest (the mandatory part alone); then, while the
        # budget allows, a split lot is done whole instead.
        split = []
        for g in groups[deadlines == s]:
            if g in used:
                continue
            items = np.flatnonzero(problem.group == g)  # the whole lot, then its mandatory part
            if not any(take(int(i)) for i in items[::-1]):
                missed.add(int(g))
            elif len(items) > 1 and year[items[-1]] == s:
                split.append(items)
        for items in split:
            whole, part = int(items[0]), int(items[-1])
            left += problem.cost[part, s] * problem.shares[part]
            year[part] = -1
            if not take(whole):
                take(part)
        open_ = np.flatnonzero((year < 0) & problem.eligible[:, s] & (problem.gain[:, s] > 0))
        ratio = problem.gain[open_, s] / np.maximum(problem.cost[open_, s], 1.0)
        for c in open_[np.argsort(-ratio, kind="stable")]:
            if int(problem.group[c]) in used:
                continue
            j = problem.requires[c]
            if j >= 0 and not (0 <= year[j] <= s or int(problem.group[j]) in missed):
                continue
            take(int(c))
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
    base = baseline if baseline is not None else greedy(problem)
    dl = problem.deadline
    in_time = (dl[:, None] < 0) | (np.arange(h)[None, :] <= dl[:, None])
    mand_g, _mand_dl, mand_w = problem.mandatory_groups()
    in_mand = np.isin(problem.group, mand_g)
    pinned = problem.fixed[:, None] == np.arange(h)[None, :]
    cc, ss = np.nonzero(problem.eligible & in_time & ((problem.gain > 0) | in_mand[:, None] | pinned))
    n = len(cc)
    if n == 0:
        return PlanChoice(np.full(c_count, -1), 0.0, "highs", spend=spend_of(problem, np.full(c_count, -1)))
    m = problem.shares.shape[1]
    k = len(mand_g)
    # Columns: x[c, s] (n of them), then one slack per mandatory group ("missed its deadline").
    # Rows: one "at most one item of the group, once" row per group; one budget row per (year, holder);
    # one "covered by its deadline, or missed" row per mandatory group; one row per item that requires another.
    groups, gidx = np.unique(problem.group, return_inverse=True)
    n_groups = len(groups)
    mand_row = {int(g): i for i, g in enumerate(mand_g.tolist())}
    req_items = np.flatnonzero(problem.requires >= 0)
    req_row = {int(i): r for r, i in enumerate(req_items.tolist())}
    r_budget0 = n_groups
    r_mand0 = r_budget0 + h * m
    r_req0 = r_mand0 + k
    n_rows = r_req0 + len(req_items)
    rows, cols, vals = [gidx[cc]], [np.arange(n)], [np.ones(n)]
    coef_budget = problem.cost[cc, ss, None] * problem.shares[cc]  # n × M
    holder_rows = r_budget0 + ss[:, None] * m + np.arange(m)[None, :]
    nz = coef_budget > 0
    rows.append(holder_rows[nz])
    cols.append(np.repeat(np.arange(n), m).reshape(n, m)[nz])
    vals.append(coef_budget[nz])
    for j, (c, g) in enumerate(zip(cc.tolist(), problem.group[cc].tolist(), strict=True)):
        if g in mand_row:
            rows.append(np.array([r_mand0 + mand_row[g]]))
            cols.append(np.array([j]))
            vals.append(np.ones(1))
        if c in req_row:
            rows.append(np.array([r_req0 + req_row[c]]))
            cols.append(np.array([j]))
            vals.append(np.ones(1))
    required_by: dict[int, list[int]] = {}
    for i in req_items.tolist():
        required_by.setdefault(int(problem.requires[i]), []).append(i)
    for j, c in enumerate(cc.tolist()):
        for i in required_by.get(c, ()):
            rows.append(np.array([r_req0 + req_row[i]]))
            cols.append(np.array([j]))
            vals.append(-np.ones(1))
    for r in mand_row.values():
        rows.append(np.array([r_mand0 + r]))
        cols.append(np.array([n + r]))
        vals.append(np.ones(1))
    for i, r in req_row.items():
        g = int(problem.group[problem.requires[i]])
        if g in mand_row:  # the rest of a lot may go ahead alone when its mandatory part missed the deadline
            rows.append(np.array([r_req0 + r]))
            cols.append(np.array([n + mand_row[g]]))
            vals.append(-np.ones(1))
    row_idx, col_idx, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    order = np.lexsort((row_idx, col_idx))
    row_idx, col_idx, vals = row_idx[order], col_idx[order], vals[order]
    starts = np.searchsorted(col_idx, np.arange(n + k + 1))
    # A missed legal deadline weighs more than all the risk the whole plan could remove.
    big = float(np.maximum(problem.gain, 0).max(axis=1).sum()) + 1.0

    lp = highspy.HighsLp()
    lp.num_col_ = n + k
    lp.num_row_ = n_rows
    lp.col_cost_ = np.concatenate([-problem.gain[cc, ss], big * mand_w])  # HiGHS minimizes
    lp.col_lower_ = np.concatenate([(problem.fixed[cc] == ss).astype(float), np.zeros(k)])  # pins are met
    lp.col_upper_ = np.ones(n + k)
    lp.row_lower_ = np.concatenate([np.full(n_groups + h * m, -highspy.kHighsInf), np.ones(k),
                                    np.full(len(req_items), -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n_groups), problem.effective_budget().reshape(-1), np.ones(k),
                                    np.zeros(len(req_items))])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = row_idx
    lp.a_matrix_.value_ = vals
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (n + k)
    solver = _new_solver()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", float(time_limit_s))
    solver.setOptionValue("mip_rel_gap", float(rel_gap))
    solver.setOptionValue("threads", 1)
    solver.passModel(lp)
    start = np.zeros(n + k)
    start[:n][base.year[cc] == ss] = 1.0
    for g in missed_groups(problem, base.year).tolist():
        start[n + mand_row[g]] = 1.0
    sol = highspy.HighsSolution()
    sol.col_value = start.tolist()
    sol.value_valid = True
    solver.setSolution(sol)
    solver.run()
    status = solver.modelStatusToString(solver.getModelStatus())
    x = np.asarray(solver.getSolution().col_value)
    year = np.full(c_count, -1)
    if len(x) == n + k:
        take = x[:n] > 0.5
        year[cc[take]] = ss[take]
    if not feasible(problem, year) or not _better(problem, year, base.year):
        year = base.year  # a time-limited solver that found nothing better keeps the baseline
    info = solver.getInfo()
    gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else 0.0
    return PlanChoice(year, objective_of(problem, year), "highs", status.lower(), gap, time.perf_counter() - t0,
                      spend_of(problem, year))
