"""cumprod, leave_one_out and prod_grad (API.md section 3).

Oracles, never our own output:

- exact ``fractions.Fraction`` arithmetic on the binary inputs (a float64 is
  a dyadic rational), rounded once to float64;
- products of powers of two, exact in integer exponent arithmetic, for large
  n and for partial products that leave the float range;
- explicit matrix chains with small integer entries (exact in floats);
- the left-to-right IEEE product of Python floats for zeros, infinities, nans;
- mpmath at 300 bits from the stored (sign, logabs) for LogReal
  (``tests/oracle.py``);
- the naive O(n^2) method for the other methods, on inputs where the naive
  method itself is checked against Fractions.

Bounds.  A float product of m factors formed by m - 1 roundings has relative
error at most (m - 1) u (u = 2**-53); every method forms each result from at
most n + 4 roundings (the scaled slow path adds a few renormalisations, which
are exact), so results are held to ``(n + 4) u |exact|`` plus half the
smallest subnormal for results that land in the subnormal range.  LogReal
results are compensated sums: held to 4 ulp of the exact log-magnitude plus 2
ulp of the larger partial sum (the rounding of a stored prefix).
"""

from __future__ import annotations

import math
import tracemalloc
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import logreal as lr
from conftest import FULL
from logreal import _numba

from oracle import ulp_error

U = 2.0**-53
TINY = 2.0**-1074
METHODS = ["naive", "division", "log", "dp", "scan"]
FAST = ["division", "log", "dp", "scan"]  # what runs at n = 10^5
OP_METHODS = ["naive", "dp", "scan"]

# ---------------------------------------------------------------------------
# Oracles


def exact_loo(x: list[float]) -> list[Fraction]:
    """Leave-one-out products of finite floats, exactly."""
    q = [Fraction(v) for v in x]
    pre = [Fraction(1)]
    for v in q:
        pre.append(pre[-1] * v)
    suf = [Fraction(1)]
    for v in reversed(q):
        suf.append(suf[-1] * v)
    suf.reverse()
    return [pre[i] * suf[i + 1] for i in range(len(q))]


def to_float(q: Fraction) -> float:
    """The float64 nearest to ``q`` (+-inf beyond the range)."""
    try:
        return q.numerator / q.denominator  # correctly rounded, subnormals too
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def assert_close(got: object, exact: list[Fraction], rel: float) -> None:
    """Each float within ``rel * |exact| + TINY / 2`` of its exact value, or
    exactly +-inf where the exact value rounds beyond the float range."""
    got = np.asarray(got, dtype=np.float64).ravel()
    assert got.shape == (len(exact),)
    for g, e in zip(got.tolist(), exact, strict=True):
        f = to_float(e)
        if math.isinf(f):
            assert g == f, (g, f)
            continue
        assert math.isfinite(g), (g, f)
        err = abs(Fraction(g) - e)
        assert err <= Fraction(rel) * abs(e) + Fraction(TINY) / 2, (g, f, float(err))


def loo_bound(x: list[float], method: str) -> float:
    """The relative error bound of one method on float input (module notes).

    For "log" each of the n logs is rounded (half an ulp of |log x_j|), so the
    bound grows with the sum of |log x_j| (the log trick's price on floats).
    """
    n = len(x)
    if method != "log":
        return (n + 4) * U
    logs = sum(abs(math.log(abs(v))) for v in x if v != 0)
    return 2 * U * (logs + n + 4)


def assert_exact(got: object, want: object, method: str, rtol: float = 1e-14) -> None:
    """Equal; for "log" on floats within ``rtol`` (exp(log 3) is not 3)."""
    if method == "log":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
    else:
        np.testing.assert_array_equal(got, want)


def ieee_loo(x: list[float]) -> list[float]:
    """The left-to-right IEEE product of the others (Python floats)."""
    out = []
    for i in range(len(x)):
        p = 1.0
        for j, v in enumerate(x):
            if j != i:
                p = p * v
        out.append(p)
    return out


def logreal_loo_exact(lx: lr.LogReal) -> tuple[list[int], list[mpmath.mpf], list[mpmath.mpf]]:
    """Signs, exact log-magnitudes and the larger exact partial sum (prefix or
    suffix) of the leave-one-out products of the stored values."""
    signs = np.asarray(lx.sign).tolist()
    logs = [mpmath.mpf(v) for v in np.asarray(lx.logabs).tolist()]
    total = mpmath.fsum(logs)
    out_s, out_l, partial = [], [], []
    run = mpmath.mpf(0)
    for i, la in enumerate(logs):
        s = math.prod(int(v) for k, v in enumerate(signs) if k != i)
        out_s.append(s)
        out_l.append(total - la)
        partial.append(max(abs(run), abs(total - run - la)))
        run += la
    return out_s, out_l, partial


