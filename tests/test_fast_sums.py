"""The compiled sums: ``lr.logsumexp``'s direct route and the threaded long-row
kernel, against the portable path (the truth) and mpmath."""

import itertools
import math
import os
import subprocess
import sys

import mpmath
import numpy as np
import pytest

import logreal as lr
from logreal import _numba
from logreal._numba import sums

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("LOGREAL_KERNELS") == "portable", reason="kernels switched off on purpose"
    ),
    pytest.mark.kernels_only,  # run once: see tests/conftest.py
]
LONG = sums.PARALLEL_MIN + 12345  # one row long enough for the threaded kernel


def _exact(a, b=None):
    """(sign, logabs) of sum(b e**a) from the exact stored floats, at 300 bits."""
    with mpmath.workprec(300):
        w = np.ones_like(a) if b is None else b
        total = mpmath.fsum(
            mpmath.mpf(float(wi)) * mpmath.exp(mpmath.mpf(float(ai)))
            for ai, wi in zip(a.ravel(), w.ravel(), strict=True)
            if wi != 0
        )
        return (
            (0.0, -math.inf) if total == 0 else (float(mpmath.sign(total)), mpmath.log(abs(total)))
        )


def _portable(*args, **kwargs):
    with _numba.portable():
        return lr.logsumexp(*args, **kwargs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_direct_route_matches_portable(dtype, axis, keepdims, rng):
    a = rng.normal(scale=30, size=(5, 301)).astype(dtype)
    b = rng.choice([-1.0, 0.0, 1.0, 2.5], size=a.shape).astype(dtype)
    for weights in (None, b):
        got = lr.logsumexp(a, axis=axis, b=weights, keepdims=keepdims, return_sign=True)
        want = _portable(a, axis=axis, b=weights, keepdims=keepdims, return_sign=True)
        assert np.shape(got[0]) == np.shape(want[0])
        assert np.asarray(got[0]).dtype == np.asarray(want[0]).dtype == dtype
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_max_ulp(np.asarray(got[0]), np.asarray(want[0]), 4)


def test_long_row_is_accurate_and_independent_of_threads(rng):
    a = rng.normal(scale=20, size=LONG)
    b = rng.choice([-1.0, 1.0], size=LONG)
    logabs, sign = lr.logsumexp(a, b=b, return_sign=True)
    exact_sign, exact_log = _exact(a, b)
    assert sign == exact_sign
    # one-sign parts summed in blocks: a few ulp plus the cancellation term
    mags = float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in a)))
    bound = 4 * math.ulp(logabs) + 2.0**-52 * math.exp(mags - float(exact_log))
    assert abs(mpmath.mpf(logabs) - exact_log) <= bound
    code = (
        "import numpy as np, logreal as lr; rng = np.random.default_rng(20261130);"
        f"a = rng.normal(scale=20, size={LONG}); b = rng.choice([-1.0, 1.0], size={LONG});"
        "print(repr(float(lr.logsumexp(a, b=b, return_sign=True)[0])))"
    )
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert one.returncode == 0, one.stderr
    assert float(one.stdout) == logabs  # bitwise: the blocks do not depend on threads


def test_long_row_whose_top_terms_cancel_is_summed_again():
    a = np.full(LONG, -np.inf)
    a[[10, LONG - 7, 40_000]] = [1000.0, 1000.0, 10.0]
    b = np.ones(LONG)
    b[LONG - 7] = -1.0
    logabs, sign = lr.logsumexp(a, b=b, return_sign=True)
    assert (logabs, sign) == (10.0, 1.0)


def test_long_row_special_values():
    a = np.zeros(LONG)
    a[5] = np.inf
    assert lr.logsumexp(a) == np.inf
    a[9] = np.nan
    assert np.isnan(lr.logsumexp(a))
    b = np.ones(LONG)
    a[9], b[5] = 0.0, -1.0  # the infinite term, negated
    assert lr.logsumexp(a, b=b, return_sign=True) == (np.inf, -1.0)
    assert lr.logsumexp(np.full(LONG, -np.inf), return_sign=True) == (-np.inf, 0.0)


def test_extreme_weights_take_the_exact_portable_path(rng):
    a = rng.normal(size=LONG)
    b = rng.choice([-1.0, 1.0], size=LONG)
    b[3] = 1e300
    got = lr.logsumexp(a, b=b, return_sign=True)
    want = _portable(a, b=b, return_sign=True)
    assert got[1] == want[1] and got[0] == want[0]


