"""Demo section for the products module: the gradient of a product, walked through.

``p = f_1 ... f_n`` has ``dp/df_i = prod_{j != i} f_j`` (leave-one-out) and,
for factors depending on a parameter, ``dp = sum_i f_1 ... df_i ... f_n``.
Each case runs the naive O(n^2) method beside division, the log trick, the
dynamic program and the parallel scan, with the error against mpmath at 300
bits (or exact fractions) and the time.

With ``--plot FILE.png`` the section writes ``FILE-products.png`` (the suffix
keeps it apart from the other sections' plots): time against n, log-log, for
the O(n^2) and the O(n) methods.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import mpmath
import numpy as np

from .._logreal import LogReal
from .._products import cumprod, leave_one_out, prod_grad
from .report import Section, log_ulps, timed, ulps

__all__ = ["products"]

METHODS = ("naive", "division", "log", "dp", "scan")
HALVES = 100_000
NAIVE_N = 2_000


def _text(v: Any) -> str:
    """A short value: a LogReal or a float, or a vector of them."""
    if isinstance(v, LogReal):
        return repr(v)[len("LogReal(") : -1] if v.ndim == 0 else repr(v)
    a = np.asarray(v)
    if a.ndim == 0:
        return repr(float(a))
    return "[" + ", ".join(f"{x:.6g}" for x in a.ravel().tolist()) + "]"


def _worst(got: Any, exact: list[Any]) -> str:
    """The worst error of a vector against exact values, in ulps of each."""
    flat = np.asarray(got, dtype=np.float64).ravel().tolist()
    worst, text = -1.0, "exact"
    for g, e in zip(flat, exact, strict=True):
        e = mpmath.mpf(e.numerator) / e.denominator if isinstance(e, Fraction) else e
        if math.isnan(g) or (e != 0 and (g == 0 or math.isinf(g))):
            return ulps(g, e)
        if e == 0:
            if g != 0:
                return f"wrong ({g!r}; true value is 0)"
            continue
        err = float(abs(mpmath.mpf(g) - e) / math.ulp(float(e)))
        if err > worst:
            worst, text = err, ("exact" if err == 0 else f"{err:.2g} ulp")
    return text


def _exact_loo(x: list[float]) -> list[Fraction]:
    q = [Fraction(v) for v in x]
    return [
        math.prod((v for j, v in enumerate(q) if j != i), start=Fraction(1)) for i in range(len(q))
    ]


def _first_loo(x: Any, method: str) -> Any:
    """The first leave-one-out product, dp/df_1."""
    return leave_one_out(x, method=method)[0]


def _textbook_division(x: np.ndarray) -> np.ndarray:
    """``p / x_i``: what a framework's gradient of prod does without zero handling."""
    with np.errstate(all="ignore"):
        return np.prod(x) / x


# ---------------------------------------------------------------------------


def _probabilities(sec: Section) -> None:
    """(a) 10^5 halves: float64 underflows to 0, LogReal is exact."""
    floats = np.full(HALVES, 0.5)
    logs = LogReal(floats)
    true_grad = -(HALVES - 1) * mpmath.log(2)  # log 2**-99999, from the exact inputs
    case = f"(a) dp/df_1 of 10^5 halves (= 2**-{HALVES - 1})"
    exact = mpmath.mpf(2) ** -(HALVES - 1)
    got, t = timed(lambda: _textbook_division(floats)[0])
    sec.add(case, "float64 p / f_i", _text(got), ulps(float(got), exact), t)
    got, t = timed(lambda: leave_one_out(floats, method="dp")[0])
    sec.add(case, "float64 dp", _text(got), ulps(float(got), exact), t)
    sec.add(
        case,
        "LogReal naive",
        "skipped",
        f"O(n^2): ~{HALVES**2 / 2:.0e} additions; see the n = {NAIVE_N} rows",
        math.nan,
    )
    for method in METHODS[1:]:
        got, t = timed(partial(_first_loo, logs, method), repeat=1)
        sec.add(case, f"LogReal {method}", _text(got), log_ulps(float(got.logabs), true_grad), t)
    p_case = f"(a) p = 2**-{HALVES}"
    p_true = -HALVES * mpmath.log(2)
    got, t = timed(lambda: np.prod(floats))
    sec.add(p_case, "float64 np.prod", _text(got), ulps(float(got), mpmath.mpf(2) ** -HALVES), t)
    got, t = timed(lambda: cumprod(logs)[-1], repeat=1)
    sec.add(p_case, "LogReal cumprod", _text(got), log_ulps(float(got.logabs), p_true), t)

    small = LogReal(np.full(NAIVE_N, 0.5))
    n_case = f"(a) dp/df_1 of {NAIVE_N} halves"
    n_true = -(NAIVE_N - 1) * mpmath.log(2)
    for method in METHODS:
        got, t = timed(partial(_first_loo, small, method), repeat=1)
        sec.add(n_case, f"LogReal {method}", _text(got), log_ulps(float(got.logabs), n_true), t)


