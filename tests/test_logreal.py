"""LogReal: construction, pinned semantics, array behaviour, NumPy protocols, errors."""

import contextlib
import math
import pickle

import mpmath
import numpy as np
import pytest

import logreal as lr
from logreal import LogReal

INF, NAN = math.inf, math.nan


def components(x):
    return np.asarray(x.sign), np.asarray(x.logabs)


def assert_same(x, y):
    """Bitwise-equal components (nan positions equal)."""
    for a, b in zip(components(x), components(y), strict=True):
        np.testing.assert_array_equal(a, b)


# -- construction -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "sign", "logabs"),
    [
        (1.0, 1.0, 0.0),
        (-1.0, -1.0, 0.0),
        (0.0, 0.0, -INF),
        (-0.0, 0.0, -INF),
        (INF, 1.0, INF),
        (-INF, -1.0, INF),
        (5e-324, 1.0, math.log(5e-324)),
        (-2.5, -1.0, math.log(2.5)),
    ],
)
def test_from_real(value, sign, logabs):
    x = LogReal(value)
    assert x.shape == ()
    assert float(x.sign) == sign and float(x.logabs) == logabs
    assert not math.copysign(1.0, float(x.sign)) < 0 or sign < 0  # no -0.0 sign


def test_nan_is_one_nan():
    x = LogReal(NAN)
    assert math.isnan(float(x.sign)) and math.isnan(float(x.logabs))
    assert math.isnan(float(x))


def test_from_log_canonical_and_broadcast():
    x = LogReal.from_log([[0.0], [-INF]], sign=[1, -1, 0])
    assert x.shape == (2, 3)
    s, la = components(x)
    np.testing.assert_array_equal(s, [[1, -1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(la, [[0, 0, -INF], [-INF, -INF, -INF]])
    y = LogReal.from_log(NAN, sign=-1)
    assert math.isnan(float(y.sign))


def test_huge_python_int_is_exact_log():
    x = LogReal(-(10**400))
    assert float(x.sign) == -1
    # math.log(10**400) is an ulp off; the stored log is the correctly rounded one
    with mpmath.workprec(300):
        assert float(x.logabs) == float(mpmath.log(10**400)) == 921.0340371976183


def test_integer_and_bool_input_become_float64():
    assert LogReal([1, 2]).dtype == np.float64
    assert LogReal(np.array([True])).dtype == np.float64


@pytest.mark.parametrize("bad", [1 + 2j, np.array([1j]), "abc", np.array(["a"]), {1: 2}])
def test_bad_input_type_error(bad):
    with pytest.raises(TypeError):
        LogReal(bad)


# -- the zero, infinities and nan ---------------------------------------------


@pytest.mark.parametrize("v", [3.0, -3.0, 1e-310, -1e308, 0.0])
def test_x_minus_x_is_the_zero(v):
    zero = LogReal(0.0)
    for x in (LogReal(v), LogReal(v) * lr.exp(5000.0)):
        assert_same(x - x, zero)
        assert_same(-x + x, zero)
        assert_same((-x) - (-x), zero)


def test_minus_zero_equals_zero_and_hashes_alike():
    a, b = LogReal(-0.0), LogReal(0.0)
    assert bool(a == b)
    assert hash(a) == hash(b)
    assert len({a, b, LogReal(0.0) * -1}) == 1


def test_arrays_are_unhashable():
    with pytest.raises(TypeError):
        hash(LogReal([1.0, 2.0]))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda: lr.exp(INF) + lr.exp(INF), INF),
        (lambda: lr.exp(INF) - lr.exp(INF), NAN),
        (lambda: LogReal(0.0) * LogReal(INF), NAN),
        (lambda: LogReal(1.0) / LogReal(0.0), INF),
        (lambda: LogReal(-1.0) / LogReal(0.0), -INF),
        (lambda: LogReal(0.0) / LogReal(0.0), NAN),
        (lambda: LogReal(INF) / LogReal(0.0), INF),
        (lambda: LogReal(0.0) / LogReal(-INF), 0.0),
        (lambda: LogReal(-INF) + LogReal(1e300), -INF),
        (lambda: LogReal(NAN) + 1.0, NAN),
        (lambda: LogReal(NAN) * 0.0, NAN),
        (lambda: LogReal(-INF) * -2.0, INF),
    ],
)
def test_ieee_specials(expr, expected):
    got = float(expr())
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected


