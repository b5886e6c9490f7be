"""The Numba norm kernels against exact values and against the portable path they override.

Oracles as in ``test_norms.py``: mpmath at 300 bits from the exact binary
inputs, or for p = 1, 2 the exact sum in integers.  The kernels are held to
the bounds of ``docs/norms.md`` (the same as the portable path: p = 1, 2
within 1 ulp, other |p| >= 1 within 4 ulp, |p| < 1 within
``4 + 2 |log(norm / scale)|`` ulp), and on special values, p = +-inf and p = 0
to exactly the portable answer.  Blocks of 1, 4 and 1024 elements make every
merge path run on small inputs.
"""

from __future__ import annotations

import functools
import math
import os
import sys

import mpmath
import numpy as np
import pytest
from numba import njit

import logreal as lr
from logreal import _norms_fast, _numba
from test_norms import LAYOUTS, exact_norm, exact_norm_big, norm_bound, ulps

from oracle import ulp_error

pytestmark = pytest.mark.kernels_only  # run once: see tests/conftest.py

INF, NAN = math.inf, math.nan
DBL_MAX = sys.float_info.max
SUB = 5e-324
NAMES = ["norm_p2", "norm_p1", "norm_power", "norm_extreme", "norm_count"]
ORDERS = [2, 1, 3, 0.5, -1, -2.5, 0.01, 7.5, 100, 2000, -2000]
DTYPES = [np.float64, np.float32]