def _zeros(sec: Section) -> None:
    """(b) one zero (only that entry is nonzero) and two zeros (all zero)."""
    for label, x in (
        ("(b) one zero: loo of [0.5, 0, 0.25, 3]", [0.5, 0.0, 0.25, 3.0]),
        ("(b) two zeros: loo of [0.5, 0, 0.25, 0]", [0.5, 0.0, 0.25, 0.0]),
    ):
        arr = np.array(x)
        exact = _exact_loo(x)
        got, t = timed(partial(_textbook_division, arr))
        sec.add(label, "textbook p / f_i", _text(got), _worst(got, exact), t)
        for method in METHODS:
            got, t = timed(partial(leave_one_out, arr, method=method))
            sec.add(label, method, _text(got), _worst(got, exact), t)


def _matrices(sec: Section) -> None:
    """(c) a chain of non-commuting matrices: only dp, scan and naive apply."""
    rng = np.random.default_rng(2026)
    n, k = 100, 3
    f = np.eye(k) + rng.normal(0.0, 0.3, (n, k, k))
    df = rng.normal(0.0, 1.0, (n, k, k))
    exact = _mp_chain_grad(f, df)
    case = f"(c) gradient of a chain of {n} non-commuting 3x3 matrices"
    for method in ("naive", "dp", "scan"):
        got, t = timed(partial(prod_grad, f, df, op=np.matmul, method=method))
        sec.add(case, method, f"[0,0] = {got[0, 0]:.6g}", _worst_matrix(got, exact), t)
    got, t = timed(lambda: _as_if_commuting(f, df))
    sec.add(
        case,
        "as if commuting: sum loo_i df_i",
        f"[0,0] = {got[0, 0]:.6g}",
        _worst_matrix(got, exact),
        t,
    )
    for method in ("division", "log"):
        try:
            prod_grad(f, df, op=np.matmul, method=method)
            text = "accepted?!"
        except ValueError:
            text = "ValueError: needs commutative, invertible factors"
        sec.add(case, method, "-", text, math.nan)


def _mp_chain_grad(f: np.ndarray, df: np.ndarray) -> list[list[mpmath.mpf]]:
    """sum_i P_i df_i S_i at 300 bits from the exact binary entries."""
    n, k = f.shape[0], f.shape[1]
    mats = [mpmath.matrix(f[i].tolist()) for i in range(n)]
    dmats = [mpmath.matrix(df[i].tolist()) for i in range(n)]
    pre = [mpmath.eye(k)]
    for m in mats:
        pre.append(pre[-1] * m)
    suf = [mpmath.eye(k)]
    for m in reversed(mats):
        suf.append(m * suf[-1])
    suf.reverse()
    total = mpmath.zeros(k, k)
    for i in range(n):
        total += pre[i] * dmats[i] * suf[i + 1]
    return [[total[r, c] for c in range(k)] for r in range(k)]


def _as_if_commuting(f: np.ndarray, df: np.ndarray) -> np.ndarray:
    """The scalar formula applied to matrices: sum_i (P_i S_i) df_i (wrong order)."""
    loo = leave_one_out(f, op=np.matmul, method="dp")
    return np.sum(loo @ df, axis=0)


