import numpy as np
import pytest

from clusters.engine.deterioration import estimate, failure_probability, state_distribution, transition

THETA = (1 / 15, 1 / 25, 1 / 10)


def test_transition_matrices_are_stochastic_and_match_the_closed_form():
    p = transition(THETA, 5.0)
    assert np.allclose(p.sum(axis=1), 1) and np.allclose(np.tril(p, -1), 0)
    t0, t1 = THETA[0], THETA[1]
    assert p[0, 0] == pytest.approx(np.exp(-t0 * 5))
    # π_01(z) = θ0/(θ1−θ0) · (e^{−θ0 z} − e^{−θ1 z})
    assert p[0, 1] == pytest.approx(t0 / (t1 - t0) * (np.exp(-t0 * 5) - np.exp(-t1 * 5)))
    assert p[3, 3] == 1.0


def test_equal_hazards_are_handled():
    p = transition((0.1, 0.1, 0.1), 3.0)
    assert np.allclose(p.sum(axis=1), 1) and p[0, 0] == pytest.approx(np.exp(-0.3), rel=1e-4)


def simulate_pairs(rng, theta, n):
    """Pairs (state, state 5 years later) drawn from the true process, from random ages."""
    theta = np.asarray(theta)
    sojourn = rng.exponential(1 / theta, size=(n, len(theta)))
    edges = np.cumsum(sojourn, axis=1)
    a = rng.uniform(0, 60, n)
    z = rng.choice([4.0, 5.0, 6.0], n)
    i = (edges <= a[:, None]).sum(axis=1)
    j = (edges <= (a + z)[:, None]).sum(axis=1)
    return i, j, z


def test_the_estimator_recovers_known_hazards():
    rng = np.random.default_rng(42)
    i, j, z = simulate_pairs(rng, THETA, 20000)
    h = estimate(i, j, z, n_states=4, default=(0.2, 0.2, 0.2))
    assert h.source == "estimated" and h.pairs > 10000  # pairs already in the worst state carry no information
    assert np.allclose(h.theta, THETA, rtol=0.08)
    assert h.expected_age_at()[-1] == pytest.approx(15 + 25 + 10, rel=0.08)


def test_too_few_pairs_fall_back_to_the_documented_default():
    rng = np.random.default_rng(1)
    i, j, z = simulate_pairs(rng, THETA, 30)
    h = estimate(i, j, z, n_states=4, default=(0.05, 0.05, 0.05))
    assert h.source == "default" and h.theta == (0.05, 0.05, 0.05)


def test_failure_probability_grows_with_state_and_horizon():
    lof = failure_probability(THETA, np.array([0, 1, 2]), 10)
    assert lof[0] < lof[1] < lof[2]
    assert failure_probability(THETA, np.array([2]), 20)[0] > lof[2]
    dist = state_distribution(THETA, [0.0, 30.0])
    assert dist[0, 0] == pytest.approx(1.0) and dist[1, 0] == pytest.approx(np.exp(-30 / 15))
