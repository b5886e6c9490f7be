"""The compiled products kernels (``_products_fast``) against the portable path they override.

Oracles: the portable algorithms of ``_products`` (run under
``_numba.portable()``), and exact ``Fraction`` arithmetic as in
``test_products.py``.  The LogReal kernel replays the portable compensated sums
operation by operation, so it must agree bitwise, nans included.  The real
kernel forms every product left to right, one rounding each, as the portable
path does while the partial products stay in the float range: there it must
agree bitwise.  Where they leave the range the portable path groups mantissas
in rows of 256; both are within ``(n + 4) u`` of the exact product (checked
against Fractions), so they differ by at most ``2 (n + 4) u`` relative, plus
the smallest subnormal; zeros, infinities and nans agree exactly.

The kernels are switched on for these tests even under
``LOGREAL_KERNELS=portable``: Numba is in the test extra.
"""

from __future__ import annotations

import importlib.util
import math
from fractions import Fraction

import numpy as np
import pytest

import logreal as lr
from logreal import _numba, _products_fast
from test_products import CASES, U, _dp_overhead, assert_close, exact_loo, powers_of_two

pytestmark = pytest.mark.kernels_only  # run once: see tests/conftest.py

INF, NAN = math.inf, math.nan
DTYPES = [np.float64, np.float32]
CUMPRODS = [(False, False), (True, False), (False, True), (True, True)]  # exclusive, reverse


@pytest.fixture(autouse=True)
def kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_numba._state, "enabled", True)


def portable_loo(x: object, axis: int = 0) -> object:
    with _numba.portable():
        return lr.leave_one_out(x, axis=axis, method="dp")


def portable_cumprod(x: object, axis: int, exclusive: bool, reverse: bool) -> object:
    with _numba.portable():
        return lr.cumprod(x, axis=axis, exclusive=exclusive, reverse=reverse)


def assert_agree(got: np.ndarray, want: np.ndarray, n: int) -> None:
    """Real results of the kernel and the portable path: zeros, infinities
    and nans alike (signs too), the rest within ``2 (n + 4) u`` relative plus
    the smallest subnormal (one ulp of float32 for float32 output)."""
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    exact = np.isinf(want) | (want == 0)
    np.testing.assert_array_equal(got[exact], want[exact])
    np.testing.assert_array_equal(np.signbit(got[exact]), np.signbit(want[exact]))
    g, w = got.astype(np.float64), want.astype(np.float64)
    rel = 2 * (n + 4) * U if got.dtype == np.float64 else 2.0**-23
    tiny = float(np.finfo(got.dtype).smallest_subnormal)
    ok = ~np.isnan(want) & ~exact
    assert np.all(np.abs(g[ok] - w[ok]) <= rel * np.abs(w[ok]) + tiny)


def assert_same_logreal(got: lr.LogReal, want: lr.LogReal) -> None:
    assert isinstance(got, lr.LogReal) and got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.asarray(got.sign), np.asarray(want.sign))
    np.testing.assert_array_equal(np.asarray(got.logabs), np.asarray(want.logabs))


def in_axis(case: np.ndarray, ndim: int, axis: int, rng: np.random.Generator) -> np.ndarray:
    """The 1-d ``case`` along ``axis`` of an array of ``ndim`` dimensions,
    each lane with its own sign (exact: the answers flip with it)."""
    shape = [2, 3, 2][:ndim]
    shape[axis] = case.size
    lanes = [s for i, s in enumerate(shape) if i != axis]
    return np.moveaxis(rng.choice([-1.0, 1.0], (*lanes, 1)) * case, -1, axis)


