"""Multi-year plans per scenario (strategy × budget level) from the clusters' outlooks. Pure numpy.

Strategies: 予防保全 (preventive) may act on a cluster in any year, repairing what is still repairable;
事後保全 (corrective) acts only once most of it (by renewal cost) has reached the worst state, and renews.
For each scenario: the optimal plan and the greedy baseline, yearly spend, risk over time, backlog, and the
50-year life-cycle cost = spend within the horizon + what is left undone at its end + the steady-state yearly
cost of the strategy for the remaining years."""

from dataclasses import dataclass

import numpy as np

from reports.planning.optimizer import PlanChoice, PlanProblem, greedy, solve, spend_of

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

    @property
    def years(self) -> int:
        return self.risk.shape[1] - 1


def problem_for(o: Outlooks, strategy: str, horizon: int, budget: np.ndarray) -> PlanProblem:
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    h = horizon
    if h > o.years:
        raise ValueError(f"the horizon can be at most {o.years} years")
    if strategy == "preventive":
        cost = o.cost_preventive[:, :h] + o.overhead[:, None]
        eligible = np.ones_like(cost, dtype=bool)
    else:
        cost = np.repeat((o.cost_corrective + o.overhead)[:, None], h, axis=1)
        eligible = o.p_worst[:, :h] >= CORRECTIVE_TRIGGER
    # gain[c, s] = Σ_{t=s}^{h-1} risk[c, t] − regrow[c, t − s]
    left_alone = np.cumsum(o.risk[:, :h][:, ::-1], axis=1)[:, ::-1]  # Σ_{t ≥ s} risk
    regrown = np.cumsum(o.regrow[:, :h], axis=1)  # Σ_{τ < k} regrow, k = h − s
    gain = left_alone - regrown[:, ::-1]
    return PlanProblem(cost, gain, eligible, o.shares, np.asarray(budget, dtype=float))


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

    def to_dict(self) -> dict:
        r = lambda a: [round(float(x), 3) for x in np.ravel(a)]  # noqa: E731
        return {"strategy": self.strategy, "level": self.level, "budget": r(self.budget.sum(axis=1)),
                "spend": r(self.spend), "risk": r(self.risk), "risk_untreated": r(self.risk_untreated),
                "backlog": r(self.backlog), "lcc50": round(self.lcc50), "treated": self.treated,
                "objective": round(self.plan.objective, 3), "greedy_objective": round(self.baseline.objective, 3),
                "solver_status": self.plan.status, "solver_gap": self.plan.gap,
                "solver_seconds": round(self.plan.seconds, 2)}


def evaluate(o: Outlooks, problem: PlanProblem, year: np.ndarray, strategy: str, lcc_years: int = 50):
    c_count, h = problem.shape
    t = np.arange(h)
    acted = year >= 0
    since = t[None, :] - year[:, None]
    after = acted[:, None] & (since >= 0)
    regrow = np.take_along_axis(o.regrow[:, :h], np.clip(since, 0, h - 1), axis=1)
    risk = np.where(after, regrow, o.risk[:, :h]).sum(axis=0)
    # Money is counted for the budget holders only: a municipality's own plan pays its share of each lot.
    paid = o.shares.sum(axis=1)
    spend = spend_of(problem, year).sum(axis=1)
    due = (o.p_worst[:, 1:h + 1] >= CORRECTIVE_TRIGGER) & ~after
    end_cost = ((o.cost_preventive[:, h] if strategy == "preventive" else o.cost_corrective) + o.overhead) * paid
    backlog = (due * end_cost[:, None]).sum(axis=0)
    annual = (o.annual_preventive if strategy == "preventive" else o.annual_corrective) * paid
    lcc = spend.sum() + end_cost[~acted].sum() + max(lcc_years - h, 0) * annual.sum()
    return spend, risk, backlog, float(lcc)


def scenarios(o: Outlooks, horizon: int, base_budget: np.ndarray, levels=(0.5, 1.0, 1.5),
              strategies=STRATEGIES, time_limit_s: float = 8.0) -> list[Scenario]:
    """`base_budget`: H × M yen (per year, per budget holder); each level scales it."""
    out = []
    untreated = o.risk[:, :horizon].sum(axis=0)
    for strategy in strategies:
        for level in levels:
            budget = np.asarray(base_budget, dtype=float) * level
            problem = problem_for(o, strategy, horizon, budget)
            base = greedy(problem)
            plan = solve(problem, time_limit_s=time_limit_s, baseline=base)
            spend, risk, backlog, lcc = evaluate(o, problem, plan.year, strategy)
            out.append(Scenario(strategy, level, budget, plan, base, spend, risk, untreated, backlog, lcc,
                                int((plan.year >= 0).sum()), problem))
    return out


def default_budget(o: Outlooks, horizon: int) -> np.ndarray:
    """The levelled need: acting on every cluster now, preventively, spread evenly over the horizon and split
    between the budget holders by their cost shares (H × M)."""
    need = (o.cost_preventive[:, 0] + o.overhead)[:, None] * o.shares
    return np.repeat(need.sum(axis=0)[None, :] / horizon, horizon, axis=0)
