"""Higher-order lr.grad: Hessians, closures over an outer argument, exact oracles."""

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import logreal as lr
from logreal import LogReal

from oracle import ulp_error


def hessian(f, x):
    """Rows of the Hessian, each the gradient of one entry of the gradient."""
    return np.array([lr.grad(lambda v, i=i: lr.grad(f)(v)[i])(x) for i in range(len(x))])


def leave_two_out(values):
    """Exact Hessian of prod: H[i, j] = prod of the others (i != j), 0 on the diagonal."""
    n = len(values)
    h = [[Fraction(0)] * n for _ in range(n)]
    for i, j in itertools.permutations(range(n), 2):
        p = Fraction(1)
        for k, v in enumerate(values):
            if k not in (i, j):
                p *= Fraction(v)
        h[i][j] = p
    return np.array([[float(v) for v in row] for row in h])


@pytest.mark.parametrize(
    "values",
    [
        [2.0, -3.0, 0.5, 5.0],
        [2.0, 0.0, 3.0, 4.0],  # one zero
        [2.0, 0.0, 3.0, 0.0, 5.0],  # two zeros: only H[1, 3] survives
        [0.0, 0.0, 0.0],  # all zero
    ],
)
@pytest.mark.parametrize("cls", ["real", "logreal"])
def test_hessian_of_prod_is_the_exact_leave_two_out_product(values, cls):
    x = np.array(values)
    if cls == "real":
        f = lambda v: lr.prod(v)  # noqa: E731
    else:
        f = lambda v: lr.prod(LogReal(v)).to_real()  # noqa: E731
    got = hessian(f, x)
    want = leave_two_out(values)
    if cls == "real":
        np.testing.assert_array_equal(got, want)
    else:  # each entry exp(sum of logs): a few ulp of the rounded log sums
        np.testing.assert_allclose(got, want, rtol=8e-16, atol=0)


def test_hessian_of_cumprod_sum_is_exact():
    values = [2.0, 0.0, -3.0, 0.5]
    x = np.array(values)
    got = hessian(lambda v: lr.sum(lr.cumprod(v)), x)
    n = len(values)
    want = np.zeros((n, n))
    for j, k in itertools.permutations(range(n), 2):
        total = Fraction(0)
        for i in range(max(j, k), n):
            p = Fraction(1)
            for m in range(i + 1):
                if m not in (j, k):
                    p *= Fraction(values[m])
            total += p
        want[j, k] = float(total)
    np.testing.assert_array_equal(got, want)


def mp_second(f, t):
    """d^2 f / dt^2 at the exact float t, at 300 bits (mpmath)."""
    return mpmath.diff(f, mpmath.mpf(t), 2)


