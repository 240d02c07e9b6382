"""Multi-year plans per scenario (strategy × budget level) from the clusters' outlooks. Pure numpy.

Strategies as MLIT defines them: 予防保全 (preventive) acts while assets are at Ⅱ (sewer 緊急度Ⅲ), before Ⅲ, and
may act on a lot in any year, repairing what is still repairable; 事後保全 (corrective) acts at Ⅲ/Ⅳ: on a lot
once most of it (by renewal cost) has reached the worst state, and on legally due assets by their deadline,
renewing them.

Legal deadlines: a lot holding assets with a measures deadline within the horizon is a mandatory group of two
alternatives, the whole lot or its mandatory assets split out alone (plus the rest of the lot, which may follow
on its own). One of them must be acted on by the deadline year; see optimizer.py for how a shortfall is kept.
For each scenario: the optimal plan and the greedy baseline, yearly spend, risk over time, backlog, and the
50-year life-cycle cost = spend within the horizon + what is left undone at its end + the steady-state yearly
cost of the strategy for the remaining years."""

from dataclasses import dataclass, field

import numpy as np

from reports.planning.optimizer import (
    PlanChoice,
    PlanProblem,
    greedy,
    missed_groups,
    shortfall_of,
    solve,
    spend_of,
)

STRATEGIES = ("preventive", "corrective")
CORRECTIVE_TRIGGER = 0.5  # share (by renewal cost) of the cluster in the worst state


@dataclass
class Outlooks:
    """One row per cluster, as stored on the run's clusters."""

    ids: np.ndarray  # C
    risk: np.ndarray  # C × (T+1) if left alone
    p_worst: np.ndarray  # C × (T+1)
    cost_preventive: np.ndarray  # C × (T+1), members only
    cost_corrective: np.ndarray  # C
    overhead: np.ndarray  # C: mobilization less the dig-once saving, paid once per contract
    regrow: np.ndarray  # C × (T+1): risk t years after the cluster is brought back to new
    annual_preventive: np.ndarray  # C
    annual_corrective: np.ndarray  # C
    shares: np.ndarray  # C × M: cost share per budget holder
    holders: list[str]
    # The mandatory part of each lot (its assets with a legal measures deadline); zero rows where it has none.
    deadline: np.ndarray | None = None  # C: plan year by which it must be done (overdue: 0), -1 if none
    weight: np.ndarray | None = None  # C: mandatory assets in the lot
    m_risk: np.ndarray | None = None  # C × (T+1)
    m_p_worst: np.ndarray | None = None  # C × (T+1)
    m_cost_preventive: np.ndarray | None = None  # C × (T+1)
    m_cost_corrective: np.ndarray | None = None  # C
    m_overhead: np.ndarray | None = None  # C: a contract of its own when split out
    m_regrow: np.ndarray | None = None  # C × (T+1)
    m_shares: np.ndarray | None = None  # C × M
    mandatory_assets: dict | None = None  # lot row → its mandatory assets as the engine listed them

    @property
    def years(self) -> int:
        return self.risk.shape[1] - 1


@dataclass
class Items:
    """What the optimizer chooses among: every lot whole, then each mandatory lot's mandatory part and the
    rest of it (parts: "lot", "mandatory", "rest")."""

    o: Outlooks  # one row per item, same fields
    cluster: np.ndarray  # N: row of the lot in the clusters' outlooks
    part: np.ndarray  # N: str
    group: np.ndarray
    requires: np.ndarray
    deadline: np.ndarray
    weight: np.ndarray