def test_nan_comparisons():
    n = LogReal(NAN)
    for other in (LogReal(NAN), LogReal(1.0), 0.0):
        assert not bool(n == other)
        assert not bool(n < other) and not bool(n <= other)
        assert not bool(n > other) and not bool(n >= other)
        assert bool(n != other)


def test_to_real_rounding_and_signed_underflow():
    x = LogReal.from_log([800.0, -800.0, -800.0, -INF, math.log(5e-324)], sign=[-1, 1, -1, 1, 1])
    r = x.to_real()
    assert r[0] == -INF
    assert r[1] == 0.0 and math.copysign(1, r[1]) == 1
    assert r[2] == 0.0 and math.copysign(1, r[2]) == -1  # negative underflow is -0.0
    assert r[3] == 0.0 and math.copysign(1, r[3]) == 1  # the zero is +0.0
    assert r[4] == 5e-324  # subnormals are kept
    np.testing.assert_array_equal(np.asarray(x), r)


def test_float_of_size_one_only():
    assert float(LogReal([[2.0]])) == 2.0
    with pytest.raises(TypeError):
        float(LogReal([1.0, 2.0]))


# -- comparisons are exact ------------------------------------------------------


def test_comparisons_never_go_through_floats():
    a, b = lr.exp(1000.0), lr.exp(2000.0)
    assert np.isinf(a.to_real()) and np.isinf(b.to_real())  # equal as floats
    assert bool(a < b) and bool(a != b) and not bool(a == b)
    assert bool(-b < -a) and bool(-a > -b)
    assert bool(LogReal(0.0) < a) and bool(-a < LogReal(0.0))
    assert bool(lr.exp(-2000.0) > 0) and bool(lr.exp(-2000.0) < lr.exp(-1000.0))
    assert bool(a <= a) and bool(a >= a)


@pytest.mark.parametrize("pair", [(-3.0, 2.0), (-3.0, -2.0), (0.0, 1e-300), (-1e-300, 0.0)])
def test_order_matches_floats(pair):
    u, v = pair
    x, y = LogReal(u), LogReal(v)
    assert bool(x < y) == (u < v) and bool(y < x) == (v < u)
    assert bool(x <= y) == (u <= v) and bool(x >= y) == (u >= v)


# -- powers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "p", "expected"),
    [
        (-2.0, 3, -8.0),
        (-2.0, 3.0, -8.0),
        (-2.0, 2, 4.0),
        (-2.0, -1, -0.5),
        (-2.0, 0.5, NAN),
        (0.0, 0, 1.0),
        (0.0, 0.0, 1.0),
        (0.0, -1, INF),
        (0.0, 2, 0.0),
        (NAN, 0, 1.0),
        (1.0, NAN, 1.0),
        (4.0, 0.5, 2.0),
        (-1.0, INF, 1.0),
        (2.0, -INF, 0.0),
    ],
)
def test_powers(base, p, expected):
    got = float(LogReal(base) ** p)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-15)


def test_power_far_outside_range_and_sqrt():
    x = lr.exp(1e5) * -1
    y = x**3
    assert float(y.sign) == -1 and float(y.logabs) == 3e5
    assert float(lr.sqrt(lr.exp(2e5)).logabs) == 1e5
    assert math.isnan(float(lr.sqrt(LogReal(-4.0))))
    assert float(np.sqrt(LogReal(4.0))) == 2.0


def test_rpow():
    assert float(2.0 ** LogReal(3.0)) == pytest.approx(8.0, rel=1e-15)


# -- exp / log -------------------------------------------------------------------------


def test_exp_is_exact_and_log_inverts():
    z = np.array([-1e6, -745.5, 0.0, 710.0, 1e6, -INF, INF])
    x = lr.exp(z)
    np.testing.assert_array_equal(np.asarray(x.logabs), z)
    np.testing.assert_array_equal(np.asarray(x.sign), [1, 1, 1, 1, 1, 0, 1])
    np.testing.assert_array_equal(lr.log(x), z)
    np.testing.assert_array_equal(lr.log(LogReal([-1.0, 0.0])), [NAN, -INF])


# -- dtypes ------------------------------------------------------------------------------