def _worst_matrix(got: np.ndarray, exact: list[list[mpmath.mpf]]) -> str:
    """Worst entry error in ulps of the largest exact entry (a normwise error)."""
    scale = max(abs(v) for row in exact for v in row)
    err = max(
        abs(mpmath.mpf(float(got[r, c])) - exact[r][c])
        for r in range(len(exact))
        for c in range(len(exact))
    )
    return f"{float(err / math.ulp(float(scale))):.2g} ulp of max |entry|"


# ---------------------------------------------------------------------------


# Sizes of the timing plot; the slopes are fitted where arithmetic, not the
# Python around it, sets the time (naive: n >= 500, the others: n >= 10^4).
PLOT_SIZES = {
    "naive": [500, 1000, 2000, 4000],
    **{m: [10**3, 10**4, 10**5, 10**6] for m in ("division", "log", "dp", "scan")},
}
FIT_FROM = {"naive": 500, "division": 10**4, "log": 10**4, "dp": 10**4, "scan": 10**4}


def _timing_plot(path: str) -> tuple[str, dict[str, float]]:
    """Time against n for every method on float64 input, with the slopes of
    log t against log n; returns the file written and the slopes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(7)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    slopes: dict[str, float] = {}
    measured: dict[str, list[float]] = {}
    for method, ns in PLOT_SIZES.items():
        times = []
        for n in ns:
            x = np.exp(rng.normal(0.0, 1e-3, n))  # partial products stay in range
            times.append(_best(partial(leave_one_out, x, method=method)))
        measured[method] = times
        fit = [(n, t) for n, t in zip(ns, times, strict=True) if n >= FIT_FROM[method]]
        slopes[method] = _slope(fit)
        ax.loglog(ns, times, "o-", label=f"{method} (slope {slopes[method]:.2f})")
    # Guides through the last point of naive and of dp.
    nq, tq = np.array(PLOT_SIZES["naive"], float), measured["naive"][-1]
    ax.loglog(nq, tq * (nq / nq[-1]) ** 2, "k--", lw=0.8, label="~ n^2")
    nl, tl = np.array(PLOT_SIZES["dp"], float), measured["dp"][-1]
    ax.loglog(nl, tl * nl / nl[-1], "k:", lw=0.8, label="~ n")
    ax.set_xlabel("n (factors)")
    ax.set_ylabel("seconds")
    ax.set_title("leave-one-out products of n float64 factors")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = _suffixed(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out, slopes


def _slope(points: list[tuple[int, float]]) -> float:
    """The least-squares slope of log t against log n."""
    logn = np.log([n for n, _ in points])
    logt = np.log([t for _, t in points])
    return float(np.polyfit(logn, logt, 1)[0])


def _best(fn: Callable[[], Any], budget: float = 0.1) -> float:
    """The best of up to five timed runs, stopping once ``budget`` seconds are spent."""
    fn()  # warm-up: compiled kernels, caches
    best, spent = math.inf, 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        fn()
        t = time.perf_counter() - t0
        best, spent = min(best, t), spent + t
        if spent > budget:
            break
    return best


def _suffixed(path: str) -> str:
    p = Path(path)
    return str(p.with_name(f"{p.stem}-products{p.suffix or '.png'}"))


def products(plot: str | None = None) -> Section:
    """The gradient of a product: naive, division, log trick, dp and scan."""
    sec = Section("Gradient of a product: dp/df_i = prod_{j != i} f_j (leave-one-out)")
    _probabilities(sec)
    _zeros(sec)
    _matrices(sec)
    sec.notes.append(
        "naive is O(n^2); division, log and dp are O(n); scan is O(n log n) work in "
        "O(log n) vectorised steps.  Errors: against mpmath at 300 bits or exact fractions."
    )
    sec.notes.append(
        "float64 'p / f_i' is the textbook gradient of prod: it underflows with p and "
        "divides 0 by 0 at a zero factor.  float64 dp returns 0.0 for 2**-99999 because "
        "that is the nearest float; LogReal keeps the value."
    )
    if plot:
        out, slopes = _timing_plot(plot)
        fitted = ", ".join(f"{m} {v:.2f}" for m, v in slopes.items())
        sec.notes.append(
            f"timing plot written to {out}; slopes of log t against log n: {fitted} "
            f"(naive from n = {FIT_FROM['naive']}, the others from n = 10^4; "
            f"2 is O(n^2), 1 is O(n))"
        )
    return sec
