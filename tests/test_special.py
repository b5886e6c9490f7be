"""Stable special functions: SciPy's logsumexp contract and the log1p/expm1 family."""

import contextlib
import math

import mpmath
import numpy as np
import pytest
import scipy.special

import logreal as lr
from logreal import _numba, _special

from oracle import ulp_error

INF, NAN = math.inf, math.nan


def mp_logsumexp(a, b=None):
    """(log|s|, sign s) of sum(b * e**a), exactly from the float inputs."""
    b = np.ones_like(a) if b is None else b
    s = mpmath.fsum(
        mpmath.mpf(float(w)) * mpmath.exp(mpmath.mpf(float(x)))
        for x, w in zip(a, b, strict=True)
        if w != 0
    )
    if s == 0:
        return mpmath.mpf("-inf"), 0
    return mpmath.log(abs(s)), (1 if s > 0 else -1)


# -- logsumexp: agreement with SciPy where SciPy is right -------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (0, 1, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_logsumexp_matches_scipy_shapes_and_values(rng, axis, keepdims, weighted):
    a = rng.normal(scale=50, size=(3, 4, 5))
    b = rng.uniform(0.1, 2, size=(4, 1)) if weighted else None
    got = lr.logsumexp(a, axis=axis, b=b, keepdims=keepdims)
    want = scipy.special.logsumexp(a, axis=axis, b=b, keepdims=keepdims)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([-INF, -INF], None),
        ([INF, 1.0], None),
        ([INF, INF], None),
        ([-INF, 2.0], None),
        ([NAN, 1.0], None),
        ([INF, NAN], None),
        ([INF, 1.0], [0.0, 1.0]),  # a zero weight removes its term
        ([NAN, 1.0], [0.0, 1.0]),
        ([1.0, 2.0], [-1.0, -1.0]),  # negative sum: nan without return_sign
        ([INF, INF], [1.0, -1.0]),
        ([1.0, 2.0], [NAN, 1.0]),
    ],
)
def test_logsumexp_special_values_follow_scipy(a, b):
    got = lr.logsumexp(np.array(a), b=None if b is None else np.array(b))
    want = scipy.special.logsumexp(np.array(a), b=None if b is None else np.array(b))
    np.testing.assert_array_equal(got, want)


def test_logsumexp_return_sign_where_scipy_is_wrong():
    # SciPy: (nan, nan) for this sum, whose value is e**999.
    got = lr.logsumexp([1000.0, 1000.0, 999.0], b=[1, -1, 1], return_sign=True)
    assert got == (999.0, 1.0)
    # SciPy: sign -1 for an empty sum.
    assert lr.logsumexp(np.array([]), return_sign=True) == (-INF, 0.0)
    assert lr.logsumexp([5.0, 5.0], b=[2.0, -2.0], return_sign=True) == (-INF, 0.0)
    assert lr.logsumexp(np.array([])) == -INF
    # SciPy: a false zero (log of 0) for 1 - e**-2**-60.
    logabs, sign = lr.logsumexp([0.0, -(2.0**-60)], b=[1, -1], return_sign=True)
    assert sign == 1.0 and logabs == -41.58883083359672
    logabs, sign = lr.logsumexp([0.0, -40.0], b=[-1, 1], return_sign=True)
    assert sign == -1.0 and logabs == -4.248354255291589e-18


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([0.0, -(2.0**-60)], [1.0, -1.0]),
        ([0.0, -40.0], [1.0, -1.0]),
        ([0.0, -math.log(2) + 1e-12], [1.0, -1.0]),
        ([0.0, -math.log(2) - 1e-12], [1.0, -1.0]),
        ([709.0, 709.0, 708.0], [1.0, 1.0, -1.0]),
        ([-745.0, -745.0], [1.0, 1.0]),
        ([1e-20, 0.0], [1.0, -1.0]),
        ([0.0, -50.0, -60.0, -70.0], [1.0, 1.0, 1.0, 1.0]),
        ([3.0, 1.0, 2.0], [0.5, 3.0, -0.25]),
        ([1000.0, -1000.0], [1e300, 1e-300]),  # extreme weights are folded into logs
        ([0.0, 0.0], [1e-320, 3e-320]),
    ],
)
def test_logsumexp_accuracy_against_mpmath(a, b):
    a, b = np.array(a), np.array(b)
    logabs, sign = lr.logsumexp(a, b=b, return_sign=True)
    ref, ref_sign = mp_logsumexp(a, b)
    assert sign == ref_sign
    assert ulp_error(logabs, ref) <= 2


def test_logsumexp_float32_and_lists():
    a32 = np.array([1.0, 2.0], dtype=np.float32)
    assert lr.logsumexp(a32).dtype == np.float32
    assert lr.logsumexp([1, 2]) == pytest.approx(scipy.special.logsumexp([1.0, 2.0]), rel=1e-15)


def test_logsumexp_bad_input():
    with pytest.raises(TypeError):
        lr.logsumexp(np.array([1j]))
    with pytest.raises(ValueError, match=r"broadcast|shape"):
        lr.logsumexp(np.ones(3), b=np.ones(4))
    with pytest.raises(ValueError):
        lr.logsumexp(np.ones(3), axis=1)


# -- the two-argument and one-argument functions ----------------------------------------


def test_logaddexp_matches_numpy_and_keeps_float32():
    a = np.array([-INF, 0.0, 1000.0, INF, -1e308])
    b = np.array([-INF, 0.0, 1000.0, INF, 3.0])
    np.testing.assert_array_equal(lr.logaddexp(a, b), np.logaddexp(a, b))
    assert lr.logaddexp(np.float32(1), 2.0).dtype == np.float32


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (1.0, 1.0, -INF),
        (-INF, -INF, -INF),
        (INF, INF, NAN),
        (0.0, 1.0, NAN),
        (INF, 3.0, INF),
        (5.0, -INF, 5.0),
        (NAN, 1.0, NAN),
    ],
)
def test_logsubexp_special_values(a, b, expected):
    got = lr.logsubexp(a, b)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


