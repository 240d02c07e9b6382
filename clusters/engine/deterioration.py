"""Multi-stage exponential Markov deterioration (津田・貝戸・青木・小林 2005), pure numpy/scipy.

States 0 (best) … J-1 (worst, absorbing). State i is left at hazard θ_i, to i+1 only. Transition
probabilities over an interval z come from the generator matrix Q (Q_ii = −θ_i, Q_i,i+1 = θ_i):
P(z) = exp(Qz), evaluated through Q's eigen-decomposition, which exists while the θ are distinct."""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

MIN_PAIRS = 50
_JITTER = 1e-6


@dataclass(frozen=True)
class Hazards:
    theta: tuple[float, ...]  # per-year hazard of leaving state i, i = 0 … J-2
    pairs: int  # inspection pairs the estimate rests on (0 = documented default)
    source: str  # "estimated" or "default"
    log_likelihood: float | None = None

    @property
    def n_states(self) -> int:
        return len(self.theta) + 1

    def expected_sojourn(self) -> np.ndarray:
        """Expected years spent in each non-absorbing state: 1/θ_i."""
        return 1.0 / np.asarray(self.theta)

    def expected_age_at(self) -> np.ndarray:
        """Expected age on entering each state, from new (the 期待劣化パス): 0, 1/θ0, 1/θ0 + 1/θ1, …"""
        return np.concatenate([[0.0], np.cumsum(self.expected_sojourn())])


def _distinct(theta: np.ndarray) -> np.ndarray:
    # The eigen-decomposition needs distinct hazards; nudge exact ties by a negligible amount.
    t = np.asarray(theta, dtype=float).copy()
    for i in range(1, len(t)):
        while np.any(np.abs(t[:i] - t[i]) < _JITTER * max(t[i], 1e-9)):
            t[i] *= 1 + 10 * _JITTER
    return t


def transition(theta, z) -> np.ndarray:
    """P(z) for one interval (J×J) or many (n×J×J)."""
    t = _distinct(np.asarray(theta, dtype=float))
    j = len(t) + 1
    q = np.zeros((j, j))
    q[np.arange(j - 1), np.arange(j - 1)] = -t
    q[np.arange(j - 1), np.arange(1, j)] = t
    lam, vec = np.linalg.eig(q)
    inv = np.linalg.inv(vec)
    zz = np.atleast_1d(np.asarray(z, dtype=float))
    p = np.einsum("ik,nk,kj->nij", vec, np.exp(np.outer(zz, lam)), inv).real
    p = np.clip(p, 0.0, 1.0)
    p /= p.sum(axis=2, keepdims=True)
    return p[0] if np.ndim(z) == 0 else p


def state_distribution(theta, ages) -> np.ndarray:
    """Distribution over states at each age for an asset new at age 0: row 0 of P(age)."""
    return transition(theta, np.asarray(ages, dtype=float))[:, 0, :]


def log_likelihood(theta, i: np.ndarray, j: np.ndarray, z: np.ndarray) -> float:
    p = transition(theta, z)
    return float(np.log(np.maximum(p[np.arange(len(i)), i, j], 1e-300)).sum())


def _start(i, j, z, default: np.ndarray) -> np.ndarray:
    """A crude first guess per state (moves out ÷ years observed in it), spread apart: equal hazards make
    the eigen-decomposition degenerate and leave the optimizer without a usable gradient at its start."""
    guess = default.copy()
    for k in range(len(default)):
        at = i == k
        if at.sum() >= 5 and (j[at] > k).any():
            guess[k] = (j[at] > k).sum() / z[at].sum()
    guess = np.clip(guess, 1e-3, 2.0)
    for k in range(1, len(guess)):
        while np.any(np.abs(guess[:k] / guess[k] - 1) < 0.05):
            guess[k] *= 1.07
    return guess


def estimate(i, j, z, n_states: int, default: tuple[float, ...]) -> Hazards:
    """Maximum-likelihood hazards from pairs of successive inspections of the same asset: (state before,
    state after, years between). Pairs that improve (repairs in between) carry no deterioration information
    and are dropped. Below MIN_PAIRS the documented default is returned."""
    i, j, z = np.asarray(i, int), np.asarray(j, int), np.asarray(z, float)
    keep = (j >= i) & (z > 0) & (i < n_states - 1)
    i, j, z = i[keep], j[keep], z[keep]
    if len(i) < MIN_PAIRS:
        return Hazards(tuple(default), len(i), "default")

    def nll(log_theta):
        return -log_likelihood(np.exp(log_theta), i, j, z)

    start = np.log(_start(i, j, z, np.asarray(default, dtype=float)))
    res = minimize(nll, start, method="L-BFGS-B", bounds=[(np.log(1e-4), np.log(5.0))] * len(start))
    theta = tuple(float(x) for x in np.exp(res.x))
    return Hazards(theta, len(i), "estimated", -float(res.fun))


def failure_probability(theta, state: np.ndarray, horizon: float, worst: int | None = None) -> np.ndarray:
    """P(reaching the worst state within `horizon` years) from each current state."""
    p = transition(theta, horizon)
    worst = p.shape[0] - 1 if worst is None else worst
    return p[np.asarray(state, int), worst:].sum(axis=1)
