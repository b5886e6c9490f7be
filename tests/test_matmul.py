"""LogReal matrix products: the BLAS path with per-entry error bounds.

The oracle is the exact product of the stored (sign, logabs) pairs at 300
bits (``oracle.exact_value``).  Every entry is held to the bound the module
states: 2 ulp of the result, plus ``u`` times ``sum_k |t_k| (k + 10 +
|la_ik + lb_kj|) / |sum_k t_k|`` -- Higham's bound for a sum of k products
(``k + 10``) and, for entries recomputed by the per-entry path, the rounding
of each product's log (``|la + lb|``).  Signs are compared exactly.
"""

import math

import array_api_strict as xps
import mpmath
import numpy as np
import pytest

import logreal as lr
from logreal import _matmul, _numba, _reduce
from logreal._logreal import LogReal

from oracle import exact_value

U64 = 2.0**-53
U32 = 2.0**-24


def _exact_factors(x, transpose=False):
    s, lg = np.asarray(x.sign, np.float64), np.asarray(x.logabs, np.float64)
    if transpose:
        s, lg = s.T, lg.T
    return [
        [exact_value(a, b) for a, b in zip(rs, rl, strict=True)]
        for rs, rl in zip(s, lg, strict=True)
    ]


def reference(a, b):
    """Exact entries of ``a @ b`` (2-d): value, sum |t|, sum |t| (k + 10 + |la + lb|)."""
    ea, eb = _exact_factors(a), _exact_factors(b, transpose=True)
    la, lb = np.asarray(a.logabs, np.float64), np.asarray(b.logabs, np.float64)
    k = la.shape[1]
    out = []
    for i, row in enumerate(ea):
        line = []
        for j, col in enumerate(eb):
            terms = [x * y for x, y in zip(row, col, strict=True)]
            logs = la[i] + lb[:, j]
            weight = [
                abs(t) * (k + 10 + abs(lg)) if t else 0 for t, lg in zip(terms, logs, strict=True)
            ]
            line.append(
                (mpmath.fsum(terms), mpmath.fsum(abs(t) for t in terms), mpmath.fsum(weight))
            )
        out.append(line)
    return out


def check(got, ref, dtype=np.float64):
    """Assert every entry within the bound; return the worst error in units of
    ``ulp(L) + u * sum|t| / |sum t|`` (the contract's few ulp + cancellation term)."""
    u = U64 if dtype == np.float64 else U32
    sign, logabs = np.asarray(got.sign), np.asarray(got.logabs)
    assert sign.dtype == logabs.dtype == dtype
    worst = 0.0
    for i, line in enumerate(ref):
        for j, (v, p, w) in enumerate(line):
            if v == 0:
                assert sign[i, j] == 0 and logabs[i, j] == -math.inf, (i, j)
                continue
            assert sign[i, j] == (1 if v > 0 else -1), (i, j)
            exact = mpmath.log(abs(v))
            ulp = float(np.spacing(np.abs(dtype(float(exact)))))
            err = float(abs(mpmath.mpf(float(logabs[i, j])) - exact))
            bound = 2 * ulp + 2 * u + u * float(w / abs(v))
            assert err <= bound, (i, j, float(logabs[i, j]), float(exact), err, bound)
            worst = max(worst, err / (ulp + u * float(p / abs(v))))
    return worst


@pytest.fixture
def recomputed(monkeypatch):
    """Counts the entries recomputed by the per-entry path."""
    count = {"entries": 0}
    inner = _matmul.exact_entries

    def counting(a, b, mask):
        count["entries"] += int(np.sum(np.asarray(mask)))
        return inner(a, b, mask)

    monkeypatch.setattr(_matmul, "exact_entries", counting)
    return count


def signed(rng, shape, scale, positive=False):
    sign = np.ones(shape) if positive else rng.choice([-1.0, 1.0], shape)
    return LogReal.from_log(rng.normal(0.0, scale, shape), sign)


def _as(x, dtype):
    return LogReal._new(np.asarray(x.sign, dtype), np.asarray(x.logabs, dtype))


# -- accuracy against the 300-bit oracle -------------------------------------


