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
from logreal import _numba, _products, _products_fast
from logreal._numba import products as _products_numba
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


# ---------------------------------------------------------------------------
# One long lane: two halves on two threads, and products times a scale.

LONG = _products_numba.HALVES_MIN
SCALES = [1.0, 0.75, -3e-300, 2e300, 5e-324, 0.0, -0.0, INF, NAN]


def serial_loo(x: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The one-lane serial kernel, called directly: the bits the halves must give."""
    wide = x.dtype.itemsize == 8
    out = np.empty(x.size, dtype=x.dtype)
    bits = out.view(np.uint64 if wide else np.uint32)
    _products_numba.real_loo(x.reshape(1, -1, 1), bits.reshape(1, -1, 1), wide, scale)
    return out


def assert_same_bits(got: np.ndarray, want: np.ndarray) -> None:
    """Bitwise equal but for the sign of a nan (IEEE leaves it open: the
    halves multiply a suffix by a prefix where the serial kernel multiplies a
    prefix by a suffix)."""
    assert got.dtype == want.dtype
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(got[~nan].view(np.uint8), want[~nan].view(np.uint8))


def long_lanes(rng: np.random.Generator, n: int, dtype: type) -> dict[str, np.ndarray]:
    tame = rng.choice([-1.0, 1.0], n) * np.exp(rng.normal(0, 1e-3, n))
    wandering = powers_of_two(rng, n - n % 2, 40)[0] * np.exp(rng.normal(0, 0.01, n - n % 2))
    drifting = rng.uniform(0.5, 1.5, n)  # the prefixes leave the range again and again
    specials = tame.copy()
    mid = n // 2 - n // 2 % 2
    specials[[0, mid - 1, mid, mid + 1, n - 1]] = [5e-324, 0.0, INF, 1e300, NAN]
    one_zero = tame.copy()
    one_zero[mid] = 0.0
    with np.errstate(over="ignore", under="ignore"):
        return {
            k: v.astype(dtype)
            for k, v in {
                "tame": tame,
                "wandering": np.append(wandering, [1.5] * (n % 2)),
                "drifting": drifting,
                "specials": specials,
                "one zero": one_zero,
            }.items()
        }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [LONG, LONG + 1, LONG + 2, LONG + 3])
def test_long_lane_halves_are_the_serial_bits(
    dtype: type, n: int, rng, monkeypatch: pytest.MonkeyPatch
) -> None:
    halves: list[int] = []
    kernel = _products_numba.real_loo_halves

    def spy(x: np.ndarray, *args: object) -> None:
        halves.append(x.size)
        kernel(x, *args)

    monkeypatch.setattr(_products_numba, "real_loo_halves", spy)
    for name, x in long_lanes(rng, n, dtype).items():
        for scale in SCALES:
            got = _products_fast.real(np, x, 0, _products_fast.LOO, scale=scale)
            assert_same_bits(got, serial_loo(x, scale))
        if name == "tame":  # in range: also the portable path's bits
            np.testing.assert_array_equal(lr.leave_one_out(x, method="dp"), portable_loo(x))
        else:
            assert_agree(lr.leave_one_out(x, method="dp"), portable_loo(x), n)
    assert halves == [n] * (len(SCALES) + 1) * 5


def test_long_lane_one_thread_gives_the_same_bits(rng) -> None:
    numba = pytest.importorskip("numba")
    x = long_lanes(rng, LONG + 1, np.float64)["drifting"]
    threaded = lr.leave_one_out(x, method="dp")
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = lr.leave_one_out(x, method="dp")
    finally:
        numba.set_num_threads(before)
    assert_same_bits(one, threaded)


def exact_scaled(x: list[float], scale: float) -> list[Fraction]:
    return [Fraction(scale) * q for q in exact_loo(x)]


@pytest.mark.parametrize("scale", [1.0, 0.75, -3e-300, 2e300, 2.0**-1074, 1e-310])
def test_scaled_loo_against_fractions(scale: float, rng) -> None:
    cases = [
        rng.choice([-1.0, 1.0], 30) * np.exp(rng.normal(0, 1, 30)),
        np.array([1e300, 1e300, 7.0, 1e-300]),  # leave-one-out products overflow alone
        np.array([1e-300, 1e-300, 3.0, 1e300]),  # or underflow alone
        powers_of_two(rng, 260, 100)[0] * np.exp(rng.normal(0, 0.1, 260)),
    ]
    for x in cases:
        got = _products.scaled_leave_one_out(x, np.float64(scale))
        with _numba.portable():  # the scale between prefix and suffix
            portable = _products.scaled_leave_one_out(x, np.float64(scale))
        # Each step rounds once, the seed is exact, the result rounds once.
        for v in (got, portable):
            assert_close(v, exact_scaled(x.tolist(), scale), (x.size + 5) * U)


def test_scaled_loo_specials() -> None:
    x = np.array([2.0, 0.0, 3.0, INF])
    for scale in (0.0, INF, NAN, -2.0):
        with np.errstate(invalid="ignore"):
            want = scale * portable_loo(x)
        got = _products.scaled_leave_one_out(x, scale)
        with _numba.portable():
            portable = _products.scaled_leave_one_out(x, scale)
        for v in (got, portable):
            np.testing.assert_array_equal(v, want)
            np.testing.assert_array_equal(np.signbit(v), np.signbit(want))
    for n in (0, 1):  # d(g x)/dx = g; nothing to differentiate
        with _numba.portable():
            np.testing.assert_array_equal(_products.scaled_leave_one_out(x[:n], 3.0), [3.0][:n])
        np.testing.assert_array_equal(_products.scaled_leave_one_out(x[:n], 3.0), [3.0][:n])


def test_scaled_loo_declines() -> None:
    x = np.array([2.0, 3.0, 5.0])
    assert _products.scaled_leave_one_out(x.reshape(3, 1), 1.0) is None  # not 1-d
    assert _products.scaled_leave_one_out(x, np.ones(3)) is None  # not a scalar
    assert _products.scaled_leave_one_out(lr.LogReal(x), 1.0) is None
    # a float64 scale would make NumPy's product float64, a NumPy float32 one not
    assert _products.scaled_leave_one_out(x.astype(np.float32), np.float64(2.0)) is None
    assert _products.scaled_leave_one_out(x.astype(np.float32), np.float32(2.0)) is not None
    assert _products.scaled_leave_one_out(np.arange(3), 1.0) is None  # integers


def test_grad_of_prod_takes_the_adjoint_into_the_kernel(rng) -> None:
    # d/dx_i (c prod x) = c prod_{j != i} x_j, rounded once: finite here even
    # though the leave-one-out products alone overflow.
    x = np.array([1e300, 1e300, 4.0, 0.5])
    c = 1e-300
    got = lr.grad(lambda v: c * lr.prod(v))(x)
    with _numba.portable():
        portable = lr.grad(lambda v: c * lr.prod(v))(x)
    for v in (got, portable):
        assert_close(v, exact_scaled(x.tolist(), c), (x.size + 5) * U)
        assert np.isfinite(v).all()
    # float32 in, float32 out (a weak Python scale); a float64 scale promotes.
    x32 = np.array([2.0, 3.0, 5.0], dtype=np.float32)
    assert lr.grad(lambda v: 2.0 * lr.prod(v))(x32).dtype == np.float32
    got64 = lr.grad(lambda v: np.float64(2.0) * lr.prod(v))(x32)
    np.testing.assert_array_equal(got64, [30.0, 20.0, 12.0])
    # a long lane: the halves, with the unit adjoint, give leave_one_out's bits
    y = long_lanes(rng, LONG + 3, np.float64)["wandering"]
    np.testing.assert_array_equal(lr.grad(lr.prod)(y), lr.leave_one_out(y, method="dp"))
