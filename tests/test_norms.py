"""``lr.norm`` and ``lr.lognorm`` against exact references.

Oracles
-------
* Small inputs: mpmath at 300 bits from the exact binary inputs,
  ``(sum |x_i|**p)**(1/p)`` (:func:`exact_norm`).
* Large inputs with p = 2 or 1: the sum of ``x_i**2`` (or ``|x_i|``) exactly in
  Python integers (every float64 is ``n / 2**k``), then the root in mpmath
  (:func:`exact_norm_big`).
* Repeated values: ``(sum count * |v|**p)**(1/p)`` in mpmath (:func:`exact_counts`).
* LogReal inputs: the exact numbers their stored ``(sign, logabs)`` denote.

Errors are in ulps of the exact value rounded to the result's dtype
(``oracle.ulp_error``; subnormal spacing below the normal range).  Nothing is
taken from logreal itself, or from NumPy/SciPy where they over- or underflow;
NumPy serves only as the reference for shapes and for moderate data.

Bounds (docs/norms.md): p = 2 and p = 1 within 1 ulp; other p with |p| >= 1
within 4 ulp; |p| < 1 within ``4 + 2 |log(norm / scale)|`` ulp, ``scale``
the extreme |x| (raising S to 1/p multiplies S's rounding by 1/p).
"""

from __future__ import annotations

import contextlib
import math
import sys
import tracemalloc

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import logreal as lr
from conftest import FULL
from logreal import _norms, _norms_fast, _norms_numpy, _numba

from oracle import ulp_error

mpmath.mp.prec = 300

INF, NAN = math.inf, math.nan
DBL_MAX = sys.float_info.max
SUB = 5e-324
LN_DBL_MAX_SQRT2 = 710.1292864836639  # API.md: lognorm([DBL_MAX, DBL_MAX])

# ---------------------------------------------------------------------------
# Oracles.


def _mp_p(p: float) -> mpmath.mpf:
    return mpmath.mpf(p)


def exact_counts(pairs: list[tuple[float, int]], p: float) -> mpmath.mpf:
    """``(sum count * |v|**p)**(1/p)`` for (value, count) pairs, finite p != 0."""
    q = _mp_p(p)
    total = mpmath.mpf(0)
    for v, count in pairs:
        a = abs(mpmath.mpf(v))
        if a == 0:
            if p < 0:
                return mpmath.mpf(0)
            continue
        total += count * a**q
    if total == 0:
        return mpmath.mpf(0)
    return total ** (1 / q)


def exact_norm(x: object, p: float) -> mpmath.mpf:
    """The exact p-norm of a small finite float array (inf, -inf, 0 included)."""
    values = [float(v) for v in np.asarray(x, dtype=np.float64).ravel()]
    if p == INF:
        return max((abs(mpmath.mpf(v)) for v in values), default=mpmath.mpf(0))
    if p == -INF:
        return min((abs(mpmath.mpf(v)) for v in values), default=mpmath.inf)
    if p == 0:
        return mpmath.mpf(sum(v != 0 for v in values))
    if not values:
        return mpmath.mpf(0) if p > 0 else mpmath.inf
    return exact_counts([(v, 1) for v in values], p)


def exact_norm_big(x: np.ndarray, p: int) -> mpmath.mpf:
    """p in {1, 2}: the sum exactly in integers (x_i = n_i / 2**k_i), then the root."""
    ratios = [v.as_integer_ratio() for v in np.asarray(x, dtype=np.float64).ravel().tolist()]
    shift = max(d.bit_length() for _, d in ratios) - 1  # every denominator divides 2**shift
    total = sum(abs(n) ** p << p * (shift - (d.bit_length() - 1)) for n, d in ratios)
    s = mpmath.mpf(total) / mpmath.mpf(2) ** (p * shift)
    return mpmath.sqrt(s) if p == 2 else s