@pytest.mark.parametrize("positive", [False, True], ids=["signed", "positive"])
@pytest.mark.parametrize("scale", [0.3, 3.0, 30.0, 300.0])
def test_random_matrices_within_a_few_ulp(rng, scale, positive, recomputed):
    a, b = signed(rng, (12, 160), scale, positive), signed(rng, (160, 10), scale, positive)
    worst = check(a @ b, reference(a, b))
    kind = "positive" if positive else "signed"
    print(f"random scale {scale} {kind}: worst {worst:.2f}, recomputed {recomputed['entries']}")
    assert worst < 4
    if scale <= 30:  # wider logs put some entries far below their shift
        assert recomputed["entries"] == 0


def test_old_path_off_by_many_ulp_where_the_new_is_not(rng):
    # logs of scale 10: the per-entry path rounds each la + lb, ~15 ulp here
    a, b = signed(rng, (10, 64), 10.0), signed(rng, (64, 10), 10.0)
    ref = reference(a, b)
    assert check(a @ b, ref) < 2.5
    assert check(_reduce._contract_exact(a, b), ref) > check(a @ b, ref)


def test_shift_underflow_example():
    a = lr.exp(np.array([[0.0, -800.0]]))
    b = lr.exp(np.array([[-800.0], [0.0]]))
    got = a @ b
    assert float(got.logabs[0, 0]) == -799.3068528194401
    assert float(got.sign[0, 0]) == 1


def test_entries_far_below_their_shift(rng, recomputed):
    # row maxima sit in column 0 of A, column maxima in row 1 of B: every
    # product is at most e**-700 while r_i + c_j is near 0
    m, k, n = 6, 8, 5
    la = rng.uniform(-1000.0, -700.0, (m, k))
    lb = rng.uniform(-1000.0, -700.0, (k, n))
    la[:, 0], lb[1, :] = rng.normal(0, 1, m), rng.normal(0, 1, n)
    lb[0, :], la[:, 1] = -1e4, -1e4
    a = LogReal.from_log(la, rng.choice([-1.0, 1.0], (m, k)))
    b = LogReal.from_log(lb, rng.choice([-1.0, 1.0], (k, n)))
    worst = check(a @ b, reference(a, b))
    print(f"far below the shift: worst {worst:.2f}, recomputed {recomputed['entries']}/{m * n}")
    assert recomputed["entries"] == m * n


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_range_entries(rng, dtype, recomputed):
    m, k, n = 10, 40, 9
    a = LogReal.from_log(rng.uniform(-1000, 1000, (m, k)), rng.choice([-1.0, 1.0], (m, k)))
    b = LogReal.from_log(rng.uniform(-1000, 1000, (k, n)), rng.choice([-1.0, 1.0], (k, n)))
    a, b = _as(a, dtype), _as(b, dtype)
    worst = check(a @ b, reference(a, b), dtype)
    print(f"wide {np.dtype(dtype)}: worst {worst:.2f}, recomputed {recomputed['entries']}")


def test_cancellation_exact_and_near(recomputed):
    big = 1000.0
    near = math.log1p(-(2.0**-40))
    a = LogReal.from_log(
        np.array([[big, big, 10.0], [0.0, near, -5.0], [0.0, 0.0, 0.0]]),
        np.array([[1.0, -1.0, 1.0], [1.0, -1.0, 0.0], [1.0, -1.0, 0.0]]),
    )
    b = LogReal(np.ones((3, 2)))
    got = a @ b
    ref = reference(a, b)
    check(got, ref)
    assert float(got.logabs[0, 0]) == 10.0  # e**1000 - e**1000 + e**10
    assert float(got.sign[2, 0]) == 0  # 1 - 1: the exact zero
    assert recomputed["entries"] == 6


def test_random_cancellation_heavy(rng, recomputed):
    # rows of A nearly orthogonal to the columns of B: large cancellation ratios
    m, k, n = 8, 48, 8
    x = rng.normal(size=(m, k))
    y = rng.normal(size=(k, n))
    y -= x.T @ np.linalg.lstsq(x.T, y, rcond=None)[0] * (1 - 1e-9)
    a, b = LogReal(x), LogReal(y)
    worst = check(a @ b, reference(a, b))
    print(f"cancellation: worst {worst:.2f}, recomputed {recomputed['entries']}/{m * n}")
    assert recomputed["entries"] > 0