CLOSED_FORMS = {
    "exp * t^3": (
        lambda t: (lr.exp(t) * LogReal(t) ** 3).to_real(),
        lambda t: mpmath.exp(t) * t**3,
    ),
    "log(e^t + t^2)": (
        lambda t: lr.log(lr.exp(t) + LogReal(t) * t),
        lambda t: mpmath.log(mpmath.exp(t) + t**2),
    ),
    "sqrt(1 + t^4) / t": (
        lambda t: (lr.sqrt(LogReal(t) ** 4 + 1.0) / t).to_real(),
        lambda t: mpmath.sqrt(1 + t**4) / t,
    ),
    "t^t": (lambda t: t**t, lambda t: t**t),
    "2^t": (lambda t: 2.0**t, lambda t: mpmath.mpf(2) ** t),
    "log1pexp": (lambda t: lr.log1pexp(3.0 * t), lambda t: mpmath.log(1 + mpmath.exp(3 * t))),
    "logaddexp": (
        lambda t: lr.logaddexp(t, 2.0 * t),
        lambda t: mpmath.log(mpmath.exp(t) + mpmath.exp(2 * t)),
    ),
    "logsubexp": (
        lambda t: lr.logsubexp(2.0 * t, t),
        lambda t: mpmath.log(mpmath.exp(2 * t) - mpmath.exp(t)),
    ),
    "logsumexp": (
        lambda t: lr.logsumexp(lr.stack([t, t * t, -t])),
        lambda t: mpmath.log(mpmath.exp(t) + mpmath.exp(t * t) + mpmath.exp(-t)),
    ),
    "norm": (
        lambda t: lr.norm(lr.stack([t, t * t, 1.0])),
        lambda t: mpmath.sqrt(t**2 + t**4 + 1),
    ),
    "lognorm p=3": (
        lambda t: lr.lognorm(lr.stack([t, 2.0]), p=3),
        lambda t: mpmath.log(mpmath.cbrt(abs(t) ** 3 + 8)),
    ),
    "cumprod": (
        lambda t: lr.sum(lr.cumprod(lr.stack([t, t + 1.0, t * t]))),
        lambda t: t + t * (t + 1) + t * (t + 1) * t * t,
    ),
    "einsum": (
        lambda t: lr.einsum(
            "i,ij,j", lr.stack([t, 1.0]), np.array([[1.0, 2.0], [3.0, 4.0]]), lr.stack([t * t, t])
        ),
        lambda t: t * t * t + 2 * t * t + 3 * t * t + 4 * t,
    ),
    "logcumsumexp": (
        lambda t: lr.sum(lr.logcumsumexp(lr.stack([t, 2.0 * t]))),
        lambda t: t + mpmath.log(mpmath.exp(t) + mpmath.exp(2 * t)),
    ),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_second_derivatives_match_closed_forms(name):
    f, exact = CLOSED_FORMS[name]
    t = 1.375
    got = lr.grad(lr.grad(f))(t)
    want = mp_second(exact, t)
    assert ulp_error(float(got), want) <= 64, (float(got), want)


def test_third_derivative():
    got = lr.grad(lr.grad(lr.grad(lambda x: x**4)))(1.5)
    assert float(got) == 24 * 1.5


def test_second_derivative_far_outside_float_range_is_a_logreal():
    # d^2/dx^2 [e^(1000 x) x] = e^(1000 x) (10^6 x + 2000), at x = 2: about e^2014.5.
    f = lambda x: lr.exp(1000.0 * x) * LogReal(x)  # noqa: E731
    got = lr.grad(lr.grad(f))(2.0)
    assert isinstance(got, LogReal)
    x = mpmath.mpf(2)
    want = 1000 * x + mpmath.log(10**6 * x + 2000)
    assert float(got.sign) == 1.0
    assert ulp_error(float(got.logabs), want) <= 4


def test_nested_grad_over_a_closure():
    # d/dx [d/dy (x y)] = 1, not 0: the inner gradient closes over the outer x.
    assert float(lr.grad(lambda x: lr.grad(lambda y: x * y)(2.0))(3.0)) == 1.0
    # d/dx sum_i [d/dy_i sum(x y^2)] at y = [1, 2]: d/dx_i (2 x_i y_i) = 2 y_i.
    inner = lambda x: lr.grad(lambda y: lr.sum(x * y * y))(np.array([1.0, 2.0]))  # noqa: E731
    np.testing.assert_array_equal(
        lr.grad(lambda x: lr.sum(inner(x)))(np.array([3.0, 4.0])), [2.0, 4.0]
    )


def test_hessian_vector_product_of_logsumexp():
    a = np.array([0.5, -1.25, 2.0, 0.0])
    v = np.array([1.0, -2.0, 0.5, 3.0])
    hvp = lr.grad(lambda x: lr.sum(lr.grad(lambda y: lr.logsumexp(y))(x) * v))(a)
    ea = [mpmath.exp(mpmath.mpf(t)) for t in a]
    s = [e / mpmath.fsum(ea) for e in ea]
    sv = mpmath.fsum(si * float(vi) for si, vi in zip(s, v, strict=True))
    want = [s[i] * (float(v[i]) - sv) for i in range(len(a))]  # (diag(s) - s s^T) v
    assert max(ulp_error(g, w) for g, w in zip(hvp, want, strict=True)) <= 16


def test_hessian_of_a_quadratic_form_through_einsum():
    m = np.array([[1.0, 2.0, 0.0], [-1.0, 3.0, 0.5], [4.0, 0.0, -2.0]])
    f = lambda x: lr.einsum("i,ij,j->", x, m, x)  # noqa: E731
    got = hessian(f, np.array([0.3, -0.7, 1.1]))
    np.testing.assert_array_equal(got, m + m.T)


def test_gradient_of_leave_one_out_is_exact():
    values = [2.0, 0.0, -3.0, 0.5]
    w = np.array([1.0, -2.0, 0.25, 4.0])
    got = lr.grad(lambda v: lr.sum(lr.leave_one_out(v) * w))(np.array(values))
    want = []
    for k in range(len(values)):
        total = Fraction(0)
        for i in range(len(values)):
            if i == k:
                continue
            p = Fraction(w[i])
            for j, v in enumerate(values):
                if j not in (i, k):
                    p *= Fraction(v)
            total += p
        want.append(float(total))
    np.testing.assert_array_equal(got, want)


def test_gradient_of_prod_grad_in_both_arguments():
    f0 = np.array([2.0, -1.0, 0.5])
    df = np.array([[1.0, 0.5], [-2.0, 1.0], [0.25, 3.0]])
    w = np.array([1.0, -1.5])

    g_df = lr.grad(lambda d: lr.sum(lr.prod_grad(f0, d) * w))(df)
    loo = [f0[1] * f0[2], f0[0] * f0[2], f0[0] * f0[1]]
    np.testing.assert_array_equal(g_df, np.outer(loo, w))
    g_f = lr.grad(lambda f: lr.sum(lr.prod_grad(f, df) * w))(f0)
    # d/df_k: sum_{i != k} prod_{j != i, k} f_j (w . df_i)
    want_f = []
    for k in range(3):
        total = Fraction(0)
        for i in range(3):
            if i == k:
                continue
            p = Fraction(1)
            for j in range(3):
                if j not in (i, k):
                    p *= Fraction(f0[j])
            total += p * sum(Fraction(w[m]) * Fraction(df[i][m]) for m in range(2))
        want_f.append(float(total))
    np.testing.assert_array_equal(g_f, want_f)