def ulps(got: object, exact: mpmath.mpf, dtype: type = np.float64) -> float:
    top = np.finfo(dtype).max
    if abs(exact) <= top and dtype(float(exact)) == top and math.isfinite(float(got)):
        # oracle.ulp_error asks np.spacing(max), which overflows: the top
        # binade's spacing is that of its lower neighbour.
        spacing = float(top) - float(np.nextafter(top, dtype(0)))
        return float(abs(mpmath.mpf(float(got)) - exact) / spacing)
    return ulp_error(float(got), exact, dtype)  # type: ignore[arg-type]


def log_ulps(got: object, exact_norm_value: mpmath.mpf) -> float:
    """Error of a lognorm in ulps of the exact log of the exact norm."""
    return ulp_error(float(got), mpmath.log(exact_norm_value))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# The accuracy claims.

N_BIG = 10**6 if FULL else 2 * 10**5

P2_CASES = {
    "[3e300, 4e300] -> 5e300": (np.array([3e300, 4e300]), [(3e300, 1), (4e300, 1)]),
    "4 x 1e-320 -> 2e-320": (np.full(4, 1e-320), [(1e-320, 4)]),
    "1e5 x 1e300": (np.full(10**5, 1e300), [(1e300, 10**5)]),
    "1e300, 1e5 x 1e-300": (np.r_[1e300, np.full(10**5, 1e-300)], [(1e300, 1), (1e-300, 10**5)]),
    "1e4 x 1e-160 -> 1e-158": (np.full(10**4, 1e-160), [(1e-160, 10**4)]),
    "[DBL_MAX/2] * 2": (np.full(2, DBL_MAX / 2), [(DBL_MAX / 2, 2)]),
}


@pytest.mark.parametrize("name", list(P2_CASES))
def test_p2_adversarial_within_one_ulp(name: str) -> None:
    x, pairs = P2_CASES[name]
    exact = exact_counts(pairs, 2)
    assert ulps(lr.norm(x), exact) <= 1.0
    assert log_ulps(lr.lognorm(x), exact) <= 1.0


def test_named_values() -> None:
    assert lr.norm([3e300, 4e300]) == 5e300
    assert lr.norm([1e-320] * 4) == 2e-320
    assert lr.norm([1e300]) == 1e300
    assert lr.norm([1e-320]) == 1e-320
    assert lr.norm([2.0, 2.0], p=2000) == 2.0006932673076907


def test_p2_dbl_max_pair_overflows_and_its_log_is_exact() -> None:
    x = np.full(2, DBL_MAX)
    assert lr.norm(x) == INF  # sqrt(2) * DBL_MAX is beyond the range
    assert lr.lognorm(x) == LN_DBL_MAX_SQRT2
    assert log_ulps(lr.lognorm(x), exact_counts([(DBL_MAX, 2)], 2)) <= 0.5


@pytest.mark.slow
@pytest.mark.parametrize("p", [2, 1])
def test_random_data_within_one_ulp(p: int) -> None:
    rng = np.random.default_rng(20261130 + p)
    x = rng.standard_normal(N_BIG)
    exact = exact_norm_big(x, p)
    assert ulps(lr.norm(x, p), exact) <= 1.0
    assert log_ulps(lr.lognorm(x, p), exact) <= 1.0


@pytest.mark.slow
def test_random_data_with_wide_range_within_one_ulp() -> None:
    rng = np.random.default_rng(7)
    n = N_BIG // 4
    x = rng.standard_normal(n) * 2.0 ** rng.integers(-1000, 1000, n)
    exact = exact_norm_big(x, 2)
    assert ulps(lr.norm(x), exact) <= 1.0


@pytest.mark.parametrize(
    ("x", "p"),
    [
        ([1e200, 1e200], 3),
        ([1e-310, 1.0], -1),
        ([2.0, 2.0], 2000),
        ([1e-310, 1.0], 0.01),
        ([0.1] * 10, 1),
    ],
    ids=["p=3", "p=-1", "p=2000", "p=0.01", "p=1"],
)
def test_other_orders_within_four_ulp(x: list[float], p: float) -> None:
    exact = exact_norm(x, p)
    assert ulps(lr.norm(x, p), exact) <= 4.0
    assert log_ulps(lr.lognorm(x, p), exact) <= 4.0


