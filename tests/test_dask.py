"""Dask on a real ``dask.distributed`` cluster: lazy graphs, NumPy's answers.

A ``LocalCluster`` with 2 worker processes is started once per test process.
While a graph is built the default scheduler is one that fails, so any
``compute()`` before the user's own is caught; results are then computed on the
cluster and compared with the NumPy results (the truth for these functions)
within 4 ulp plus the cancellation term of a signed sum.
"""

import contextlib
import math

import dask
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import logreal as lr


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as c,
    ):
        yield c


def _refuse(*args, **kwargs):
    raise AssertionError("a Dask graph was computed while it was being built")


@contextlib.contextmanager
def lazy():
    """Any compute inside the block fails the test."""
    with dask.config.set(scheduler=_refuse):
        yield


def _compute(client, *xs):
    return [np.asarray(v) for v in client.compute(list(xs), sync=True)]


def _close(got, want, cancel=None):
    """Within 4 ulp of NumPy's result, plus u times the condition number ``cancel``."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    tol = 4 * np.spacing(np.abs(want))
    if cancel is not None:
        tol = tol + 2.0**-52 * np.asarray(cancel)
    with np.errstate(invalid="ignore"):
        assert np.all(same | (np.abs(got - want) <= tol)), np.max(np.abs(got - want))


@pytest.fixture
def data(rng):
    a = rng.normal(scale=30, size=(24, 1000))
    a[3, 7] = -np.inf
    return a, da.from_array(a, chunks=(8, 250))


AXES = [None, 0, 1, (0, 1), -1]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp(client, data, axis, keepdims):
    a, x = data
    signs = np.where(np.arange(a.size).reshape(a.shape) % 3 == 0, -1.0, 1.0)
    for b, bx in ((None, None), (signs, signs), (signs, da.from_array(signs, chunks=(12, 100)))):
        with lazy():
            res, sgn = lr.logsumexp(x, axis=axis, b=bx, keepdims=keepdims, return_sign=True)
            plain = lr.logsumexp(x, axis=axis, b=bx, keepdims=keepdims)
        got, got_sign, got_plain = _compute(client, res, sgn, plain)
        want, want_sign = lr.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
        cond = np.exp(lr.logsumexp(a, axis=axis, keepdims=keepdims) - want)
        _close(got, want, cond)
        np.testing.assert_array_equal(got_sign, want_sign)
        _close(got_plain, lr.logsumexp(a, axis=axis, b=b, keepdims=keepdims), cond)


def test_logsumexp_dtypes(client):
    a = np.linspace(-3, 3, 40, dtype=np.float32)
    x = da.from_array(a, chunks=10)
    with lazy():
        r32 = lr.logsumexp(x, b=np.arange(40))  # integer weights keep float32 (SciPy)
        r64 = lr.logsumexp(x, b=np.ones(40))
    got32, got64 = _compute(client, r32, r64)
    assert got32.dtype == np.float32 and got64.dtype == np.float64


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, -1, math.inf, -math.inf, 0])
@pytest.mark.parametrize("axis", AXES)
def test_norms(client, data, p, axis):
    a, x = data
    a = np.abs(a) * 1e300 if p == 2 else a  # squares far beyond float range
    x = da.from_array(a, chunks=(8, 250))
    with lazy():
        n, ln = lr.norm(x, p, axis=axis), lr.lognorm(x, p, axis=axis, keepdims=True)
    got, got_log = _compute(client, n, ln)
    _close(got, lr.norm(a, p, axis=axis))
    # a log's error is absolute: a norm within a few u (relative) is a log within a few u
    _close(got_log, lr.lognorm(a, p, axis=axis, keepdims=True), 4.0)


def test_empty_norm_is_lazy_too(client):
    x = da.zeros((0, 3), chunks=(1, 3))
    with lazy():
        n = lr.norm(x, axis=0)
    (got,) = _compute(client, n)
    np.testing.assert_array_equal(got, lr.norm(np.zeros((0, 3)), axis=0))


@pytest.mark.parametrize("axis", AXES)
def test_logreal_reductions(client, data, axis):
    a, x = data
    with lazy():
        y = lr.LogReal(x)
        s, m, p = lr.sum(y, axis=axis), lr.mean(y, axis=axis), lr.prod(y, axis=axis)
    got = _compute(client, s.logabs, s.sign, m.logabs, p.logabs, p.sign)
    y = lr.LogReal(a)
    ws, wm, wp = lr.sum(y, axis=axis), lr.mean(y, axis=axis), lr.prod(y, axis=axis)
    with np.errstate(invalid="ignore"):  # the row holding -inf: inf - inf
        cond = np.exp(np.asarray(lr.sum(abs(y), axis=axis).logabs - ws.logabs))
    _close(got[0], ws.logabs, cond)
    np.testing.assert_array_equal(got[1], ws.sign)
    _close(got[2], wm.logabs, cond)
    _close(got[3], wp.logabs, np.abs(np.asarray(wp.logabs)))  # a sum of logs
    np.testing.assert_array_equal(got[4], wp.sign)


def test_exact_cancellation_across_chunks(client):
    a = np.array([1000.0, 5.0, 1000.0, 10.0])
    b = np.array([1.0, 0.0, -1.0, 1.0])
    x = da.from_array(a, chunks=1)  # the cancelling terms in different chunks
    with lazy():
        res, sgn = lr.logsumexp(x, b=b, return_sign=True)
    assert _compute(client, res, sgn) == [10.0, 1.0]


def test_logreal_cumsum(client, data):
    a, x = data
    with lazy():
        c = lr.cumsum(lr.LogReal(x), axis=1)
    got, got_sign = _compute(client, c.logabs, c.sign)
    want = lr.cumsum(lr.LogReal(a), axis=1)
    np.testing.assert_array_equal(got_sign, want.sign)
    scale = np.fmax.accumulate(np.abs(a), axis=1)
    with np.errstate(invalid="ignore", over="ignore"):  # the row holding -inf
        cond = 64 * np.exp(scale - np.asarray(want.logabs))
    _close(got, want.logabs, cond)


def test_cumsum_cancelling_across_chunks(client):
    x = lr.LogReal.from_log(np.array([1000.0, 1000.0, 0.0, 5.0]), np.array([1.0, -1.0, 1.0, 1.0]))
    dx = lr.LogReal.from_log(
        da.from_array(np.asarray(x.logabs), chunks=1), da.from_array(np.asarray(x.sign), chunks=1)
    )
    with lazy():
        c = lr.cumsum(dx)
    got, got_sign = _compute(client, c.logabs, c.sign)
    # e^1000, then exactly 0, then 1, then 1 + e^5
    np.testing.assert_array_equal(got_sign, [1.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(got, [1000.0, -np.inf, 0.0, np.logaddexp(0.0, 5.0)])