def test_many_long_rows_on_threads_match_single_rows(rng):
    a = rng.normal(scale=5, size=(3, LONG // 2))
    rows = lr.logsumexp(a, axis=1)
    each = [lr.logsumexp(a[i]) for i in range(3)]
    np.testing.assert_array_max_ulp(rows, np.array(each), 4)


# The one-pass sum (blocks of sums.SUB terms): against mpmath from the exact inputs.


def _ulps(got, want, dtype=np.float64):
    """|got - want| in ulps of the exact logabs, rounded to ``dtype``."""
    if math.isinf(want):
        return 0.0 if got == want else math.inf
    return float(abs(mpmath.mpf(float(got)) - want)) / float(np.spacing(np.abs(dtype(want))))


@pytest.mark.parametrize("n", [sums.FAST_MIN, sums.SUB + 3, LONG])
@pytest.mark.parametrize(
    "kind", ["normal100", "normal1", "narrow", "weighted", "masked", "signed"]
)
def test_one_pass_sum_against_mpmath(n, kind, rng):
    """One sign: within 2 ulp of the exact logabs (the exact path's bound);
    signed: 2 ulp plus the cancellation term ``2**-52 sum|t| / |sum t|``."""
    b = None
    scale = {"normal100": 100.0, "normal1": 1.0}.get(kind, 5.0)
    a = rng.normal(scale=scale, size=n)
    if kind == "narrow":  # every term within ln 2 of the largest: all are top terms
        a = rng.uniform(-0.5, 0.0, size=n)
    if kind == "weighted":
        b = rng.uniform(0.01, 3.0, size=n)
    if kind == "masked":  # zero weights, some on the largest terms
        b = rng.choice([0.0, 1.0], size=n)
        b[np.argsort(a)[-3:]] = 0.0
    if kind == "signed":
        b = rng.choice([-1.0, 1.0], size=n)
        b[np.argmax(a)] = 1.0  # no heavy cancellation: the one-pass path decides
    logabs, sign = lr.logsumexp(a, b=b, return_sign=True)
    exact_sign, exact_log = _exact(a, b)
    assert sign == exact_sign
    bound = 2.0
    if kind == "signed":
        mags = _exact(a, np.abs(b))[1]
        bound += 2.0**-52 * math.exp(float(mags - exact_log)) / math.ulp(float(exact_log))
    assert _ulps(logabs, exact_log) <= bound


def test_many_tiny_terms():
    a = np.full(10**6, math.log(1e-300))
    exact = mpmath.mpf(float(a[0])) + mpmath.log(10**6)
    got = lr.logsumexp(a)
    assert _ulps(got, exact) <= 2
    assert abs(got - -676.9600173402494) <= 4 * math.ulp(676.96)


@pytest.mark.parametrize("where", [(5, 9, 1000), (5, sums.SUB * 7 + 1, LONG - 2)])
def test_one_pass_top_terms_cancelling_exactly(where):
    """Top terms that cancel exactly, in one block or in several: the rest
    (whose terms underflow on the top shift) is summed on its own."""
    a = np.full(LONG, -np.inf)
    b = np.ones(LONG)
    i, j, k = where
    a[[i, j, k]] = [1000.0, 1000.0, 10.0]
    b[j] = -1.0
    assert lr.logsumexp(a, b=b, return_sign=True) == (10.0, 1.0)
    a[k] = -np.inf  # nothing left: an exact zero
    assert lr.logsumexp(a, b=b, return_sign=True) == (-np.inf, 0.0)


@pytest.mark.parametrize("apart", [False, True])
def test_one_pass_top_terms_cancelling_nearly(apart, rng):
    """``1 - e**-2**-60`` among small terms is not a false zero: the top terms
    go through expm1 in the block (or the rescale between blocks)."""
    a = rng.normal(loc=-200, size=LONG)
    b = rng.choice([-1.0, 1.0], size=LONG)
    i, j = (3, 4) if not apart else (3, LONG - 4)
    a[[i, j]] = [0.0, -(2.0**-60)]
    b[[i, j]] = [1.0, -1.0]
    logabs, sign = lr.logsumexp(a, b=b, return_sign=True)
    exact_sign, exact_log = _exact(a, b)
    assert sign == exact_sign
    mags = _exact(a, np.abs(b))[1]
    bound = 2.0 + 2.0**-52 * math.exp(float(mags - exact_log)) / math.ulp(float(exact_log))
    assert _ulps(logabs, exact_log) <= bound


def test_one_pass_special_values_in_blocks(rng):
    """IEEE rules as SciPy's: a zero weight removes even an inf or nan term."""
    a = rng.normal(size=LONG)
    b = np.ones(LONG)
    a[[7, sums.SUB * 3]] = [np.inf, np.nan]
    b[[7, sums.SUB * 3]] = 0.0
    a[100:200] = -np.inf
    want = _exact(np.delete(a, [7, sums.SUB * 3]))
    assert _ulps(lr.logsumexp(a, b=b), want[1]) <= 2
    b[7] = -1.0
    assert lr.logsumexp(a, b=b, return_sign=True) == (np.inf, -1.0)
    a[9], b[9] = np.inf, 1.0  # inf - inf
    assert np.isnan(lr.logsumexp(a, b=b, return_sign=True)).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis", [0, 1])
def test_one_pass_rows_against_mpmath(dtype, axis, rng):
    """Many rows, on the threads, along either axis (a moved copy for axis 0)."""
    shape = (3000, 23) if axis == 0 else (23, 3000)
    a = rng.normal(scale=20, size=shape).astype(dtype)
    b = rng.uniform(0.1, 2.0, size=shape).astype(dtype)
    got = lr.logsumexp(a, axis=axis, b=b)
    assert got.dtype == dtype and got.shape == (23,)
    for j in range(0, 23, 5):
        row = np.take(a, j, axis=1 - axis).astype(np.float64)
        w = np.take(b, j, axis=1 - axis).astype(np.float64)
        assert _ulps(got[j], _exact(row, w)[1], dtype) <= (2 if dtype == np.float64 else 1)


def test_rows_of_length_one_and_short_rows(rng):
    a = rng.normal(scale=50, size=(70_000, 1))
    np.testing.assert_array_equal(lr.logsumexp(a, axis=1), a[:, 0])
    a = rng.normal(scale=50, size=(30_000, 3))
    b = rng.choice([-1.0, 1.0], size=a.shape)
    got = lr.logsumexp(a, axis=1, b=b, return_sign=True)
    for j in range(0, 30_000, 3001):
        exact_sign, exact_log = _exact(a[j], b[j])
        assert got[1][j] == exact_sign
        mags = _exact(a[j], np.abs(b[j]))[1]
        extra = 2.0**-52 * math.exp(float(mags - exact_log)) / math.ulp(float(exact_log))
        assert _ulps(got[0][j], exact_log) <= 2 + extra


def test_rescale_shortcuts_give_the_general_formulas_bits():
    # rescale skips exp/expm1 for an unchanged shift and for a lone term
    # shifted down by at least 1; the general formula, written out here, is
    # the oracle, signed zeros and nans included.
    numba = pytest.importorskip("numba")
    from logreal._numba.exact import difference
    from logreal._numba.sums import rescale

    @numba.njit(error_model="numpy")
    def general(ms, k, r, m):
        delta, delta_lo = difference(m, ms)
        if ms == m:
            delta = 0.0
        shrink = math.exp(-delta)
        fix = shrink * delta_lo
        kept = k * (math.expm1(-delta) - fix) + r * (shrink - fix)
        if abs(kept) < 0.5 * abs(k):
            return k, kept
        return 0.0, (k + r) * (shrink - fix)

    @numba.njit(error_model="numpy")
    def fast(ms, k, r, m):
        return rescale(ms, k, r, m)

    shifts = [0.0, -0.0, 5.0, -3.0, 0.5, 1.0, 2.0, 1e308, -745.0, math.inf, -math.inf, math.nan]
    ks = [1.0, -1.0, 0.0, -0.0, 0.7, -0.3, 2.0, math.nan]
    rs = [0.0, -0.0, 0.3, -0.3, 0.45, -0.45, 1e-17, math.nan]
    for ms, m, k, r in itertools.product(shifts, shifts, ks, rs):
        want, got = np.array(general(ms, k, r, m)), np.array(fast(ms, k, r, m))
        np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
    rng = np.random.default_rng(11)
    for _ in range(20_000):
        ms = rng.normal(0.0, 3.0)
        m = ms + abs(rng.normal(0.0, 1.5)) * (rng.random() < 0.9)
        k, r = rng.normal(), rng.normal() * rng.random() * (rng.random() < 0.7)
        want, got = np.array(general(ms, k, r, m)), np.array(fast(ms, k, r, m))
        np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
