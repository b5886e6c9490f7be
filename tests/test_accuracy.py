"""Accuracy of LogReal arithmetic and the section-2 functions against mpmath.

The oracle
----------
Every expected value is computed with mpmath at 300 bits from the exact
*stored* inputs: a float64 is the exact dyadic number ``mpmath.mpf(x)``, and a
LogReal's stored ``(sign, logabs)`` is taken as the exact number
``sign * e**logabs`` (``tests/oracle.py``).  A sum is evaluated after merging
the terms that have the same log (their weights add exactly), so an exact
cancellation leaves no 300-bit residue behind.  Logs are compared in ulps of the
expected logabs, signs exactly.  Nothing here is taken from logreal itself,
from SciPy, or from float arithmetic that over- or underflows.

The bound (``log_tol``), absolute, on the logabs ``L`` of a result
------------------------------------------------------------------
* ``2 ulp(L)``: the issue's bound, held alone wherever nothing cancels, in the
  values or in the logs.  Products and quotients are held to 0.5 ulp (one
  rounded addition of logs).  A sum of two terms gets no allowance for value
  cancellation whatever the signs: the difference of two close logs is exact
  (Sterbenz), so ``e**0 - e**-2**-60`` must be within 2 ulp.
* ``+ 2**-52 * B`` only where ``|L| < B = max(|m|, |L - m|)``, ``m`` the
  largest log: a float64 log-space kernel returns ``m + log(sum e**(l - m))``,
  and when the two pieces nearly cancel (``e**0.7 - e**0`` has ``L = 0.0137``
  while ``log1mexp(-0.7) = -0.686``) an ulp of the larger piece is many ulps of
  ``L``.  This is STYLE.md's "a few ulp of the result plus |logabs_in| * 2**-52
  times the amplification" for log-domain cancellation.
* ``+ 2**-52 * (2 + log2 n) * amplification`` for sums of ``n >= 3`` terms:
  ``amplification = kappa - 1`` with unit weights (LogReal signs), where
  ``kappa = sum |t_i| / |sum t_i|`` is the condition number of the sum (so the
  term vanishes without cancellation), and ``kappa`` with real weights ``b``,
  whose products and sums round at 2**-53 even without cancellation.  The
  ``2 + log2 n`` is NumPy's pairwise summation of the rescaled terms.

Each random test prints (``-s``) and records (``record_property``) its largest
error in ulps and its largest error over the bound: the accuracy table.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import mpmath
import numpy as np
import pytest

import logreal as lr

from oracle import ulp_error

mpmath.mp.prec = 300

INF, NAN = math.inf, math.nan
U = 2.0**-52  # an ulp of 1.0
LN2 = math.log(2.0)
DBL_MAX = sys.float_info.max
TINY = sys.float_info.min  # smallest normal
SUB = 5e-324  # smallest subnormal
MPF_NAN = mpmath.mpf("nan")

# ---------------------------------------------------------------------------
# The oracle.


@dataclass(frozen=True)
class Exact:
    """An exact signed log-space value, with what the error bound needs."""

    sign: float  # -1, 0, +1, or nan
    L: mpmath.mpf  # log|value|: -inf for zero, +inf for infinite, nan
    m: mpmath.mpf  # the largest log of a surviving term (0 if none)
    kappa: mpmath.mpf  # sum |w_i e**l_i| / |sum|: the condition number


def _exact_total(xs) -> mpmath.mpf:
    """The sum of mpf numbers without any intermediate rounding (Python integers)."""
    parts = [((-1) ** sgn * man, exp) for sgn, man, exp, _ in (x._mpf_ for x in xs) if man]
    if not parts:
        return mpmath.mpf(0)
    e0 = min(e for _, e in parts)
    total = sum(v << (e - e0) for v, e in parts)
    with mpmath.workprec(max(mpmath.mp.prec, abs(total).bit_length() + 1)):
        return +mpmath.mpf((total, e0))  # every bit kept, not rounded to mp.prec


# A term below e**-1e5 times the largest one cannot change a float64 result:
# distinct logs do not cancel that deeply, and equal logs are merged first.
NEGLIGIBLE = -1e5


def exact_sum(weights, logs) -> Exact:
    """``sum(w_i * e**l_i)`` exactly, with IEEE rules for infinite and nan terms.

    A zero weight removes its term, even an infinite or nan one (SciPy's rule;
    LogReal's zero has sign 0).  Terms with the same log are merged first.  Each
    rescaled term ``c * e**(l - m)`` is good to 300 bits of itself (written as
    ``c + c * expm1(l - m)`` near the largest), the terms are added without
    rounding, and the log is taken as ``log1p(|s| - 1)`` near one, so a sum within
    1e-300 of one still has every digit of its log.
    """
    groups: dict[float, mpmath.mpf] = {}
    pos_inf = neg_inf = False
    wl = [(float(w), float(lg)) for w, lg in zip(weights, logs, strict=True)]
    for w, lg in wl:
        if w == 0:
            continue
        if math.isnan(w) or math.isnan(lg):
            return Exact(NAN, MPF_NAN, mpmath.mpf(0), mpmath.inf)
        if lg == -INF:
            continue
        if lg == INF:
            pos_inf |= w > 0
            neg_inf |= w < 0
            continue
        groups[lg] = _exact_total([groups.get(lg, mpmath.mpf(0)), mpmath.mpf(w)])
    if pos_inf and neg_inf:
        return Exact(NAN, MPF_NAN, mpmath.mpf(0), mpmath.inf)
    if pos_inf or neg_inf:
        return Exact(1.0 if pos_inf else -1.0, mpmath.inf, mpmath.mpf(0), mpmath.mpf(1))
    live = {lg: c for lg, c in groups.items() if c != 0}
    if not live:
        return Exact(0.0, mpmath.mpf("-inf"), mpmath.mpf(0), mpmath.inf)
    m = mpmath.mpf(max(live))
    d = {lg: mpmath.mpf(lg) - m for lg in groups if mpmath.mpf(lg) - m >= NEGLIGIBLE}
    scaled = {lg: mpmath.exp(dl) for lg, dl in d.items()}
    terms = []  # e**d as 1 + expm1(d) where |d| < 1: the 1 is exact, expm1 keeps tiny d
    for lg, c in live.items():
        if lg in d and d[lg] > -1:
            terms += [c, c * mpmath.expm1(d[lg])]
        elif lg in d:
            terms.append(c * scaled[lg])
    s = _exact_total(terms)
    if s == 0:  # distinct logs never cancel exactly; kept for safety
        return Exact(0.0, mpmath.mpf("-inf"), m, mpmath.inf)
    sign = 1 if s > 0 else -1
    if 0.5 < abs(s) < 2:  # log1p of the exactly computed |s| - 1
        log_s = mpmath.log1p(_exact_total([*(sign * t for t in terms), mpmath.mpf(-1)]))
    else:
        log_s = mpmath.log(abs(s))
    total = mpmath.fsum(abs(w) * scaled[lg] for w, lg in wl if w != 0 and lg in scaled)
    # m + log_s exactly (no 300-bit rounding): a later L_a + L that cancels to
    # 1e-308 (x * (y + z) with y + z = -(0.5 - 1e-308)) must still see it.
    return Exact(float(sign), _exact_total([m, log_s]), m, total / abs(s))


def ulp(L) -> float:
    """The spacing of float64 at ``L`` (smallest subnormal at 0)."""
    return float(np.spacing(abs(float(L))))


def log_tol(ex: Exact, n: int = 2, weighted: bool = False) -> float:
    """The absolute bound on the logabs error of a float64 signed log-sum (module notes)."""
    if not mpmath.isfinite(ex.L):  # zero, infinite or nan: checked exactly
        return 0.0
    tol = 2 * ulp(ex.L)
    b = max(abs(ex.m), abs(ex.L - ex.m))
    if abs(ex.L) < b:
        tol += U * float(b)
    if weighted:
        tol += U * (2 + math.log2(n)) * float(ex.kappa)
    elif n >= 3:
        tol += U * (2 + math.log2(n)) * float(ex.kappa - 1)
    return tol


class Tally:
    """Checks results against exact values; collects the worst ulps and every failure."""

    def __init__(self, name: str, dtype: type = np.float64):
        self.name = name
        self.dtype = dtype
        self.max_ulp = 0.0
        self.max_ratio = 0.0
        self.failures: list[str] = []

    def check(self, inputs, got_sign, got_logabs, ex: Exact, tol: float) -> None:
        gs, gl = float(got_sign), float(got_logabs)
        if mpmath.isnan(ex.L):
            ok = math.isnan(gs) and math.isnan(gl)
            err, ulps, ratio = (0.0, 0.0, 0.0) if ok else (INF, INF, INF)
        elif mpmath.isinf(ex.L) or abs(ex.L) > DBL_MAX:  # zero, infinite, or logabs overflow
            ok = gs == ex.sign and gl == float(ex.L)
            err, ulps, ratio = (0.0, 0.0, 0.0) if ok else (INF, INF, INF)
        else:
            err = float(abs(mpmath.mpf(gl) - ex.L)) if math.isfinite(gl) else INF
            ulps = ulp_error(gl, ex.L, self.dtype)
            ratio = err / tol if tol > 0 else (0.0 if err == 0 else INF)
            ok = gs == ex.sign and err <= tol
        if math.isfinite(ulps):
            self.max_ulp = max(self.max_ulp, ulps)
        self.max_ratio = max(self.max_ratio, ratio)
        if not ok:
            spacing = float(np.spacing(self.dtype(abs(float(ex.L))))) if ratio < INF else 1.0
            self.failures.append(
                f"{self.name}{inputs}: expected (sign {ex.sign}, logabs "
                f"{mpmath.nstr(ex.L, 20)}), got (sign {gs}, logabs {gl!r}): "
                f"{ulps:.4g} ulp, bound {tol / spacing:.4g} ulp"
            )

    def report(self, record=None) -> None:
        line = f"{self.name}: max {self.max_ulp:.3f} ulp, max error/bound {self.max_ratio:.3f}"
        print(line)
        if record is not None:
            record("max_ulp", round(self.max_ulp, 3))
            record("max_error_over_bound", round(self.max_ratio, 3))
        shown = "\n".join(self.failures[:8])
        assert not self.failures, f"{len(self.failures)} failures; first ones:\n{shown}"


def lr_from(sign, logabs) -> lr.LogReal:
    return lr.LogReal.from_log(np.asarray(logabs, dtype=float), np.asarray(sign, dtype=float))


# ---------------------------------------------------------------------------
# The oracle itself, on values whose expected logs the issue states.


def test_oracle_reproduces_the_issue_values():
    ex = exact_sum([1, -1], [0.0, -(2.0**-60)])
    assert float(ex.L) == -41.58883083359672
    assert float(exact_sum([1, -1], [0.0, -40.0]).L) == -4.248354255291589e-18
    # A residue far below 300 bits survives a cancellation of equal logs.
    ex = exact_sum([1, 1, -1], [0.0, -1000.0, 0.0])
    assert ex.sign == 1 and float(ex.L) == -1000.0
    assert exact_sum([1, -1], [3.0, 3.0]).sign == 0
    assert math.isnan(exact_sum([1, -1], [INF, INF]).sign)
    assert exact_sum([0, 1], [NAN, 1.0]).L == 1  # zero weight removes a nan term


# ---------------------------------------------------------------------------
# Random inputs: + - * / of LogReal, and the elementwise special functions.

N_PAIRS = 300


def random_pairs(family: str, rng: np.random.Generator, n: int = N_PAIRS):
    """(sx, lx, sy, ly): signs and logs of two operands, drawn per ``family``."""
    sx, sy = rng.choice([-1.0, 1.0], (2, n))
    if family == "unit":  # values around 1
        lx, ly = rng.normal(0.0, 1.0, (2, n))
    elif family == "near0":  # logs in (-1, 1): the log-domain cancellation regime
        lx, ly = rng.uniform(-1.0, 1.0, (2, n))
    elif family == "wide":  # far outside float range
        lx, ly = rng.uniform(-1000.0, 1000.0, (2, n))
    elif family == "huge":  # |logabs| up to 1e6, some neighbours
        lx = rng.uniform(1e5, 1e6, n) * rng.choice([-1.0, 1.0], n)
        ly = np.where(rng.random(n) < 0.5, lx + rng.normal(0, 1, n), -lx)
    elif family == "close":  # cancellation: logs within 1e-17 .. 3 of each other, ties
        lx = rng.normal(0.0, 30.0, n)
        delta = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-17, 0.5, n)
        ly = np.where(rng.random(n) < 0.15, lx, lx + delta)
    elif family == "switch":  # |lx - ly| within a few ulp or 1e-9 of ln 2, both sides
        lx = np.where(rng.random(n) < 0.5, 0.0, rng.normal(0.0, 30.0, n))
        k = rng.integers(-6, 7, n).astype(float)
        d = np.where(rng.random(n) < 0.5, LN2 + k * np.spacing(LN2), LN2 * (1 + k * 1e-9))
        ly = lx - d
    elif family == "mixed":  # a bit of every family, shuffled
        parts = [random_pairs(f, rng, n // 6 + 1) for f in FAMILIES if f != "mixed"]
        out = [np.concatenate(p)[:n] for p in zip(*parts, strict=True)]
        perm = rng.permutation(n)
        return tuple(a[perm] for a in out)
    else:
        raise ValueError(family)
    swap = rng.random(n) < 0.5
    return sx, np.where(swap, ly, lx), sy, np.where(swap, lx, ly)


FAMILIES = ["unit", "near0", "wide", "huge", "close", "switch", "mixed"]

BINARY = {
    "add": (lambda x, y: x + y, lambda sx, lx, sy, ly: exact_sum([sx, sy], [lx, ly])),
    "sub": (lambda x, y: x - y, lambda sx, lx, sy, ly: exact_sum([sx, -sy], [lx, ly])),
}


def exact_product(sx, lx, sy, ly, divide=False) -> Exact:
    lg = mpmath.mpf(lx) - mpmath.mpf(ly) if divide else mpmath.mpf(lx) + mpmath.mpf(ly)
    return Exact(sx * sy, lg, lg, mpmath.mpf(1))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_random_arithmetic(op, family, rng, record_property):
    """+ and - within ``log_tol`` (2 ulp unless the logs cancel); * and / within 0.5 ulp:
    one correctly rounded addition of the stored logs."""
    sx, lx, sy, ly = random_pairs(family, rng)
    x, y = lr_from(sx, lx), lr_from(sy, ly)
    tally = Tally(f"{op}[{family}]")
    if op in BINARY:
        fn, exact = BINARY[op]
        got = fn(x, y)
        for i in range(len(lx)):
            ex = exact(sx[i], lx[i], sy[i], ly[i])
            tally.check((sx[i], lx[i], sy[i], ly[i]), got.sign[i], got.logabs[i], ex, log_tol(ex))
    else:
        got = x * y if op == "mul" else x / y
        for i in range(len(lx)):
            ex = exact_product(sx[i], lx[i], sy[i], ly[i], divide=op == "div")
            tally.check(
                (sx[i], lx[i], sy[i], ly[i]), got.sign[i], got.logabs[i], ex, 0.5 * ulp(ex.L)
            )
    tally.report(record_property)


SPECIAL = {
    # name: (the call on arrays a and b, the exact value from one a and b)
    "logaddexp": (lr.logaddexp, lambda a, b: exact_sum([1, 1], [a, b])),
    "logsubexp": (lr.logsubexp, lambda a, b: exact_sum([1, -1], [a, b])),
    "log1mexp": (
        lambda a, b: lr.log1mexp(-np.abs(a)),
        lambda a, b: exact_sum([1, -1], [0, -abs(a)]),
    ),
    "log1pexp": (lambda a, b: lr.log1pexp(a), lambda a, b: exact_sum([1, 1], [0, a])),
}


@pytest.mark.parametrize("family", [*FAMILIES, "tiny"])
@pytest.mark.parametrize("fn", list(SPECIAL))
def test_random_special_functions(fn, family, rng, record_property):
    """Two-term sums: within ``log_tol`` (2 ulp unless the result's log nearly cancels)."""
    if family == "tiny":  # arguments from 1e-300 to 1e3 in magnitude, both signs
        a = rng.choice([-1.0, 1.0], N_PAIRS) * 10.0 ** rng.uniform(-300, 3, N_PAIRS)
        b = rng.choice([-1.0, 1.0], N_PAIRS) * 10.0 ** rng.uniform(-300, 3, N_PAIRS)
    else:
        _, a, _, b = random_pairs(family, rng)
    if fn == "logsubexp":
        a, b = np.maximum(a, b), np.minimum(a, b)
    call, exact = SPECIAL[fn]
    got = call(a, b)
    tally = Tally(f"{fn}[{family}]")
    for i in range(len(a)):
        ex = exact(a[i], b[i])
        gs = 0.0 if got[i] == -INF else (NAN if math.isnan(got[i]) else 1.0)
        tally.check((a[i], b[i]), gs, got[i], ex, log_tol(ex))
    tally.report(record_property)


# ---------------------------------------------------------------------------
# Random inputs: sums of many terms, cumulative sums, products.


def random_rows(family: str, rng: np.random.Generator, rows: int, n: int):
    """(signs, logs) of shape (rows, n)."""
    if family == "unit":
        logs = rng.normal(0.0, 1.0, (rows, n))
    elif family == "wide":
        logs = rng.uniform(-700.0, 700.0, (rows, n))
    elif family == "ties":  # many equal logs: exact cancellations among them
        logs = np.round(rng.normal(0.0, 2.0, (rows, n)) * 2) / 2
    elif family == "huge":
        logs = rng.uniform(-1e6, 1e6, (rows, 1)) + rng.normal(0.0, 3.0, (rows, n))
    else:
        raise ValueError(family)
    return logs


SUM_FAMILIES = ["unit", "wide", "ties", "huge"]
SUM_SIZES = [(60, 3), (20, 30), (4, 400)]  # (rows, n): about 1500 terms each


@pytest.mark.parametrize("family", SUM_FAMILIES)
@pytest.mark.parametrize("rows_n", SUM_SIZES, ids=lambda rn: f"n{rn[1]}")
@pytest.mark.parametrize(
    "case",
    [
        "logsumexp",
        "logsumexp-b-signs",
        "logsumexp-b-positive",
        "logsumexp-b-signed",
        "sum-one-sign",
        "sum-mixed",
    ],
)
def test_random_sums(case, rows_n, family, rng, record_property):
    """Shifted sums of n terms within ``log_tol(n)``; signs exact; exact zeros exact."""
    rows, n = rows_n
    logs = random_rows(family, rng, rows, n)
    signs = rng.choice([-1.0, 1.0], (rows, n))
    weighted = case in ("logsumexp-b-positive", "logsumexp-b-signed")
    if case == "logsumexp":
        w = np.ones_like(logs)
        got_l = lr.logsumexp(logs, axis=1)
        got_s = np.where(got_l == -INF, 0.0, 1.0)
    elif case.startswith("logsumexp-b"):
        w = {
            "logsumexp-b-signs": signs,
            "logsumexp-b-positive": rng.uniform(0.01, 3.0, (rows, n)),
            "logsumexp-b-signed": signs * rng.uniform(0.01, 3.0, (rows, n)),
        }[case]
        got_l, got_s = lr.logsumexp(logs, axis=1, b=w, return_sign=True)
    else:
        w = np.abs(signs) * signs[:, :1] if case == "sum-one-sign" else signs
        got = lr.sum(lr_from(w, logs), axis=1)
        got_s, got_l = got.sign, got.logabs
    tally = Tally(f"{case}[n{n}-{family}]")
    for r in range(rows):
        ex = exact_sum(w[r], logs[r])
        tally.check(("row", r), got_s[r], got_l[r], ex, log_tol(ex, n, weighted))
    tally.report(record_property)


@pytest.mark.parametrize("family", SUM_FAMILIES)
@pytest.mark.parametrize("case", ["cumsum-one-sign", "cumsum-mixed", "logcumsumexp"])
def test_random_cumulative_sums(case, family, rng, record_property):
    """Every prefix is a sum of its terms, held to the same bound as ``lr.sum`` of it."""
    rows, n = 12, 25
    logs = random_rows(family, rng, rows, n)
    signs = rng.choice([-1.0, 1.0], (rows, n))
    if case == "logcumsumexp":
        w = np.ones_like(logs)
        got_l = lr.logcumsumexp(logs, axis=1)
        got_s = np.where(got_l == -INF, 0.0, 1.0)
    else:
        w = signs[:, :1] * np.ones_like(logs) if case == "cumsum-one-sign" else signs
        got = lr.cumsum(lr_from(w, logs), axis=1)
        got_s, got_l = got.sign, got.logabs
    tally = Tally(f"{case}[{family}]")
    for r in range(rows):
        for i in range(n):
            ex = exact_sum(w[r, : i + 1], logs[r, : i + 1])
            tally.check(("row", r, "prefix", i), got_s[r, i], got_l[r, i], ex, log_tol(ex, i + 1))
    tally.report(record_property)


@pytest.mark.parametrize("family", SUM_FAMILIES)
@pytest.mark.parametrize("n", [3, 30, 1000])
def test_random_products(n, family, rng, record_property):
    """``lr.prod`` sums the n logs: held to NumPy's pairwise summation bound,
    ``0.5 ulp(L) + (ceil(log2 n) + 8) * 2**-53 * sum |l_i|`` (blocks of 128 are
    summed by 8 interleaved accumulators, then pairwise), and exact signs."""
    rows = max(2, 3000 // n)
    logs = random_rows(family, rng, rows, n)
    signs = rng.choice([-1.0, 1.0], (rows, n))
    got = lr.prod(lr_from(signs, logs), axis=1)
    tally = Tally(f"prod[n{n}-{family}]")
    for r in range(rows):
        exact_l = mpmath.fsum(mpmath.mpf(v) for v in logs[r])
        ex = Exact(float(np.prod(signs[r])), exact_l, exact_l, mpmath.mpf(1))
        bound = (math.ceil(math.log2(n)) + 8) * 2.0**-53 * float(np.sum(np.abs(logs[r])))
        tally.check(("row", r), got.sign[r], got.logabs[r], ex, 0.5 * ulp(exact_l) + bound)
    tally.report(record_property)


# ---------------------------------------------------------------------------
# Adversarial inputs, each held to the bound by name.


def check_two_term(got_sign, got_logabs, weights, logs, name=""):
    ex = exact_sum(weights, logs)
    tally = Tally(name)
    tally.check((weights, logs), got_sign, got_logabs, ex, log_tol(ex))
    tally.report()
    return ex


def all_routes(hi: float, lo: float):
    """(route, sign, logabs) of e**hi - e**lo computed every way the API offers."""
    x, y = lr.exp(hi), lr.exp(lo)
    d = x - y
    routes = [
        ("LogReal.__sub__", d.sign, d.logabs),
        ("-y + x", (-y + x).sign, (-y + x).logabs),
    ]
    s = lr.sum(lr_from([1.0, -1.0], [hi, lo]))
    routes.append(("lr.sum", s.sign, s.logabs))
    c = lr.cumsum(lr_from([1.0, -1.0], [hi, lo]))
    routes.append(("lr.cumsum[-1]", c.sign[-1], c.logabs[-1]))
    v, sg = lr.logsumexp([hi, lo], b=[1.0, -1.0], return_sign=True)
    routes.append(("logsumexp(b, return_sign)", sg, v))
    v = lr.logsumexp([hi, lo], b=[1.0, -1.0])
    routes.append(("logsumexp(b)", 1.0 if v > -INF else 0.0, v))
    v = lr.logsubexp(hi, lo)
    routes.append(("logsubexp", 1.0 if v > -INF else 0.0, v))
    if hi == 0:
        v = lr.log1mexp(lo)
        routes.append(("log1mexp", 1.0 if v > -INF else 0.0, v))
    return routes


CANCEL = [
    (0.0, -(2.0**-60)),  # the issue's first example
    (0.0, -40.0),  # the issue's second example
    (0.0, -SUB),  # 1 - e**-5e-324: log of the smallest subnormal
    (0.0, -1e-300),
    (2.0**-60, 0.0),
    (1.0, float(np.nextafter(1.0, 0.0))),
    (709.782712893384, float(np.nextafter(709.782712893384, 0.0))),
    (-745.1332191019411, float(np.nextafter(-745.1332191019411, -INF))),
    (1e6, float(np.nextafter(1e6, 0.0))),
    (-1e6, -1e6 - 2.0**-20),
    (1e300, float(np.nextafter(1e300, 0.0))),
]


@pytest.mark.parametrize("hi_lo", CANCEL, ids=lambda p: f"e^{p[0]:.17g}-e^{p[1]:.17g}")
def test_cancellation_within_two_ulp(hi_lo):
    """e**hi - e**lo for neighbouring logs: no false zero, 2 ulp (via every route)."""
    hi, lo = hi_lo
    for route, sign, logabs in all_routes(hi, lo):
        ex = check_two_term(sign, logabs, [1, -1], [hi, lo], name=route)
        assert mpmath.isfinite(ex.L)


def test_cancellation_issue_values():
    assert float(lr.logsubexp(0.0, -(2.0**-60))) == -41.58883083359672
    assert float((lr.exp(0.0) - lr.exp(-(2.0**-60))).logabs) == -41.58883083359672
    got = float((lr.exp(0.0) - lr.exp(-40.0)).logabs)
    assert ulp_error(got, exact_sum([1, -1], [0.0, -40.0]).L) <= 2
    assert abs(got - -4.248354255291589e-18) <= 2 * ulp(-4.248354255291589e-18)


SWITCH_D = [LN2 + k * float(np.spacing(LN2)) for k in (-3, -1, 0, 1, 3)] + [
    LN2 * (1 - 1e-9),
    LN2 * (1 + 1e-9),
    LN2 * 0.999,
    LN2 * 1.001,
]


@pytest.mark.parametrize("hi", [0.0, 1.0, -1.0, 1000.0, -1000.0, 1e5])
@pytest.mark.parametrize("d", SWITCH_D, ids=lambda d: f"d={d!r}")
def test_both_sides_of_the_ln2_switch(d, hi):
    """e**hi - e**(hi - d) for d just below, at and above ln 2 (Mächler's switch)."""
    lo = hi - d  # the stored lo defines the exact difference hi - lo
    for route, sign, logabs in all_routes(hi, lo):
        check_two_term(sign, logabs, [1, -1], [hi, lo], name=route)
    # and the other sign: e**lo - e**hi
    got = lr.exp(lo) - lr.exp(hi)
    check_two_term(got.sign, got.logabs, [1, -1], [lo, hi], name="reversed")
    if hi == 0:
        check_two_term(1.0, lr.log1mexp(-d), [1, -1], [0.0, -d], name="log1mexp")


EQUAL_LOGS = [0.0, 1e-300, -1e-300, SUB, 1.5, -1.5, 709.782712893384, -745.13, 1e5, -1e5, 1e300]


@pytest.mark.parametrize("lg", EQUAL_LOGS, ids=repr)
def test_equal_magnitudes_cancel_to_the_exact_zero(lg):
    x = lr.exp(lg)
    for z in (x - x, -x + x, x + -x, (-x) - (-x)):
        assert float(z.sign) == 0.0 and float(z.logabs) == -INF
    v, s = lr.logsumexp([lg, lg], b=[1.0, -1.0], return_sign=True)
    assert (float(v), float(s)) == (-INF, 0.0)
    v, s = lr.logsumexp([lg, lg, lg, lg], b=[1.0, -1.0, -1.0, 1.0], return_sign=True)
    assert (float(v), float(s)) == (-INF, 0.0)
    assert float(lr.logsubexp(lg, lg)) == -INF
    z = lr.sum(lr_from([1.0, -1.0, 1.0, -1.0], [lg, lg, lg, lg]))
    assert float(z.sign) == 0.0 and float(z.logabs) == -INF
    c = lr.cumsum(lr_from([1.0, -1.0, 1.0, -1.0], [lg, lg, lg, lg]))
    np.testing.assert_array_equal(c.sign, [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(c.logabs, [lg, -INF, lg, -INF])


LMAX = math.log(DBL_MAX)  # 709.782712893384
LSUB = math.log(SUB)  # -744.4400719213812


def _edge_cases():
    """(id, thunk -> (sign, logabs), weights, logs): results next to float over/underflow."""

    def lrop(f, *vals):
        def run():
            r = f(*[lr.LogReal(v) for v in vals])
            return r.sign, r.logabs

        return run

    def stored(v):
        return float(lr.LogReal(v).logabs)

    def plain(f, *args):
        def run():
            v = f(*args)
            return (0.0 if v == -INF else 1.0), v

        return run

    def lse(a, b=None):
        def run():
            v, s = lr.logsumexp(a, b=b, return_sign=True)
            return s, v

        return run

    cases = [
        (
            "DBL_MAX+DBL_MAX",
            lrop(lambda x, y: x + y, DBL_MAX, DBL_MAX),
            [1, 1],
            [stored(DBL_MAX)] * 2,
        ),
        (
            "DBL_MAX-DBL_MAX/2",
            lrop(lambda x, y: x - y, DBL_MAX, DBL_MAX / 2),
            [1, -1],
            [stored(DBL_MAX), stored(DBL_MAX / 2)],
        ),
        (
            "DBL_MAX*2",
            lrop(lambda x, y: x * y, DBL_MAX, 2.0),
            None,
            stored(DBL_MAX) + stored(2.0),
        ),
        ("SUB+SUB", lrop(lambda x, y: x + y, SUB, SUB), [1, 1], [LSUB, LSUB]),
        ("TINY-SUB", lrop(lambda x, y: x - y, TINY, SUB), [1, -1], [stored(TINY), LSUB]),
        ("SUB/2", lrop(lambda x, y: x / y, SUB, 2.0), None, LSUB - stored(2.0)),
        ("logsumexp[LMAX]*3", lse([LMAX] * 3), [1] * 3, [LMAX] * 3),
        ("logsumexp[LMAX,LMAX]b", lse([LMAX, LMAX], [1.0, -0.5]), [1.0, -0.5], [LMAX] * 2),
        ("logsumexp[LSUB]*2", lse([LSUB, LSUB]), [1, 1], [LSUB] * 2),
        ("logsumexp[-745.2,-745.3]", lse([-745.2, -745.3], [1, -1]), [1, -1], [-745.2, -745.3]),
        ("logaddexp(LMAX,LMAX)", plain(lr.logaddexp, LMAX, LMAX), [1, 1], [LMAX, LMAX]),
        ("logaddexp(LMAX,-LMAX)", plain(lr.logaddexp, LMAX, -LMAX), [1, 1], [LMAX, -LMAX]),
        ("logsubexp(LMAX,LSUB)", plain(lr.logsubexp, LMAX, LSUB), [1, -1], [LMAX, LSUB]),
        ("log1pexp(LMAX)", plain(lr.log1pexp, LMAX), [1, 1], [0.0, LMAX]),
        ("log1pexp(-745.2)", plain(lr.log1pexp, -745.2), [1, 1], [0.0, -745.2]),
        ("log1pexp(-800)", plain(lr.log1pexp, -800.0), [1, 1], [0.0, -800.0]),
        ("log1mexp(-745.1)", plain(lr.log1mexp, -745.1), [1, -1], [0.0, -745.1]),
        ("log1mexp(-800)", plain(lr.log1mexp, -800.0), [1, -1], [0.0, -800.0]),
        ("log1mexp(-SUB)", plain(lr.log1mexp, -SUB), [1, -1], [0.0, -SUB]),
    ]
    return cases


@pytest.mark.parametrize("case", _edge_cases(), ids=lambda c: c[0])
def test_results_next_to_overflow_and_underflow(case):
    """No warning escapes (warnings are errors) and the logabs is within 2 ulp."""
    _, run, weights, logs = case
    sign, logabs = run()
    if weights is None:  # a product or quotient: one rounded addition of logs
        ex = Exact(1.0, mpmath.mpf(logs), mpmath.mpf(logs), mpmath.mpf(1))
        tally = Tally(case[0])
        tally.check(logs, sign, logabs, ex, 0.5 * ulp(logs))
        tally.report()
    else:
        ex = exact_sum(weights, logs)
        tally = Tally(case[0])
        tally.check(logs, sign, logabs, ex, log_tol(ex, len(logs)))
        tally.report()


def test_back_to_floats_next_to_overflow():
    """The float value of a result just inside the float range is the float result
    (within the representation's |L| * 2**-53 relative error), and just outside is inf."""
    near = lr.LogReal(DBL_MAX / 2) + lr.LogReal(DBL_MAX / 4)
    want = DBL_MAX / 2 + DBL_MAX / 4
    assert abs(float(near) - want) <= want * (2 * LMAX + 4) * 2.0**-53
    assert float(lr.LogReal(DBL_MAX) + lr.LogReal(DBL_MAX)) == INF
    assert float(-lr.LogReal(DBL_MAX) - lr.LogReal(DBL_MAX)) == -INF
    tiny = lr.LogReal(SUB) + lr.LogReal(SUB)
    assert float(tiny) == 2 * SUB


@pytest.mark.parametrize(
    "logs",
    [[1e-4, 30.0], [0.5, 3.0], [-0.3, 0.2, 40.0], [1e-4, 30.0, -5.0]],
    ids=lambda v: "cumsum" + repr(v).replace(" ", ""),
)
def test_each_prefix_is_the_sum_of_its_own_terms(logs):
    """A prefix must not depend on later, larger terms: cumsum(e**[1e-4, 30])[0] is
    e**1e-4, to 2 ulp like ``lr.sum`` of that one term (API.md: a sum of terms of one
    sign is within a few ulp however many terms)."""
    logs = np.asarray(logs)
    got = lr.cumsum(lr.exp(logs))
    got_real = lr.logcumsumexp(logs)
    tally = Tally("cumsum prefix")
    for i in range(len(logs)):
        ex = exact_sum(np.ones(i + 1), logs[: i + 1])
        tally.check(("lr.cumsum", i), got.sign[i], got.logabs[i], ex, log_tol(ex, i + 1))
        tally.check(("lr.logcumsumexp", i), 1.0, got_real[i], ex, log_tol(ex, i + 1))
        alone = lr.sum(lr.exp(logs[: i + 1]))
        tally.check(("lr.sum of the prefix", i), alone.sign, alone.logabs, ex, log_tol(ex, i + 1))
    tally.report()


N_TINY = 10**6


def test_sum_of_a_million_equal_tiny_terms():
    """No pairwise-folding drift: 10**6 copies of 1e-300 (issue value -676.9600173402494)."""
    terms = lr.LogReal(np.full(N_TINY, 1e-300))
    lg = float(terms.logabs[0])  # the stored log(1e-300)
    want = mpmath.log(N_TINY) + mpmath.mpf(lg)
    got = lr.sum(terms)
    assert float(got.sign) == 1.0
    assert ulp_error(got.logabs, want) <= 2
    # The issue's value is log(1e-294) from the exact 1e-300; the stored log differs
    # from it by at most half an ulp of 690.8, i.e. one ulp of 676.96.
    assert abs(float(got.logabs) - -676.9600173402494) <= 4 * ulp(-676.9600173402494)
    assert ulp_error(lr.logsumexp(np.full(N_TINY, lg)), want) <= 2
    c = lr.cumsum(terms)
    for k in (1, 10, 1000, 123457, N_TINY):
        assert ulp_error(c.logabs[k - 1], mpmath.log(k) + mpmath.mpf(lg)) <= 2, k
    lc = lr.logcumsumexp(np.full(N_TINY, lg))
    assert ulp_error(lc[-1], want) <= 2


@pytest.mark.parametrize("signed", [False, True], ids=["one-sign", "mixed"])
def test_sum_of_a_million_terms_with_few_distinct_values(signed, rng):
    """10**6 terms drawn from 16 distinct logs near -700 (so the oracle is 16 exps):
    one sign within 2 ulp; mixed signs within ``log_tol`` (kappa from the counts)."""
    values = rng.uniform(-705.0, -695.0, 16)
    idx = rng.integers(0, 16, N_TINY)
    signs = rng.choice([-1.0, 1.0], N_TINY) if signed else np.ones(N_TINY)
    logs = values[idx]
    got = lr.sum(lr_from(signs, logs))
    coeff = np.zeros(16)
    np.add.at(coeff, idx, signs)
    ex = exact_sum(coeff, values)  # the signed counts are exact weights
    # kappa counts every term, not the net weight of each value
    count = np.bincount(idx, minlength=16)
    total = mpmath.fsum(
        int(k) * mpmath.exp(mpmath.mpf(v) - ex.L) for k, v in zip(count, values, strict=True)
    )
    ex = Exact(ex.sign, ex.L, ex.m, total)
    tally = Tally("sum-1e6")
    tally.check("1e6 terms", got.sign, got.logabs, ex, log_tol(ex, N_TINY))
    tally.report()
    if not signed:
        assert ulp_error(got.logabs, ex.L) <= 2


# ---------------------------------------------------------------------------
# Cross-class identity: LogReal results equal float64 results where floats are exact
# enough (no overflow, no underflow).
#
# The bound, absolute on the float value: every stored log is rounded (relative
# error of a value rho(l) = 2**-52 * (|l| + 1), the log's rounding and its
# libm error), the result's to_real rounds once more (rho(L)), and the float
# computation itself errs by its own rounding (2**-52 per operation, n * 2**-53
# * sum |t| for a recursive sum of n terms).  With |l| < 5 ("unit") this is a few
# ulp; with values 10**+-60 ("wide") it is the representation's |l| * 2**-53.


def rho(lg):
    return 2.0**-52 * (np.abs(lg) + 1)


def _float_ok(*arrays):
    """Elementwise: every value finite and zero or normal (no over- or underflow)."""
    ok = np.ones(np.broadcast_shapes(*(np.shape(a) for a in arrays)), dtype=bool)
    for a in arrays:
        a = np.asarray(a)
        ok &= np.isfinite(a) & ((a == 0) | (np.abs(a) >= TINY))
    return ok


def random_reals(scale: str, rng, shape):
    exps = {"unit": (-1.0, 1.0), "wide": (-60.0, 60.0)}[scale]
    mag = 10.0 ** rng.uniform(*exps, shape)
    return rng.choice([-1.0, 1.0], shape) * mag


def _cross(op: str, scale: str, rng):
    """(got from LogReal, want from float64, absolute bound) for one operation."""
    n = 200
    if op in ("add", "sub", "mul", "div"):
        x, y = random_reals(scale, rng, (2, n))
        if op in ("add", "sub"):  # make a third of them nearly cancel
            near = rng.random(n) < 0.33
            y = np.where(near, (-1 if op == "add" else 1) * x * (1 + rng.normal(0, 1e-6, n)), y)
        fx = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op]
        want = fx(x, y)
        got = fx(lr.LogReal(x), lr.LogReal(y)).to_real()
        L = np.log(np.abs(want))
        if op in ("add", "sub"):
            tol = 2 * (np.abs(x) * rho(np.log(np.abs(x))) + np.abs(y) * rho(np.log(np.abs(y))))
            tol += np.abs(want) * (rho(L) + 4 * 2.0**-52)
        else:
            lx, ly = np.log(np.abs(x)), np.log(np.abs(y))
            tol = np.abs(want) * (rho(lx) + rho(ly) + rho(L) + 2 * 2.0**-52)
        return got, want, tol, _float_ok(want)
    if op == "pow":
        x = random_reals(scale, rng, n)
        x = np.sign(x) * np.abs(x) ** 0.5  # |x| ** 3 stays inside the float range
        p = rng.choice([-3, -2, -1, 0, 1, 2, 3, 2.0, -3.0], n)
        want = np.power(x, p)
        got = np.asarray([(lr.LogReal(xi) ** pi).to_real() for xi, pi in zip(x, p, strict=True)])
        got_vec = (lr.LogReal(x) ** p).to_real()
        np.testing.assert_array_equal(got, got_vec)
        L = np.log(np.abs(want))
        tol = np.abs(want) * (np.abs(p) * rho(np.log(np.abs(x))) + rho(L) + 2 * 2.0**-52)
        return got, want, tol, _float_ok(want)
    if op in ("sum", "cumsum", "prod"):
        k = 20
        x = random_reals(scale if op != "prod" else "unit", rng, (n // 4, k))
        if op == "prod" and scale == "wide":
            x = x * 10.0 ** rng.uniform(-10, 10, x.shape)  # products up to 1e220
        lx = np.log(np.abs(x))
        if op == "sum":
            want = np.sum(x, axis=1)
            got = lr.sum(lr.LogReal(x), axis=1).to_real()
            ab = np.sum(np.abs(x) * (2 * rho(lx) + (k + 4) * 2.0**-52), axis=1)
        elif op == "cumsum":
            want = np.cumsum(x, axis=1)
            got = lr.cumsum(lr.LogReal(x), axis=1).to_real()
            ab = np.cumsum(np.abs(x) * (2 * rho(lx) + (k + 4) * 2.0**-52), axis=1)
        else:
            want = np.prod(x, axis=1)
            got = lr.prod(lr.LogReal(x), axis=1).to_real()
            ab = np.abs(want) * (np.sum(rho(lx), axis=1) + (k + 2) * 2.0**-52)
        L = np.log(np.abs(want))
        return got, want, ab + np.abs(want) * (rho(L) + 4 * 2.0**-52), _float_ok(want)
    if op in ("dot", "matmul"):
        k = 16
        if op == "dot":
            a = random_reals(scale, rng, (n // 4, k))
            b = random_reals(scale, rng, (n // 4, k))
            want = np.einsum("ij,ij->i", a, b)
            got = np.asarray(
                [
                    lr.dot(lr.LogReal(ai), lr.LogReal(bi)).to_real()
                    for ai, bi in zip(a, b, strict=True)
                ]
            )
            terms = np.abs(a * b)
            la, lb = np.log(np.abs(a)), np.log(np.abs(b))
            ab = np.sum(terms * (2 * rho(la) + 2 * rho(lb) + (k + 4) * 2.0**-52), axis=1)
        else:
            a = random_reals(scale, rng, (5, k))
            b = random_reals(scale, rng, (k, 7))
            want = a @ b
            got = (lr.LogReal(a) @ lr.LogReal(b)).to_real()
            np.testing.assert_array_equal(got, lr.matmul(lr.LogReal(a), b).to_real())
            la, lb = np.log(np.abs(a)), np.log(np.abs(b))
            ab = np.einsum(
                "ik,kj->ij",
                np.abs(a) * (2 * rho(la) + (k + 4) * 2.0**-52),
                np.abs(b),
            ) + np.einsum("ik,kj->ij", np.abs(a), np.abs(b) * 2 * rho(lb))
        L = np.log(np.abs(want))
        return got, want, ab + np.abs(want) * (rho(L) + 4 * 2.0**-52), _float_ok(want)
    raise ValueError(op)


@pytest.mark.parametrize("scale", ["unit", "wide"])
@pytest.mark.parametrize(
    "op", ["add", "sub", "mul", "div", "pow", "sum", "cumsum", "prod", "dot", "matmul"]
)
def test_logreal_equals_float64(op, scale, rng, record_property):
    with np.errstate(all="raise"):  # the float side must not over- or underflow either
        got, want, tol, ok = _cross(op, scale, rng)
    assert ok.mean() > 0.9  # the float results stayed in the normal range
    err = np.abs(got - want)
    ulps = err / np.maximum(np.spacing(np.abs(want)), SUB)
    ratio = float(np.max((err / tol)[ok]))
    record_property("max_ulp_of_float", float(np.max(ulps[ok])))
    record_property("max_error_over_bound", ratio)
    print(
        f"cross-{op}[{scale}]: max {np.max(ulps[ok]):.3g} ulp of the float result, "
        f"max error/bound {ratio:.3f}"
    )
    bad = np.flatnonzero(ok & ~(err <= tol))
    assert bad.size == 0, (
        f"{bad.size} values beyond the bound; e.g. index {bad[0]}: float {want.flat[bad[0]]!r}, "
        f"LogReal {got.flat[bad[0]]!r}, bound {tol.flat[bad[0]]!r}"
    )


# ---------------------------------------------------------------------------
# float32 stays float32 (NumPy 2 promotion), also beside Python scalars, and its
# results agree with float32 arithmetic within the float32 version of the bound.

U32 = 2.0**-23


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(lambda: 2.5, id="python-float"),
        pytest.param(lambda: 3, id="python-int"),
        pytest.param(lambda: np.float32(2.5), id="np.float32"),
        pytest.param(lambda: np.full(4, 0.75, np.float32), id="float32-array"),
        pytest.param(lambda: lr.LogReal(np.full(4, 0.75, np.float32)), id="float32-LogReal"),
        pytest.param(lambda: np.float64(2.5), id="np.float64"),
        pytest.param(lambda: np.full(4, 0.75), id="float64-array"),
    ],
)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_float32_promotion_follows_numpy(op, other):
    f = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op]
    x32 = np.asarray([0.5, -1.5, 2.0, 3.0], dtype=np.float32)
    o = other()
    o_real = np.asarray(o) if isinstance(o, lr.LogReal) else o
    want = f(x32, o_real).dtype
    for res in (f(lr.LogReal(x32), o), f(o, lr.LogReal(x32))):
        assert res.dtype == want
        assert res.sign.dtype == res.logabs.dtype == want


def test_float32_reductions_and_special_functions_stay_float32():
    a32 = np.asarray([0.5, -1.5, 2.0, 3.0], dtype=np.float32)
    x = lr.LogReal(a32)
    assert x.dtype == np.float32
    for r in (lr.sum(x), lr.prod(x), lr.cumsum(x), x**2, x**2.0, -x, abs(x), lr.dot(x, x)):
        assert r.dtype == np.float32 and r.logabs.dtype == np.float32
    assert x.to_real().dtype == np.float32
    assert lr.exp(a32).dtype == np.float32
    for v in (
        lr.logsumexp(a32),
        lr.logsumexp(a32, b=np.ones(4, np.float32), return_sign=True)[0],
        lr.logaddexp(a32, a32),
        lr.logsubexp(a32, a32 - 1),
        lr.log1mexp(-np.abs(a32)),
        lr.log1pexp(a32),
        lr.logcumsumexp(a32),
    ):
        assert np.asarray(v).dtype == np.float32


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "sum"])
def test_float32_results_equal_float32_arithmetic(op, rng):
    """Exact inputs in float32, the reference computed in float64 (exact for * and
    rounded once for + - /), and the bound of the float64 test with 2**-23."""
    x = (rng.choice([-1.0, 1.0], 300) * 10.0 ** rng.uniform(-3, 3, 300)).astype(np.float32)
    y = (rng.choice([-1.0, 1.0], 300) * 10.0 ** rng.uniform(-3, 3, 300)).astype(np.float32)
    x64, y64 = x.astype(float), y.astype(float)
    r32 = lambda lg: U32 * (np.abs(lg) + 1)  # noqa: E731
    lx, ly = np.log(np.abs(x64)), np.log(np.abs(y64))
    if op == "sum":
        got = lr.sum(lr.LogReal(x.reshape(30, 10)), axis=1).to_real()
        want = x64.reshape(30, 10).sum(axis=1)
        tol = np.sum((np.abs(x64) * (2 * r32(lx) + 14 * U32)).reshape(30, 10), axis=1)
    else:
        f = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op]
        got = f(lr.LogReal(x), lr.LogReal(y)).to_real()
        want = f(x64, y64)
        if op in ("add", "sub"):
            tol = 2 * (np.abs(x64) * r32(lx) + np.abs(y64) * r32(ly))
        else:
            tol = np.abs(want) * (r32(lx) + r32(ly))
    assert got.dtype == np.float32
    tol = tol + np.abs(want) * (r32(np.log(np.abs(want))) + 4 * U32)
    err = np.abs(got.astype(float) - want)
    ulps = err / np.spacing(np.abs(want).astype(np.float32)).astype(float)
    print(f"float32-{op}: max {np.max(ulps):.3g} ulp of float32")
    bad = np.flatnonzero(~(err <= tol))
    assert bad.size == 0, f"index {bad[0]}: want {want[bad[0]]!r}, got {got[bad[0]]!r}"


def test_float32_logabs_accuracy_against_mpmath(rng):
    """float32 + and - of LogReal: ``log_tol`` with float32 ulps, 3 ulp rather than 2
    (NumPy's float32 exp and log1p are not correctly rounded; each may add most of an
    ulp) unless the result's log nearly cancels; then plus 2**-23 * B."""
    sx, lx, sy, ly = random_pairs("mixed", rng)
    lx32, ly32 = lx.astype(np.float32), ly.astype(np.float32)
    x = lr.LogReal.from_log(lx32, sx.astype(np.float32))
    y = lr.LogReal.from_log(ly32, sy.astype(np.float32))
    tally = Tally("float32 add/sub", np.float32)
    for got, ysign in ((x + y, sy), (x - y, -sy)):
        assert got.dtype == np.float32
        for i in range(len(lx)):
            ex = exact_sum([sx[i], ysign[i]], [float(lx32[i]), float(ly32[i])])
            if not mpmath.isfinite(ex.L):
                tally.check(i, got.sign[i], got.logabs[i], ex, 0.0)
                continue
            tol = 3 * float(np.spacing(np.float32(abs(float(ex.L)))))
            b = max(abs(ex.m), abs(ex.L - ex.m))
            if abs(ex.L) < b:
                tol += U32 * float(b)
            tally.check((lx32[i], ly32[i]), got.sign[i], got.logabs[i], ex, tol)
    tally.report()