def test_float32_stays_float32():
    x = LogReal(np.array([0.5, -2.0], dtype=np.float32))
    assert x.dtype == np.float32 and x.sign.dtype == np.float32
    for y in (x + 1.5, 2.0 * x, x / 3, x - x, x**2, x * True, lr.sum(x), lr.prod(x)):
        assert y.dtype == np.float32
    assert (x + np.float64(1.0)).dtype == np.float64  # NumPy scalars are strong
    assert (x + np.ones(2)).dtype == np.float64
    assert (x + 1e300).dtype == np.float32  # the scalar's log fits in float32
    assert float(lr.log(x[0] * 1e300)) == pytest.approx(math.log(0.5e300), rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("portable", [False, True])
def test_signs_are_stored_in_float32_and_read_in_the_value_dtype(dtype, portable, rng):
    # docs/logreal.md: float32 signs inside (exact: -1, 0, +1, nan), x.sign in x.dtype.
    n = 5000  # above the kernels' threshold
    v = rng.normal(size=n).astype(dtype) * rng.choice([-1e30, 1e-30, 1.0], size=n).astype(dtype)
    v[:4] = [0.0, np.nan, np.inf, -np.inf]
    w = np.roll(v, 7)
    x, y = LogReal(v), LogReal(w)
    scope = lr._numba.portable() if portable else contextlib.nullcontext()
    with scope, np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        results = {
            "x": x, "from_log": LogReal.from_log(x.logabs, x.sign), "x * y": x * y,
            "x / y": x / y, "x + y": x + y, "x - y": x - y, "-x": -x, "abs": abs(x),
            "x ** 3": x**3, "sum": lr.sum(x[4:]), "prod": lr.prod(x), "cumsum": lr.cumsum(x[4:]),
            "cumprod": lr.cumprod(x), "loo": lr.leave_one_out(x[4:]),
            "where": lr.where(v > 0, x, y), "concat": lr.concat([x, y]), "stack": LogReal([x, y]),
            "matmul": x[4:68].reshape(8, 8) @ y[4:68].reshape(8, 8),
            "einsum": lr.einsum("i,i->", x[4:], y[4:]), "reshape": x.reshape(50, -1).T,
            "index": x[::3], "pickle": pickle.loads(pickle.dumps(x)),
            "grad": lr.grad(lambda t: lr.sum(LogReal(t) * y[4:]))(v[4:]),
        }  # fmt: skip
        real = {"x * y": v * w, "x / y": v / w, "x + y": v + w, "x - y": v - w}
    for name, r in results.items():
        if not isinstance(r, LogReal):
            continue  # the gradient of a real argument is real
        assert r._sign.dtype == np.float32, name
        assert r.sign.dtype == r.logabs.dtype == r.dtype == dtype, name
        np.testing.assert_array_equal(np.isnan(r.sign), np.isnan(r.logabs), err_msg=name)
    for name, want in real.items():  # the signs of the float results, exactly
        got = results[name].sign
        ok = np.isfinite(want) & (want != 0)  # not rounded to 0 or inf
        np.testing.assert_array_equal(got[ok], np.sign(want[ok]), err_msg=name)
    assert x.sign.dtype == x.logabs.dtype
    if dtype == np.float64:  # x.sign is a copy: writing into it leaves x alone
        s = x.sign
        s[:] = 0
        assert x.sign[5] != 0


def test_float16_values_stay_float16_beside_float32_signs():
    # float32 signs times float16 values would promote to float32.
    h = np.array([0.5, -2.0, 0.0], dtype=np.float16)
    x = LogReal(h)
    assert x._sign.dtype == np.float32 and x.sign.dtype == np.float16
    for real in (x.to_real(), np.asarray(x), (2.0**x).to_real(), (x ** LogReal(h)).to_real()):
        assert real.dtype == np.float16
    np.testing.assert_array_equal(x.to_real(), h)
    g = lr.grad(lambda v: lr.sum(LogReal(v) * LogReal(v)).to_real())(np.abs(h))
    assert g.dtype == np.float16
    np.testing.assert_array_equal(g, 2 * np.abs(h))


def test_kernels_read_stored_signs_directly():
    # The compiled arithmetic takes float32 signs beside float64 logs (no copies).
    from logreal import _numba

    if not _numba.available():
        pytest.skip("compiled kernels not available")
    s, la = np.ones(5000, np.float32), np.zeros(5000)
    assert _numba.kernel("multiply", np, s, la, s, la) is not None
    assert _numba.kernel("products_log", np, s, la) is not None
    assert _numba.kernel("multiply", np, la.astype(np.float32), la, s, la) is not None
    assert _numba.kernel("multiply", np, s, la, s, la.astype(np.float32)) is None  # mixed logs


# -- array behaviour -------------------------------------------------------------------


# Values go through log and exp: LogReal(3.0).to_real() is 3.0000000000000004,
# one ulp off, because log(3) is rounded when stored.  Round trips are compared
# to a few ulp; exact comparisons are made on the stored components.


def test_array_behaviour():
    x = LogReal(np.arange(6.0).reshape(2, 3) - 2)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert x.T.shape == (3, 2) and float(x.T[2, 0]) == 0.0
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape(-1).shape == (6,)
    assert float(x[1, 2]) == pytest.approx(3.0, rel=4e-16) and x[0].shape == (3,)
    np.testing.assert_allclose(np.asarray(x[x > 0]), [1.0, 2.0, 3.0], rtol=4e-16)
    np.testing.assert_array_equal(np.asarray(x[:, ::-1][0]), [0.0, -1.0, -2.0])
    assert [float(v) for v in x[0]] == [-2.0, -1.0, 0.0]
    y = LogReal(np.zeros(3))
    y[1] = lr.exp(1e4)
    assert float(y.logabs[1]) == 1e4 and float(y.sign[0]) == 0
    with pytest.raises(TypeError):
        len(LogReal(1.0))
    with pytest.raises(ValueError):
        bool(LogReal([1.0, 2.0]))
    assert bool(LogReal(2.0)) and not bool(LogReal(0.0))


def test_broadcasting_and_mixed_operands():
    x = LogReal(np.array([[1.0], [2.0]]))
    y = x * np.array([1.0, -1.0, 0.5])
    assert y.shape == (2, 3)
    np.testing.assert_array_equal(np.asarray(y), [[1, -1, 0.5], [2, -2, 1]])
    for z in (x + 1, 1 + x, x + np.float64(1), np.float64(1) + x, [1.0] + x, x + [1.0]):  # noqa: RUF005
        assert isinstance(z, LogReal)
        np.testing.assert_allclose(np.asarray(z), [[2.0], [3.0]], rtol=4e-16)
    assert isinstance(np.ones(2) - LogReal(1.0), LogReal)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        LogReal(np.ones(3)) + LogReal(np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2,\)"):
        LogReal(np.ones((2, 3))) * np.ones(2)


@pytest.mark.parametrize("other", ["a", object(), {1: 2}, 1j])
def test_unsupported_operands(other):
    with pytest.raises(TypeError):
        LogReal(1.0) + other
    with pytest.raises(TypeError):
        other * LogReal(1.0)


# -- NumPy protocols ----------------------------------------------------------------------


def test_ufuncs_return_logreal():
    x, y = LogReal([1.0, -4.0]), LogReal([2.0, 2.0])
    for fn, ref in [
        (np.add, [3.0, -2.0]),
        (np.subtract, [-1.0, -6.0]),
        (np.multiply, [2.0, -8.0]),
        (np.divide, [0.5, -2.0]),
    ]:
        out = fn(x, y)
        assert isinstance(out, LogReal)
        np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-15)
    for fn, ref in [(np.negative, [-1.0, 4.0]), (np.absolute, [1.0, 4.0])]:
        out = fn(x)
        assert isinstance(out, LogReal)
        np.testing.assert_array_equal(np.asarray(out), ref)
    assert isinstance(np.sqrt(y), LogReal)
    assert isinstance(np.matmul(x, y), LogReal)


