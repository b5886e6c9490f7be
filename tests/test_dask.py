"""Dask on a real ``dask.distributed`` cluster: lazy graphs, NumPy's answers.

A ``LocalCluster`` with 2 worker processes is started once per test process.
While a graph is built the default scheduler is one that fails, so any
``compute()`` before the user's own is caught; results are then computed on the
cluster and compared with the NumPy results (the truth for these functions)
within 4 ulp plus the cancellation term of a signed sum.
"""

import contextlib
import math
import warnings
from fractions import Fraction

import dask
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import logreal as lr
from conftest import FULL
from test_products import TINY, U, assert_close, exact_loo, loo_bound


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


# ---------------------------------------------------------------------------
# Products along an axis: chunk scans joined by exact carries.


def _dask_logreal(x, chunks):
    """A LogReal of Dask arrays holding exactly ``x``'s stored components."""
    return lr.LogReal.from_log(
        da.from_array(np.asarray(x.logabs), chunks=chunks),
        da.from_array(np.asarray(x.sign), chunks=chunks),
    )


@pytest.fixture
def factors(rng):
    """Rows of 24 factors whose partial products leave the float range; zeros
    inside chunks, two zeros in a row, and a whole chunk of zeros (8:12)."""
    a = np.ldexp(rng.uniform(0.5, 1.0, size=(3, 24)), rng.integers(-300, 300, size=(3, 24)))
    a *= rng.choice([-1.0, 1.0], size=a.shape)
    a[1, 5] = 0.0
    a[2, [3, 17]] = 0.0
    a[0, 8:12] = 0.0
    return a


CHUNKS = [(3, 1), (2, 4), (1, 5), (3, 24)]


