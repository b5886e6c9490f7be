"""The compiled kernels agree with the portable array-API kernels they override."""

import itertools
import math
import os

import numpy as np
import pytest

import logreal as lr
from logreal import _numba

pytestmark = pytest.mark.kernels_only  # run once: see tests/conftest.py

SPECIAL_LOGS = [
    -math.inf,
    -800.0,
    -1.0,
    -1e-300,
    0.0,
    1e-300,
    0.5,
    math.log(2),
    700.0,
    math.inf,
    math.nan,
]


def grid():
    """Every pair of signed special values, plus random ones."""
    values = [(s, v) for s in (-1.0, 1.0) for v in SPECIAL_LOGS]
    pairs = list(itertools.product(values, repeat=2))
    rng = np.random.default_rng(7)
    la, lb = rng.normal(scale=30, size=(2, 5000))
    lb[::3] = la[::3] - rng.uniform(0, 1.5, size=la[::3].size)  # around the ln 2 switch
    lb[1::7] = la[1::7]  # equal magnitudes
    sa, sb = rng.choice([-1.0, 1.0], size=(2, 5000))
    x = lr.LogReal.from_log(
        np.r_[[p[0][1] for p in pairs], la], np.r_[[p[0][0] for p in pairs], sa]
    )
    y = lr.LogReal.from_log(
        np.r_[[p[1][1] for p in pairs], lb], np.r_[[p[1][0] for p in pairs], sb]
    )
    return x, y


@pytest.mark.skipif(
    os.environ.get("LOGREAL_KERNELS") == "portable", reason="kernels switched off on purpose"
)
def test_numba_kernels_are_exercised():
    # Numba is in the test extra: a silent fallback to the portable path would
    # leave the kernels untested.
    x = np.ones(3)
    assert _numba.kernel("signed_add", np, x, x, x, x) is not None


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_matches_portable(op, dtype):
    x, y = grid()
    x = lr.LogReal.from_log(x.logabs.astype(dtype), x.sign.astype(dtype))
    y = lr.LogReal.from_log(y.logabs.astype(dtype), y.sign.astype(dtype))
    fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op]
    fast = fn(x, y)
    with _numba.portable():
        slow = fn(x, y)
    assert fast.dtype == slow.dtype == dtype
    np.testing.assert_array_equal(fast.sign, slow.sign)  # signs exactly
    # The compiled and NumPy's vectorised exp/log1p may differ by an ulp each,
    # and the kernel may evaluate float32 corrections in float64.  Where the
    # result cancels (x + y near +-1) an ulp of the inputs' logs is the scale.
    with np.errstate(invalid="ignore"):
        scale = np.fmax(np.abs(x.logabs), np.abs(y.logabs))
        scale = np.where(np.isfinite(scale), scale, 0.0)
        tol = 2 * np.spacing(np.fmax(np.abs(slow.logabs), scale).astype(dtype))
        same = (fast.logabs == slow.logabs) | (np.isnan(fast.logabs) & np.isnan(slow.logabs))
        close = np.abs(fast.logabs - slow.logabs) <= tol
    assert np.all(same | close)


def test_kernels_broadcast_and_handle_0d():
    a = lr.LogReal(np.arange(6.0).reshape(2, 3))
    b = lr.LogReal(np.array([1.0, -2.0, 3.0]))
    with _numba.portable():
        ref = a + b
    np.testing.assert_array_equal((a + b).sign, ref.sign)
    assert float(lr.LogReal(2.0) + lr.LogReal(-2.0)) == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cumsum_kernel_matches_portable_scan(dtype):
    x, y = grid()
    rows = lr.stack([x[:1000], y[:1000], x[-1000:] * y[-1000:]]).reshape(3, 1000)
    rows = lr.LogReal.from_log(rows.logabs.astype(dtype), rows.sign.astype(dtype))
    for axis in (0, 1):
        fast = lr.cumsum(rows, axis=axis)
        with _numba.portable():
            slow = lr.cumsum(rows, axis=axis)
        assert fast.dtype == slow.dtype == dtype
        # The running merge and the log-depth scan round in different orders:
        # compare at the scale of each prefix's largest term, which bounds the
        # cancellation either order can suffer.
        with np.errstate(invalid="ignore"):
            scale = np.fmax.accumulate(np.where(rows.sign != 0, np.abs(rows.logabs), 0), axis=axis)
            tol = 64 * np.spacing(np.fmax(scale, np.abs(slow.logabs)).astype(dtype))
            both_nan = np.isnan(fast.logabs) & np.isnan(slow.logabs)
            close = np.abs(fast.logabs - slow.logabs) <= tol
            deep = slow.logabs < np.fmax.accumulate(rows.logabs, axis=axis) - 30
        assert np.all(both_nan | (fast.logabs == slow.logabs) | close | deep)
        plain = ~deep & ~np.isnan(slow.sign)
        np.testing.assert_array_equal(fast.sign[plain], slow.sign[plain])