def items_of(o: Outlooks, horizon: int) -> Items:
    c = len(o.ids)
    dl = np.full(c, -1) if o.deadline is None else np.asarray(o.deadline, dtype=int)
    mand = np.flatnonzero((dl >= 0) & (dl < horizon))
    k = len(mand)
    lots = np.arange(c)
    if not k:
        return Items(o, lots, np.full(c, "lot", dtype=object), lots, np.full(c, -1), np.full(c, -1), np.zeros(c))
    w = np.zeros(c) if o.weight is None else np.asarray(o.weight, dtype=float)

    def stack(whole, part):
        return np.concatenate([whole, part[mand], whole[mand] - part[mand]])

    p_cost = o.p_worst * o.cost_corrective[:, None]
    m_p_cost = o.m_p_worst * o.m_cost_corrective[:, None]
    rest_corr = o.cost_corrective[mand] - o.m_cost_corrective[mand]
    p_worst = np.concatenate([o.p_worst, o.m_p_worst[mand],
                              (p_cost[mand] - m_p_cost[mand]) / np.maximum(rest_corr, 1e-9)[:, None]])
    items = Outlooks(
        np.concatenate([o.ids, o.ids[mand], o.ids[mand]]), stack(o.risk, o.m_risk), p_worst,
        stack(o.cost_preventive, o.m_cost_preventive), stack(o.cost_corrective, o.m_cost_corrective),
        np.concatenate([o.overhead, o.m_overhead[mand], o.m_overhead[mand]]), stack(o.regrow, o.m_regrow),
        # The steady-state yearly cost is a lot's; a split lot keeps it on its two parts by cost.
        np.concatenate([o.annual_preventive, np.zeros(2 * k)]), np.concatenate([o.annual_corrective, np.zeros(2 * k)]),
        np.concatenate([o.shares, o.m_shares[mand], o.shares[mand]]), o.holders)
    lot_dl = np.where((dl >= 0) & (dl < horizon), dl, -1)
    return Items(items, np.concatenate([lots, mand, mand]),
                 np.array(["lot"] * c + ["mandatory"] * k + ["rest"] * k, dtype=object),
                 np.concatenate([lots, mand, c + np.arange(k)]),
                 np.concatenate([np.full(c + k, -1), c + np.arange(k)]),
                 np.concatenate([lot_dl, dl[mand], np.full(k, -1)]),
                 np.concatenate([np.where(lot_dl >= 0, w, 0.0), w[mand], np.zeros(k)]))


PINNED_OUT = -2  # `fixed` value of a lot excluded by hand


