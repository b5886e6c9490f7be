"""Benchmark cases for LogReal arithmetic and logsumexp (issue targets in the names).

Signed LogReal addition against ``np.logaddexp`` of the same logs (the anchor
of the unsigned log semiring), multiplication against ``np.add`` of the logs,
and ``lr.logsumexp`` (plain, signed, and on the portable path) against
``scipy.special.logsumexp`` (and ``torch`` when installed) on the same array.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import _reduce
from .._logreal import LogReal
from .._special import logsumexp
from .report import Case, Timed, has, missing, torch_baselines

__all__ = ["core_cases", "scipy_logsumexp"]


def _data(n: int) -> tuple[LogReal, LogReal, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a, b = rng.normal(scale=100, size=n), rng.normal(scale=100, size=n)
    x = LogReal.from_log(a, rng.choice([-1.0, 1.0], size=n))
    y = LogReal.from_log(b, rng.choice([-1.0, 1.0], size=n))
    return x, y, a, b


def scipy_logsumexp(*args: Any, **kwargs: Any) -> Timed | str:
    """SciPy's logsumexp on these arguments, or the note that SciPy is missing."""
    if not has("scipy"):
        return missing("scipy")
    import scipy.special

    return lambda: scipy.special.logsumexp(*args, **kwargs)


def core_cases(quick: bool) -> Iterator[Case]:
    n = 10**5 if quick else 10**7

    def add() -> tuple[Timed, dict[str, Timed | str]]:
        x, y, a, b = _data(n)
        base: dict[str, Timed | str] = {"np.logaddexp": lambda: np.logaddexp(a, b)}

        def torch_add(torch: Any) -> Timed:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            return lambda: torch.logaddexp(ta, tb)

        return (lambda: x + y), {**base, **torch_baselines(logaddexp=torch_add)}

    def multiply() -> tuple[Timed, dict[str, Timed | str]]:
        x, y, a, b = _data(n)
        return (lambda: x * y), {"np.add": lambda: a + b}

    def lse(signed: bool) -> Any:
        def prepare() -> tuple[Timed, dict[str, Timed | str]]:
            _, _, a, b = _data(n)
            if signed:
                w = np.sign(b)
                ours: Timed = lambda: logsumexp(a, b=w, return_sign=True)  # noqa: E731
                return ours, {"scipy logsumexp": scipy_logsumexp(a, b=w, return_sign=True)}

            def torch_lse(torch: Any) -> Timed:
                ta = torch.from_numpy(a)
                return lambda: torch.logsumexp(ta, 0)

            base = {"scipy logsumexp": scipy_logsumexp(a)}
            return (lambda: logsumexp(a)), {**base, **torch_baselines(logsumexp=torch_lse)}

        return prepare

    def lr_sum() -> tuple[Timed, dict[str, Timed | str]]:
        x, _, a, _ = _data(n)
        return (lambda: _reduce.sum(x)), {"scipy logsumexp": scipy_logsumexp(a)}

    yield Case("X + Y signed (target <= 0.3 np.logaddexp)", n, add)
    yield Case("X * Y (target <= 1.5 np.add)", n, multiply)
    yield Case("logsumexp(a) (target <= 0.3 scipy)", n, lse(False))
    yield Case("logsumexp(a, b=signs) (target <= 0.25 scipy)", n, lse(True))
    yield Case("logsumexp(a) portable (target <= 0.5 scipy)", n, lse(False), path="portable")
    yield Case("LogReal sum, random signs", n, lr_sum)