# ---------------------------------------------------------------------------
# Properties over a wide range, through the fast kernels and through tiny
# tiles (so that every merge path runs on small inputs).

ORDERS = [2, 1, 3, 4, 0.5, 1.5, -1, -2, -0.5, 0.01, 0.3, 7.5, 100, 2000, -2000]
finite = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-1e6, 1e6),
    st.sampled_from([0.0, -0.0, SUB, -SUB, 1e-310, DBL_MAX, -DBL_MAX, 1.0]),
)
arrays = st.lists(finite, min_size=1, max_size=24).map(np.array)


def norm_bound(p: float, exact: mpmath.mpf, x: np.ndarray) -> float:
    if p in (1, 2):
        return 1.0
    if abs(p) >= 1:
        return 4.0
    mags = [abs(mpmath.mpf(float(v))) for v in x]
    scale = max(mags) if p > 0 else min(mags)
    return 4.0 + 2.0 * float(abs(mpmath.log(exact / scale)))


def check_norm(x: np.ndarray, p: float) -> None:
    exact = exact_norm(x, p)
    got = float(lr.norm(x, p))
    if exact >= DBL_MAX:  # inf, or DBL_MAX within the bound
        assert got == INF or got == DBL_MAX
        if exact >= mpmath.mpf(DBL_MAX) + norm_bound(p, exact, x) * mpmath.mpf(2) ** 971:
            assert got == INF
    elif exact == 0:
        assert got == 0
    else:
        assert ulps(got, exact) <= norm_bound(p, exact, x), (got, exact)
    if exact != 0 and p in (1, 2):
        with mpmath.workprec(2400):  # log(1 + 1e-310) needs more than 300 bits
            log_exact = mpmath.log(exact_norm(x, p))
        assert ulp_error(float(lr.lognorm(x, p)), log_exact) <= 1.0
    if exact != 0 and p not in (INF, -INF, 0):
        log_exact = mpmath.log(exact)
        err = abs(mpmath.mpf(float(lr.lognorm(x, p))) - log_exact)
        # absolute: a relative error of the norm (docs/norms.md)
        assert err <= 8 * 2.0**-52 * max(1, abs(log_exact)) * max(1, 1 / abs(p))


