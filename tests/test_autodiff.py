"""lr.grad / lr.value_and_grad: finite differences, exact products, log-space adjoints."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import logreal as lr
from logreal import LogReal

from oracle import ulp_error


def finite_difference(f, x, h=1e-6):
    """Central differences of a real scalar function, one coordinate at a time."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        step = h * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        out[i] = (float(f(up)) - float(f(down))) / (2 * step)
    return out


X = np.array([0.7, -1.3, 2.1, 0.4])
M = np.array([[0.5, -1.0], [2.0, 0.25], [1.5, -0.75]])

SMOOTH = {
    "arith": lambda x: lr.sum((x * x - 3.0 * x) / (2.0 + x * x) + x**3),
    "logreal arith": lambda x: lr.sum(LogReal(x) * LogReal(x) - LogReal(x) / 3.0).to_real(),
    "exp log": lambda x: lr.sum(lr.log(lr.exp(x) * 2.0 + 1.0)),
    "sqrt abs": lambda x: lr.sum(lr.sqrt(abs(LogReal(x)) + 1.0)).to_real(),
    "mean prod": lambda x: lr.mean(x) * lr.prod(x),
    "prod axis": lambda x: lr.sum(lr.prod(x.reshape(2, 2), axis=1) * np.array([1.0, -2.0])),
    "cumsum": lambda x: lr.sum(lr.cumsum(x) * np.arange(1.0, 5.0)),
    "index": lambda x: x[1] * x[3] - lr.sum(x[::2] ** 2) + lr.sum(x[x > 0]),
    "matmul": lambda x: lr.sum(x.reshape(2, 2) @ x.reshape(2, 2).T),
    "dot": lambda x: lr.dot(x, x + 1.0),
    "where": lambda x: lr.sum(lr.where(np.array([True, False, True, False]), x * x, -x)),
    "concat stack": lambda x: lr.sum(lr.concat([x, x * x]) * lr.stack([x, x]).reshape(-1)),
    "logsumexp": lambda x: lr.logsumexp(x * 100.0),
    "logsumexp b": lambda x: lr.logsumexp(x, b=np.array([1.0, 2.0, 0.5, 3.0])),
    "logaddexp": lambda x: lr.sum(lr.logaddexp(x, x * 2.0)),
    "logsubexp": lambda x: lr.sum(lr.logsubexp(abs(x) + 1.0, x * 0.1)),
    "log1pexp": lambda x: lr.sum(lr.log1pexp(x * 3.0)),
    "log1mexp": lambda x: lr.sum(lr.log1mexp(-abs(x) - 0.1)),
    "logcumsumexp": lambda x: lr.sum(lr.logcumsumexp(x)),
    "norm 2": lambda x: lr.norm(x),
    "norm 3": lambda x: lr.norm(x, p=3),
    "norm 1": lambda x: lr.norm(x, p=1),
    "norm inf": lambda x: lr.norm(x, p=math.inf),
    "lognorm": lambda x: lr.lognorm(x, p=2.5),
    "from_log": lambda x: lr.sum(LogReal.from_log(x, -1.0)).to_real(),
    "logabs": lambda x: lr.sum(LogReal(x * x + 1.0).logabs),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_gradient_matches_finite_differences(name):
    f = SMOOTH[name]
    got = lr.grad(f)(X)
    want = finite_difference(f, X)
    assert not isinstance(got, LogReal)  # real output, real gradient
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-8)


def test_matrix_argument_and_argnum():
    f = lambda a, v: lr.sum((a @ v) ** 2)  # noqa: E731
    v = np.array([1.0, -2.0])
    got = lr.grad(f, argnum=0)(M, v)
    np.testing.assert_allclose(got, finite_difference(lambda a: f(a, v), M), rtol=1e-6)
    got_v = lr.grad(f, argnum=1)(M, v)
    np.testing.assert_allclose(got_v, finite_difference(lambda w: f(M, w), v), rtol=1e-6)


def test_value_and_grad_returns_the_value():
    value, g = lr.value_and_grad(lambda x: lr.sum(x**2))(X)
    assert float(value) == pytest.approx(float(np.sum(X**2)), rel=1e-15)
    np.testing.assert_allclose(g, 2 * X)


def exact_leave_one_out(values):
    out = []
    for i in range(len(values)):
        p = Fraction(1)
        for j, v in enumerate(values):
            if j != i:
                p *= Fraction(v)
        out.append(p)
    return out


@pytest.mark.parametrize(
    "values",
    [
        [0.5, -2.0, 4.0, 0.25],
        [0.5, 0.0, 4.0, 0.25],  # one zero: only its entry is nonzero
        [0.0, -2.0, 0.0, 0.25],  # two zeros: all zero
        [3.0],
    ],
)
def test_gradient_of_prod_is_exact_with_zeros(values):
    x = np.array(values)
    got = lr.grad(lambda v: lr.prod(v))(x)
    want = [float(v) for v in exact_leave_one_out(values)]
    np.testing.assert_array_equal(got, want)


