"""Benchmark cases for LogReal arithmetic and the special functions."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.special

from . import _reduce
from ._bench import Case, cases
from ._logreal import LogReal
from ._special import logsumexp


def _data(n: int) -> tuple[LogReal, LogReal, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a, b = rng.normal(scale=100, size=n), rng.normal(scale=100, size=n)
    x = LogReal.from_log(a, rng.choice([-1.0, 1.0], size=n))
    y = LogReal.from_log(b, rng.choice([-1.0, 1.0], size=n))
    return x, y, a, b


@cases
def core(quick: bool) -> Iterator[Case]:
    n = 10**5 if quick else 10**7

    def binary(op: str):
        def prepare():
            x, y, a, b = _data(n)
            if op == "add":
                base = {"np.logaddexp": lambda: np.logaddexp(a, b), "np.add": lambda: a + b}
                return (lambda: x + y), base
            return (lambda: x * y), {"np.add": lambda: a + b, "np.multiply": lambda: a * b}

        return prepare

    yield Case("LogReal add (signed)", n, binary("add"))
    yield Case("LogReal multiply", n, binary("mul"))

    def reduce_prepare():
        x, _, a, _ = _data(n)
        return (lambda: _reduce.sum(x)), {
            "scipy logsumexp": lambda: scipy.special.logsumexp(a),
            "np.logaddexp.reduce": lambda: np.logaddexp.reduce(a),
        }

    yield Case("LogReal sum", n, reduce_prepare)

    def lse_prepare():
        _, _, a, b = _data(n)
        w = np.sign(b)
        return (lambda: logsumexp(a, b=w, return_sign=True)), {
            "scipy logsumexp": lambda: scipy.special.logsumexp(a, b=w, return_sign=True)
        }

    yield Case("logsumexp (signed weights)", n, lse_prepare)
