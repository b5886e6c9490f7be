"""The compiled sums: ``lr.logsumexp``'s direct route and the threaded long-row
kernel, against the portable path (the truth) and mpmath."""

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

pytestmark = pytest.mark.skipif(
    os.environ.get("LOGREAL_KERNELS") == "portable", reason="kernels switched off on purpose"
)
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
