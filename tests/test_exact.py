"""Error-free transformations and exact binary scaling (logreal._exact).

Oracle: ``fractions.Fraction`` of the binary inputs, which holds every float
exactly; the identities must hold with no rounding at all.  Each helper runs
on NumPy (native frexp/ldexp) and on array-api-strict (the portable
fallbacks), over subnormals, powers of two and their neighbours, and the edge
of overflow.
"""

import math
import operator
from fractions import Fraction

import array_api_strict as xps
import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logreal import _exact

TINY = 5e-324
DBL_MAX = float(np.finfo(np.float64).max)
EDGES = [TINY, 3 * TINY, 2.0**-1022, 2.0**-1022 - TINY, 0.5, 1.0, 1 - 2**-53, 2.0, 3.0]
EDGES += [1e300, 2.0**1023, DBL_MAX, math.nextafter(2.0**1023, 0.0), 1e-310, 0.1]
EDGES = EDGES + [-v for v in EDGES]

NAMESPACES = {"numpy": np, "strict": xps}


@pytest.fixture(params=sorted(NAMESPACES))
def xp(request):
    return NAMESPACES[request.param]


def arr(xp, values, dtype=None):
    return xp.asarray(values, dtype=dtype or xp.float64)


def fractions(a) -> list[Fraction]:
    return [Fraction(float(v)) for v in np.asarray(a).reshape(-1)]


finite = st.floats(allow_nan=False, allow_infinity=False)


def check_error_free(transform, op, pairs):
    """``hi + lo == op(x, y)`` exactly, ``hi`` the rounded result (overflow: no claim)."""
    a = np.asarray([p[0] for p in pairs])
    b = np.asarray([p[1] for p in pairs])
    hi, lo = transform(a, b)
    for x, y, h, lw in zip(a, b, hi, lo, strict=True):
        exact = op(Fraction(float(x)), Fraction(float(y)))
        if not math.isfinite(h):  # overflowed: nothing to be exact about
            assert abs(exact) >= Fraction(DBL_MAX)
            continue
        assert h == op(x, y)
        assert Fraction(float(h)) + Fraction(float(lw)) == exact


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=20))
def test_two_sum_is_exact(pairs):
    check_error_free(_exact.two_sum, operator.add, pairs)


def test_two_sum_edges_and_two_diff(xp):
    a = arr(xp, EDGES)
    b = arr(xp, EDGES[::-1])
    s, err = _exact.two_sum(a, b)
    d, d_lo = _exact.two_diff(a, b, xp)
    for x, y, si, ei, di, dl in zip(
        *(fractions(v) for v in (a, b)), *(np.asarray(v) for v in (s, err, d, d_lo)), strict=True
    ):
        if math.isfinite(si):
            assert Fraction(float(si)) + Fraction(float(ei)) == x + y
        if math.isfinite(di):
            assert Fraction(float(di)) + Fraction(float(dl)) == x - y
        else:
            assert dl == 0.0  # no correction where the difference is not finite


def test_two_diff_lo_is_zero_where_not_finite(xp):
    a = arr(xp, [math.inf, -math.inf, math.nan, DBL_MAX])
    b = arr(xp, [math.inf, 1.0, 1.0, -DBL_MAX])
    d, d_lo = _exact.two_diff(a, b, xp)
    assert np.asarray(d_lo).tolist() == [0.0] * 4
    assert math.isnan(float(np.asarray(d)[0])) and float(np.asarray(d)[3]) == math.inf


bounded = st.floats(min_value=-(2.0**500), max_value=2.0**500).filter(
    lambda v: v == 0 or abs(v) > 2.0**-400
)  # products within the range, their errors above the subnormals


@given(st.lists(st.tuples(bounded, bounded), min_size=1, max_size=20))
def test_two_prod_is_exact(pairs):
    check_error_free(_exact.two_prod, operator.mul, pairs)


def test_split_halves_are_exact_and_short(rng):
    a = rng.normal(size=200) * 10.0 ** rng.integers(-200, 200, size=200)
    hi, lo = _exact.split(a)
    for x, h, lw in zip(a, hi, lo, strict=True):
        assert Fraction(float(h)) + Fraction(float(lw)) == Fraction(float(x))
        mant = Fraction(float(h)) / Fraction(2) ** (math.frexp(h)[1] - 27)
        assert mant.denominator == 1  # at most 27 significant bits