def test_array_functions_dispatch():
    x = LogReal([[1.0, 2.0], [3.0, 4.0]])
    for fn, ref in [
        (lambda: np.sum(x), 10.0),
        (lambda: np.prod(x), 24.0),
        (lambda: np.mean(x), 2.5),
        (lambda: np.dot(x[0], x[1]), 11.0),
    ]:
        out = fn()
        assert isinstance(out, LogReal)
        assert float(out) == pytest.approx(ref, rel=1e-15)
    np.testing.assert_allclose(np.asarray(np.sum(x, axis=0)), [4, 6], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(np.cumsum(x)), [1, 3, 6, 10], rtol=1e-15)
    assert np.concatenate([x, x]).shape == (4, 2)
    assert np.stack([x, x], axis=1).shape == (2, 2, 2)
    w = np.where(np.array([True, False]), x[0], x[1])
    assert isinstance(w, LogReal)
    np.testing.assert_array_equal(np.asarray(w), [1.0, 4.0])


@pytest.mark.parametrize(
    "call",
    [
        lambda x: np.exp(x),
        lambda x: np.sin(x),
        lambda x: np.add.reduce(x),
        lambda x: np.median(x),
        lambda x: np.sort(x),
        lambda x: np.add(x, x, out=np.empty(2)),
        lambda x: np.sum(x, dtype=np.float32),
    ],
)
def test_unsupported_numpy_raises_type_error_naming_it(call):
    with pytest.raises(TypeError, match=r"numpy\.|LogReal"):
        call(LogReal([1.0, 2.0]))


