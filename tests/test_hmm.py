"""Forward-backward as lr.grad of a LogReal forward algorithm written with lr.einsum.

Oracles: brute-force enumeration of every state path at 300 bits from the exact
stored inputs, and hmmlearn's own forward-backward (``CategoricalHMM.score``
and ``predict_proba``).
"""

import itertools
import math

import mpmath
import numpy as np
import pytest
from hmmlearn import hmm

import logreal as lr
from logreal import LogReal

from oracle import ulp_error


def random_model(rng, states, symbols, steps):
    start = rng.dirichlet(np.ones(states))
    trans = rng.dirichlet(np.ones(states), size=states)
    emit = rng.dirichlet(np.ones(symbols), size=states)
    obs = rng.integers(0, symbols, steps)
    return start, trans, emit, obs


def forward(theta, log_start, log_trans):
    """Z = sum over paths of start * prod trans * prod e**theta[t, s_t], as a LogReal."""
    e = lr.exp(theta)
    trans = lr.exp(log_trans)
    alpha = lr.exp(log_start) * e[0]
    for t in range(1, theta.shape[0]):
        alpha = lr.einsum("i,ij,j->j", alpha, trans, e[t])
    return lr.sum(alpha)


def log_likelihood(theta, log_start, log_trans):
    return lr.log(forward(theta, log_start, log_trans))


def brute_force(theta, log_start, log_trans, weights=None):
    """Z and the path sums through each (t, s), exact from the stored inputs."""
    steps, states = theta.shape
    mp = lambda v: mpmath.exp(mpmath.mpf(float(v)))  # noqa: E731
    e = [[mp(theta[t, s]) for s in range(states)] for t in range(steps)]
    if weights is not None:
        e = [
            [e[t][s] * mpmath.mpf(float(weights[t, s])) for s in range(states)]
            for t in range(steps)
        ]
    st = [mp(v) for v in log_start]
    tr = [[mp(v) for v in row] for row in log_trans]
    z = mpmath.mpf(0)
    through = [[mpmath.mpf(0)] * states for _ in range(steps)]
    for path in itertools.product(range(states), repeat=steps):
        p = st[path[0]] * e[0][path[0]]
        for t in range(1, steps):
            p *= tr[path[t - 1]][path[t]] * e[t][path[t]]
        z += p
        for t, s in enumerate(path):
            through[t][s] += p
    return z, through


def hmmlearn_model(start, trans, emit):
    model = hmm.CategoricalHMM(n_components=len(start), n_features=emit.shape[1])
    model.startprob_, model.transmat_, model.emissionprob_ = start, trans, emit
    return model


def test_small_model_against_brute_force(rng):
    start, trans, emit, obs = random_model(rng, 3, 4, 6)
    theta = np.log(emit[:, obs].T)
    ls, lt = np.log(start), np.log(trans)
    z, through = brute_force(theta, ls, lt)
    value, gamma = lr.value_and_grad(log_likelihood)(theta, ls, lt)
    # log Z: the contraction's bound (a few ulp per step) over 6 steps.
    assert ulp_error(float(value), mpmath.log(z)) <= 16
    worst = max(ulp_error(gamma[t, s], through[t][s] / z) for t in range(6) for s in range(3))
    assert worst <= 64


def test_log_likelihood_and_posteriors_match_hmmlearn(rng):
    start, trans, emit, obs = random_model(rng, 5, 7, 400)
    theta = np.log(emit[:, obs].T)
    value, gamma = lr.value_and_grad(log_likelihood)(theta, np.log(start), np.log(trans))
    model = hmmlearn_model(start, trans, emit)
    score = model.score(obs.reshape(-1, 1))
    post = model.predict_proba(obs.reshape(-1, 1))
    assert abs(float(value) - score) <= 1e-10 * abs(score)
    assert gamma.shape == post.shape
    np.testing.assert_allclose(gamma, post, rtol=0, atol=1e-10)
    np.testing.assert_allclose(gamma.sum(axis=1), 1.0, rtol=1e-12)  # a law: marginals sum to 1