@pytest.fixture(params=["tiles", "tiny-tiles"])
def tiles(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "tiny-tiles":
        monkeypatch.setattr(_norms, "_TILE", 4)
        monkeypatch.setattr(_norms_numpy, "_DOT_ROW", 2)
        monkeypatch.setattr(_norms_fast, "BLOCK", 4)  # the kernels' blocks
        monkeypatch.setattr(_norms, "_SQUARE", 2)
    return str(request.param)


@pytest.mark.parametrize("p", ORDERS)
def test_norm_matches_mpmath(tiles: str, p: float) -> None:
    @given(arrays)
    def run(x: np.ndarray) -> None:
        check_norm(x, p)

    run()


@given(arrays, st.sampled_from([INF, -INF, 0]))
def test_special_orders_match_mpmath(x: np.ndarray, p: float) -> None:
    assert float(lr.norm(x, p)) == float(exact_norm(x, p))


@pytest.mark.parametrize("shape", [(2, _norms._TILE + 999), (300, 101)])
def test_portable_kernels_agree_with_fast_paths(
    shape: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * 10.0 ** rng.integers(-5, 5, (shape[0], 1))
    orders = [2, 1, 3, -1, 0.5, INF, -INF, 0]
    kernels = {p: lr.norm(x, p, axis=1) for p in orders}  # Numba, where installed
    with _numba.portable():
        tiles = {p: lr.norm(x, p, axis=1) for p in orders}  # the NumPy tile path
        monkeypatch.setattr(_norms_numpy.NumpyTiles, "partial", lambda *args: None)
        slow = {p: lr.norm(x, p, axis=1) for p in orders}
    for p in orders:
        for fast in (kernels[p], tiles[p]):
            for i in range(0, shape[0], max(1, shape[0] // 3)):
                a, b = fast[i], slow[p][i]
                if p in (1, 2):
                    exact = exact_norm_big(x[i], p)
                    assert ulps(a, exact) <= 1.0 and ulps(b, exact) <= 1.0
                assert abs(a - b) <= 4 * np.spacing(abs(a)), p


@pytest.mark.parametrize("p", [2, 1, 3, -1, 0.5, 0.01, INF, -INF, 0])
def test_strict_array_api_namespace(tiles: str, p: float) -> None:
    """The portable path runs on array-api-strict and agrees with NumPy's."""
    xps = pytest.importorskip("array_api_strict")  # a test dependency (test_portable)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7)) * 10.0 ** rng.integers(-300, 300, (5, 7))
    x[0, 0], x[1, 1], x[2, :] = INF, NAN, 0.0
    # tiles differ (NumPy tiles follow the strides), so does the rounding:
    # within the bounds, which for |p| < 1 carry the factor 1/|p|
    rtol = 5e-16 if abs(p) >= 1 or p == 0 else 5e-16 / abs(p)
    for axis in [None, 0, 1, (0, 1)]:
        for fn in (lr.norm, lr.lognorm):
            got = fn(xps.asarray(x), p, axis=axis)
            assert type(got).__module__.startswith("array_api_strict")
            want = fn(x, p, axis=axis)
            np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=0, equal_nan=True)
        got = lr.lognorm(lr.LogReal(xps.asarray(x)), p, axis=axis)
        want = lr.lognorm(lr.LogReal(x), p, axis=axis)
        np.testing.assert_array_equal(np.asarray(got), want)
    empty = lr.norm(xps.zeros((0, 3)), p, axis=0)
    assert type(empty).__module__.startswith("array_api_strict")


# ---------------------------------------------------------------------------
# Special values, empty input, p = 0.

SPECIAL = [
    ([INF, NAN], 2, INF),
    ([NAN, INF], 1, INF),
    ([INF, NAN], 3, INF),
    ([INF, NAN], 0.5, INF),
    ([NAN, -INF], INF, INF),
    ([NAN, 1.0], 2, NAN),
    ([NAN, 1.0], 1, NAN),
    ([NAN, 1.0], INF, NAN),
    ([INF, NAN], -1, NAN),
    ([INF, NAN], -INF, NAN),
    ([NAN, 0.0], -2, NAN),
    ([0.0, 1.0], -1, 0.0),
    ([0.0, 1.0], -INF, 0.0),
    ([INF, 1.0], -1, 1.0),
    ([INF, 1.0], -2, 1.0),
    ([INF, 1.0], -INF, 1.0),
    ([INF, INF], -1, INF),
    ([-INF], 2, INF),
    ([-INF], -1, INF),
    ([0.0, -0.0], 2, 0.0),
    ([0.0, -0.0], 3, 0.0),
    ([0.0, -0.0], -1, 0.0),
    ([0.0, -0.0], INF, 0.0),
    ([0.0, -0.0], -INF, 0.0),
    ([NAN, 0.0, -0.0, SUB], 0, 2.0),
    ([INF, -0.0, 1e-310], 0, 2.0),
    ([0.0, -0.0], 0, 0.0),
]


@pytest.mark.parametrize(("x", "p", "expected"), SPECIAL)
def test_special_values(x: list[float], p: float, expected: float) -> None:
    got = lr.norm(np.array(x), p)
    assert got == expected or (math.isnan(got) and math.isnan(expected))
    via_log = lr.norm(lr.LogReal(np.array(x)), p).to_real()
    assert via_log == expected or (math.isnan(via_log) and math.isnan(expected))
    log_expected = math.log(expected) if expected > 0 else (-INF if expected == 0 else expected)
    for got_log in (lr.lognorm(np.array(x), p), lr.lognorm(lr.LogReal(np.array(x)), p)):
        assert got_log == log_expected or (math.isnan(got_log) and math.isnan(log_expected))


@pytest.mark.parametrize("p", [2, 1, 0, 3, -1, 0.5, INF, -INF])
@pytest.mark.parametrize(
    ("shape", "axis"), [((0,), None), ((0, 3), 0), ((3, 0), 1), ((3, 0), 0), ((0, 0), 1)]
)
def test_empty_follows_numpy(shape: tuple[int, ...], axis: int | None, p: float) -> None:
    x = np.zeros(shape)
    got = lr.norm(x, p, axis=axis)
    try:
        with np.errstate(all="ignore"):
            expected = np.linalg.norm(x, p, axis=axis)
    except ValueError:
        # p = -inf: NumPy raises (np.min has no identity); the min over
        # nothing is +inf, as NumPy's own answer for every p < 0.
        assert p == -INF
        expected = np.full(np.shape(got), INF)
    np.testing.assert_array_equal(got, expected)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(lr.lognorm(x, p, axis=axis), np.log(expected))
    np.testing.assert_array_equal(lr.norm(lr.LogReal(x), p, axis=axis).to_real(), expected)


@pytest.mark.parametrize("kernels", [True, False], ids=["kernels", "portable"])
def test_small_p_norm_beyond_the_range_is_inf(kernels: bool) -> None:
    # (10**4)**(1/0.01) = 1e400: the root overflows, its correction must not
    # turn inf * 0 into nan
    x = np.ones(10**4)
    with contextlib.nullcontext() if kernels else _numba.portable():
        assert lr.norm(x, 0.01) == INF
        log_exact = mpmath.log(10**4) / mpmath.mpf(0.01)
        assert ulp_error(float(lr.lognorm(x, 0.01)), log_exact) <= 4.0


def test_count_nonzero_subnormal_and_negative_zero() -> None:
    x = np.array([-0.0, 0.0, SUB, -SUB, NAN, 1e-310, -0.0])
    assert lr.norm(x, 0) == 4.0
    assert lr.norm(np.float32([2.0**-149, -0.0, NAN]), 0) == 2.0  # a float32 subnormal
    assert lr.lognorm(x, 0) == math.log(4.0)


# ---------------------------------------------------------------------------
# Axes, keepdims, dtypes and memory layouts (moderate data, where NumPy is
# accurate: it serves as the reference for shapes and values).


def vector_norm_reference(x: np.ndarray, p: float, axis: object) -> np.ndarray:
    """np.linalg.norm over the flattened axes (vector norm, as the array API)."""
    axes = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = tuple(a % x.ndim for a in axes)  # type: ignore[union-attr]
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape((*moved.shape[: x.ndim - len(axes)], -1))
    return np.linalg.norm(flat, p, axis=-1)


LAYOUTS = {
    "C": lambda a: a,
    "F": np.asfortranarray,
    "T": lambda a: a.transpose(2, 0, 1),
    "strided": lambda a: a[:, ::2, ::-1],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (1, 2), (0, 1), (2, 0, 1)])
@pytest.mark.parametrize("p", [2, 1, 3, -1.5, 0, INF, -INF, 0.5])
def test_axes_and_layouts(layout: str, axis: object, p: float) -> None:
    rng = np.random.default_rng(11)
    x = LAYOUTS[layout](rng.standard_normal((3, 4, 6)))
    expected = vector_norm_reference(x, p, axis)
    got = lr.norm(x, p, axis=axis)  # type: ignore[arg-type]
    np.testing.assert_allclose(got, expected, rtol=4e-15, atol=0)
    assert np.shape(got) == np.shape(expected)
    kept = lr.norm(x, p, axis=axis, keepdims=True)  # type: ignore[arg-type]
    assert kept.ndim == x.ndim
    np.testing.assert_allclose(np.squeeze(kept), np.squeeze(expected), rtol=4e-15)
    # the log's absolute error is the norm's relative error
    log_got = lr.lognorm(x, p, axis=axis)  # type: ignore[arg-type]
    np.testing.assert_allclose(log_got, np.log(expected), rtol=4e-15, atol=4e-15)
    via_log = lr.norm(lr.LogReal(x), p, axis=axis)  # type: ignore[arg-type]
    assert isinstance(via_log, lr.LogReal)
    np.testing.assert_allclose(via_log.to_real(), expected, rtol=1e-14)


@pytest.mark.parametrize(
    ("shape", "axis"),
    [((3, 70_001), 1), ((3, 70_001), 0), ((70_001, 3), 0), ((70_001, 3), 1), ((600, 300), 0)],
)
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("scale", [1.0, 1e150], ids=["plain", "squares-overflow"])
def test_large_layouts_through_tiles(
    shape: tuple[int, int], axis: int, order: str, scale: float
) -> None:
    rng = np.random.default_rng(5)
    x = np.asarray(rng.standard_normal(shape) * scale, order=order)
    got = lr.norm(x, axis=axis)
    got3 = lr.norm(x, 3, axis=axis)
    rows = np.moveaxis(x, axis, -1)
    for i in rng.choice(rows.shape[0], size=min(2, rows.shape[0]), replace=False):
        assert ulps(got[i], exact_norm_big(rows[i], 2)) <= 1.0
        assert abs(got3[i] - lr.norm(rows[i], 3)) <= 4 * np.spacing(got3[i])
    np.testing.assert_allclose(got, np.linalg.norm(x / scale, axis=axis) * scale, rtol=1e-14)


def test_reduction_over_axes_that_do_not_flatten_without_a_copy() -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((60, 90, 60))[:, ::3, :]  # (60, 30, 60), gaps between rows
    for axis in [(0, 2), (0, 1), (1, 2), None]:
        kept = sorted({0, 1, 2} - set(axis or (0, 1, 2)))
        rows = np.moveaxis(x, kept, list(range(len(kept)))).reshape(-1, x.size // 60 // 30)
        rows = rows.reshape(math.prod(x.shape[k] for k in kept), -1)
        for p in (2, 1, 0.5):
            got = np.atleast_1d(lr.norm(x, p, axis=axis))
            assert got.shape == (rows.shape[0],)
            for i in (0, rows.shape[0] - 1):  # NumPy is 20 ulp off here for p = 0.5
                if p in (1, 2):
                    exact = exact_norm_big(rows[i], p)
                elif rows.shape[1] <= 4000:
                    exact = exact_norm(rows[i], p)
                else:
                    continue
                assert ulps(got[i], exact) <= norm_bound(p, exact, rows[i])


def test_scalars_dtypes_and_return_types() -> None:
    assert isinstance(lr.norm([3.0, 4.0]), np.float64)
    assert lr.norm(5.0) == 5.0
    assert lr.norm(-2.0, p=3) == 2.0
    assert lr.norm(np.float32([3, 4])).dtype == np.float32
    assert lr.norm(np.float32([3e38, 3e38])) == np.float32(INF)  # beyond float32's range
    assert lr.norm(np.float32([2.0**-149] * 4)) == np.float32(2.0**-148)  # subnormals
    assert lr.lognorm(np.float32([3e38, 3e38])).dtype == np.float32
    assert lr.norm([1, 2, 2]).dtype == np.float64 and lr.norm([1, 2, 2]) == 3.0
    assert lr.norm(np.array([True, True, False, True]), 2) == math.sqrt(3)
    assert lr.norm(np.arange(24).reshape(2, 3, 4), axis=(0, 2)).shape == (3,)
    assert lr.norm(np.ones((2, 3)), axis=(), p=2).shape == (2, 3)


def test_float32_is_correctly_rounded_from_float64_accumulation() -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal(5000).astype(np.float32) * np.float32(1e30)
    exact = exact_norm_big(x.astype(np.float64), 2)
    assert ulps(lr.norm(x), exact, np.float32) <= 0.5 + 2.0**-20


def test_no_full_size_temporaries() -> None:
    x = np.random.default_rng(9).standard_normal(1 << 22)  # 32 MiB
    for p in (2, 1, 3, INF, -INF, 0):
        lr.norm(x, p)  # warm up: lazy imports and caches
        tracemalloc.start()
        lr.norm(x, p)
        lr.lognorm(x, p)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 4 << 20, (p, peak)  # tiles and work buffers only


# ---------------------------------------------------------------------------
# LogReal input, also far outside float range (exact values of the stored
# (sign, logabs)).


def exact_lognorm_stored(logabs: list[float], p: float) -> mpmath.mpf:
    la = [mpmath.mpf(v) for v in logabs]
    if p == INF:
        return max(la)
    if p == -INF:
        return min(la)
    q = _mp_p(p)
    return mpmath.log(mpmath.fsum(mpmath.exp(q * v) for v in la)) / q


FAR = [
    [1e5, 1e5],
    [-1e6, -1e6 - 1.0, -1e6 + 0.5],
    [4e5, -4e5, 3e5 + 0.25],
    [700.0, 710.0, 720.0, 1e-3],
    [-2e5] * 7,
]


@pytest.mark.parametrize("logabs", FAR)
@pytest.mark.parametrize("p", [2, 1, 3, -1, 0.5, 0.01, 2000, -2000, INF, -INF])
def test_logreal_far_outside_float_range(logabs: list[float], p: float) -> None:
    signs = [(-1.0) ** i for i in range(len(logabs))]
    x = lr.LogReal.from_log(logabs, signs)
    exact = exact_lognorm_stored(logabs, p)
    got = lr.lognorm(x, p)
    assert isinstance(got, np.float64)
    assert ulp_error(float(got), exact) <= 2.0
    n = lr.norm(x, p)
    assert isinstance(n, lr.LogReal) and n.sign == 1 and n.logabs == got


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=12),
    st.sampled_from([2, 1, 3, -1, 0.5, 0.01, 100, -3]),
)
def test_logreal_lognorm_matches_stored_values(logabs: list[float], p: float) -> None:
    x = lr.LogReal.from_log(logabs)
    exact = exact_lognorm_stored(logabs, p)
    err = abs(mpmath.mpf(float(lr.lognorm(x, p))) - exact)
    assert err <= 2 * 2.0**-52 * max(abs(exact), max(abs(v) for v in logabs), 1.0)


def test_logreal_axes_and_count() -> None:
    x = lr.exp(np.array([[1e4, 1e4, -INF], [-1e4, 3.0, 2.0]]))
    got = lr.lognorm(x, 2, axis=1)
    assert got[0] == 1e4 + math.log(2) / 2
    count = lr.norm(x, 0, axis=1)  # stored as log(count), as any LogReal
    assert count.logabs.tolist() == [math.log(2.0), math.log(3.0)]
    assert lr.norm(x, 2, axis=0, keepdims=True).shape == (1, 3)


@given(st.lists(st.floats(-1e100, 1e100), min_size=1, max_size=10))
def test_logreal_norm_equals_real_norm_in_range(values: list[float]) -> None:
    x = np.array(values)
    exact = exact_norm(x, 2)
    if exact == 0:
        assert lr.norm(lr.LogReal(x)).to_real() == 0
        return
    # LogReal(x) stores rounded logs, so each |x_i| moves by up to 2 |log|x_i||
    # ulp, and so does the norm when to_real() takes exp of its log.
    logs = [abs(math.log(abs(v))) for v in values if v != 0]
    slack = 2.0 * (max(logs) + abs(float(mpmath.log(exact)))) + 2.0
    assert ulps(lr.norm(lr.LogReal(x)).to_real(), exact) <= slack


# ---------------------------------------------------------------------------
# Bad input.


@pytest.mark.parametrize("p", ["fro", "test", 2j, True, False, [2], np.array([1.0, 2.0])])
def test_p_must_be_a_real_number(p: object) -> None:
    # A bad vector order raises ValueError, as NumPy does (API.md section 4).
    if isinstance(p, str):
        with pytest.raises(ValueError):
            np.linalg.norm(np.ones(2), p)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="p must be a real number"):
        lr.norm([1.0], p)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="p must be a real number"):
        lr.lognorm(lr.LogReal([1.0]), p)  # type: ignore[arg-type]