def test_frexp_convention_and_exactness(xp):
    x = arr(xp, [*EDGES, 0.0, -0.0])
    m, e = _exact.frexp(x, xp)
    assert e.dtype == xp.int64
    for v, mi, ei in zip(fractions(x), np.asarray(m), np.asarray(e), strict=True):
        if v == 0:
            assert mi == 0 and ei == 0
            continue
        assert 0.5 <= abs(mi) < 1
        assert Fraction(float(mi)) * Fraction(2) ** int(ei) == v


def test_frexp_keeps_specials(xp):
    x = arr(xp, [math.inf, -math.inf, math.nan])
    m, e = _exact.frexp(x, xp)
    got = np.asarray(m)
    assert got[0] == math.inf and got[1] == -math.inf and math.isnan(got[2])
    assert np.asarray(e).tolist() == [0, 0, 0]


def test_frexp_float32_subnormals(xp):
    x = arr(xp, [1e-45, 3e-42, 1.1754944e-38, 3.4e38, 1.0], xp.float32)
    m, e = _exact.frexp(x, xp)
    assert m.dtype == xp.float32
    for v, mi, ei in zip(fractions(x), np.asarray(m), np.asarray(e), strict=True):
        assert 0.5 <= abs(mi) < 1
        assert Fraction(float(mi)) * Fraction(2) ** int(ei) == v


def test_ldexp_inverts_frexp_and_rounds_once(xp):
    x = arr(xp, EDGES)
    m, e = _exact.frexp(x, xp)
    assert np.asarray(_exact.ldexp(m, e, xp)).tolist() == np.asarray(x).tolist()
    # beyond the range: IEEE overflow to inf, underflow rounded once (to even)
    big = _exact.ldexp(arr(xp, [0.75, -0.75, 0.75]), xp.asarray([1025, 1025, -1074]), xp)
    assert np.asarray(big).tolist() == [math.inf, -math.inf, TINY]


def test_pow2_is_exact_over_the_whole_range(xp):
    k = xp.asarray(list(range(-1074, 1024)), dtype=xp.float64)
    got = np.asarray(_exact.pow2(k, xp))
    for g, j in zip(got, range(-1074, 1024), strict=True):
        assert Fraction(float(g)) == Fraction(2) ** j
    k32 = xp.asarray(list(range(-149, 128)), dtype=xp.int64)
    got32 = np.asarray(_exact.pow2(k32, xp, xp.float32))
    assert got32.dtype == np.float32
    for g, j in zip(got32, range(-149, 128), strict=True):
        assert Fraction(float(g)) == Fraction(2) ** j


def test_ulp_matches_the_spacing(xp):
    x = arr(xp, [*EDGES, 0.0, 16.6, 1e-320])
    got = np.asarray(_exact.ulp(x, xp))
    want = [math.ulp(abs(float(v))) for v in np.asarray(x)]
    assert got.tolist() == want
    x32 = arr(xp, [1.0, 16.6, 3e-40, 3.4e38, 0.0], xp.float32)
    got32 = np.asarray(_exact.ulp(x32, xp))
    np.testing.assert_array_equal(got32, np.spacing(np.abs(np.asarray(x32))))


@pytest.mark.parametrize("size", [8, 4])
def test_ln2_split_products_are_exact(size):
    # k * LN2_HI exact for every exponent k a float of that size has
    hi = _exact.LN2_HI[size]
    dtype = np.float64 if size == 8 else np.float32
    hi_t, lo_t = dtype(hi), dtype(_exact.LN2_LO[size])
    assert float(hi_t) == hi
    top = 1100 if size == 8 else 160
    for k in range(-top, top):
        assert Fraction(float(dtype(k) * hi_t)) == k * Fraction(hi)
    with mpmath.workdps(60):
        exact_ln2 = Fraction(mpmath.nstr(mpmath.log(2), 60))
    err = abs(Fraction(hi) + Fraction(float(lo_t)) - exact_ln2)
    assert err < Fraction(2) ** (-80 if size == 8 else -44)
