"""Demo section: sums over products, and forward-backward as the gradient of the forward pass.

A hidden Markov model's likelihood is a sum over every state path of a
product of probabilities.  Written as a LogReal forward algorithm, one
``lr.einsum`` per step, its log is exact to a few ulp however long the chain,
and ``lr.grad`` of it gives the posterior marginals (forward-backward without
writing the backward recursion).  Checked against hmmlearn's own
forward-backward, against brute-force enumeration, and beside the naive float
recursion that underflows.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import mpmath
import numpy as np

from .. import _rules as lr
from .._autodiff import grad, value_and_grad
from .report import Section, has, missing, timed

_SEED = 20261206


def _model(rng: Any, states: int, symbols: int, steps: int) -> tuple[Any, ...]:
    start = rng.dirichlet(np.ones(states))
    trans = rng.dirichlet(np.ones(states), size=states)
    emit = rng.dirichlet(np.ones(symbols), size=states)
    return start, trans, emit, rng.integers(0, symbols, steps)


def _forward(theta: Any, log_start: Any, log_trans: Any, weights: Any = None) -> Any:
    """Z = sum over paths of start * prod trans * prod e**theta[t, s_t] (* weights)."""
    e = lr.exp(theta)
    if weights is not None:
        e = e * weights
    trans = lr.exp(log_trans)
    alpha = lr.exp(log_start) * e[0]
    for t in range(1, theta.shape[0]):
        alpha = lr.einsum("i,ij,j->j", alpha, trans, e[t])
    return lr.sum(alpha)


def _log_z(theta: Any, log_start: Any, log_trans: Any) -> Any:
    return lr.log(_forward(theta, log_start, log_trans))


def _enumerate(theta: Any, log_start: Any, log_trans: Any, weights: Any = None) -> Any:
    """Z and the path sums through each (t, s), at 300 bits from the stored inputs."""
    steps, states = theta.shape
    w = np.ones(theta.shape) if weights is None else weights
    e = [[mpmath.exp(theta[t, s]) * w[t, s] for s in range(states)] for t in range(steps)]
    z, through = mpmath.mpf(0), np.zeros((steps, states), dtype=object)
    through[:] = mpmath.mpf(0)
    for path in itertools.product(range(states), repeat=steps):
        p = mpmath.exp(log_start[path[0]]) * e[0][path[0]]
        for t in range(1, steps):
            p *= mpmath.exp(log_trans[path[t - 1], path[t]]) * e[t][path[t]]
        z += p
        for t, s in enumerate(path):
            through[t, s] += p
    return z, through


def _hmmlearn_rows(sec: Section) -> None:
    if not has("hmmlearn"):
        sec.add("HMM vs hmmlearn", "hmmlearn", "-", missing("hmmlearn"), math.nan)
        return
    from hmmlearn import hmm

    start, trans, emit, obs = _model(np.random.default_rng(_SEED), 8, 6, 1000)
    theta = np.log(emit[:, obs].T)
    model = hmm.CategoricalHMM(n_components=8, n_features=6)
    model.startprob_, model.transmat_, model.emissionprob_ = start, trans, emit
    x = obs.reshape(-1, 1)
    (score, post), t_h = timed(lambda: (model.score(x), model.predict_proba(x)))
    (value, gamma), t_lr = timed(
        lambda: value_and_grad(_log_z)(theta, np.log(start), np.log(trans)), repeat=1
    )
    case = "HMM, 1000 steps, 8 states"
    sec.add(case, "hmmlearn score + predict_proba", f"{score:.12f}", "", t_h)
    rel = abs(float(value) - score) / abs(score)
    worst = float(np.max(np.abs(gamma - post)))
    sec.add(
        "", "lr.value_and_grad of LogReal forward", f"{float(value):.12f}", f"{rel:.1g} rel", t_lr
    )
    sec.notes.append(f"posteriors (lr.grad of log Z) vs hmmlearn's: max |difference| {worst:.1g}")


def _brute_force_rows(sec: Section) -> None:
    start, trans, emit, obs = _model(np.random.default_rng(_SEED + 1), 3, 4, 6)
    theta, ls, lt = np.log(emit[:, obs].T), np.log(start), np.log(trans)
    z, through = _enumerate(theta, ls, lt)
    gamma, t = timed(lambda: grad(_log_z)(theta, ls, lt))
    worst = max(abs(mpmath.mpf(gamma[i]) - through[i] / z) for i in np.ndindex(gamma.shape))
    sec.add(
        "posteriors, 6 steps, 3 states",
        "lr.grad vs 729 enumerated paths",
        "",
        f"{float(worst):.1g} abs",
        t,
    )


def _long_chain_rows(sec: Section) -> None:
    start, trans, emit, obs = _model(np.random.default_rng(_SEED + 2), 4, 6, 3000)
    theta, ls, lt = np.log(emit[:, obs].T), np.log(start), np.log(trans)
    p = np.exp(theta)
    alpha = start * p[0]
    for step in range(1, len(obs)):
        alpha = (alpha @ trans) * p[step]
    sec.add(
        "Z of a 3000-step chain", "naive float forward", repr(float(alpha.sum())), "underflow", 0.0
    )
    (z, dz), t = timed(lambda: value_and_grad(_forward)(theta, ls, lt), repeat=1)
    sec.add("", "LogReal forward (lr.einsum)", repr(z), "", t)
    sec.add("dZ / dtheta[0, 0]", "lr.grad (a LogReal)", repr(dz[0, 0]), "", 0.0)


def _crf_rows(sec: Section) -> None:
    rng = np.random.default_rng(_SEED + 3)
    unary, pair = rng.normal(0.0, 2.0, (5, 3)), rng.normal(0.0, 1.0, (3, 3))

    def log_partition(u: Any) -> Any:
        e, m = lr.exp(u), lr.exp(pair)
        alpha = e[0]
        for t in range(1, u.shape[0]):
            alpha = lr.einsum("i,ij,j->j", alpha, m, e[t])
        return lr.log(lr.sum(alpha))

    z, through = _enumerate(unary, np.zeros(3), pair)
    marg, t = timed(lambda: grad(log_partition)(unary))
    worst = max(abs(mpmath.mpf(marg[i]) - through[i] / z) for i in np.ndindex(marg.shape))
    sec.add(
        "linear-chain CRF marginals", "lr.grad vs enumeration", "", f"{float(worst):.1g} abs", t
    )


def _signed_rows(sec: Section) -> None:
    start, trans, emit, obs = _model(np.random.default_rng(_SEED + 4), 3, 4, 6)
    theta, ls, lt = np.log(emit[:, obs].T), np.log(start), np.log(trans)
    w = np.random.default_rng(_SEED + 5).choice([-1.0, 0.5, 2.0], size=theta.shape)
    z, through = _enumerate(theta, ls, lt, w)
    g, t = timed(lambda: grad(lambda th: _forward(th, ls, lt, w))(theta))
    got = np.asarray(g.to_real())
    worst = max(
        abs(mpmath.mpf(got[i]) - through[i]) / abs(through[i]) for i in np.ndindex(got.shape)
    )
    sec.add(
        "signed path weights (no log semiring)",
        "lr.grad of sum of signed paths vs enumeration",
        f"Z = {mpmath.nstr(z, 8)}",
        f"{float(worst):.1g} rel",
        t,
    )


def sums(plot: str | None = None) -> Section:
    sec = Section("lr.einsum + lr.grad: forward-backward as the gradient of the forward pass")
    a, b = lr.exp([[0.0, -800.0]]), lr.exp([[-800.0], [0.0]])
    with np.errstate(under="ignore"):
        naive = float((np.exp([[0.0, -800.0]]) @ np.exp([[-800.0], [0.0]]))[0, 0])
    sec.add("[[1, e^-800]] @ [[e^-800], [1]]", "float64", repr(naive), "underflow", 0.0)
    got, t = timed(lambda: lr.einsum("ij,jk->ik", a, b))
    sec.add("", "lr.einsum (logabs)", repr(float(got.logabs[0, 0])), "exact: -800 + log 2", t)
    _hmmlearn_rows(sec)
    _brute_force_rows(sec)
    _long_chain_rows(sec)
    _crf_rows(sec)
    _signed_rows(sec)
    return sec
