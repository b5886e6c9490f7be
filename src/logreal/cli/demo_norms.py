"""Demo sections for the norms module .

The method's p-norm example, naive beside stable: the first-pass
``(|x|**p).sum()**(1/p)`` squares 1e300 to inf, NumPy does the same, SciPy
and ``math.hypot`` scale for p = 2 only, and ``lr.norm`` scales for every p.
Then the identity ``log ||x||_p = logsumexp(p log|x|) / p`` with numbers.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, cast

import mpmath
import numpy as np

from .. import _norms
from .._logreal import LogReal, exp
from .._special import logsumexp
from .report import Section, has, log_ulps, missing, timed, ulps

__all__ = ["norms_section"]


def _first_pass(x: np.ndarray, p: float) -> float:
    """The method's first-pass p-norm: ``(x**p).sum()**(1/p)``."""
    with np.errstate(all="ignore"):
        return float((np.abs(x) ** p).sum() ** (1.0 / p))


def _robust(x: np.ndarray, p: float) -> float:
    """The method's fix: divide by the largest |x| first, multiply back."""
    a = float(np.abs(x).max())
    return a * _first_pass(x / a, p)


def _exact(x: np.ndarray, p: float) -> mpmath.mpf:
    q = mpmath.mpf(p)
    total = mpmath.fsum(abs(mpmath.mpf(float(v))) ** q for v in x)
    return total ** (1 / q)


def _methods(p: float) -> list[tuple[str, Callable[[np.ndarray], Any]]]:
    out: list[tuple[str, Callable[[np.ndarray], Any]]] = [
        ("first pass (|x|**p).sum()**(1/p)", lambda x: _first_pass(x, p)),
        ("robust: max|x| * norm(x / max|x|)", lambda x: _robust(x, p)),
        ("np.linalg.norm", lambda x: np.linalg.norm(x, p)),
    ]
    if has("scipy"):
        import scipy.linalg

        out.append(("scipy.linalg.norm", lambda x: scipy.linalg.norm(x, p)))
    if p == 2:
        out.append(("math.hypot", lambda x: math.hypot(*x.tolist())))
    out.append(("lr.norm", lambda x: _norms.norm(x, p)))
    return out


CASES: list[tuple[str, np.ndarray, float]] = [
    ("[1e300], p=2", np.array([1e300]), 2),
    ("[3e300, 4e300], p=2", np.array([3e300, 4e300]), 2),
    ("[1e-320] * 4, p=2", np.full(4, 1e-320), 2),
    ("[1e-160] * 10**4, p=2", np.full(10**4, 1e-160), 2),
    ("[1e200] * 2, p=3", np.full(2, 1e200), 3),
    ("[2, 2], p=2000", np.array([2.0, 2.0]), 2000),
    ("[1e-310, 1], p=-1", np.array([1e-310, 1.0]), -1),
]


def norms_section(plot: str | None = None) -> Section:
    """Norms without overflow or underflow, and the log-sum-exp identity."""
    sec = Section("Norms without overflow or underflow (lr.norm, lr.lognorm)")
    if not has("scipy"):
        sec.add("every case", "scipy.linalg.norm", "-", missing("scipy"), math.nan)
    for case, x, p in CASES:
        exact = _exact(x, p)
        for name, method in _methods(p):
            with np.errstate(all="ignore"):  # the naive methods overflow on purpose
                value, seconds = timed(functools.partial(method, x))
                got = float(value)
            sec.add(case, name, repr(got), ulps(got, exact), seconds)

    # log ||x||_p = logsumexp(p log|x|) / p, with numbers.
    x = np.array([1.0, 2.0, 4.0, 5.0])
    exact_log = mpmath.log(_exact(x, 2))  # log sqrt(46)
    identity: list[tuple[str, Callable[[], Any]]] = [
        (
            "logsumexp(2 log|x|) / 2",
            lambda: float(cast(Any, logsumexp(2 * np.log(np.abs(x))))) / 2,
        ),
        ("log(robust norm)", lambda: math.log(_robust(x, 2))),
        ("lr.lognorm", lambda: _norms.lognorm(x)),
    ]
    for name, fn in identity:
        value, seconds = timed(fn)
        sec.add(
            "log||[1,2,4,5]||_2",
            name,
            repr(float(value)),
            log_ulps(float(value), exact_log),
            seconds,
        )

    big = np.full(2, 1e300)
    exact_big = mpmath.log(_exact(big, 2))
    with np.errstate(all="ignore"):
        naive = float(np.log(_first_pass(big, 2)))
    sec.add(
        "log||[1e300]*2||_2", "log(first pass)", repr(naive), log_ulps(naive, exact_big), math.nan
    )
    value, seconds = timed(lambda: _norms.lognorm(big))
    sec.add(
        "log||[1e300]*2||_2",
        "lr.lognorm",
        repr(float(value)),
        log_ulps(float(value), exact_big),
        seconds,
    )

    far: LogReal = exp([1e5, 1e5])  # e**100000 twice, far outside float range
    exact_far = mpmath.mpf(1e5) + mpmath.log(2) / 2  # exact for the stored logs
    with np.errstate(all="ignore"):
        naive = float(np.log(np.linalg.norm(far.to_real())))
    sec.add(
        "log||exp([1e5]*2)||_2",
        "log(np.linalg.norm(to_real))",
        repr(naive),
        log_ulps(naive, exact_far),
        math.nan,
    )
    value, seconds = timed(lambda: _norms.lognorm(far))
    sec.add(
        "log||exp([1e5]*2)||_2",
        "lr.lognorm(LogReal)",
        repr(float(value)),
        log_ulps(float(value), exact_far),
        seconds,
    )

    sec.notes += [
        "Scaling by the largest |x| (the smallest for p < 0) keeps every term near one;",
        "lr.norm rescales by exact powers of two for p = 1, 2 and sums on a binary grid,",
        "so p = 2 is within 1 ulp at any n; SciPy and math.hypot scale for p = 2 only.",
        "Dividing by max|x| fails for p < 0: (1e-310)**-1 overflows; lr.norm divides by",
        "the smallest |x| there.",
        "log ||x||_p = logsumexp(p log|x|) / p: the same shifted sum, in log space.",
    ]
    return sec