def test_p_none_is_two_and_huge_int_is_inf() -> None:
    x = np.array([3.0, -4.0, 1e-300])
    assert lr.norm(x, None) == np.linalg.norm(x, None) == lr.norm(x, 2)
    assert lr.norm(x, 10**400) == 4.0 == np.max(np.abs(x))
    assert lr.norm(x, -(10**400)) == 1e-300


def test_p_variants_that_are_real() -> None:
    assert lr.norm([3.0, 4.0], np.float32(2)) == 5.0
    assert lr.norm([3.0, 4.0], np.array(1)) == 7.0
    assert lr.norm([3.0, 4.0], np.int64(1)) == 7.0
    with pytest.raises(ValueError, match="nan"):
        lr.norm([1.0], NAN)


def test_complex_and_non_numeric_input_rejected() -> None:
    with pytest.raises(TypeError, match="complex"):
        lr.norm(np.array([3 + 4j]))
    with pytest.raises(TypeError, match="complex"):
        lr.lognorm(3 + 4j)
    with pytest.raises(TypeError):
        lr.norm(np.array(["a"]))


def test_bad_axes() -> None:
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        lr.norm(np.ones((2, 2)), axis=2)
    with pytest.raises(ValueError, match="repeated"):
        lr.norm(np.ones((2, 2)), axis=(0, 0))
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        lr.norm(lr.LogReal(np.ones((2, 2))), axis=-3)