def assert_logreal_close(got: lr.LogReal, signs, logs, partial) -> None:
    gs = np.asarray(got.sign).ravel().tolist()
    gl = np.asarray(got.logabs).ravel().tolist()
    for s, la, g_s, g_l, p in zip(signs, logs, gs, gl, partial, strict=True):
        assert g_s == s
        ulps = 4 + 2 * float(np.spacing(np.float64(float(p)))) / float(
            np.spacing(np.float64(abs(float(la))))
        )
        assert ulp_error(g_l, la) <= ulps, (g_l, float(la))


def chain(mats, k: int) -> np.ndarray:
    out = np.eye(k)
    for m in mats:
        out = out @ m
    return out


# ---------------------------------------------------------------------------
# Small cases against exact arithmetic: every method.

CASES = {
    "empty": [],
    "n=1": [3.0],
    "n=1 zero": [0.0],
    "zero first": [0.0, 2.0, 3.0, 5.0],
    "zero middle": [2.0, 3.0, 0.0, 5.0],
    "zero last": [2.0, 3.0, 5.0, 0.0],
    "two zeros": [2.0, 0.0, 3.0, 0.0],
    "three zeros": [0.0, 2.0, 0.0, 0.0, 7.0],
    "negatives": [-2.0, 3.0, -0.5, -7.0],
    "negative with zero": [-2.0, 0.0, -3.0],
    "signed zero": [-0.0, 2.0, -3.0],
    "fractions": [0.1, 1 / 3, 2.5, -1e-3, 7e5],
    "underflow then back": [1e-300, 1e-300, 1e300, 1e300],
    "overflow then back": [1e300, 1e300, 1e-300, 1e-300],
    "subnormal factor": [5e-324, 1e300, 4.0],
    "huge and tiny": [1e-200] * 5 + [1e200] * 5,
    "results overflow": [1e300, 1e300, 1e300, 0.5],
    "results underflow": [1e-300, 1e-300, 1e-300, 3.0],
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
@pytest.mark.parametrize("method", METHODS)
def test_leave_one_out_matches_fractions(method: str, case: str) -> None:
    x = CASES[case]
    got = lr.leave_one_out(np.array(x, dtype=np.float64), method=method)
    assert isinstance(got, np.ndarray) and got.shape == (len(x),)
    assert_close(got, exact_loo(x), loo_bound(x, method))


@pytest.mark.parametrize("method", METHODS)
def test_float_range_case_from_the_issue(method: str) -> None:
    # A partial product (1e-600) underflows, the answers are representable.
    got = lr.leave_one_out(np.array([1e-300, 1e-300, 1e300, 1e300]), method=method)
    np.testing.assert_allclose(got, [1e300, 1e300, 1e-300, 1e-300], rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_random_rationals_match_fractions(method: str, rng) -> None:
    for _ in range(25):
        n = int(rng.integers(1, 40))
        x = rng.choice([-1.0, 1.0], n) * rng.integers(1, 1000, n) * 2.0 ** rng.integers(-60, 60, n)
        x[rng.random(n) < rng.choice([0.0, 0.05, 0.2])] = 0.0
        assert_close(
            lr.leave_one_out(x, method=method), exact_loo(x.tolist()), loo_bound(x, method)
        )


@pytest.mark.parametrize("method", METHODS)
def test_random_wide_range_matches_fractions(method: str, rng) -> None:
    for _ in range(10):
        n = int(rng.integers(2, 25))
        x = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-300, 300, n)
        assert_close(
            lr.leave_one_out(x, method=method), exact_loo(x.tolist()), loo_bound(x, method)
        )


finite = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)
tricky = st.one_of(
    finite,
    st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1e-310, 1e-300, 1e300, -1.7e308, 1.0, -1.0]),
)


@given(st.lists(tricky, max_size=12))
def test_hypothesis_against_fractions(x: list[float]) -> None:
    exact = exact_loo(x)
    for method in METHODS:
        got = lr.leave_one_out(np.array(x, dtype=np.float64), method=method)
        assert_close(got, exact, loo_bound(x, method))


# ---------------------------------------------------------------------------
# Infinities and nans follow IEEE.

SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, 2.0, -3.0, 0.5]