def problem_for(o: Outlooks, strategy: str, horizon: int, budget: np.ndarray,
                fixed: np.ndarray | None = None) -> PlanProblem:
    """`fixed` (C, per lot): the plan year a coordinator pinned it to, PINNED_OUT if excluded, -1 if free. A
    pinned lot is done whole in that year (its split parts are then not offered); an excluded one not at all.
    The caller (reports.pins) has refused pins that break a legal deadline; one that slips through is an error."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    h = horizon
    if h > o.years:
        raise ValueError(f"the horizon can be at most {o.years} years")
    it = items_of(o, h)
    i = it.o
    mandatory = it.deadline >= 0
    in_time = ~mandatory[:, None] | (np.arange(h)[None, :] <= it.deadline[:, None])
    if strategy == "preventive":
        cost = i.cost_preventive[:, :h] + i.overhead[:, None]
        eligible = np.ones_like(cost, dtype=bool)
    else:
        cost = np.repeat((i.cost_corrective + i.overhead)[:, None], h, axis=1)
        # 事後保全 waits for the worst state, except where the law says when (Ⅲ/Ⅳ, 緊急度Ⅰ/Ⅱ): by the deadline.
        eligible = (i.p_worst[:, :h] >= CORRECTIVE_TRIGGER) | mandatory[:, None]
    eligible &= in_time
    fixed_item = np.full(len(it.cluster), -1)
    if fixed is not None:
        f = np.asarray(fixed, dtype=int)[it.cluster]
        whole = it.part == "lot"
        eligible[(f == PINNED_OUT) | ((f >= 0) & ~whole)] = False
        rows = np.flatnonzero((f >= 0) & whole)
        if ((f[rows] >= h) | ((it.deadline[rows] >= 0) & (f[rows] > it.deadline[rows]))).any():
            raise ValueError("a lot is pinned outside the plan's years or past its legal deadline")
        eligible[rows] = False
        eligible[rows, f[rows]] = True
        fixed_item[rows] = f[rows]
    # gain[c, s] = Σ_{t=s}^{h-1} risk[c, t] − regrow[c, t − s]
    left_alone = np.cumsum(i.risk[:, :h][:, ::-1], axis=1)[:, ::-1]  # Σ_{t ≥ s} risk
    regrown = np.cumsum(i.regrow[:, :h], axis=1)  # Σ_{τ < k} regrow, k = h − s
    gain = left_alone - regrown[:, ::-1]
    return PlanProblem(cost, gain, eligible, i.shares, np.asarray(budget, dtype=float), it.group, it.requires,
                       it.deadline, it.weight, fixed_item)


@dataclass
class Scenario:
    strategy: str
    level: float
    budget: np.ndarray  # H × M
    plan: PlanChoice
    baseline: PlanChoice
    spend: np.ndarray  # H
    risk: np.ndarray  # H: risk during each plan year under the plan
    risk_untreated: np.ndarray  # H
    backlog: np.ndarray  # H: cost of work due (worst state reached) and not yet done, at each year's end
    lcc50: float
    treated: int
    problem: PlanProblem
    items: Items | None = None
    legal: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        r = lambda a: [round(float(x), 3) for x in np.ravel(a)]  # noqa: E731
        return {"strategy": self.strategy, "level": self.level, "budget": r(self.budget.sum(axis=1)),
                "spend": r(self.spend), "risk": r(self.risk), "risk_untreated": r(self.risk_untreated),
                "backlog": r(self.backlog), "lcc50": round(self.lcc50), "treated": self.treated,
                "objective": round(self.plan.objective, 3), "greedy_objective": round(self.baseline.objective, 3),
                "solver_status": self.plan.status, "solver_gap": self.plan.gap,
                "solver_seconds": round(self.plan.seconds, 2), "legal": self.legal,
                # The baseline may remove more risk by leaving legally due work undone: say so beside it.
                "greedy_shortfall": round(shortfall_of(self.problem, self.baseline.year))}


def evaluate(o: Outlooks, problem: PlanProblem, year: np.ndarray, strategy: str, lcc_years: int = 50):
    n, h = problem.shape
    it = items_of(o, h)
    i = it.o
    t = np.arange(h)
    acted = year >= 0
    since = t[None, :] - year[:, None]
    after = acted[:, None] & (since >= 0)
    regrow = np.take_along_axis(i.regrow[:, :h], np.clip(since, 0, h - 1), axis=1)
    # A lot's risk is the sum of its parts' (risk and regrowth are sums over members), so each acted item
    # removes its own part of it: the whole lot, or its mandatory part and the rest.
    risk = o.risk[:, :h].sum(axis=0) - np.where(after, i.risk[:, :h] - regrow, 0.0).sum(axis=0)
    split = np.zeros(len(o.ids), dtype=bool)
    split[it.cluster[acted & (it.part != "lot")]] = True
    unit = np.where(it.part == "lot", ~split[it.cluster], split[it.cluster]) & (i.cost_corrective > 0)
    # Money is counted for the budget holders only: a municipality's own plan pays its share of each lot.
    paid = i.shares.sum(axis=1)
    spend = spend_of(problem, year).sum(axis=1)
    due = (i.p_worst[:, 1:h + 1] >= CORRECTIVE_TRIGGER) & ~after & unit[:, None]
    end_cost = ((i.cost_preventive[:, h] if strategy == "preventive" else i.cost_corrective) + i.overhead) * paid
    backlog = (due * end_cost[:, None]).sum(axis=0)
    annual = (o.annual_preventive if strategy == "preventive" else o.annual_corrective) * o.shares.sum(axis=1)
    lcc = spend.sum() + end_cost[unit & ~acted].sum() + max(lcc_years - h, 0) * annual.sum()
    return spend, risk, backlog, float(lcc)


def legal_of(o: Outlooks, problem: PlanProblem, year: np.ndarray, strategy: str) -> dict:
    """The legal side of a plan, per plan year: mandatory assets due and scheduled (and what their part of the
    work costs), the lots split to meet a deadline, and the shortfall (mandatory groups missed, with the cost
    of their mandatory part at the deadline, per budget holder)."""
    n, h = problem.shape
    it = items_of(o, h)
    i = it.o
    part_cost = i.cost_preventive[:, :h] if strategy == "preventive" else np.repeat(i.cost_corrective[:, None], h, 1)
    mand_item = {int(c): k for k, c in enumerate(it.cluster.tolist()) if it.part[k] == "mandatory"}
    due = np.zeros(h)
    scheduled, scheduled_cost = np.zeros(h), np.zeros(h)
    short_n, short_cost = np.zeros(h), np.zeros(h)
    shortfall, split = [], []
    missed = set(missed_groups(problem, year).tolist())
    for c, k in mand_item.items():
        d = int(it.deadline[k])
        w = float(it.weight[k])
        due[d] += w
        whole, alone = year[c], year[k]
        if alone >= 0:
            split.append({"cluster_id": int(o.ids[c]), "year": int(alone)})
        y = whole if whole >= 0 else alone
        if y >= 0:
            scheduled[y] += w
            scheduled_cost[y] += float(part_cost[k, y] * i.shares[k].sum())
        if c in missed:
            cost = float(part_cost[k, d] + i.overhead[k])
            short_n[d] += w
            short_cost[d] += cost * float(i.shares[k].sum())
            shortfall.append({"cluster_id": int(o.ids[c]), "year": d, "assets": int(w), "cost": round(cost),
                              "by_holder": {hd: round(cost * float(x)) for hd, x in zip(o.holders, i.shares[k],
                                                                                       strict=True) if x > 0}})
    r = lambda a: [round(float(x)) for x in a]  # noqa: E731
    return {"due": r(due), "scheduled": r(scheduled), "scheduled_cost": r(scheduled_cost),
            "shortfall_count": r(short_n), "shortfall_cost": r(short_cost), "shortfall": shortfall, "split": split}


def scenarios(o: Outlooks, horizon: int, base_budget: np.ndarray, levels=(0.5, 1.0, 1.5),
              strategies=STRATEGIES, time_limit_s: float = 8.0, fixed: np.ndarray | None = None) -> list[Scenario]:
    """`base_budget`: H × M yen (per year, per budget holder); each level scales it. `fixed`: the coordinators'
    pins per lot (see problem_for), honoured in every scenario."""
    out = []
    untreated = o.risk[:, :horizon].sum(axis=0)
    for strategy in strategies:
        for level in levels:
            budget = np.asarray(base_budget, dtype=float) * level
            problem = problem_for(o, strategy, horizon, budget, fixed)
            base = greedy(problem)
            plan = solve(problem, time_limit_s=time_limit_s, baseline=base)
            spend, risk, backlog, lcc = evaluate(o, problem, plan.year, strategy)
            out.append(Scenario(strategy, level, budget, plan, base, spend, risk, untreated, backlog, lcc,
                                int(len(np.unique(items_of(o, horizon).cluster[plan.year >= 0]))), problem,
                                items_of(o, horizon), legal_of(o, problem, plan.year, strategy)))
    return out


def reduction(runs: list[Scenario], level: float = 1.0) -> dict | None:
    """縮減額: what 予防保全 saves over 事後保全 in 50-year life-cycle cost, at the same budget level (MLIT's
    comparison in 長寿命化修繕計画)."""
    by = {(s.strategy, s.level): s for s in runs}
    p, c = by.get(("preventive", level)), by.get(("corrective", level))
    if p is None or c is None or c.lcc50 <= 0:
        return None
    amount = c.lcc50 - p.lcc50
    return {"level": level, "preventive_lcc50": round(p.lcc50), "corrective_lcc50": round(c.lcc50),
            "amount": round(amount), "percent": round(100 * amount / c.lcc50, 1)}


def default_budget(o: Outlooks, horizon: int, strategy: str = "preventive") -> np.ndarray:
    """The levelled need, with the law first: each year gets the mandatory work due in it (its mandatory parts
    alone, at that year's cost, overdue work in the first year), and the rest of the work, acting on every
    lot now preventively, is spread evenly over the horizon; split between the budget holders by their cost
    shares (H × M)."""
    need = (o.cost_preventive[:, 0] + o.overhead)[:, None] * o.shares
    budget = np.repeat(need.sum(axis=0)[None, :] / horizon, horizon, axis=0)
    it = items_of(o, horizon)
    i = it.o
    for k in np.flatnonzero(it.part == "mandatory"):
        d = int(it.deadline[k])
        part = i.cost_preventive[k, d] if strategy == "preventive" else i.cost_corrective[k]
        budget[d] += (part + i.overhead[k]) * i.shares[k]
        budget -= i.cost_preventive[k, 0] * i.shares[k] / horizon  # no longer in the levelled rest
    return np.maximum(budget, 0.0)