def _exact_scan(row, exclusive, reverse):
    q = [Fraction(v) for v in (row[::-1] if reverse else row)]
    out, p = [], Fraction(1)
    for v in q:
        out.append(p if exclusive else p * v)
        p *= v
    return out[::-1] if reverse else out


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.parametrize(("exclusive", "reverse"), [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_cumprod(client, factors, chunks, exclusive, reverse):
    x = da.from_array(factors, chunks=chunks)
    with lazy():
        c = lr.cumprod(x, axis=1, exclusive=bool(exclusive), reverse=bool(reverse))
    (got,) = _compute(client, c)
    for g, row in zip(got, factors, strict=True):
        exact = _exact_scan(row.tolist(), exclusive, reverse)
        assert_close(g, exact, (2 * len(row) + 4) * U)


def test_cumprod_float32_other_axes(client, factors, rng):
    # float32 factors whose partial products leave float32's range both ways
    a = np.ldexp(np.frexp(factors)[0], rng.integers(-40, 40, size=factors.shape))
    a = a.astype(np.float32)
    x = da.from_array(a, chunks=(2, 5))
    with lazy():
        c, flat = lr.cumprod(x, axis=1, reverse=True), lr.cumprod(x, axis=None)
        first = lr.leave_one_out(x, axis=0)
    got, got_flat, got_first = _compute(client, c, flat, first)
    assert got.dtype == got_flat.dtype == got_first.dtype == np.float32
    for g, w, n in (
        (got, lr.cumprod(a, axis=1, reverse=True), 24),
        (got_flat, lr.cumprod(a, None), 72),
        (got_first, lr.leave_one_out(a, axis=0), 3),
    ):
        np.testing.assert_allclose(g, w, rtol=2 * (n + 4) * 2.0**-24, atol=2.0**-148)


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.parametrize("method", ["auto", "dp", "division", "log"])
def test_leave_one_out(client, factors, chunks, method):
    a = factors[:, :12] if method == "log" else factors  # the log trick's bound grows with n
    x = da.from_array(a, chunks=chunks)
    with lazy():
        loo = lr.leave_one_out(x, axis=1, method=method)
    (got,) = _compute(client, loo)
    for g, row in zip(got, a, strict=True):
        assert_close(g, exact_loo(row.tolist()), loo_bound(row.tolist(), method) + 4 * U)


def test_leave_one_out_special_values(client):
    a = np.array([[2.0, np.inf, 3.0, 0.0], [np.nan, 1.0, 2.0, 4.0], [np.inf, 2.0, 0.5, -1.0]])
    x = da.from_array(a, chunks=1)
    with lazy():
        loo = lr.leave_one_out(x, axis=1)
    (got,) = _compute(client, loo)
    with np.errstate(invalid="ignore"):  # IEEE: 0 * inf = nan
        want = [[np.prod(np.delete(r, i)) for i in range(4)] for r in a]
    np.testing.assert_array_equal(got, want)


def _logreal_factors(factors):
    x = lr.LogReal(factors)
    cancel = 2 * np.sum(np.abs(np.where(np.isfinite(x.logabs), x.logabs, 0.0)), axis=1)
    return x, cancel[:, None]


@pytest.mark.parametrize("chunks", CHUNKS)
def test_logreal_products(client, factors, chunks):
    x, cancel = _logreal_factors(factors)
    dx = _dask_logreal(x, chunks)
    with lazy():
        c = lr.cumprod(dx, axis=1, reverse=True)
        e = lr.cumprod(dx, axis=1, exclusive=True)
        loo = lr.leave_one_out(dx, axis=1)
    got = _compute(client, c.logabs, c.sign, e.logabs, e.sign, loo.logabs, loo.sign)
    wants = (lr.cumprod(x, axis=1, reverse=True), lr.cumprod(x, axis=1, exclusive=True))
    for (gl, gs), want in zip(
        [got[0:2], got[2:4], got[4:6]], [*wants, lr.leave_one_out(x, 1)], strict=True
    ):
        np.testing.assert_array_equal(gs, want.sign)
        _close(gl, want.logabs, cancel)  # a compensated sum of the logs


def test_logreal_float32_kept(client, factors):
    x = lr.LogReal(np.float32(np.frexp(factors)[0]))
    dx = _dask_logreal(x, (2, 5))
    with lazy():
        loo = lr.leave_one_out(dx, axis=1)
    gl, gs = _compute(client, loo.logabs, loo.sign)
    want = lr.leave_one_out(x, axis=1)
    assert gl.dtype == np.float32 and gs.dtype == np.float32
    np.testing.assert_array_equal(gs, want.sign)
    np.testing.assert_allclose(gl, want.logabs, rtol=0, atol=64 * 2.0**-23)


@pytest.mark.parametrize("chunks", [1, 5, 24])
def test_prod_grad(client, factors, rng, chunks):
    f = factors[0]  # p(t) = prod_i (f_i + t df_i): a chunk of zeros, partials out of range
    df = rng.normal(size=(24, 2, 1)) * np.ones((1, 1, 3))
    fe = np.broadcast_to(f[:, None], (24, 3)).copy()
    for fx, dfx in ((da.from_array(fe, chunks=(chunks, 2)), df), (fe, da.from_array(df, chunks))):
        with lazy():
            g = lr.prod_grad(fx, dfx)
        (got,) = _compute(client, g)
        assert got.shape == (2, 3)
        loo = exact_loo(f.tolist())
        for p in range(2):
            terms = [q * Fraction(d) for q, d in zip(loo, df[:, p, 0].tolist(), strict=True)]
            exact, size = sum(terms), sum(abs(t) for t in terms)
            for e in range(3):
                err = abs(Fraction(float(got[p, e])) - exact)
                assert err <= (2 * len(f) + 8) * Fraction(U) * size + Fraction(TINY), p


@pytest.mark.parametrize("zero", [True, False])
def test_logreal_prod_grad(client, factors, rng, zero):
    row = factors[1:2].copy()  # one zero: only its own term survives
    if not zero:
        row[0, 5] = 3.0
    x, cancel = _logreal_factors(row)
    f = x[0]
    df = lr.LogReal(rng.normal(size=(24, 4)))
    with lazy():
        g = lr.prod_grad(_dask_logreal(f, 5), df)
    gl, gs = _compute(client, g.logabs, g.sign)
    want = lr.prod_grad(f, df)
    cond = np.exp(np.asarray(lr.prod_grad(abs(f), abs(df)).logabs - want.logabs))
    np.testing.assert_array_equal(gs, want.sign)
    _close(gl, want.logabs, cond * (cancel[0] + 8))


def test_products_of_empty_and_single(client):
    x = da.zeros((2, 0), chunks=(1, 1))
    with lazy():
        c, loo = lr.cumprod(x, axis=1), lr.leave_one_out(da.ones((1,), chunks=1) * 3.0)
        g = lr.prod_grad(da.zeros((0,), chunks=1), da.zeros((0, 2), chunks=1))
    got_c, got_loo, got_g = _compute(client, c, loo, g)
    assert got_c.shape == (2, 0)
    np.testing.assert_array_equal(got_loo, [1.0])  # the empty product
    np.testing.assert_array_equal(got_g, [0.0, 0.0])  # p = 1, a constant


def test_unknown_chunk_sizes_raise(client, factors):
    x = da.from_array(factors, chunks=(1, 5))
    y = x[x > 0]  # boolean indexing: chunk sizes unknown until computed
    with lazy(), pytest.raises(ValueError, match="unknown chunk sizes"):
        lr.cumprod(y)
    with lazy(), pytest.raises(ValueError, match="unknown chunk sizes"):
        lr.leave_one_out(y)


# ---------------------------------------------------------------------------
# LogReal contractions: chunk pairs, then the exact sum over the contracted chunks.


@pytest.fixture
def matrices(rng):
    a = lr.LogReal.from_log(rng.normal(scale=300, size=(6, 30)), rng.choice([-1.0, 1.0], (6, 30)))
    b = lr.LogReal.from_log(rng.normal(scale=300, size=(30, 4)), rng.choice([-1.0, 1.0], (30, 4)))
    a[:, 10:15] = 0.0  # a chunk of zeros on the contracted axis
    a[2, :] = 0.0  # a row of zeros: an exact zero
    return a, b


def _check_product(got, want, cond):
    gl, gs = got
    np.testing.assert_array_equal(gs, want.sign)
    with np.errstate(invalid="ignore"):  # zero entries: -inf - -inf
        _close(gl, want.logabs, np.nan_to_num(cond, nan=0.0))


@pytest.mark.parametrize(("ca", "cb"), [((2, 5), (5, 3)), ((6, 1), (1, 4)), ((3, 30), (30, 2))])
def test_matmul_dot_einsum(client, matrices, ca, cb):
    a, b = matrices
    da_, db_ = _dask_logreal(a, ca), _dask_logreal(b, cb)
    with lazy():
        outs = [da_ @ db_, lr.dot(da_, b), lr.einsum("ij,jk->ik", da_, db_), a @ db_]
        outs += [
            lr.matmul(da_[0], db_),
            lr.einsum("ij,ij->i", da_, da_),
            lr.einsum("ii", da_[:, :6]),
        ]
    got = _compute(client, *(v for o in outs for v in (o.logabs, o.sign)))
    k = a.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        want = a @ b
        cond = (k + 10) * np.exp(np.asarray((abs(a) @ abs(b)).logabs - want.logabs))
        wants = [(want, cond)] * 4 + [(want[0], cond[0])]
        sq = lr.einsum("ij,ij->i", a, a)  # terms of one sign
        wants += [(sq, 0.0), (lr.einsum("ii", a[:, :6]), 0.0)]
    for i, (w, c) in enumerate(wants):
        _check_product(got[2 * i : 2 * i + 2], w, c)


def test_matmul_batched_float32_and_real(client, rng):
    a = lr.LogReal(rng.normal(size=(3, 1, 4, 8)).astype(np.float32))
    b = lr.LogReal(rng.normal(size=(2, 8, 5)).astype(np.float32))
    ra = rng.normal(size=(4, 8))
    with lazy():
        c = _dask_logreal(a, (1, 1, 2, 3)) @ _dask_logreal(b, (1, 3, 5))
        mixed = lr.matmul(da.from_array(ra, chunks=(2, 3)), _dask_logreal(lr.LogReal(ra.T), 4))
        real = lr.dot(da.from_array(ra, chunks=2), da.from_array(ra.T, chunks=3))  # dask: its dot
    gl, gs, ml, real_got = _compute(client, c.logabs, c.sign, mixed.logabs, real)
    want = a @ b
    assert gl.dtype == np.float32 and gl.shape == (3, 2, 4, 5)
    np.testing.assert_array_equal(gs, want.sign)
    cond = 18 * np.exp(np.asarray((abs(a) @ abs(b)).logabs - want.logabs, dtype=float))
    _close(gl.astype(np.float32), want.logabs, cond * 2.0**29)  # float32 ulps
    mw = lr.LogReal(ra) @ lr.LogReal(ra.T)
    mcond = 18 * np.exp(
        np.asarray((abs(lr.LogReal(ra)) @ abs(lr.LogReal(ra.T))).logabs - mw.logabs)
    )
    _close(ml, mw.logabs, mcond)
    _close(real_got, ra @ ra.T, 16 * np.abs(ra) @ np.abs(ra.T) / np.abs(ra @ ra.T))


# ---------------------------------------------------------------------------
# Memory: a chunked reduction never holds the whole array in one worker.


@pytest.mark.slow
def test_reductions_stay_within_chunks_in_memory(client):
    """Worker memory, sampled every 2 ms in each worker, grows by a few chunks'
    worth (8 MB each), far less than the array (4 10^7 float64, 320 MB; 10^8,
    800 MB, with LOGREAL_FULL=1), while it is generated and reduced in
    10^6-element chunks."""

    def start(dask_worker):
        import threading
        import time

        import psutil

        proc = psutil.Process()
        state = {"base": proc.memory_info().rss, "peak": 0, "stop": False}

        def loop():
            while not state["stop"]:
                state["peak"] = max(state["peak"], proc.memory_info().rss)
                time.sleep(0.002)

        dask_worker.logreal_sampler = (state, threading.Thread(target=loop, daemon=True))
        dask_worker.logreal_sampler[1].start()

    def stop(dask_worker):
        state, thread = dask_worker.logreal_sampler
        state["stop"] = True
        thread.join()
        return max(0, state["peak"] - state["base"])

    n, chunk = (10**8 if FULL else 4 * 10**7), 10**6
    x = da.random.default_rng(7).standard_normal(n, chunks=chunk)

    def warm(x):
        return [lr.logsumexp(x), lr.norm(x), lr.sum(lr.LogReal.from_log(x)).logabs]

    with lazy():
        outs = warm(x)
    small = da.random.default_rng(8).standard_normal(10**5, chunks=10**4)
    _compute(client, *warm(small))  # imports and kernels in every worker
    for out in outs:
        client.run(start)
        (got,) = _compute(client, out)
        peaks = client.run(stop)
        assert np.isfinite(got)
        # a few chunks' worth (a chunk, its signs and packed complex form, temporaries,
        # for each of a worker's threads), whatever n: 96 MB, an eighth of the array at
        # 10^8 and under a third in CI (the LogReal sum peaks at 58-74 MB alone, and
        # reached 82 MB beside the rest of the suite on 2 cores)
        assert max(peaks.values()) < 12 * 8 * chunk < 8 * n / 3, peaks


def test_logreal_of_dask_zeros_is_quiet():
    x = da.from_array(np.array([0.0, 2.0, -3.0, 0.0]), chunks=1)
    with lazy():
        y = lr.LogReal(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log 0 = -inf is intended, in the chunks too
        logabs, sign = dask.compute(y.logabs, y.sign, scheduler="sync")
    np.testing.assert_array_equal(sign, [0.0, 1.0, -1.0, 0.0])
    np.testing.assert_array_equal(logabs, [-np.inf, np.log(2.0), np.log(3.0), -np.inf])


def test_from_log_keeps_the_chunks():
    # a scalar sign broadcast as one chunk would make every worker hold the whole array
    y = lr.LogReal.from_log(da.zeros(10, chunks=2))
    assert y.sign.chunks == y.logabs.chunks == ((2,) * 5,)


@pytest.mark.parametrize("chunk", [1, 3])
def test_special_values_in_process(chunk):
    """Infinities, nans, zeros and subnormals meeting across chunks, computed
    in this process (so a stray warning fails the test) and checked against NumPy."""
    a = np.array(
        [[2.0, np.inf, 3.0, 0.0, 1e300, 1e300, 1e-300], [np.nan, 1.0, 0.0, 0.0, 1e-310, 5.0, -1.0]]
    )
    x = da.from_array(a, chunks=(1, chunk))
    y = lr.LogReal(x)

    def products(x, y):
        return [
            lr.cumprod(x, axis=1),
            lr.cumprod(x, axis=1, exclusive=True, reverse=True),
            lr.leave_one_out(x, axis=1),
            lr.leave_one_out(x, axis=1, method="log"),
            lr.prod_grad(x.T, x.T),
            lr.cumprod(y, axis=1).logabs,
            lr.leave_one_out(y, axis=1).logabs,
            lr.prod_grad(y.T, y.T).logabs,
            (y @ y.T).logabs,
        ]

    with lazy():
        outs = products(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = dask.compute(*outs, scheduler="sync")
    with np.errstate(invalid="ignore", divide="ignore"):  # NumPy's side: log 0, inf - inf
        wants = products(a, lr.LogReal(a))
    for g, w in zip(got, wants, strict=True):
        np.testing.assert_allclose(g, np.asarray(w), rtol=32 * 2.0**-52, atol=0, equal_nan=True)
