"""The kernels' vectorisable exp, log and log1p against mpmath over their whole domain.

Each function is run through its array kernel (``logreal._numba.vmath``) on
dense sweeps, random bit patterns and the edge cases (subnormal inputs and
results, the overflow and underflow thresholds, +-0, +-inf, nan, arguments so
small that the result is 1 or the argument itself), for float64 and float32
input.  The oracle is mpmath at 300 bits from the exact binary input; the error
is measured in ulps of the exact result rounded to the dtype, and must not
exceed 1.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from logreal import _numba

from oracle import ulp_error

pytestmark = pytest.mark.skipif(not _numba.available(), reason="needs the compiled kernels")

DBL_MAX = np.finfo(np.float64).max
TINY = np.finfo(np.float64).smallest_normal
SUB = np.finfo(np.float64).smallest_subnormal


def vmath():  # type: ignore[no-untyped-def]
    from logreal._numba import vmath

    return vmath


def random_bits(rng: np.random.Generator, n: int, lo_exp: int, hi_exp: int) -> np.ndarray:
    """Random float64 of both signs whose binary exponents are uniform in
    ``[lo_exp, hi_exp]`` (every bit of the significand random; subnormals
    below -1022)."""
    mant = rng.integers(0, 1 << 52, size=n, dtype=np.int64)
    e = rng.integers(lo_exp, hi_exp + 1, size=n)
    x = np.ldexp((mant | (1 << 52)).astype(np.float64), e - 52)  # rounds below 2**-1022
    return np.where(rng.random(n) < 0.5, -x, x)


def neighbours(values: list[float], k: int = 3) -> np.ndarray:
    """Each value and its ``k`` float64 neighbours on either side."""
    out = []
    for v in values:
        lo = hi = v
        out.append(v)
        for _ in range(k):
            lo, hi = np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)
            out += [lo, hi]
    return np.array(out, dtype=np.float64)


def run(fn: str, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    getattr(vmath(), fn + "_into")(x, out)
    return out


def errors(got: np.ndarray, x: np.ndarray, exact: object, dtype: type) -> list[float]:
    """ulp errors; an exact result beyond the dtype's largest finite value
    counts inf as ``2**(emax + 1)`` (so either of the largest finite value and
    inf may be within an ulp), and from ``2**(emax + 1)`` on must be inf."""
    info = np.finfo(dtype)
    big = mpmath.ldexp(1, int(info.maxexp))
    top_ulp = mpmath.ldexp(1, int(info.maxexp) - int(info.nmant) - 1)
    out = []
    for g, v in zip(got.tolist(), x.tolist(), strict=True):
        e = exact(mpmath.mpf(v))  # type: ignore[operator]
        if mpmath.isfinite(e) and abs(e) > float(info.max):
            g_ = mpmath.mpf(g) if math.isfinite(g) else big
            out.append(0.0 if math.isinf(g) and e >= big else float(abs(g_ - e) / top_ulp))
        else:
            out.append(ulp_error(g, e, dtype))
    return out


def mp_exp(v: mpmath.mpf) -> mpmath.mpf:
    return mpmath.exp(v)


def mp_log(v: mpmath.mpf) -> mpmath.mpf:
    if v < 0 or mpmath.isnan(v):
        return mpmath.mpf("nan")
    return mpmath.log(v) if v != 0 else mpmath.mpf("-inf")


def mp_log1p(v: mpmath.mpf) -> mpmath.mpf:
    if v < -1 or mpmath.isnan(v):
        return mpmath.mpf("nan")
    return mpmath.log1p(v) if v != -1 else mpmath.mpf("-inf")


SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, SUB, -SUB, TINY, -TINY, DBL_MAX, -DBL_MAX]
EXP_EDGES = [
    math.log(DBL_MAX),  # the overflow threshold
    709.782712893384,
    -708.3964185322641,  # e**x = the smallest normal
    -745.1332191019411,  # the smallest subnormal
    -744.44007192138122,
    -745.1332191019412,  # rounds to 0 or to the smallest subnormal
    -746.0,
    -1100.0,
    1100.0,
    1e300,
    -1e300,
    2.0**-54,  # e**x rounds to 1
    -(2.0**-54),
    2.0**-53,
    1e-300,
    math.log(2) / 2,
    -math.log(2) / 2,
    math.log(2),
    1.0,
    -1.0,
]
LOG_EDGES = [1.0, 2.0, 0.5, math.sqrt(2), math.sqrt(0.5), math.e, 1e-300, 1e300, 2.0**-1022]
LOG1P_EDGES = [
    -1.0,
    -0.5,
    -1.0 + 2.0**-53,
    2.0**-54,
    -(2.0**-54),
    2.0**-53,
    1e-300,
    -1e-300,
    math.sqrt(2) - 1,
    math.sqrt(0.5) - 1,
    2.0**53,
    1e300,
    math.e - 1,
    1.0,
]


def exp_points(rng: np.random.Generator) -> np.ndarray:
    return np.concatenate(
        [
            np.linspace(-746.0, 710.0, 6001),  # dense over the whole finite range
            rng.uniform(-746.0, 710.0, 4000),
            rng.uniform(-0.4, 0.4, 1000),  # the reduced argument's range
            random_bits(rng, 4000, -1074, 10),  # tiny to huge, subnormals included
            random_bits(rng, 300, 10, 1023),  # beyond the range: 0 or inf
            neighbours(EXP_EDGES + [k * math.log(2) / 2 for k in range(-2148, 2048, 97)], 2),
            np.array(SPECIAL),
        ]
    )


def log_points(rng: np.random.Generator) -> np.ndarray:
    return np.concatenate(
        [
            np.abs(random_bits(rng, 6000, -1074, 1023)),  # every binade, subnormals included
            rng.uniform(0.5, 2.0, 3000),  # around 1, where log cancels
            1.0 + random_bits(rng, 2000, -60, -1),
            -np.abs(random_bits(rng, 200, -1074, 1023)),  # negative: nan
            neighbours(LOG_EDGES, 3),
            np.array(SPECIAL),
        ]
    )


def log1p_points(rng: np.random.Generator) -> np.ndarray:
    return np.concatenate(
        [
            np.linspace(-1.0, 3.0, 4001)[1:],
            random_bits(rng, 4000, -1074, 0),  # tiny arguments, (-1, 1] as well
            np.abs(random_bits(rng, 3000, -1074, 1023)),  # every positive binade
            -1.0 + np.abs(random_bits(rng, 1000, -60, -2)),  # close to -1
            -1.0 - np.abs(random_bits(rng, 200, -60, 1023)),  # below -1: nan
            neighbours(LOG1P_EDGES, 3),
            np.array(SPECIAL),
        ]
    )


CASES = {
    "exp": (exp_points, mp_exp),
    "log": (log_points, mp_log),
    "log1p": (log1p_points, mp_log1p),
}


@pytest.mark.parametrize("fn", sorted(CASES))
def test_float64_within_one_ulp(fn):
    points, exact = CASES[fn]
    x = points(np.random.default_rng(11))
    with np.errstate(over="ignore"):
        got = run(fn, x)
    err = np.array(errors(got, x, exact, np.float64))
    worst = int(np.argmax(err))
    assert err[worst] <= 1.0, (fn, x[worst], got[worst], err[worst])


@pytest.mark.parametrize("fn", sorted(CASES))
def test_float32_within_one_ulp(fn):
    # A float32 kernel evaluates these in float64 and rounds once to float32.
    points, exact = CASES[fn]
    with np.errstate(over="ignore"):
        x = points(np.random.default_rng(12)).astype(np.float32)
        if fn == "exp":  # float32's own range, densely
            x = np.concatenate([x, np.linspace(-104.0, 89.0, 3001, dtype=np.float32)])
        got = run(fn, x)
    assert got.dtype == np.float32
    err = np.array(errors(got, x.astype(np.float64), exact, np.float32))
    worst = int(np.argmax(err))
    assert err[worst] <= 1.0, (fn, x[worst], got[worst], err[worst])


def test_special_values_exactly():
    v = vmath()
    with np.errstate(over="ignore"):
        x = np.array([0.0, -0.0, math.inf, -math.inf, math.nan, 1e-320, -1e-320, -1.0, -2.0])
        e, lg, l1 = run("exp", x), run("log", x), run("log1p", x)
    np.testing.assert_array_equal(e[:5], [1.0, 1.0, math.inf, 0.0, math.nan])
    want = [-math.inf, -math.inf, math.inf, math.nan, math.nan]
    np.testing.assert_array_equal(lg[[0, 1, 2, 4, 7]], want)
    assert math.isnan(lg[3])
    # log1p(-0.0) is -0.0 and a tiny argument is its own log1p, bit for bit
    np.testing.assert_array_equal(l1.view(np.int64)[[0, 1, 5, 6]], x.view(np.int64)[[0, 1, 5, 6]])
    np.testing.assert_array_equal(l1[[2, 7]], [math.inf, -math.inf])
    assert math.isnan(l1[3]) and math.isnan(l1[4]) and math.isnan(l1[8])
    assert v.__all__  # the documented names exist
    for name in ("exp", "exp_parts", "log", "log1p", "log_dd"):
        assert name in v.__all__