@pytest.fixture(params=[1024, 4, 1], ids=lambda b: f"block={b}")
def block(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(_norms_fast, "BLOCK", request.param)
    return int(request.param)


def slow(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with _numba.portable():
        return fn(*args, **kwargs)


def check_exact(got: float, x: np.ndarray, p: float, dtype: type = np.float64) -> None:
    """``got`` within the documented bound of the exact norm of ``x`` (as float64)."""
    xd = np.asarray(x, dtype=np.float64)
    exact = exact_norm(xd, p) if p not in (1, 2) or xd.size < 200 else exact_norm_big(xd, int(p))
    if dtype is np.float32:  # float64 accumulation, one rounding to float32
        top = float(np.finfo(np.float32).max)
        if exact >= top:
            assert got in (INF, top)
        else:
            assert ulps(got, exact, np.float32) <= 0.5 + 2.0**-16, (got, exact)
        return
    if exact >= DBL_MAX:
        assert got in (INF, DBL_MAX)
    elif exact == 0:
        assert got == 0
    else:
        assert ulps(got, exact) <= norm_bound(p, exact, xd), (p, got, float(exact))


# ---------------------------------------------------------------------------
# The kernels are compiled and used (numba is in the test extra).


@pytest.mark.skipif(
    os.environ.get("LOGREAL_KERNELS") == "portable", reason="kernels switched off on purpose"
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_are_compiled_and_used(dtype: type, monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.ones((2, 5), dtype)
    for name in NAMES:
        assert _numba.kernel(name, np, x) is not None, name
    used = []
    make = _norms_fast.rows_kernel

    def spy(p, xp, w):  # type: ignore[no-untyped-def]
        fn = make(p, xp, w)
        used.append(fn is not None)
        return fn

    monkeypatch.setattr(_norms_fast, "rows_kernel", spy)
    for p in [2, 1, 3, INF, -INF, 0]:
        lr.norm(x, p, axis=1)
    assert used == [True] * 6
    with _numba.portable():
        assert make(2, np, x) is None


def test_kernels_skip_what_they_do_not_cover() -> None:
    assert _norms_fast.rows_kernel(2, np, np.ones((2, 3), np.int64)) is None
    assert _norms_fast.rows_kernel(2, np, np.ones((2, 3), np.float16)) is None


# ---------------------------------------------------------------------------
# Adversarial inputs for the block logic: rescaling, coarse and fine grids,
# zero and subnormal blocks, the ends of the range.

rng0 = np.random.default_rng(2026)
ADVERSARIAL = {
    "rising exponents": 2.0 ** np.arange(-1070.0, 1020.0, 13.0),
    "falling exponents": 2.0 ** np.arange(1020.0, -1070.0, -13.0),
    "huge then tiny": np.r_[1e300, np.full(50, 1e-300)],
    "tiny then huge": np.r_[np.full(50, 1e-300), 1e300],
    "subnormals": np.r_[SUB * np.arange(1.0, 60.0), 1e-310],
    "zero blocks": np.r_[np.zeros(20), 3.0, np.zeros(20), -4.0, np.zeros(7)],
    "alternating": np.tile([1e200, -1e-200], 25),
    "near the top": np.full(9, DBL_MAX / 3),
    "slowly rising": 1.0 + np.arange(300) * 2.0**-40,
    "powers of two and neighbours": np.r_[
        2.0 ** np.arange(-5, 6), np.nextafter(2.0 ** np.arange(-5, 6), 0)
    ],
    "tenths": np.full(100, 0.1),
    "wide random": rng0.standard_normal(400) * 2.0 ** rng0.integers(-1000, 1000, 400),
    "block max varying by bits": rng0.standard_normal(512) * 2.0 ** rng0.integers(0, 6, 512),
}


@pytest.mark.parametrize("block", [1024, 4], indirect=True)
@pytest.mark.parametrize("p", ORDERS)
@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_within_bounds(name: str, p: float, block: int) -> None:
    x = ADVERSARIAL[name]
    got = float(lr.norm(x, p))
    check_exact(got, x, p)
    if p in (1, 2):
        # the blocks see the data in another order and sign: the same bound
        check_exact(float(lr.norm(-x[::-1].copy(), p)), x, p)
        exact = exact_norm(x, p)
        if 0 < exact < DBL_MAX:
            with mpmath.workprec(2400):
                log_exact = mpmath.log(exact_norm(x, p))
            # 1 ulp, and an absolute 2**-56 / p near 0: the remainder of the
            # sum is rounded (docs/norms.md; the portable path alike)
            got_log = float(lr.lognorm(x, p))
            err = abs(mpmath.mpf(got_log) - log_exact)
            assert err <= 2.0**-56 / p or ulp_error(got_log, log_exact) <= 1.0


@pytest.mark.parametrize("p", [2, 1, 3, -1, 0.5])
def test_float32_rounds_once(p: float, block: int) -> None:
    rng = np.random.default_rng(5)
    for scale in (1.0, 1e30, 1e-30, 1e-42):
        x = (rng.standard_normal(300) * scale).astype(np.float32)
        got = lr.norm(x, p)
        assert got.dtype == np.float32
        check_exact(float(got), x, p, np.float32)


# ---------------------------------------------------------------------------
# Random data against the portable path and the exact value.


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", ORDERS)
def test_random_rows_match_exact_and_portable(p: float, dtype: type, block: int) -> None:
    rng = np.random.default_rng(int(abs(p) * 100) + block)
    n = 600 if block == 1024 else 60
    wide = 300 if dtype is np.float64 else 60
    rows = [
        rng.standard_normal(n),
        rng.uniform(0, 1, n) ** 8,
        rng.standard_cauchy(n),
        rng.standard_normal(n) * 2.0 ** rng.integers(-wide, wide, n),
    ]
    x = np.stack(rows).astype(dtype)
    fast = lr.norm(x, p, axis=1)
    portable = slow(lr.norm, x, p, axis=1)
    for i in range(x.shape[0]):
        check_exact(float(fast[i]), x[i], p, dtype)
        if dtype is np.float64 and p in (1, 2):  # both within 1 ulp: at most 2 apart
            assert abs(fast[i] - portable[i]) <= 2 * np.spacing(portable[i])


@pytest.mark.parametrize("p", [2, 1])
def test_long_random_vector_within_one_ulp(p: int) -> None:
    x = np.random.default_rng(p).standard_normal(300_000)
    exact = exact_norm_big(x, p)
    assert ulps(lr.norm(x, p), exact) <= 1.0


# ---------------------------------------------------------------------------
# Special values in every block position.

SPECIAL_ORDERS = [2, 1, 3, 0.5, -1, -0.5, INF, -INF, 0]


@pytest.mark.parametrize("p", SPECIAL_ORDERS)
def test_special_values_in_any_block(p: float, block: int) -> None:
    base = np.random.default_rng(1).standard_normal(12)
    cases = []
    for i in range(0, 12, 5):
        for value in (NAN, INF, -INF, 0.0, -0.0, SUB, DBL_MAX):
            x = base.copy()
            x[i] = value
            cases.append(x)
        for j in range(0, 12, 7):  # a nan and an infinity in either order
            x = base.copy()
            x[i], x[j] = NAN, INF
            cases.append(x)
    cases += [np.full(12, NAN), np.full(12, INF), np.zeros(12), np.r_[np.full(11, INF), 1.0]]
    x = np.stack(cases)
    for fn in (lr.norm, lr.lognorm):
        fast, portable = fn(x, p, axis=1), slow(fn, x, p, axis=1)
        special = ~np.isfinite(portable) | (portable == 0)  # nan, inf, 0 exactly
        np.testing.assert_array_equal(fast[special], portable[special])
        tol = 8e-16 / min(1.0, abs(p) or 1.0)  # elsewhere both within the bounds
        np.testing.assert_allclose(fast[~special], portable[~special], rtol=tol, atol=tol)


# ---------------------------------------------------------------------------
# Axes and layouts: bands of whole rows, tiles of transposed and strided views.


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("p", [2, 1, 3, -1.5, 0.5, INF, -INF, 0])
def test_axes_and_layouts_match_portable(layout: str, p: float, block: int) -> None:
    rng = np.random.default_rng(12)
    x = LAYOUTS[layout](
        rng.standard_normal((4, 6, 9)) * 10.0 ** rng.integers(-200, 200, (4, 6, 9))
    )
    for axis in [None, 0, 1, -1, (0, 2), (1, 2)]:
        fast = np.atleast_1d(lr.norm(x, p, axis=axis))
        portable = np.atleast_1d(slow(lr.norm, x, p, axis=axis))
        if p in (INF, -INF, 0):
            np.testing.assert_array_equal(fast, portable)
            continue
        # both within the bound of the exact value: compare at twice the bound
        rtol = 4e-15 if abs(p) >= 1 else 4e-15 / abs(p) * 8
        np.testing.assert_allclose(fast, portable, rtol=rtol, atol=0)


def test_many_short_rows_and_few_long_ones() -> None:
    rng = np.random.default_rng(4)
    for shape, orders in [((3000, 3), (2, 1, 3)), ((3, 70_001), (2, 1))]:
        x = rng.standard_normal(shape)
        for p in orders:
            got = lr.norm(x, p, axis=1)
            for i in (0, shape[0] - 1):
                check_exact(float(got[i]), x[i], p)


# ---------------------------------------------------------------------------
# Long rows in chunks, on threads: the result does not depend on the threads.


@pytest.mark.parametrize("p", [2, 1, 3, -1, INF, 0])
def test_chunks_and_threads(p: float, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 5000)) * 10.0 ** rng.integers(-100, 100, (2, 5000))
    whole = lr.norm(x, p, axis=1)
    monkeypatch.setattr(_norms_fast, "CHUNK", 64)
    monkeypatch.setattr(_norms_fast, "BLOCK", 16)
    got = {}
    for threads in (1, 3):
        monkeypatch.setattr(_norms_fast, "THREADS", threads)
        got[threads] = lr.norm(x, p, axis=1)
    np.testing.assert_array_equal(got[1], got[3])
    for i in range(2):
        if p in (1, 2):
            assert ulps(got[1][i], exact_norm_big(x[i], p)) <= 1.0
        else:
            assert abs(got[1][i] - whole[i]) <= 4 * np.spacing(whole[i])


# ---------------------------------------------------------------------------
# The compiled (|x| / m)**p: exp(p (log|x| - log m)) in double-double.


@pytest.mark.parametrize("p", [3.0, 0.5, 0.01, 1.5, 7.5, 100.0, 2000.0, -1.0, -0.5, -2000.0])
def test_term_is_within_its_bound(p: float) -> None:
    terms = _terms_kernel()
    rng = np.random.default_rng(int(abs(p) * 10))
    for m in (1.0, 3.7e-200, 1e-310):
        q = rng.uniform(0, 1, 100) ** rng.choice([1, 3, 30, 300], 100)
        with np.errstate(all="ignore"):
            a = m * q if p > 0 else m / q
        a = a[np.isfinite(a) & (a > 0)]
        out = np.empty_like(a)
        terms(a, p, m, out)
        for ai, ti in zip(a, out, strict=True):
            exact = (mpmath.mpf(float(ai)) / mpmath.mpf(m)) ** mpmath.mpf(p)
            if exact < 2.0**-1000:  # negligible beside the extreme term, 1
                assert ti < 2.0**-990
                continue
            log_ratio = abs(float(mpmath.log(mpmath.mpf(float(ai)) / mpmath.mpf(m))))
            bound = 2.0**-53 + abs(p) * 2.0**-57 * max(1.0, log_ratio)
            assert abs(mpmath.mpf(float(ti)) - exact) <= bound * exact, (ai, m, p)


@functools.cache
def _terms_kernel():  # type: ignore[no-untyped-def]
    """The compiled term on an array (compiled once per process)."""
    from logreal._numba.norms import log_parts, term

    @njit(error_model="numpy")
    def terms(a, p, m, out):  # type: ignore[no-untyped-def]
        km, hm, lm = log_parts(m)
        for i in range(a.shape[0]):
            out[i] = term(a[i], p, km, hm, lm)

    return terms