@pytest.mark.parametrize(
    "d", [1e-300, 2.0**-60, 1e-10, 0.5, math.log(2) - 1e-15, math.log(2), 0.7, 5.0, 40.0, 700.0]
)
@pytest.mark.parametrize("a", [0.0, 1.0, -700.0, 1e5])
def test_logsubexp_accuracy(a, d):
    b = a - d
    # a + log(1 - e**t), t = b - a exact in mpf; log1p keeps e**t when it is tiny.
    t = mpmath.mpf(b) - mpmath.mpf(a)
    exact = a + mpmath.log1p(-mpmath.exp(t)) if t < -1 else a + mpmath.log(-mpmath.expm1(t))
    # The result is a + log1mexp(b - a); where a and that correction c nearly
    # cancel, c's own rounding (an ulp of |c|) is amplified: the bound counts it.
    c = float(exact) - a
    cancels = c != 0 and math.isfinite(c)
    allowance = 2 * np.spacing(abs(c)) / np.spacing(abs(float(exact))) if cancels else 0
    assert ulp_error(lr.logsubexp(a, b), exact) <= 2 + allowance


@pytest.mark.parametrize(
    "x", [-1e-300, -(2.0**-60), -1e-10, -0.5, -math.log(2), -0.7, -5.0, -40.0, -745.0]
)
def test_log1mexp_accuracy(x):
    exact = mpmath.log(-mpmath.expm1(mpmath.mpf(x)))
    assert ulp_error(lr.log1mexp(x), exact) <= 1


def test_log1mexp_specials():
    np.testing.assert_array_equal(
        lr.log1mexp(np.array([0.0, -INF, 1.0, NAN])), [-INF, 0.0, NAN, NAN]
    )


@pytest.mark.parametrize("x", [-1000.0, -40.0, -1.0, 0.0, 1e-20, 1.0, 18.0, 36.0, 40.0, 800.0])
def test_log1pexp_accuracy(x):
    exact = mpmath.log1p(mpmath.exp(mpmath.mpf(x)))
    assert ulp_error(lr.log1pexp(x), exact) <= 1


def test_logcumsumexp():
    a = np.array([-1000.0, -1000.0, 0.0, -INF, 1000.0])
    got = lr.logcumsumexp(a)
    ref = [
        mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in a[: i + 1]))
        for i in range(a.size)
    ]
    for g, r in zip(got, ref, strict=True):
        assert ulp_error(g, r) <= 2
    m = np.random.default_rng(1).normal(size=(3, 6))
    np.testing.assert_allclose(
        lr.logcumsumexp(m, axis=1), np.logaddexp.accumulate(m, axis=1), rtol=1e-14
    )
    np.testing.assert_array_equal(
        lr.logcumsumexp(np.array([INF, 1.0, NAN, 2.0])), [INF, INF, NAN, NAN]
    )
    assert lr.logcumsumexp(np.array([])).shape == (0,)


def test_logaddexp_and_logsubexp_small_results_within_an_ulp():
    # np.logaddexp rounds a - b without correcting it: 14.6 ulp here (nightly find)
    import mpmath

    a, b = 1.9082149292705877e-10, -16.0
    with mpmath.workprec(300):
        ea, eb = mpmath.exp(mpmath.mpf(a)), mpmath.exp(mpmath.mpf(b))
        for got, exact in (
            (lr.logaddexp(a, b), mpmath.log(ea + eb)),
            (lr.logsubexp(a, b), mpmath.log(ea - eb)),
        ):
            err = abs(mpmath.mpf(float(got)) - exact) / math.ulp(float(exact))
            assert err <= 1, float(err)


@pytest.mark.parametrize("portable", [False, True])
def test_a_large_log_of_k_cancelling_against_the_shift_costs_no_ulps(portable):
    # log|K| (about 32) against the shift -29: K's log is formed as e ln2 + log f,
    # e ln2 joining the shift exactly (a nightly differential find: 5.7 ulp)
    import mpmath

    from logreal import _numba

    a, b = np.full(3, -29.0), np.array([0.0, 0.0, 96928822857264.0])
    with _numba.portable() if portable else contextlib.nullcontext():
        got = float(lr.logsumexp(a, b=b))
    with mpmath.workprec(300):
        exact = mpmath.log(mpmath.mpf(96928822857264)) - 29
    assert abs(mpmath.mpf(got) - exact) <= math.ulp(float(exact))


def test_signed_add_by_blocks_gives_the_same_bits(rng):
    # large NumPy input runs block by block: the same elementwise function, so
    # the same bits as one call on the whole arrays, also past the last full block
    n = 4 * _special._BLOCK + 123
    la, lb = rng.normal(scale=30.0, size=n), rng.normal(scale=30.0, size=n)
    sa, sb = rng.choice([-1.0, 1.0], size=n), rng.choice([-1.0, 1.0], size=n)
    la[::11], sa[::11] = -math.inf, 0.0  # zeros
    lb[::7], sb[::7] = la[::7], -sa[::7]  # exact cancellations
    with _numba.portable():
        whole = _special._signed_add(sa, la, sb, lb, np)
        blocks = _special.signed_add(sa, la, sb, lb, np)
    for w, b in zip(whole, blocks, strict=True):
        np.testing.assert_array_equal(w, b)
    assert np.sum(whole[0] == 0) >= n // 8