# -- special values, zeros and shapes: the per-entry path is the oracle -------


def _same(got, want):
    np.testing.assert_array_equal(np.asarray(got.sign), np.asarray(want.sign))
    np.testing.assert_array_equal(np.asarray(got.logabs), np.asarray(want.logabs))


def test_infinities_nan_and_zeros_follow_ieee():
    inf, nan = math.inf, math.nan
    a = LogReal(np.array([[inf, 1.0, 2.0], [1.0, nan, 0.0], [0.0, 0.0, 0.0], [1.0, -inf, 3.0]]))
    b = LogReal(np.array([[1.0, 0.0, inf], [2.0, 1.0, 1.0], [1.0, 5.0, -1.0]]))
    got = a @ b
    _same(got, _reduce._contract_exact(a, b))
    real = np.asarray(got)
    assert np.isnan(real[0, 1])  # inf * 0
    assert real[0, 0] == inf and real[0, 2] == inf
    assert np.isnan(real[1]).all()
    assert (np.asarray(got.sign[2, :2]) == 0).all()  # a zero row gives the zero
    assert np.isnan(real[2, 2])  # ... but 0 * inf is nan
    assert np.isnan(real[3, 2])  # -inf * inf + ... = -inf + inf
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(real, np.asarray(a) @ np.asarray(b))


def test_shifts_at_the_ends_of_the_float_range():
    big = np.finfo(np.float64).max
    la = np.array([[big, 0.0], [-big, 0.0], [-big, -math.inf], [big, -math.inf]])
    lb = np.array([[big, -big, -math.inf], [-math.inf, 0.0, 0.0]])
    a = LogReal.from_log(la, np.array([[1.0, -1.0], [1.0, 1.0], [-1.0, 0.0], [1.0, 0.0]]))
    b = LogReal.from_log(lb, np.array([[1.0, 1.0, 0.0], [0.0, 1.0, -1.0]]))
    with np.errstate(all="raise"):
        got = a @ b
    _same(got, _reduce._contract_exact(a, b))
    assert float(got.logabs[0, 0]) == math.inf  # e**big * e**big overflows
    assert float(got.sign[2, 1]) == 0  # e**-big * e**-big underflows to the zero


def test_zeros_and_sparse_rows(rng, recomputed):
    x = rng.normal(size=(9, 20)) * (rng.uniform(size=(9, 20)) < 0.3)
    y = rng.normal(size=(20, 7)) * (rng.uniform(size=(20, 7)) < 0.3)
    x[0], y[:, 0] = 0.0, 0.0
    a, b = LogReal(x), LogReal(y)
    check(a @ b, reference(a, b))
    assert (np.asarray((a @ b).sign)[0] == 0).all()


@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((3,), (3,)),
        ((3,), (3, 4)),
        ((2, 3), (3,)),
        ((5, 2, 3), (3, 4)),
        ((2, 1, 4, 3), (5, 3, 2)),
        ((0, 3), (3, 4)),
        ((2, 3), (3, 0)),
        ((3, 0), (0, 4)),
        ((2, 2, 0), (0, 3)),
    ],
)
def test_shapes_match_numpy_and_the_per_entry_path(rng, sa, sb):
    x, y = rng.normal(size=sa), rng.normal(size=sb)
    got = lr.matmul(LogReal(x), LogReal(y))
    want = x @ y
    assert got.shape == want.shape
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-300)
    a2 = LogReal(x).reshape(1, -1) if x.ndim == 1 else LogReal(x)
    b2 = LogReal(y).reshape(-1, 1) if y.ndim == 1 else LogReal(y)
    with pytest.MonkeyPatch.context() as mp:  # every entry through the per-entry path
        mp.setattr(_matmul, "TOL", 2.0**-1000)
        _same(_matmul.scaled_matmul(a2, b2), _reduce._contract_exact(a2, b2))


def test_empty_sum_is_the_zero():
    got = LogReal(np.ones((3, 0))) @ LogReal(np.ones((0, 4)))
    assert got.shape == (3, 4)
    assert (np.asarray(got.sign) == 0).all() and (np.asarray(got.logabs) == -math.inf).all()