@pytest.mark.parametrize("method", METHODS)
def test_ieee_specials_match_python_products(method: str, rng) -> None:
    for _ in range(150):
        x = rng.choice(SPECIALS, int(rng.integers(1, 7))).tolist()
        want = np.array(ieee_loo(x))
        got = lr.leave_one_out(np.array(x), method=method)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        if method == "log":  # exp(log 3) is not 3, and LogReal has one zero (no -0.0)
            np.testing.assert_allclose(got, want, rtol=1e-15)
        else:
            np.testing.assert_array_equal(got, want)
            ok = ~np.isnan(want)
            np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))


@pytest.mark.parametrize("method", METHODS)
def test_logreal_specials(method: str) -> None:
    x = lr.LogReal([2.0, 0.0, math.inf, -3.0])
    got = lr.leave_one_out(x, method=method).to_real()
    np.testing.assert_array_equal(np.isnan(got), [True, False, False, True])  # 0 * inf
    assert got[1] == -math.inf and got[2] == 0.0  # 2 * inf * -3, 2 * 0 * -3
    one_zero = lr.leave_one_out(lr.LogReal([2.0, 0.0, -3.0, 0.5]), method=method)
    np.testing.assert_allclose(one_zero.to_real(), [0.0, -3.0, 0.0, 0.0], rtol=1e-15)


# ---------------------------------------------------------------------------
# Large n and ranges: products of powers of two are exact.


