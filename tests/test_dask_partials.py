"""Dask log-sum-exp partials on the portable path carry their logabs unrounded.

A chunk's partial is ``(sign, hi, t)`` with logabs ``hi + t``; rounding it to one
float costs up to half an ulp of the logabs (large next to 2**-53 when
|logabs| is large), and chunks that partly cancel magnify that.  Regression:
with the kernels off, a signed Dask logsumexp along chunked rows was 12 ulp
from the exact value; it must be as close as the kernels' (1 ulp).
"""

import dask.array as da
import mpmath
import numpy as np
import pytest

import logreal as lr
from logreal import _logsum, _numba


def _exact(a, b):
    mpmath.mp.prec = 300
    out = []
    for col in range(a.shape[1]):
        s = mpmath.fsum(
            mpmath.mpf(float(w)) * mpmath.exp(mpmath.mpf(float(x)))
            for x, w in zip(a[:, col], b[:, col], strict=True)
            if np.isfinite(x)
        )
        out.append((float(mpmath.log(abs(s))) if s else -np.inf, float(mpmath.sign(s))))
    return np.array(out).T


@pytest.mark.parametrize("kernels", [False, True])
def test_signed_chunked_logsumexp_within_an_ulp(rng, kernels):
    a = rng.normal(scale=30, size=(24, 1000))
    a[3, 7] = -np.inf
    b = np.where(np.arange(a.size).reshape(a.shape) % 3 == 0, -1.0, 1.0)
    x = da.from_array(a, chunks=(8, 250))
    with _numba.portable() if not kernels else np.errstate():
        got, got_sign = lr.logsumexp(x, axis=0, b=b, return_sign=True)
        got, got_sign = got.compute(scheduler="sync"), got_sign.compute(scheduler="sync")
    want, want_sign = _exact(a, b)
    np.testing.assert_array_equal(got_sign, want_sign)
    assert np.all(np.abs(got - want) <= np.spacing(np.abs(want)))


def test_parts_round_to_the_shifted_sum(rng):
    w = rng.normal(size=(5, 40)) * 2.0 ** rng.integers(-600, 600, size=(5, 40))
    lg = rng.normal(scale=50, size=(5, 40))
    lg[0] = -np.inf  # the zero
    w[1, :] = 0.0
    lg[2, 3] = np.inf  # a special sum
    sign, hi, t = _logsum.logsum_parts(w, lg, (1,), np)
    want_sign, want = _logsum.weighted_logsum(lg, w, (1,), True, np)
    np.testing.assert_array_equal(sign, want_sign)
    np.testing.assert_array_equal(hi + t, want)
    assert sign[0, 0] == 0 and hi[0, 0] == -np.inf and t[0, 0] == 0
    assert np.isinf(hi[2, 0]) and t[2, 0] == 0


@pytest.mark.parametrize("chunks", [1, 2])
def test_a_partial_below_an_ulp_of_one_survives_the_merge(chunks):
    # SciPy's gh-18295 case: log(1 + e**-40) = 4.25e-18. A partial s e**(m + t)
    # with m = 0 and t = 4.25e-18 once merged as the weight e**t, which rounds
    # to 1 and gave 0.0 for one chunk.
    a = np.array([0.0, -40.0])
    mpmath.mp.prec = 200
    want = float(mpmath.log1p(mpmath.exp(-40)))
    got = lr.logsumexp(da.from_array(a, chunks=chunks)).compute(scheduler="sync")
    assert got == want == lr.logsumexp(a)