def test_long_chain_whose_likelihood_underflows(rng):
    start, trans, emit, obs = random_model(rng, 4, 6, 3000)
    theta = np.log(emit[:, obs].T)
    ls, lt = np.log(start), np.log(trans)
    model = hmmlearn_model(start, trans, emit)
    score = model.score(obs.reshape(-1, 1))
    post = model.predict_proba(obs.reshape(-1, 1))
    assert math.exp(score) == 0.0  # Z itself is far below float range
    z, dz = lr.value_and_grad(forward)(theta, ls, lt)
    assert isinstance(z, LogReal) and isinstance(dz, LogReal)
    assert abs(float(z.logabs) - score) <= 1e-10 * abs(score)
    # dZ / dtheta[t, s] = Z * posterior[t, s]: logabs = log Z + log posterior.
    seen = post > 1e-6
    want = score + np.log(post[seen])
    got = np.asarray(dz.logabs)[seen]
    assert np.all(np.asarray(dz.sign)[seen] == 1.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * abs(score))


def crf_log_partition(unary, pair):
    """Linear-chain CRF: log sum over labelings of exp(sum unary + sum pair)."""
    e = lr.exp(unary)
    m = lr.exp(pair)
    alpha = e[0]
    for t in range(1, unary.shape[0]):
        alpha = lr.einsum("i,ij,j->j", alpha, m, e[t])
    return lr.log(lr.sum(alpha))


def test_crf_marginals_are_the_gradient_of_log_partition(rng):
    steps, labels = 5, 3
    unary = rng.normal(0.0, 2.0, (steps, labels))
    pair = rng.normal(0.0, 1.0, (labels, labels))
    z, through = brute_force(unary, np.zeros(labels), pair)
    marg = lr.grad(crf_log_partition)(unary, pair)
    worst = max(
        ulp_error(marg[t, s], through[t][s] / z) for t in range(steps) for s in range(labels)
    )
    assert worst <= 64
    # Pair marginals: the gradient with respect to the pairwise potentials.
    pm = lr.grad(crf_log_partition, argnum=1)(unary, pair)
    np.testing.assert_allclose(pm.sum(), steps - 1, rtol=1e-13)


def signed_sum(theta, weights, log_start, log_trans):
    """sum over paths of prod_t e**theta[t, s_t] c[t, s_t]: c has both signs."""
    e = lr.exp(theta) * weights
    trans = lr.exp(log_trans)
    alpha = lr.exp(log_start) * e[0]
    for t in range(1, theta.shape[0]):
        alpha = lr.einsum("i,ij,j->j", alpha, trans, e[t])
    return lr.sum(alpha)


def test_gradient_of_a_signed_path_sum(rng):
    # Path weights of both signs: no log-semiring library can hold this sum.
    start, trans, emit, obs = random_model(rng, 3, 4, 5)
    theta = np.log(emit[:, obs].T)
    weights = rng.choice([-1.0, 0.5, 2.0], size=theta.shape)
    ls, lt = np.log(start), np.log(trans)
    z, through = brute_force(theta, ls, lt, weights)
    value, g = lr.value_and_grad(signed_sum)(theta, weights, ls, lt)
    assert isinstance(g, LogReal)
    assert float(value.sign) == float(mpmath.sign(z))
    # The sum cancels: its error is the cancellation ratio times a few ulp.
    size = brute_force(theta, ls, lt, np.abs(weights))[0]
    cond = float(size / abs(z))
    assert abs(float(value.logabs) - float(mpmath.log(abs(z)))) <= 64 * 2.0**-52 * cond
    for t, s in itertools.product(range(5), range(3)):
        want = through[t][s]  # d/dtheta[t, s]: the signed paths through (t, s)
        got = float(g[t, s].to_real())
        scale = float(brute_force(theta, ls, lt, np.abs(weights))[1][t][s])
        assert abs(got - float(want)) <= 64 * 2.0**-52 * scale


@pytest.mark.parametrize("steps", [2000])
def test_signed_path_sum_far_below_float_range(rng, steps):
    start, trans, emit, obs = random_model(rng, 3, 4, steps)
    theta = np.log(emit[:, obs].T)
    weights = np.where(rng.random(theta.shape) < 0.1, -1.0, 1.0)
    value, g = lr.value_and_grad(signed_sum)(theta, weights, np.log(start), np.log(trans))
    assert float(value.logabs) < -1000  # e**-1000 and below: zero as a float
    # Z is linear in each e**theta[t, s]: sum_s dZ/dtheta[t, s] = Z for every t.
    for t in (0, steps // 2, steps - 1):
        total = lr.sum(g[t])
        assert float(total.sign) == float(value.sign)
        assert abs(float(total.logabs) - float(value.logabs)) <= 1e-9 * abs(float(value.logabs))