# ---------------------------------------------------------------------------
# The kernels run.


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which kernel each call of ``_products_fast.real`` / ``log`` ran
    ("portable" where it declined)."""
    calls: list[str] = []
    for name in ("real", "log"):
        fn = getattr(_products_fast, name)

        def spy(*args: object, _fn: object = fn, _name: str = name) -> object:
            out = _fn(*args)  # type: ignore[operator]
            calls.append(_name if out is not None else "portable")
            return out

        monkeypatch.setattr(_products_fast, name, spy)
    return calls


def test_kernels_really_run(ran: list[str]) -> None:
    assert importlib.util.find_spec("numba") is not None  # the test extra installs it
    for dtype in DTYPES:
        x = np.array([2.0, 3.0, 5.0], dtype=dtype)
        for v in (x, lr.LogReal(x)):
            lr.leave_one_out(v, method="dp")
            lr.cumprod(v)
            lr.cumprod(v, exclusive=True, reverse=True)
    assert ran == ["real"] * 3 + ["log"] * 3 + ["real"] * 3 + ["log"] * 3
    lr.prod_grad(np.array([2.0, 3.0]), np.ones((2, 4)), method="dp")
    lr.prod_grad(lr.LogReal([2.0, 3.0]), np.ones(2), method="dp")
    assert ran[-2:] == ["real", "log"]


def test_where_kernels_do_not_apply(ran: list[str]) -> None:
    x = np.array([2.0, 3.0, 5.0])
    for method in ("naive", "division", "log", "scan"):
        lr.leave_one_out(x, method=method)
    np.testing.assert_array_equal(lr.leave_one_out(x, op=np.multiply), [15.0, 10.0, 6.0])
    lr.prod_grad(x.astype(np.float32), np.ones(3, np.float32), method="dp")  # float32 loo
    assert ran == []
    with _numba.portable():
        lr.leave_one_out(x, method="dp")
    for other in (x.astype(np.float16), x.astype(">f8")):  # not float32/64, not native
        np.testing.assert_array_equal(lr.leave_one_out(other, method="dp"), portable_loo(other))
    assert len(ran) == 5 and set(ran) == {"portable"}  # asked, and declined


# ---------------------------------------------------------------------------
# Real floats.

ADVERSARIAL = {
    **CASES,
    "zeros first and last": [0.0, 2.0, 3.0, 0.0],
    "inf": [2.0, INF, -3.0, 0.5],
    "-inf and zero": [2.0, -INF, 0.0, 5.0],
    "nan": [2.0, NAN, 3.0],
    "subnormals": [5e-324, 1e-310, 3.0, 2.0**1000, 2.0**70],
    "underflowing prefix": [1e-200, 1e-200, 1e-200, 1e200, 1e200, 1e200, 7.0],
    "overflowing prefix": [1e300, 1e300, -1e300, 1e-300, 1e-300, 1e-300],
    "huge factors": [1.7e308, 1.7e308, 2.0**-1074, 2.0**-1074, -3.0],
    "subnormal results": [2.0**-600, 2.0**-500, 2.0**80, 3.0, 0.7],
    "result rounds to zero": [2.0**-600, 2.0**-500, 0.75],
    "result just overflows": [2.0**600, 2.0**424, 1.5, 0.5],
    "negatives": [-2.0, -3.0, -0.5, -7.0, -1e-300, -1e300],
}


@pytest.mark.parametrize("case", list(ADVERSARIAL), ids=list(ADVERSARIAL))
@pytest.mark.parametrize("dtype", DTYPES)
def test_real_adversarial_against_portable(case: str, dtype: type, rng) -> None:
    with np.errstate(over="ignore", under="ignore"):
        x1 = np.array(ADVERSARIAL[case], dtype=np.float64).astype(dtype)
    for ndim in (1, 2, 3):
        for axis in range(ndim):
            x = in_axis(x1, ndim, axis, rng).astype(dtype)
            n = x1.size
            assert_agree(lr.leave_one_out(x, axis=axis, method="dp"), portable_loo(x, axis), n)
            for exclusive, reverse in CUMPRODS:
                got = lr.cumprod(x, axis=axis, exclusive=exclusive, reverse=reverse)
                assert_agree(got, portable_cumprod(x, axis, exclusive, reverse), n)
    if dtype == np.float64 and np.isfinite(x1).all():  # and against exact products
        assert_close(lr.leave_one_out(x1, method="dp"), exact_loo(x1.tolist()), (x1.size + 4) * U)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 128, 129, 1001])
def test_real_in_range_is_bitwise_portable(dtype: type, n: int, rng) -> None:
    # Partial products stay in range: the same products in the same order.
    x = (rng.choice([-1.0, 1.0], (n, 3, 5)) * np.exp(rng.normal(0, 0.3, (n, 3, 5)))).astype(dtype)
    for axis in (0, 1, 2):
        np.testing.assert_array_equal(
            lr.leave_one_out(x, axis=axis, method="dp"), portable_loo(x, axis)
        )
        for exclusive, reverse in CUMPRODS:
            got = lr.cumprod(x, axis=axis, exclusive=exclusive, reverse=reverse)
            np.testing.assert_array_equal(got, portable_cumprod(x, axis, exclusive, reverse))


@pytest.mark.parametrize("dtype", DTYPES)
def test_real_wandering_prefixes(dtype: type, rng) -> None:
    # Prefixes thousands of binades outside the range, answers inside it.
    p, _, _ = powers_of_two(
        rng, 20_000 if dtype == np.float64 else 6_000, 40 if dtype == np.float64 else 6
    )
    x = (p * np.exp(rng.normal(0, 0.01, p.size))).astype(dtype)
    assert np.abs(np.cumsum(np.log2(np.abs(x.astype(np.float64))))).max() > (
        1100 if dtype == np.float64 else 150
    )
    assert_agree(lr.leave_one_out(x, method="dp"), portable_loo(x), x.size)
    for exclusive, reverse in CUMPRODS:
        got = lr.cumprod(x, exclusive=exclusive, reverse=reverse)
        assert_agree(got, portable_cumprod(x, 0, exclusive, reverse), x.size)
    # Powers of two are exact: bitwise, in both precisions.
    np.testing.assert_array_equal(
        lr.leave_one_out(p.astype(dtype), method="dp"), portable_loo(p.astype(dtype))
    )


def test_real_wandering_prefixes_against_fractions(rng) -> None:
    # More than two rows of 256: here the portable path groups, the kernel does not.
    p, _, _ = powers_of_two(rng, 520, 150)
    x = p * np.exp(rng.normal(0, 0.5, p.size))
    assert np.abs(np.cumsum(np.log2(np.abs(x)))).max() > 1100
    exact = exact_loo(x.tolist())
    assert_close(lr.leave_one_out(x, method="dp"), exact, (x.size + 4) * U)
    assert_close(lr.leave_one_out(x[::-1], method="dp"), exact[::-1], (x.size + 4) * U)


def test_real_random_specials(rng) -> None:
    values = [0.0, -0.0, INF, -INF, NAN, 2.0, -3.0, 0.5, 1e300, 1e-300, 5e-324]
    for _ in range(80):
        n = int(rng.integers(1, 12))
        x = rng.choice(values, (n, 2))
        for axis in (0, 1):
            assert_agree(lr.leave_one_out(x, axis=axis, method="dp"), portable_loo(x, axis), n)
            for exclusive, reverse in CUMPRODS:
                got = lr.cumprod(x, axis=axis, exclusive=exclusive, reverse=reverse)
                assert_agree(got, portable_cumprod(x, axis, exclusive, reverse), n)


def test_real_views_and_fallback() -> None:
    base = np.exp(np.random.default_rng(3).normal(0, 0.5, (6, 8, 10)))
    for x in (base[::2], base.T, base[:, ::3, :], base.transpose(1, 0, 2)):
        for axis in range(3):
            np.testing.assert_array_equal(
                lr.leave_one_out(x, axis=axis, method="dp"), portable_loo(x, axis)
            )
    # No (outer, n, inner) view exists: the portable path runs.
    x = base[:, :, :7]
    assert _products_fast.lanes(x, 0) is None
    np.testing.assert_array_equal(lr.leave_one_out(x, method="dp"), portable_loo(x))
    np.testing.assert_array_equal(
        lr.leave_one_out(x, axis=None, method="dp"), portable_loo(x.ravel())
    )


def test_merged_stride() -> None:
    assert _products_fast.merged_stride((), ()) == 0
    assert _products_fast.merged_stride((3, 4), (32, 8)) == 8
    assert _products_fast.merged_stride((3, 1, 4), (32, 999, 8)) == 8
    assert _products_fast.merged_stride((3, 4), (64, 8)) is None
    assert _products_fast.merged_stride((0, 4), (64, 8)) == 0


# ---------------------------------------------------------------------------
# LogReal: bitwise.


def logreal_data(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> lr.LogReal:
    logs = rng.normal(0, 300, shape)
    signs = rng.choice([-1.0, 1.0], shape)
    special = rng.random(shape)
    logs[special < 0.002] = -INF  # zeros
    logs[(special > 0.002) & (special < 0.003)] = INF
    logs[(special > 0.003) & (special < 0.0035)] = NAN
    return lr.LogReal.from_log(logs.astype(dtype), sign=signs.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 3, 4095, 4096, 4097, 8193, 10_000])
def test_logreal_1d_is_bitwise_portable(dtype: type, n: int, rng) -> None:
    # 1-d LogReal blocks hold 4096 elements: n crosses them.
    for x in (lr.LogReal(rng.uniform(0.0, 1.0, n).astype(dtype)), logreal_data(rng, (n,), dtype)):
        assert_same_logreal(lr.leave_one_out(x, method="dp"), portable_loo(x))
        for exclusive, reverse in CUMPRODS:
            got = lr.cumprod(x, exclusive=exclusive, reverse=reverse)
            assert_same_logreal(got, portable_cumprod(x, 0, exclusive, reverse))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logreal_nd_is_bitwise_portable(dtype: type, rng) -> None:
    # Along axis 1 each block holds 8192 // 14 // 2 = 292 elements.
    x = logreal_data(rng, (2, 700, 7), dtype)
    for axis in (0, 1, 2, -1):
        assert_same_logreal(lr.leave_one_out(x, axis=axis, method="dp"), portable_loo(x, axis))
        for exclusive, reverse in CUMPRODS:
            got = lr.cumprod(x, axis=axis, exclusive=exclusive, reverse=reverse)
            assert_same_logreal(got, portable_cumprod(x, axis, exclusive, reverse))


def test_logreal_edges_are_bitwise_portable() -> None:
    cases = [
        lr.LogReal.from_log([-1e308, -1e308, 1.0], sign=[1, -1, 1]),  # sums beyond the range
        lr.LogReal.from_log([1e308, 1e308, -1e308, -1e308], sign=[1, 1, -1, 1]),
        lr.LogReal([2.0, 0.0, INF, -3.0]),
        lr.LogReal([0.0, 0.0, 2.0]),
        lr.LogReal([NAN, 2.0, 3.0]),
        lr.LogReal.from_log(np.zeros(5), sign=np.array([1.0, -1, 1, -1, 1])),
        lr.LogReal.from_log(np.array([1.0]), sign=np.array([1.0])).reshape(1, 1, 1),
        lr.LogReal(np.zeros((0, 3))),
        lr.LogReal(np.ones((4, 0))),
    ]
    for x in cases:
        for axis in range(x.ndim):
            assert_same_logreal(lr.leave_one_out(x, axis=axis, method="dp"), portable_loo(x, axis))
            for exclusive, reverse in CUMPRODS:
                got = lr.cumprod(x, axis=axis, exclusive=exclusive, reverse=reverse)
                assert_same_logreal(got, portable_cumprod(x, axis, exclusive, reverse))


def test_logreal_broadcast_components() -> None:
    # from_log may broadcast a component: strides of 0.
    x = lr.LogReal.from_log(np.linspace(-5.0, 5.0, 12).reshape(3, 4), sign=-1.0)
    for axis in (0, 1):
        assert_same_logreal(lr.leave_one_out(x, axis=axis, method="dp"), portable_loo(x, axis))


# ---------------------------------------------------------------------------
# Memory: the output and nothing more.


@pytest.mark.parametrize("kind", ["tame", "wild", "float32", "LogReal"])
def test_kernel_allocates_only_the_output(kind: str, rng) -> None:
    n = 10**6
    x: object = {
        "tame": np.exp(rng.normal(0, 1e-3, n)),
        "wild": rng.uniform(0.0, 1.0, n),
        "float32": rng.uniform(0.5, 2.0, n).astype(np.float32),
        "LogReal": lr.LogReal(rng.uniform(0.0, 1.0, n)),
    }[kind]
    lr.leave_one_out(x, method="dp")  # compiled before tracing
    overhead = _dp_overhead(x)
    assert overhead <= 2**14, (kind, overhead)


# ---------------------------------------------------------------------------
# prod_grad: sum_i loo_i df_i with the compiled leave-one-out products.


def exact_grad(f: list[float], df: np.ndarray) -> tuple[list[Fraction], list[Fraction]]:
    """The exact gradient sum_i loo_i df_i per parameter, and sum_i |loo_i df_i|."""
    loo = exact_loo(f)
    cols = df.reshape(len(f), -1).T.tolist()
    total = [
        sum((q * Fraction(d) for q, d in zip(loo, col, strict=True)), Fraction(0)) for col in cols
    ]
    size = [
        sum((abs(q * Fraction(d)) for q, d in zip(loo, col, strict=True)), Fraction(0))
        for col in cols
    ]
    return total, size


@pytest.mark.parametrize("pshape", [(), (3,)])
def test_prod_grad_with_kernel_against_fractions(pshape: tuple[int, ...], rng) -> None:
    cases = [
        rng.choice([-1.0, 1.0], 30) * np.exp(rng.normal(0, 1, 30)),
        np.array([1e300, 1e10, 1e-300, 1e-300]),  # a leave-one-out product underflows
        np.array([1e300, 1e10, 3.0]),  # one overflows; its df below brings it back
        np.array([2.0, 0.0, 3.0, 5.0]),
        powers_of_two(rng, 260, 100)[0] * np.exp(rng.normal(0, 0.1, 260)),
    ]
    for f in cases:
        df = rng.normal(0, 1, (f.size, *pshape)) * np.ldexp(
            1.0, rng.integers(-40, 1, (f.size, *pshape))
        )
        if f.size == 3:
            df[:2], df[2] = 0.0, 1e-20
        got = np.atleast_1d(lr.prod_grad(f, df, method="dp"))
        with _numba.portable():
            want = np.atleast_1d(lr.prod_grad(f, df, method="dp"))
        exact, size = exact_grad(f.tolist(), df)
        for g, w, e, s in zip(got.tolist(), want.tolist(), exact, size, strict=True):
            for v in (g, w):  # each term rounds at most n + 6 times, then the sum
                assert abs(Fraction(v) - e) <= Fraction((f.size + 8) * U) * s + Fraction(
                    2.0**-1074
                )


def test_prod_grad_logreal_with_kernel(rng) -> None:
    f = lr.LogReal.from_log(rng.normal(0, 300, 5000), sign=rng.choice([-1.0, 1.0], 5000))
    df = rng.normal(0, 1, (5000, 2))
    got = lr.prod_grad(f, df, method="dp")
    with _numba.portable():
        want = lr.prod_grad(f, df, method="dp")
    np.testing.assert_array_equal(np.asarray(got.sign), np.asarray(want.sign))
    # Both hold the log-magnitude of the largest term to a few ulp of it.
    scale = np.spacing(np.abs(np.asarray(want.logabs)))
    assert np.all(np.abs(np.asarray(got.logabs) - np.asarray(want.logabs)) <= 8 * scale)
