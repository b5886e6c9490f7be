"""Demo section: why a signed log-space number class (float64 naive beside LogReal)."""

from __future__ import annotations

import math

import mpmath
import numpy as np

from .. import _reduce
from .._logreal import LogReal
from .._special import logsumexp
from .report import Section, has, log_ulps, missing, timed, ulps


def _exact_log_prod(p: np.ndarray) -> mpmath.mpf:
    with mpmath.workprec(120):
        return mpmath.fsum(mpmath.log(mpmath.mpf(float(v))) for v in p)


def _fmt(sign: float, logabs: float) -> str:
    return repr(LogReal.from_log(logabs, sign))[len("LogReal(") : -1]


def log_reals(plot: str | None = None) -> Section:
    sec = Section("LogReal: products and signed sums far outside float range")
    rng = np.random.default_rng(0)

    # A long product of probabilities: float64 underflows to 0 after ~1000 factors.
    p = rng.uniform(0.05, 1.0, size=100_000)
    exact = _exact_log_prod(p)
    naive, t_naive = timed(lambda: float(np.prod(p)))
    sec.add(
        "prod of 1e5 probabilities",
        "float64 np.prod",
        repr(naive),
        ulps(naive, mpmath.exp(exact)),
        t_naive,
    )
    x = LogReal(p)
    got, t_lr = timed(lambda: _reduce.prod(x))
    value = _fmt(float(got.sign), float(got.logabs))
    sec.add("", "LogReal prod (value)", value, "log-magnitude below", t_lr)
    sec.add(
        "",
        "LogReal prod (logabs)",
        repr(float(got.logabs)),
        log_ulps(float(got.logabs), exact),
        t_lr,
    )

    # A signed sum of tiny terms: each term underflows as a float.
    n = 10_000
    logs = rng.uniform(-1200.0, -800.0, size=n)
    signs = rng.choice([-1.0, 1.0], size=n)
    with mpmath.workprec(200):
        ref = mpmath.fsum(
            mpmath.mpf(float(s)) * mpmath.exp(mpmath.mpf(float(v)))
            for s, v in zip(signs, logs, strict=True)
        )
        ref_log = mpmath.log(abs(ref))
    with np.errstate(under="ignore"):
        naive, t_naive = timed(lambda: float(np.sum(signs * np.exp(logs))))
    sec.add(
        "signed sum of 1e4 terms ~e^-1000",
        "float64 sum(s*exp(l))",
        repr(naive),
        ulps(naive, ref),
        t_naive,
    )
    terms = LogReal.from_log(logs, signs)
    got, t_lr = timed(lambda: _reduce.sum(terms))
    sec.add(
        "",
        "LogReal sum",
        _fmt(float(got.sign), float(got.logabs)),
        "sign " + ("exact" if float(got.sign) == (1 if ref > 0 else -1) else "WRONG"),
        t_lr,
    )
    sec.add(
        "",
        "LogReal sum (logabs)",
        repr(float(got.logabs)),
        log_ulps(float(got.logabs), ref_log),
        t_lr,
    )

    # Cancellation next to the largest term: 1 - e^(-2^-60).
    d = 2.0**-60
    ref = mpmath.log(-mpmath.expm1(-mpmath.mpf(d)))
    with np.errstate(divide="ignore"):
        naive, t_naive = timed(lambda: float(np.log(1.0 - np.exp(-d))))
    sec.add("log(1 - e^-2^-60)", "float64 log(1 - exp)", repr(naive), ulps(naive, ref), t_naive)
    if has("scipy"):
        import scipy.special

        with np.errstate(divide="ignore"):
            sp, t_sp = timed(lambda: float(scipy.special.logsumexp([0.0, -d], b=[1.0, -1.0])))
        sec.add("", "scipy logsumexp", repr(sp), ulps(sp, ref), t_sp)
    else:
        sec.add("", "scipy logsumexp", "-", missing("scipy"), math.nan)
    got, t_lr = timed(lambda: float(logsumexp([0.0, -d], b=[1.0, -1.0])))  # type: ignore[arg-type]
    sec.add("", "logreal logsumexp", repr(got), ulps(got, ref), t_lr)
    one = LogReal(1.0)
    got_lr, t_lr = timed(lambda: one - LogReal.from_log(-d))
    sec.add(
        "", "LogReal 1 - e^-d", repr(float(got_lr.logabs)), ulps(float(got_lr.logabs), ref), t_lr
    )

    # Comparisons are exact beyond float range.
    a, b = LogReal.from_log(1000.0), LogReal.from_log(2000.0)
    with np.errstate(over="ignore"):
        naive_order = bool(np.exp(1000.0) < np.exp(2000.0))
    sec.add("e^1000 < e^2000", "float64", repr(naive_order), "wrong (inf < inf)", math.nan)
    sec.add("", "LogReal", repr(bool(a < b)), "exact", math.nan)
    sec.notes.append(
        "errors: ulps of the exact value (mpmath from the exact float inputs); time: best of 3"
    )
    return sec