def test_no_object_array_fallback():
    x = LogReal([1.0, 2.0])
    with pytest.raises(TypeError, match="sin"):
        np.sin(x)


# -- reductions -------------------------------------------------------------------------


def test_reductions_axis_keepdims_and_real_inputs():
    a = np.arange(1.0, 13.0).reshape(3, 4) * np.array([1, -1, 1, -1])
    x = LogReal(a)
    for name in ("sum", "prod", "mean"):
        fn = getattr(lr, name)
        ref = getattr(np, name)
        for axis in (None, 0, 1, (0, 1), -1):
            for keepdims in (False, True):
                got = fn(x, axis=axis, keepdims=keepdims)
                want = ref(a, axis=axis, keepdims=keepdims)
                assert isinstance(got, LogReal)
                assert got.shape == np.shape(want)
                np.testing.assert_allclose(np.asarray(got), want, rtol=4e-15)
                real = fn(a, axis=axis, keepdims=keepdims)
                assert not isinstance(real, LogReal)
                np.testing.assert_allclose(real, want, rtol=4e-15)
    np.testing.assert_allclose(np.asarray(lr.cumsum(x, axis=1)), np.cumsum(a, axis=1), rtol=4e-15)
    np.testing.assert_allclose(lr.cumsum(a, axis=1), np.cumsum(a, axis=1))


def test_empty_sum_is_zero_and_empty_product_is_one():
    e = LogReal(np.empty((0, 3)))
    assert_same(lr.sum(e), LogReal(0.0))
    assert_same(lr.prod(e), LogReal(1.0))
    assert_same(lr.sum(e, axis=0), LogReal(np.zeros(3)))
    assert_same(lr.prod(e, axis=0), LogReal(np.ones(3)))
    assert lr.cumsum(e).shape == (0, 3)


def test_sum_of_a_million_tiny_terms():
    x = LogReal(np.full(1_000_000, 1e-300))
    got = float(lr.sum(x).logabs)
    assert abs(got - (-676.9600173402494)) <= 4 * math.ulp(676.96)


def test_prod_of_halves():
    x = LogReal(np.full(100_000, 0.5))
    # A compensated sum of the logs: the correctly rounded -69314.718055994530942
    # (a plain pairwise sum is an ulp or two off).
    assert float(lr.prod(x).logabs) == -69314.71805599453
    assert float(np.prod(np.full(100_000, 0.5))) == 0.0  # the naive float product


def test_cumsum_prefix_far_below_the_largest_term():
    x = lr.exp(np.array([-1e4, -1e4, 0.0, -1e4])) * np.array([1.0, -0.5, 1.0, 1.0])
    got = lr.cumsum(x)
    np.testing.assert_array_equal(np.asarray(got.sign), [1, 1, 1, 1])
    ref = [-1e4, -1e4 + math.log(0.5), 0.0, 0.0]
    np.testing.assert_allclose(np.asarray(got.logabs), ref, rtol=1e-15)


