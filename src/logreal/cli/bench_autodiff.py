"""Benchmark cases for reverse mode.

Each case times a whole ``lr.grad`` call (the traced forward pass and the
backward pass) against the plain forward computation, so the ratio column is
the price of the gradient in forward passes:

- ``lr.prod``, ``lr.cumprod`` and ``lr.logsumexp`` at n = 10^6 (10^5 with
  ``quick``), LogReal factors where the forward runs in LogReal;
- ``lr.concat`` of k traced parts, against its forward and against the
  gradient at k / 4 (linear in k: about 4);
- the forward algorithm of a hidden Markov model, 1000 steps and 8 states,
  each step one ``lr.einsum``: its gradient is forward-backward.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import _rules as lr
from .._autodiff import grad
from .._logreal import LogReal
from .report import Baselines, Case, Timed

__all__ = ["autodiff_cases"]

_RNG_SEED = 20261206

Prepared = tuple[Timed, Baselines]


def _reduction_case(name: str, n: int) -> Case:
    def prepare() -> Prepared:
        rng = np.random.default_rng(_RNG_SEED)
        if name == "logsumexp":
            a = rng.normal(0.0, 10.0, n)
            f: Callable[[Any], Any] = lambda v: lr.logsumexp(v)  # noqa: E731
            return (lambda: grad(f)(a), {"forward": lambda: lr.logsumexp(a)})
        x = LogReal(rng.uniform(0.5, 1.5, n))
        if name == "prod":
            return (lambda: grad(lambda v: lr.prod(v))(x), {"forward": lambda: lr.prod(x)})
        w = LogReal(rng.normal(size=n))
        return (
            lambda: grad(lambda v: lr.sum(lr.cumprod(v) * w))(x),
            {"forward": lambda: lr.sum(lr.cumprod(x) * w)},
        )

    return Case(f"grad of {name} (vs forward)", n, prepare)


def _concat_case(k: int) -> Case:
    def parts(x: Any, count: int) -> list[Any]:
        return [x * float(i) for i in range(count)]

    def prepare() -> Prepared:
        x = np.ones(3)
        f = lambda v, count=k: lr.sum(lr.concat(parts(v, count)))  # noqa: E731
        g = lambda v: lr.sum(lr.concat(parts(v, k // 4)))  # noqa: E731
        return (
            lambda: grad(f)(x),
            {"forward": lambda: f(x), f"grad at k/4 = {k // 4}": lambda: grad(g)(x)},
        )

    return Case("grad of concat of k parts", k, prepare)


def _hmm_case(steps: int, states: int = 8, symbols: int = 6) -> Case:
    def prepare() -> Prepared:
        rng = np.random.default_rng(_RNG_SEED)
        log_trans = np.log(rng.dirichlet(np.ones(states), size=states))
        log_start = np.log(rng.dirichlet(np.ones(states)))
        emit = rng.dirichlet(np.ones(symbols), size=states)
        theta = np.log(emit[:, rng.integers(0, symbols, steps)].T)

        def log_z(th: Any) -> Any:
            e, trans = lr.exp(th), lr.exp(log_trans)
            alpha = lr.exp(log_start) * e[0]
            for t in range(1, steps):
                alpha = lr.einsum("i,ij,j->j", alpha, trans, e[t])
            return lr.log(lr.sum(alpha))

        return (lambda: grad(log_z)(theta), {"forward": lambda: log_z(theta)})

    return Case(f"grad of HMM forward ({states} states, einsum steps)", steps, prepare)


def autodiff_cases(quick: bool) -> Iterator[Case]:
    n = 10**5 if quick else 10**6
    for name in ("prod", "cumprod", "logsumexp"):
        yield _reduction_case(name, n)
    for k in (1000, 4000):
        yield _concat_case(k)
    yield _hmm_case(300 if quick else 1000)