def test_gradient_of_a_long_product_far_outside_float_range():
    n = 100_000
    x = np.full(n, 0.5)
    g = lr.grad(lambda v: lr.prod(LogReal(v)))(x)
    assert isinstance(g, LogReal)  # LogReal output: LogReal adjoints and gradient
    exact = (n - 1) * mpmath.log(mpmath.mpf(0.5))
    assert np.all(np.asarray(g.sign) == 1)
    # Each entry sums n - 1 logs of one half: the bound of that sum (pairwise).
    assert max(ulp_error(v, exact) for v in np.asarray(g.logabs)[:: n // 97]) <= 4
    assert float(np.prod(x)) == 0.0  # the float product underflows


def test_signed_log_space_accumulation_cancels_exactly():
    # d/dx (x*y - x*y) = y - y: the two adjoint contributions cancel to the exact zero.
    y = LogReal.from_log(np.array([2000.0, -3000.0]), np.array([1.0, -1.0]))
    g = lr.grad(lambda x: lr.sum(LogReal(x) * y - LogReal(x) * y))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(np.asarray(g.sign), [0.0, 0.0])
    # d/dx sum(x * e^2000) = e^2000 (inf as a float), kept exact in LogReal.
    g = lr.grad(lambda x: lr.sum(LogReal(x) * lr.exp(2000.0)))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(np.asarray(g.logabs), [2000.0, 2000.0])


def test_softmax_gradient_without_overflow():
    g = lr.grad(lambda x: lr.logsumexp(x))(np.array([1000.0, 1000.0, -np.inf]))
    np.testing.assert_allclose(g, [0.5, 0.5, 0.0], rtol=2.3e-16, atol=0)


def test_softmax_gradient_specials_without_warnings():
    # Warnings are errors here.  IEEE: an infinite input takes all the weight
    # (inf - inf: nan there, 0 elsewhere); every input -inf is 0 / 0.
    g = lr.grad(lambda x: lr.logsumexp(x))
    np.testing.assert_array_equal(g(np.array([1.0, np.inf, 2.0])), [0.0, np.nan, 0.0])
    np.testing.assert_array_equal(g(np.array([-np.inf, -np.inf])), [np.nan, np.nan])
    np.testing.assert_array_equal(g(np.array([1.0, np.nan])), [np.nan, np.nan])
    assert g(np.zeros(0)).shape == (0,)
    h = lr.grad(lambda x: lr.sum(lr.logsumexp(x, axis=0)))(np.zeros((0, 3)))
    assert h.shape == (0, 3)
    # The weights e**t, t = a - lse(a), carry the roundings of t (absolute,
    # about |t| + lse(a - m) ulps of 1) times the slope of exp: the condition
    # of the softmax itself.  Checked against mpmath within that.
    a = np.random.default_rng(5).normal(0, 10, 10_000)
    w = g(a)
    lse = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(u)) for u in a))
    shift = float(lse - max(a))
    for x, v in zip(w[:200].tolist(), a[:200].tolist(), strict=True):
        t = mpmath.mpf(v) - lse
        assert ulp_error(x, mpmath.exp(t)) <= 2 * (abs(float(t)) + shift) + 4


def test_constant_function_has_zero_gradient():
    g = lr.grad(lambda x: lr.sum(np.ones(3)))(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])


def test_errors():
    with pytest.raises(ValueError, match="scalar"):
        lr.grad(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(TypeError, match="leave_one_out with op"):
        lr.grad(lambda x: lr.sum(lr.leave_one_out(x, op=np.multiply)))(np.ones(3))
    with pytest.raises(TypeError, match="cumprod with op"):
        lr.grad(lambda x: lr.sum(lr.cumprod(x, op=np.multiply)))(np.ones(3))


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumprod_gradient(exclusive, reverse):
    w = np.array([1.0, -2.0, 0.5, 3.0])

    def f(x):
        return lr.sum(lr.cumprod(x, exclusive=exclusive, reverse=reverse) * w)

    np.testing.assert_allclose(lr.grad(f)(X), finite_difference(f, X), rtol=1e-6)
    m = X.reshape(2, 2)
    g2 = lambda a: lr.sum(lr.cumprod(a, axis=1) * w.reshape(2, 2))  # noqa: E731
    np.testing.assert_allclose(lr.grad(g2)(m), finite_difference(g2, m), rtol=1e-6)


def test_cumprod_gradient_with_a_zero_and_in_log_space():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    # d/dx_j sum_i y_i, with y = [2, 0, 0, 0]: exact, no division by the zero.
    got = lr.grad(lambda v: lr.sum(lr.cumprod(v)))(x)
    np.testing.assert_array_equal(got, [1.0, 2.0 + 2 * 3 + 2 * 3 * 4, 0.0, 0.0])
    halves = np.full(2000, 0.5)
    g = lr.grad(lambda v: lr.cumprod(LogReal(v))[-1])(halves)
    assert isinstance(g, LogReal)
    exact = 1999 * mpmath.log(mpmath.mpf(0.5))
    # Each entry is S_j / x_j with S a reverse cumulative sum of g * y (one
    # nonzero term, y_1999 = the compensated sum of 2000 logs) divided by a
    # half: two roundings of the log.
    assert max(ulp_error(v, exact) for v in np.asarray(g.logabs)) <= 2