def test_compensated_sum_kernel_matches_portable_tree():
    rng = np.random.default_rng(3)
    logs = rng.normal(scale=50, size=(4, 3001))
    logs[1, 7] = -np.inf  # a zero factor
    logs[2, 9], logs[2, 11] = np.inf, -np.inf  # 0 * inf
    x = lr.LogReal.from_log(logs)
    for axis in (None, 0, 1, (0, 1)):
        fast = lr.prod(x, axis=axis)
        with _numba.portable():
            slow = lr.prod(x, axis=axis)
        np.testing.assert_array_max_ulp(
            np.nan_to_num(np.asarray(fast.logabs)), np.nan_to_num(np.asarray(slow.logabs)), 1
        )
        np.testing.assert_array_equal(fast.sign, slow.sign)


@pytest.mark.skipif(
    os.environ.get("LOGREAL_KERNELS") == "portable", reason="kernels switched off on purpose"
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logsum_kernel_matches_portable(dtype):
    x, y = grid()
    rows = lr.stack([x[:1000], y[:1000], x[-1000:] * y[-1000:]]).reshape(3, 1000)
    rows = lr.LogReal.from_log(rows.logabs.astype(dtype), rows.sign.astype(dtype))
    rows = lr.concat([rows, lr.LogReal(np.zeros((1, 1000), dtype=dtype))])  # an all-zero row
    finite = lr.where(np.isfinite(rows.logabs), rows, 0.0)  # rows 0-2 hold nan and inf
    for data in (rows, finite, finite[:, :0]):
        for axis in (None, 0, 1, (0, 1)):
            for keepdims in (False, True):
                fast = lr.sum(data, axis=axis, keepdims=keepdims)
                # The kernel accumulates float32 input in float64: its oracle is
                # the portable float64 sum of the same values, rounded to float32.
                wide = lr.LogReal.from_log(data.logabs.astype(np.float64), data.sign)
                with _numba.portable():
                    slow = lr.sum(wide, axis=axis, keepdims=keepdims)
                slow = lr.LogReal.from_log(slow.logabs.astype(dtype), slow.sign.astype(dtype))
                assert fast.shape == slow.shape and fast.dtype == slow.dtype
                np.testing.assert_array_equal(fast.sign, slow.sign)
                # The kernel compensates R (Neumaier); NumPy sums it pairwise.
                np.testing.assert_array_max_ulp(
                    np.nan_to_num(np.asarray(fast.logabs)),
                    np.nan_to_num(np.asarray(slow.logabs)),
                    4,
                )
    a = np.linspace(-5.0, 5.0, 7).astype(dtype)
    b = np.array([1.0, -2.0, 0.0, 3.0, -1.0, 0.5, 2.0], dtype=dtype)
    got = lr.logsumexp(a, b=b, return_sign=True)
    with _numba.portable():
        want = lr.logsumexp(a, b=b, return_sign=True)
    assert got[1] == want[1]
    np.testing.assert_array_max_ulp(got[0], want[0], 2)
    # float32 weights beside float64 terms: the kernel reads them as it reads a
    # LogReal's stored signs (widened, exactly), as NumPy's promotion would.
    a64 = np.random.default_rng(3).normal(0.0, 30.0, 9000)
    b32 = np.resize(b, a64.shape).astype(np.float32)
    assert _numba.kernel("signed_logsum", np, a64) is not None
    got = lr.logsumexp(a64, b=b32, return_sign=True)
    with _numba.portable():
        want = lr.logsumexp(a64, b=b32.astype(np.float64), return_sign=True)
    assert got[1] == want[1] and np.asarray(got[0]).dtype == np.float64
    np.testing.assert_array_max_ulp(got[0], want[0], 2)


@pytest.mark.parametrize("op", [np.add, np.subtract, np.multiply, np.divide])
def test_threaded_blocks_equal_the_serial_kernel(op):
    from logreal._numba import special

    x, y = grid()
    reps = -(-special.PARALLEL_MIN // x.size) + 1  # long enough for the threaded kernel
    big_x = lr.LogReal.from_log(np.tile(x.logabs, reps), np.tile(x.sign, reps))
    big_y = lr.LogReal.from_log(np.tile(y.logabs, reps), np.tile(y.sign, reps))
    assert big_x.size >= special.PARALLEL_MIN
    small, big = op(x, y), op(big_x, big_y)
    np.testing.assert_array_equal(big.sign, np.tile(small.sign, reps))
    np.testing.assert_array_equal(big.logabs, np.tile(small.logabs, reps))