# ---------------------------------------------------------------------------
# Planning (pure functions) and the command-line sections.


def test_planning() -> None:
    plan = _norms._plan((2, 3, 4), (0, 2))
    assert plan == _norms._Plan((1, 0, 2), (3,), (1, 3, 1), 3, 8)
    assert _norms._mergeable((3, 4), (32, 8))
    assert not _norms._mergeable((3, 4), (64, 8))
    assert _norms._mergeable((3, 1, 4), (32, 999, 8))
    assert _norms._tile_shape(1, 10**7, by_rows=False) == (1, _norms._TILE)
    assert _norms._tile_shape(10**6, 10, by_rows=False) == (_norms._TILE // 10, 10)
    assert _norms._tile_shape(10, 10**6, by_rows=True) == (10, _norms._TILE // 10)
    assert _norms._tile_shape(10**4, 10**3, by_rows=True) == (256, _norms._TILE // 256)


def test_demo_section_shows_the_stable_results() -> None:
    from logreal.cli import demo_norms as _demo_norms

    sec = _demo_norms.norms_section()
    assert sec.rows and sec.notes
    ours = [r for r in sec.rows if r.case.startswith("[1e300]") and r.method == "lr.norm"]
    assert ours and ours[0].value == "1e+300" and "0 ulp" in ours[0].error


def test_bench_cases_run() -> None:
    from logreal.cli import bench_norms as _bench_norms

    cases = list(_bench_norms.norm_cases(quick=True))
    assert {c.n for c in cases} == {10**5}
    ours, baselines = cases[0].prepare()
    assert set(baselines) >= {"np.linalg.norm", "scipy.linalg.norm"}
    assert ours() == pytest.approx(baselines["np.linalg.norm"](), rel=1e-14)