def test_matmul_and_dot_exact_per_entry():
    a = lr.exp(np.array([[1000.0, 0.0], [0.0, -1000.0]])) * np.array([[1, -1], [1, 1]])
    b = lr.exp(np.array([[0.0, -1000.0], [-2000.0, 0.0]]))
    got = a @ b
    # entry [1, 0] = e^0 * e^0 + e^-1000 * e^-2000 = 1 + e^-3000
    assert float(got.logabs[1, 0]) == pytest.approx(0.0, abs=1e-300)
    # entry [0, 1] = e^1000 e^-1000 - e^0 e^0 = 0 exactly
    assert float(got.sign[0, 1]) == 0
    ref = np.array([[1.0, -1.0], [1.0, 1.0]]) @ np.array([[1.0, 2.0], [3.0, 4.0]])
    got2 = LogReal([[1.0, -1.0], [1.0, 1.0]]) @ np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(np.asarray(got2), ref, rtol=1e-15)
    v = LogReal([1.0, 2.0, 3.0])
    assert float(lr.dot(v, v)) == pytest.approx(14.0, rel=1e-15)
    assert lr.matmul(np.ones((4, 2, 3)), LogReal(np.ones((3, 5)))).shape == (4, 2, 5)
    t = np.arange(24.0).reshape(2, 3, 4)
    u = np.arange(40.0).reshape(2, 4, 5)
    np.testing.assert_allclose(np.asarray(lr.dot(LogReal(t), u)), np.dot(t, u), rtol=1e-14)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        lr.matmul(LogReal(np.ones(3)), LogReal(np.ones(2)))


def test_assembly():
    x = lr.exp([1e4])
    c = lr.concat([x, np.array([2.0])])
    assert isinstance(c, LogReal) and c.shape == (2,)
    s = lr.stack([x, x], axis=1)
    assert s.shape == (1, 2)
    w = lr.where(np.array([True, False]), LogReal([1.0, 1.0]), -3.0)
    np.testing.assert_allclose(np.asarray(w), [1.0, -3.0], rtol=4e-16)
    np.testing.assert_array_equal(lr.where([True, False], 1.0, 2.0), [1.0, 2.0])


# -- repr --------------------------------------------------------------------------------


def test_repr_far_outside_float_range():
    x = LogReal.from_log([-40000 * math.log(10), 0.0], sign=[1, -1]) * 1.5
    assert repr(x) == "LogReal([ 1.5e-40000, -1.5])"
    assert repr(LogReal(-3.0)) == "LogReal(-3.0)"
    assert repr(lr.exp(1e6)).startswith("LogReal(3.0")
    assert "e+434294" in repr(lr.exp(1e6))
    assert repr(LogReal([0.0, NAN, -INF])) == "LogReal([ 0.0,  nan, -inf])"
    assert "float32" in repr(LogReal(np.ones(2, np.float32)))


def test_repr_summarises_long_arrays():
    text = repr(lr.exp(np.arange(5000.0)))
    assert "..." in text and len(text) < 400


def test_pickle_round_trip():
    x = lr.exp([1e5, -3.0]) * [-1, 1]
    assert_same(pickle.loads(pickle.dumps(x)), x)


def test_lists_of_logreals_are_stacked_not_read_as_floats():
    x = LogReal([lr.exp(1000.0), lr.exp(2000.0) * -1])
    np.testing.assert_array_equal(np.asarray(x.logabs), [1000.0, 2000.0])
    np.testing.assert_array_equal(np.asarray(x.sign), [1.0, -1.0])
    y = LogReal([[lr.exp(1e4), 2.0], [0.0, lr.exp(-1e4)]])
    assert y.shape == (2, 2) and float(y.logabs[0, 0]) == 1e4


@pytest.mark.parametrize("portable", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exactly_cancelling_top_terms_leave_no_false_zero(portable, dtype):
    # e^1000 - e^1000 - e^10 + e^5: the rest lies e^-990 below the shift,
    # where it underflows; it is summed again on its own scale.
    from logreal import _numba

    x = LogReal.from_log(np.array([1000.0, 1000.0, 10.0, 5.0], dtype), np.array([1, -1, -1, 1]))
    # Two levels cancel exactly (e^1000 and then e^10): e^5 is left.
    y = LogReal.from_log(np.array([1000.0, 1000.0, 10.0, 10.0, 5.0], dtype), [1, -1, 1, -1, 1])
    ctx = _numba.portable() if portable else contextlib.nullcontext()
    with ctx:
        got, two_levels = lr.sum(x), lr.sum(y)
    exact = math.log(math.exp(10.0) - math.exp(5.0))
    assert float(got.sign) == -1
    assert float(got.logabs) == pytest.approx(exact, rel=4 * float(np.finfo(dtype).eps))
    assert float(two_levels.sign) == 1 and float(two_levels.logabs) == 5.0