def powers_of_two(rng, n: int, span: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """±2**k_i whose exponents sum to 0: the partial products wander (for
    span 40, thousands of binades outside the float range), the leave-one-out
    products 2**-k_i do not."""
    half = rng.integers(-span, span + 1, n // 2)
    k = np.concatenate([half, -rng.permutation(half)])
    s = rng.choice([-1.0, 1.0], k.size)
    return s * np.ldexp(1.0, k), s, k


def exact_powers(sign: np.ndarray, k: np.ndarray) -> np.ndarray:
    """sign * 2**k, exact (or 0 / inf beyond the float range)."""
    with np.errstate(over="ignore", under="ignore"):
        return sign * np.ldexp(1.0, k)


def expected_powers(s: np.ndarray, k: np.ndarray) -> np.ndarray:
    return exact_powers(np.prod(s) * s, int(k.sum()) - k)


@pytest.mark.parametrize("method", FAST)
@pytest.mark.parametrize("span", [1, 40])
def test_many_blocks_powers_of_two(method: str, span: int, rng) -> None:
    # span 40: the partial products wander far outside the float range
    # (|sum of k| reaches thousands); the answers are exact powers of two.
    x, s, k = powers_of_two(rng, 30_000, span)
    assert span == 1 or np.abs(np.cumsum(k)).max() > 1100
    want = expected_powers(s, k)
    got = lr.leave_one_out(x, method=method)
    # log: each factor's log is rounded, so the result is not a power of two
    assert_exact(got, want, method, rtol=2 * U * (30_000 + np.abs(k).sum()))


@pytest.mark.parametrize("method", FAST)
def test_float32_partial_products_leave_the_range(method: str, rng) -> None:
    # float32 prefixes wander far beyond 2**+-127 across many blocks; the
    # answers 2**-k_i are float32 numbers.  (dp cannot stash a seed in a
    # float32 output: it keeps it aside.)
    x, s, k = powers_of_two(rng, 20_000, 12)
    assert np.abs(np.cumsum(k)).max() > 200
    got = lr.leave_one_out(x.astype(np.float32), method=method)
    assert got.dtype == np.float32
    want = expected_powers(s, k).astype(np.float32)
    assert_exact(got, want, method, rtol=2 * 2.0**-24 * (20_000 + np.abs(k).sum()))


def test_naive_on_powers_of_two(rng) -> None:
    x, s, k = powers_of_two(rng, 300, 30)
    np.testing.assert_array_equal(lr.leave_one_out(x, method="naive"), expected_powers(s, k))


# ---------------------------------------------------------------------------
# LogReal range: 10^5 probabilities.

HALVES_LOO = mpmath.mpf("-69314.024908813970996")  # log 2**-99999
HALVES_PROD = mpmath.mpf("-69314.718055994530942")  # log 2**-100000


@pytest.fixture(scope="module")
def halves() -> lr.LogReal:
    return lr.LogReal(np.full(100_000, 0.5))


@pytest.mark.parametrize("method", FAST)
def test_halves_leave_one_out_logreal(method: str, halves: lr.LogReal) -> None:
    got = lr.leave_one_out(halves, method=method)
    assert isinstance(got, lr.LogReal) and got.shape == (100_000,)
    assert (np.asarray(got.sign) == 1).all()
    # The exact value of the stored inputs, and the true log 2**-99999.
    stored = 99_999 * mpmath.mpf(float(np.log(0.5)))
    worst = max(ulp_error(v, stored) for v in np.unique(np.asarray(got.logabs)).tolist())
    assert worst <= 4
    assert max(ulp_error(v, HALVES_LOO) for v in np.unique(np.asarray(got.logabs))) <= 4


def test_halves_product_and_gradient(halves: lr.LogReal) -> None:
    last = lr.cumprod(halves)[-1]
    assert ulp_error(float(last.logabs), HALVES_PROD) <= 4
    assert ulp_error(float(lr.cumprod(halves, reverse=True)[0].logabs), HALVES_PROD) <= 4
    for method in FAST:
        g = lr.prod_grad(halves, np.ones(100_000), method=method)
        assert isinstance(g, lr.LogReal)
        assert ulp_error(float(g.logabs), mpmath.log(100_000) + HALVES_LOO) <= 4
    # Floats underflow to 0 here, the LogReal result is exact.
    assert lr.leave_one_out(np.full(100_000, 0.5), method="dp")[0] == 0.0


@pytest.mark.parametrize("method", FAST)
def test_one_zero_among_halves(method: str, halves: lr.LogReal) -> None:
    x = lr.LogReal(np.full(100_000, 0.5))
    x[31_337] = 0.0
    got = lr.leave_one_out(x, method=method)
    nonzero = np.flatnonzero(np.asarray(got.sign))
    np.testing.assert_array_equal(nonzero, [31_337])
    assert ulp_error(float(got[31_337].logabs), HALVES_LOO) <= 4
    g = lr.prod_grad(x, np.ones(100_000), method=method)
    assert ulp_error(float(g.logabs), HALVES_LOO) <= 4  # only one term survives


def test_one_zero_among_many_floats() -> None:
    x = np.ones(100_000)
    x[7] = 0.0
    for method in FAST:
        got = lr.leave_one_out(x, method=method)
        np.testing.assert_array_equal(np.flatnonzero(got), [7])
        assert got[7] == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_logreal_random_against_mpmath(method: str, rng) -> None:
    for _ in range(8):
        n = int(rng.integers(1, 30))
        x = lr.LogReal.from_log(rng.normal(0, 300, n), sign=rng.choice([-1, 1], n))
        assert_logreal_close(lr.leave_one_out(x, method=method), *logreal_loo_exact(x))


@pytest.mark.parametrize("method", METHODS)
def test_logreal_products_beyond_the_log_range(method: str) -> None:
    # log-magnitudes -1e308 twice: the sum of logs overflows to -inf, the zero.
    x = lr.LogReal.from_log([-1e308, -1e308, 1.0], sign=[1, -1, 1])
    got = lr.leave_one_out(x, method=method)
    np.testing.assert_array_equal(np.asarray(got.sign), [-1, 1, 0])
    np.testing.assert_array_equal(np.asarray(got.logabs), [1.0 - 1e308, 1.0 - 1e308, -np.inf])


def test_logreal_far_outside_float_range() -> None:
    x = lr.exp([-1e6, 2e6, -3e5]) * [1, -1, 1]
    got = lr.leave_one_out(x, method="dp")
    np.testing.assert_array_equal(np.asarray(got.sign), [-1, 1, -1])
    np.testing.assert_array_equal(np.asarray(got.logabs), [1.7e6, -1.3e6, 1e6])


# ---------------------------------------------------------------------------
# Batches: leave-one-out along any axis, gradients with any parameter shape.


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("method", METHODS)
def test_batched_along_any_axis(method: str, axis: int, rng) -> None:
    x = rng.integers(-4, 5, (3, 6, 4)).astype(np.float64)
    want = np.stack(
        [np.prod(np.delete(x, i, axis=axis), axis=axis) for i in range(x.shape[axis])],
        axis=axis,
    )  # small integers: exact in floats
    assert_exact(lr.leave_one_out(x, axis=axis, method=method), want, method)
    got = lr.leave_one_out(lr.LogReal(x), axis=axis, method=method)
    assert isinstance(got, lr.LogReal) and got.shape == x.shape
    np.testing.assert_allclose(got.to_real(), want, rtol=1e-14)


def test_batched_many_blocks_matches_naive(rng) -> None:
    # 100 columns: a block holds 81 rows, so 300 rows span 4 blocks.
    x = np.exp(rng.normal(0, 1, (300, 100))) * rng.choice([-1, 1], (300, 100))
    x[5, 3] = x[290, 3] = 0.0
    x[100, 7] = 0.0
    naive = lr.leave_one_out(x, method="naive")
    for method in FAST:
        np.testing.assert_allclose(lr.leave_one_out(x, method=method), naive, rtol=1e-12)


@pytest.mark.parametrize("pshape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("method", METHODS)
def test_prod_grad_parameter_shapes(method: str, pshape: tuple[int, ...], rng) -> None:
    f = rng.integers(-4, 5, 6).astype(np.float64)
    f[2] = 0.0 if pshape == (3,) else f[2]
    df = rng.integers(-4, 5, (6, *pshape)).astype(np.float64)
    loo = exact_loo(f.tolist())
    want = np.zeros(pshape)
    for i in range(6):
        want = want + float(loo[i]) * df[i]  # small integers: exact
    got = lr.prod_grad(f, df, method=method)
    assert np.shape(got) == pshape
    assert_exact(got, want, method)
    gl = lr.prod_grad(lr.LogReal(f), df, method=method)
    assert isinstance(gl, lr.LogReal) and gl.shape == pshape
    np.testing.assert_allclose(gl.to_real(), want, rtol=1e-14, atol=1e-12)


def test_prod_grad_elementwise_elements(rng) -> None:
    f = rng.integers(-4, 5, (5, 2)).astype(np.float64)
    df = rng.integers(-4, 5, (5, 3, 2)).astype(np.float64)
    want = sum(np.prod(np.delete(f, i, axis=0), axis=0) * df[i] for i in range(5))
    for method in METHODS:
        assert_exact(lr.prod_grad(f, df, method=method), want, method)


@pytest.mark.parametrize("method", METHODS)
def test_prod_grad_float_range(method: str) -> None:
    f = np.array([1e-300, 1e-300, 1e300, 1e300])
    exact = sum(exact_loo(f.tolist()))
    got = lr.prod_grad(f, np.ones(4), method=method)
    assert abs(Fraction(float(got)) - exact) <= Fraction(loo_bound(f.tolist(), method)) * exact


# ---------------------------------------------------------------------------
# Any associative op: matrices, commutative or not.


@pytest.fixture
def abc() -> np.ndarray:
    a = np.array([[1.0, 2.0], [0.0, 1.0]])
    b = np.array([[0.0, 1.0], [1.0, 0.0]])
    c = np.array([[2.0, 0.0], [1.0, 3.0]])
    assert not np.array_equal(a @ b, b @ a) and not np.array_equal(b @ c, c @ b)
    return np.stack([a, b, c])


@pytest.mark.parametrize("method", [*OP_METHODS, "auto"])
def test_three_matrix_chain(method: str, abc: np.ndarray) -> None:
    a, b, c = abc
    got = lr.leave_one_out(abc, op=np.matmul, method=method)
    np.testing.assert_array_equal(got, [b @ c, a @ c, a @ b])
    df = np.arange(3 * 2 * 2 * 2, dtype=np.float64).reshape(3, 2, 2, 2) - 7  # P = (2,)
    want = df[0] @ b @ c + a @ df[1] @ c + a @ b @ df[2]
    grad = lr.prod_grad(abc, df, op=np.matmul, method=method)
    assert grad.shape == (2, 2, 2)
    np.testing.assert_array_equal(grad, want)
    np.testing.assert_array_equal(
        lr.prod_grad(abc, df[:, 0], op=np.matmul, method=method), want[0]
    )


@pytest.mark.parametrize("method", OP_METHODS)
def test_long_matrix_chains(method: str, rng) -> None:
    n, k = 40, 3
    mats = rng.integers(-1, 2, (n, k, k)).astype(np.float64) + np.eye(k)
    want = np.stack([chain([mats[j] for j in range(n) if j != i], k) for i in range(n)])
    np.testing.assert_allclose(
        lr.leave_one_out(mats, op=np.matmul, method=method), want, rtol=1e-13
    )
    df = rng.integers(-2, 3, (n, 2, k, k)).astype(np.float64)
    gwant = sum(chain(mats[:i], k) @ df[i] @ chain(mats[i + 1 :], k) for i in range(n))
    np.testing.assert_allclose(
        lr.prod_grad(mats, df, op=np.matmul, method=method), gwant, rtol=1e-12
    )


@pytest.mark.parametrize("logreal", [False, True])
def test_naive_op_with_and_without_identity(logreal: bool, rng) -> None:
    # leave_one_out takes no identity, so an op's naive method goes one
    # position at a time; an op given one gets the masked block reductions.
    from logreal import _numclass, _products

    n, k = 30, 2
    mats = rng.integers(-1, 2, (n, k, k)).astype(np.float64) + np.eye(k)
    want = np.stack([chain([mats[j] for j in range(n) if j != i], k) for i in range(n)])
    stack = lr.LogReal(mats) if logreal else mats
    for identity in (None, np.eye(k)):
        cls = _numclass.Op(lr.matmul if logreal else np.matmul, identity, stack)
        out = cls.empty(n)
        _products._naive(cls, stack, n, lambda i, j, st, c=cls, o=out: c.store(o, i, j, st), out)
        got = out.to_real() if logreal else out
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_dp_with_op_across_blocks(rng) -> None:
    n, k = 3000, 2  # a block holds 2048 matrices of 2 x 2
    mats = np.eye(k) + rng.normal(0, 0.01, (n, k, k))
    naive = lr.leave_one_out(mats[:300], op=np.matmul, method="naive")
    np.testing.assert_allclose(
        lr.leave_one_out(mats[:300], op=np.matmul, method="dp"), naive, rtol=1e-12
    )
    dp = lr.leave_one_out(mats, op=np.matmul, method="dp")
    np.testing.assert_allclose(dp, lr.leave_one_out(mats, op=np.matmul, method="scan"), rtol=1e-11)
    np.testing.assert_allclose(dp[1234], chain(np.delete(mats, 1234, axis=0), k), rtol=1e-11)


def test_batches_of_matrices(rng) -> None:
    mats = rng.integers(-3, 4, (6, 2, 3, 3)).astype(np.float64)  # 6 factors, batch of 2
    want = np.stack(
        [
            np.stack([chain([mats[j, b] for j in range(6) if j != i], 3) for b in range(2)])
            for i in range(6)
        ]
    )
    for method in OP_METHODS:
        np.testing.assert_array_equal(lr.leave_one_out(mats, op=np.matmul, method=method), want)


def test_logreal_matrices(abc: np.ndarray) -> None:
    a, b, c = abc
    got = lr.leave_one_out(lr.LogReal(abc), op=np.matmul, method="dp")
    assert isinstance(got, lr.LogReal)
    np.testing.assert_allclose(got.to_real(), [b @ c, a @ c, a @ b], rtol=1e-14, atol=1e-15)
    huge = lr.LogReal(abc) * lr.exp(800.0)  # entries far outside float range
    g = lr.leave_one_out(huge, op=np.matmul, method="scan")
    np.testing.assert_allclose((g / lr.exp(1600.0)).to_real(), [b @ c, a @ c, a @ b], atol=1e-13)


def test_scalar_op_commutative_and_not() -> None:
    x = np.array([2.0, 3.0, 5.0, 7.0])
    np.testing.assert_array_equal(lr.leave_one_out(x, op=np.multiply), [105.0, 70.0, 42.0, 30.0])
    np.testing.assert_array_equal(
        lr.leave_one_out(x, op=np.add, method="scan"), [15.0, 14.0, 12.0, 10.0]
    )
    np.testing.assert_array_equal(lr.cumprod(x, op=np.maximum), [2.0, 3.0, 5.0, 7.0])


# ---------------------------------------------------------------------------
# cumprod


def exact_cumprod(x: list[float], exclusive: bool, reverse: bool) -> list[Fraction]:
    q = [Fraction(v) for v in x]
    if reverse:
        q = q[::-1]
    out, p = [], Fraction(1)
    for v in q:
        if not exclusive:
            p *= v
        out.append(p)
        if exclusive:
            p *= v
    return out[::-1] if reverse else out


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize(
    "x",
    [
        [],
        [3.0],
        [2.0, -3.0, 0.5, 0.0, 7.0],
        [1e-300, 1e-300, 1e300, 1e300],
        [1e200, 1e200, 1e-250],
    ],
)
def test_cumprod_matches_fractions(x: list[float], exclusive: bool, reverse: bool) -> None:
    got = lr.cumprod(np.array(x), exclusive=exclusive, reverse=reverse)
    assert_close(got, exact_cumprod(x, exclusive, reverse), (len(x) + 4) * U)
    got_l = lr.cumprod(lr.LogReal(x), exclusive=exclusive, reverse=reverse)
    assert isinstance(got_l, lr.LogReal)
    want = [to_float(v) for v in exact_cumprod(x, exclusive, reverse)]
    np.testing.assert_allclose(got_l.to_real(), want, rtol=1e-13)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("exclusive", [False, True])
def test_cumprod_matrices(abc: np.ndarray, exclusive: bool, reverse: bool) -> None:
    a, b, c = abc
    e = np.eye(2)
    want = {
        (False, False): [a, a @ b, a @ b @ c],
        (True, False): [e, a, a @ b],
        (False, True): [a @ b @ c, b @ c, c],
        (True, True): [b @ c, c, e],
    }[exclusive, reverse]
    got = lr.cumprod(abc, op=np.matmul, exclusive=exclusive, reverse=reverse, identity=e)
    np.testing.assert_array_equal(got, want)


def test_cumprod_many_blocks_powers_of_two(rng) -> None:
    x, s, k = powers_of_two(rng, 20_000, 40)
    assert np.abs(np.cumsum(k)).max() > 1100  # some prefixes are outside the range
    np.testing.assert_array_equal(lr.cumprod(x), exact_powers(np.cumprod(s), np.cumsum(k)))
    rwant = exact_powers(np.cumprod(s[::-1]), np.cumsum(k[::-1]))[::-1]
    np.testing.assert_array_equal(lr.cumprod(x, reverse=True), rwant)


def test_cumprod_axes_and_numpy_dispatch() -> None:
    x = np.array([[2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_array_equal(lr.cumprod(x), np.cumprod(x, axis=0))
    np.testing.assert_array_equal(lr.cumprod(x, axis=1), np.cumprod(x, axis=1))
    np.testing.assert_array_equal(lr.cumprod(x, axis=None), np.cumprod(x))
    lx = lr.LogReal(x)
    flat = np.cumprod(lx)  # NumPy's signature: axis=None flattens
    assert isinstance(flat, lr.LogReal) and flat.shape == (4,)
    np.testing.assert_allclose(flat.to_real(), np.cumprod(x), rtol=1e-15)
    np.testing.assert_allclose(np.cumprod(lx, 1).to_real(), np.cumprod(x, axis=1), rtol=1e-15)
    with pytest.raises(TypeError, match="cumprod"):
        np.cumprod(lx, dtype=np.float32)
    with pytest.raises(TypeError, match="cumprod"):
        np.cumprod(lx, 0, None, lx)
    np.testing.assert_array_equal(lr.cumprod(np.float64(3.0), axis=None), [3.0])


def test_cumprod_errors(abc: np.ndarray) -> None:
    with pytest.raises(ValueError, match="identity"):
        lr.cumprod(abc, op=np.matmul, exclusive=True)
    with pytest.raises(ValueError, match="dimension"):
        lr.cumprod(np.float64(3.0))
    with pytest.raises(ValueError, match="axis"):
        lr.cumprod(abc, axis=1, op=np.matmul)


# ---------------------------------------------------------------------------
# Empty input, one element, number classes and dtypes.


@pytest.mark.parametrize("method", METHODS)
def test_empty_and_single(method: str) -> None:
    assert lr.leave_one_out(np.zeros(0), method=method).shape == (0,)
    assert lr.leave_one_out(lr.LogReal(np.zeros(0)), method=method).shape == (0,)
    np.testing.assert_array_equal(lr.leave_one_out([-4.0], method=method), [1.0])  # empty product
    np.testing.assert_array_equal(
        lr.prod_grad(np.zeros(0), np.zeros((0, 3)), method=method), [0.0] * 3
    )
    assert_exact(lr.prod_grad([5.0], [[2.0, 3.0]], method=method), [2.0, 3.0], method)
    z = lr.prod_grad(lr.LogReal(np.zeros(0)), np.zeros(0), method=method)
    assert isinstance(z, lr.LogReal) and float(z) == 0.0


def test_op_empty_and_single(abc: np.ndarray) -> None:
    assert lr.leave_one_out(abc[:0], op=np.matmul).shape == (0, 2, 2)
    assert lr.cumprod(abc[:0], op=np.matmul).shape == (0, 2, 2)
    np.testing.assert_array_equal(lr.prod_grad(abc[:1], abc[2:], op=np.matmul), abc[2])
    np.testing.assert_array_equal(
        lr.prod_grad(abc[:0], np.zeros((0, 5, 2, 2)), op=np.matmul), np.zeros((5, 2, 2))
    )
    with pytest.raises(ValueError, match="identity"):
        lr.leave_one_out(abc[:1], op=np.matmul)


def test_number_class_and_dtype_are_kept() -> None:
    assert lr.leave_one_out(np.float32([2, 3])).dtype == np.float32
    assert lr.cumprod(np.float32([2, 3]), reverse=True).dtype == np.float32
    assert lr.leave_one_out([2, 3]).dtype == np.float64  # integers become float64
    lx = lr.LogReal(np.float32([2, 3]))
    assert lr.leave_one_out(lx, method="dp").dtype == np.float32
    assert isinstance(lr.prod_grad([2.0, 3.0], lr.LogReal([1.0, 1.0])), lr.LogReal)
    assert not isinstance(lr.prod_grad([2.0, 3.0], [1.0, 1.0], method="log"), lr.LogReal)
    np.testing.assert_allclose(lr.prod_grad([2.0, 3.0], [1.0, 1.0], method="log"), 5.0, rtol=1e-15)


# ---------------------------------------------------------------------------
# Errors.


def test_errors(abc: np.ndarray) -> None:
    for method in ("division", "log"):
        with pytest.raises(ValueError, match=method):
            lr.leave_one_out(abc, op=np.matmul, method=method)
        with pytest.raises(ValueError, match=method):
            lr.prod_grad(abc, abc, op=np.matmul, method=method)
    with pytest.raises(ValueError, match="unknown method 'fast'"):
        lr.leave_one_out([1.0, 2.0], method="fast")
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(3,\)"):
        lr.prod_grad(np.ones(3), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"\(3, 2, 3\).*\(3, 2\)"):
        lr.prod_grad(np.ones((3, 2)), np.ones((3, 2, 3)))
    with pytest.raises(ValueError, match=r"\(3, 3, 2\).*\(3, 2, 2\)"):
        lr.prod_grad(abc, np.ones((3, 3, 2)), op=np.matmul)
    with pytest.raises(ValueError, match="elementwise"):
        lr.leave_one_out(abc, op=np.dot)  # np.dot does not multiply stacks pairwise
    with pytest.raises(ValueError, match="axis"):
        lr.leave_one_out(abc, axis=1, op=np.matmul)
    with pytest.raises(ValueError, match="dimension"):
        lr.leave_one_out(3.0)
    with pytest.raises(TypeError):
        lr.leave_one_out(np.array([1 + 2j]))


# ---------------------------------------------------------------------------
# Memory: dp holds the output and O(1) more.


def _dp_overhead(x: object) -> int:
    """Peak bytes traced during ``leave_one_out(x, method="dp")`` beyond its
    output (the smaller of two runs: the first may include one-off warm-up)."""
    peaks = []
    for _ in range(2):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            out = lr.leave_one_out(x, method="dp")
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        stored = (out._sign, out.logabs) if isinstance(out, lr.LogReal) else (out,)
        size = sum(a.nbytes for a in stored)
        peaks.append(peak - size)
        del out
    return min(peaks)


@pytest.mark.slow
def test_dp_memory_is_output_plus_constant(rng) -> None:
    n = 10**7 if FULL else 10**6
    inputs = {
        "tame": np.exp(rng.normal(0, 1e-3, n)),  # partial products stay in range
        "wild": rng.uniform(0.5, 2.0, n),  # they leave the float range: the exact path
        "probabilities": rng.uniform(0.0, 1.0, n),  # they underflow
    }
    inputs["LogReal"] = lr.LogReal(inputs["probabilities"])
    for name, x in inputs.items():
        overhead = _dp_overhead(x)
        assert overhead <= 2**20, (name, overhead)  # output + 1 MiB
        assert overhead <= _dp_overhead(x[: n // 10]) + 2**17, name  # flat in n


def test_portable_dp_memory_is_output_plus_constant(rng) -> None:
    # The portable dp: O(block) temporaries (docs/products.md: under 3 MiB).
    n = 4 * 10**5
    inputs = {
        "tame": np.exp(rng.normal(0, 1e-3, n)),
        "probabilities": rng.uniform(0.0, 1.0, n),  # the exact path
    }
    inputs["LogReal"] = lr.LogReal(inputs["probabilities"])
    with _numba.portable():
        for name, x in inputs.items():
            overhead = _dp_overhead(x)
            assert overhead <= 3 * 2**20, (name, overhead)
            assert overhead <= _dp_overhead(x[: n // 8]) + 2**18, name  # flat in n