def test_batched_recompute_scatters_to_the_right_entries(rng):
    # huge logs and mixed signs: many entries recomputed, in a broadcast batch
    a = LogReal.from_log(
        rng.uniform(-900, 900, (3, 1, 4, 6)), rng.choice([-1.0, 1.0], (3, 1, 4, 6))
    )
    b = LogReal.from_log(rng.uniform(-900, 900, (2, 6, 5)), rng.choice([-1.0, 1.0], (2, 6, 5)))
    got = a @ b
    assert got.shape == (3, 2, 4, 5)
    for i in range(3):
        for j in range(2):
            check(got[i, j], reference(a[i, 0], b[j]))


def test_row_blocks_agree_with_one_block(rng, monkeypatch):
    m, k, n = 300, 70, 60  # two row blocks of the result
    la, lb = rng.normal(0, 20, (m, k)), rng.normal(0, 20, (k, n))
    sa, sb = rng.choice([-1.0, 1.0], (m, k)), rng.choice([-1.0, 1.0], (k, n))
    la[290, 3], la[295] = math.inf, -math.inf  # an infinity and a zero row, in block 2
    sa[295] = 0.0
    la[280, :2], sa[280, :2], lb[:2, 7] = 500.0, [1.0, -1.0], 0.0  # exact cancellation
    a, b = LogReal.from_log(la, sa), LogReal.from_log(lb, sb)
    assert _matmul._BLOCK_ENTRIES // n < m
    got = a @ b
    monkeypatch.setattr(_matmul, "_BLOCK_ENTRIES", 1 << 40)
    one = a @ b
    np.testing.assert_array_equal(np.asarray(got.sign), np.asarray(one.sign))
    np.testing.assert_allclose(np.asarray(got.logabs), np.asarray(one.logabs), rtol=4 * U64)
    monkeypatch.setattr(_matmul, "_BLOCK_ENTRIES", 1 << 14)
    monkeypatch.setattr(_matmul, "TOL", 2.0**-1000)  # every entry recomputed
    _same(a @ b, _reduce._contract_exact(a, b))


def test_dot_nd_and_mixed_real_operands(rng):
    t, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4, 2))
    got = lr.dot(LogReal(t), v)
    np.testing.assert_allclose(np.asarray(got), np.dot(t, v), rtol=1e-12)
    got = np.matmul(t[0], LogReal(v[0]))
    assert isinstance(got, LogReal)
    np.testing.assert_allclose(np.asarray(got), t[0] @ v[0], rtol=1e-12)


def test_float32_stays_float32(rng):
    a = _as(signed(rng, (7, 30), 5.0), np.float32)
    b = _as(signed(rng, (30, 6), 5.0), np.float32)
    got = a @ b
    assert got.dtype == np.float32
    worst = check(got, reference(a, b), np.float32)
    print(f"float32: worst {worst:.2f}")
    assert worst < 1.5


# -- building blocks ---------------------------------------------------------


def test_strict_namespace_agrees_with_numpy(rng):
    la = rng.uniform(-900, 900, (2, 4, 6))
    lb = rng.uniform(-900, 900, (6, 3))
    sa, sb = rng.choice([-1.0, 1.0], la.shape), rng.choice([-1.0, 0.0, 1.0], lb.shape)
    with _numba.portable():
        want = LogReal.from_log(la, sa) @ LogReal.from_log(lb, sb)
    got = LogReal.from_log(xps.asarray(la), xps.asarray(sa)) @ LogReal.from_log(
        xps.asarray(lb), xps.asarray(sb)
    )
    assert type(got.logabs).__module__.startswith("array_api_strict")
    _same(LogReal._new(np.asarray(got.sign), np.asarray(got.logabs)), want)


def test_bench_case_agrees_with_its_baseline():
    from logreal.cli import bench_matmul as _bench_matmul

    cases = list(_bench_matmul.matmul_cases(quick=True))
    assert [c.n for c in cases] == [64, 256]
    ours, baselines = cases[0].prepare()
    got = ours()
    logabs, sign = baselines["broadcast + scipy logsumexp"]()
    np.testing.assert_array_equal(np.asarray(got.sign), sign)
    np.testing.assert_allclose(np.asarray(got.logabs), logabs, rtol=1e-12, atol=1e-12)
