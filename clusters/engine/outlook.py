"""Each cluster's outlook, year by year: its risk if left alone, and what acting on it would cost that year.
The input of the multi-year plan, computed once per run so a plan never re-reads a million assets. Pure numpy.

Risk in year t = Σ over members of CoF × P(member in its worst state in year t), rolled forward with the
run's Markov hazards, so deferred work gets riskier. 予防保全 (preventive) repairs what is still repairable
and renews what has failed: its cost in year t is Σ [P(worst) × renewal + (1 − P(worst)) × repair], so
it grows as work is deferred. 事後保全 (corrective) renews every member once it has failed. Either action
brings a member back to new, from where it deteriorates again (`regrowth`)."""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from clusters.engine.deterioration import Hazards, transition

OUTLOOK_YEARS = 30


def regrowth(theta, years: int = OUTLOOK_YEARS) -> np.ndarray:
    """P(in the worst state) t = 0 … years after being brought back to new."""
    p = transition(theta, np.arange(years + 1, dtype=float))
    return p[:, 0, -1]


def cycle_years(theta) -> tuple[float, float]:
    """Expected years from new to the state where preventive work is done (one before the worst) and to
    the worst state, where corrective renewal happens."""
    sojourn = 1.0 / np.asarray(theta, dtype=float)
    return float(sojourn[:-1].sum()) or float(sojourn[0]), float(sojourn.sum())


@dataclass
class Outlook:
    schemes: tuple[str, ...]
    risk: np.ndarray  # C × (T+1)
    p_worst: np.ndarray  # C × (T+1), weighted by renewal cost
    cost_preventive: np.ndarray  # C × (T+1)
    cost_corrective: np.ndarray  # C
    cof_by_scheme: np.ndarray  # C × S
    annual_preventive: np.ndarray  # C: steady-state yearly cost, repairing once per preventive cycle
    annual_corrective: np.ndarray  # C: renewing once per life

    def for_cluster(self, c: int) -> dict:
        r = lambda a: [round(float(x), 4) for x in a]  # noqa: E731
        return {"risk": r(self.risk[c]), "p_worst": r(self.p_worst[c]),
                "cost_preventive": [round(float(x)) for x in self.cost_preventive[c]],
                "cost_corrective": round(float(self.cost_corrective[c])),
                "cof_by_scheme": {s: round(float(v), 4) for s, v in zip(self.schemes, self.cof_by_scheme[c], strict=True)
                                  if v > 0},
                "annual_preventive": round(float(self.annual_preventive[c])),
                "annual_corrective": round(float(self.annual_corrective[c]))}


def cost_now(nows, repair: np.ndarray, renew: np.ndarray, n: int) -> np.ndarray:
    """Each asset's preventive cost today (repair, or renewal weighted by P(worst) today), for listing it."""
    out = np.zeros(n)
    for _scheme, rows, now in nows:
        out[rows] = repair[rows] + now[:, -1] * (renew[rows] - repair[rows])
    return out


def cluster_outlook(nows, hazards: dict[str, Hazards], cof: np.ndarray, repair: np.ndarray, renew: np.ndarray,
                    cluster: np.ndarray, n_clusters: int, years: int = OUTLOOK_YEARS) -> Outlook:
    """`nows`: (scheme, rows, distribution today) per kind as `scoring.state_now` yields them; `cluster`: the
    cluster index (0 … C-1) of every row, -1 where the asset is in none."""
    schemes = tuple(sorted({h for h in hazards}))
    t1 = years + 1
    risk, pw_cost, prev = (np.zeros((n_clusters, t1)) for _ in range(3))
    corr, cof_s = np.zeros(n_clusters), np.zeros((n_clusters, len(schemes)))
    annual_p, annual_c = np.zeros(n_clusters), np.zeros(n_clusters)
    for scheme, rows, now in nows:
        inside = cluster[rows] >= 0
        rows, now = rows[inside], now[inside]
        if not len(rows):
            continue
        theta = hazards[scheme].theta
        worst = transition(theta, np.arange(t1, dtype=float))[:, :, -1].T  # J × (T+1)
        pw = now @ worst  # members × (T+1)
        c = cluster[rows]
        onehot = sparse.csr_matrix((np.ones(len(rows)), (c, np.arange(len(rows)))), shape=(n_clusters, len(rows)))
        risk += onehot @ (cof[rows, None] * pw)
        pw_cost += onehot @ (renew[rows, None] * pw)
        prev += onehot @ (repair[rows, None] + pw * (renew[rows] - repair[rows])[:, None])
        corr += onehot @ renew[rows]
        cof_s[:, schemes.index(scheme)] += onehot @ cof[rows]
        cyc_p, cyc_c = cycle_years(theta)
        annual_p += onehot @ (repair[rows] / cyc_p)
        annual_c += onehot @ (renew[rows] / cyc_c)
    p_worst = pw_cost / np.maximum(corr, 1e-9)[:, None]
    return Outlook(schemes, risk, p_worst, prev, corr, cof_s, annual_p, annual_c)
