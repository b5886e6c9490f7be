"""Differential tests of API.md section 1 (LogReal) against mpmath and the IEEE rules.

Each test draws adversarial inputs (see ``differential.py``), calls a public
function, and checks the result against an exact oracle from the stored
inputs, and that no input was mutated.  Run more examples with
``LOGREAL_HYPOTHESIS_PROFILE=nightly``.
"""

import math
import operator
import re

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import logreal as lr
from conftest import DIFFERENTIAL_EXAMPLES
from differential import (
    INF,
    NAN,
    call,
    check_special_or_value,
    check_value,
    cond_of,
    dtypes,
    exact_sum,
    finite_logs,
    ieee_class,
    logreal_arrays,
    logs,
    real_arrays,
    stored,
)

from oracle import exact_value, ulp_error, value_logabs

examples = settings(max_examples=DIFFERENTIAL_EXAMPLES, deadline=None)


def classes_equal(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# -- construction and conversion -----------------------------------------------------


@examples
@given(real_arrays())
def test_logreal_of_real_arrays(a):
    x = call(lr.LogReal, a)
    want_dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    assert x.shape == a.shape and x.dtype == want_dtype
    for (s, la), v in zip(stored(x), np.ravel(a).tolist(), strict=True):
        v = float(v)
        if math.isnan(v):
            assert math.isnan(s) and math.isnan(la)
            continue
        assert s == (v > 0) - (v < 0)
        if v != 0:
            assert ulp_error(la, mpmath.log(abs(mpmath.mpf(v))), want_dtype.type) <= 1


@examples
@given(st.integers(-(10**400), 10**400) | st.sampled_from([2**63, 2**64, -(2**64), 10**400]))
def test_logreal_of_python_ints(n):
    for x in (call(lr.LogReal, n), call(lr.LogReal, [n])[0], lr.LogReal(1.0) * n):
        assert float(x.sign) == (n > 0) - (n < 0)
        if n:
            assert ulp_error(float(x.logabs), mpmath.log(abs(n))) <= 1


@examples
@given(logreal_arrays())
def test_to_real_and_back(x):
    r = call(lr.LogReal.to_real, x)
    for (s, la), v in zip(stored(x), np.ravel(r).tolist(), strict=True):
        c = ieee_class(s, la)
        if math.isnan(c) or math.isinf(c) or c == 0:
            assert classes_equal(v, c) or (c == 0 and v == 0)
            continue
        exact = exact_value(s, la)
        info = np.finfo(x.dtype)
        if abs(exact) > info.max:
            assert v == s * INF
        else:  # within half an ulp, or a subnormal step
            ref = x.dtype.type(float(exact))  # exp is within 2 ulp (float32 exp: 1.5)
            step = max(2 * np.spacing(abs(ref)), info.smallest_subnormal)
            assert abs(mpmath.mpf(v) - exact) <= step


@examples
@given(logreal_arrays(), st.sampled_from(["exp", "log", "sqrt", "abs", "neg"]))
def test_elementwise_functions_are_exact_on_components(x, name):
    if name == "exp":
        z = np.asarray(x.logabs)
        y = call(lr.exp, z)
        np.testing.assert_array_equal(y.logabs, z)
        np.testing.assert_array_equal(
            y.sign, np.where(np.isnan(z), NAN, np.where(z == -INF, 0, 1))
        )
        return
    y = call({"log": lr.log, "sqrt": lr.sqrt, "abs": abs, "neg": operator.neg}[name], x)
    for (s, la), got in zip(stored(x), (stored(y) if name != "log" else np.ravel(y)), strict=True):
        if name == "log":
            want = NAN if s < 0 or math.isnan(s) else la
            assert classes_equal(float(got), want)
        elif name == "sqrt":
            # la / 2 rounded to the stored dtype (a float32 subnormal halves inexactly)
            half = float(x.dtype.type(la / 2))
            want = (NAN, NAN) if s < 0 or math.isnan(s) else (s, half if s else -INF)
            assert all(classes_equal(g, w) for g, w in zip(got, want, strict=True))
        else:
            want = (abs(s) if name == "abs" else -s, la)
            assert all(classes_equal(g, w) for g, w in zip(got, want, strict=True))


# -- ring arithmetic and comparisons ---------------------------------------------------

OPS = {
    "add": (operator.add, lambda a, b: a + b),
    "sub": (operator.sub, lambda a, b: a - b),
    "mul": (operator.mul, lambda a, b: a * b),
    "div": (operator.truediv, lambda a, b: a / b),
}


def _ieee(op, a, b):
    with np.errstate(all="ignore"):
        return float(op(np.float64(a), np.float64(b)))


pairs = st.integers(0, 6).flatmap(
    lambda n: dtypes.flatmap(lambda d: st.tuples(logreal_arrays(n, d), logreal_arrays(n, d)))
)


@examples
@given(pairs)
@pytest.mark.parametrize("name", sorted(OPS))
def test_binary_arithmetic(name, pair):
    x, y = pair
    op, real_op = OPS[name]
    z = call(op, x, y)
    for (sa, la), (sb, lb), (sz, lz) in zip(stored(x), stored(y), stored(z), strict=True):
        ca, cb = ieee_class(sa, la), ieee_class(sb, lb)
        special = any(math.isnan(c) or math.isinf(c) for c in (ca, cb))
        if special or (name == "div" and sb == 0):
            want = _ieee(real_op, ca, cb)
            assert classes_equal(ieee_class(sz, lz), want), (name, ca, cb, sz, lz)
            continue
        if name in ("add", "sub"):
            terms = [(sa, la), (sb if name == "add" else -sb, lb)]
            exact = exact_sum(terms)
            absolute = abs(exact_value(sa, la)) + abs(exact_value(sb, lb))
            check_value(
                sz, lz, exact, dtype=x.dtype, cond=cond_of(terms, exact), absolute=absolute
            )
        else:
            exact = real_op(exact_value(sa, la), exact_value(sb, lb))
            check_value(sz, lz, exact, dtype=x.dtype, ulps=1)


@examples
@given(logreal_arrays(), st.one_of(st.integers(-5, 5), st.floats(-3, 3), st.sampled_from(
    [0.5, 2.0**53 + 1, 10**400, 10**400 + 1, INF, -INF, NAN])))  # fmt: skip
def test_power(x, p):
    z = call(operator.pow, x, p)
    if isinstance(p, float):  # a Python float is weak: it takes x's dtype (NumPy 2)
        with np.errstate(over="ignore"):
            p = float(x.dtype.type(p))
    big = isinstance(p, int) and abs(p) >= 2**1000
    pf = (INF if p > 0 else -INF) if big else float(p)
    for (s, la), (sz, lz) in zip(stored(x), stored(z), strict=True):
        if p == 0:
            assert (sz, lz) == (1.0, 0.0)
            continue
        if la == 0 and not math.isnan(s):  # |x| = 1: IEEE pow(+-1, p), parity from p
            want = (-1.0 if s < 0 and isinstance(p, int) and p % 2 else 1.0) if big else None
            if want is None:
                with np.errstate(invalid="ignore"):
                    want = float(np.power(np.float64(s), pf))
            assert classes_equal(ieee_class(sz, lz), want)
            continue
        integral = isinstance(p, int) or (math.isfinite(pf) and pf == round(pf))
        if math.isnan(s) or math.isnan(pf) or (s < 0 and not integral and not math.isinf(pf)):
            assert math.isnan(sz)
            continue
        if s == 0:  # 0 ** p: zero for p > 0, inf for p < 0
            assert (sz, lz) == ((0.0, -INF) if pf > 0 else (1.0, INF))
            continue
        odd_int = isinstance(p, int) and p % 2 == 1
        odd = odd_int or (integral and math.isfinite(pf) and pf % 2 == 1)
        want_sign = -1.0 if s < 0 and odd else 1.0
        want = mpmath.mpf(p if isinstance(p, int) else pf) * mpmath.mpf(la) if la else 0
        with np.errstate(over="ignore"):  # beyond the dtype's range (float32: 3.4e38)
            beyond = bool(np.isinf(x.dtype.type(float(want))))
        if beyond:
            want_log = INF if want > 0 else -INF
            assert lz == want_log and (sz == want_sign or want_log == -INF)
            continue
        assert sz == (want_sign if want != -INF else 0.0)
        assert ulp_error(lz, want, x.dtype.type) <= 1


def _order_key(s: float, la: float) -> tuple[float, float]:
    """Values order as (sign, sign * logabs): e**l is strictly increasing."""
    return (s, s * la if s else 0.0)


@examples
@given(pairs)
def test_comparisons_are_exact(pair):
    x, y = pair
    for name, op in [("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt),
                     ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge)]:  # fmt: skip
        got = np.ravel(call(op, x, y))
        for i, ((sa, la), (sb, lb)) in enumerate(zip(stored(x), stored(y), strict=True)):
            if math.isnan(sa) or math.isnan(sb):
                assert bool(got[i]) == (name == "ne")
                continue
            ka, kb = _order_key(sa, la), _order_key(sb, lb)
            assert bool(got[i]) == bool(op(ka, kb)), (name, sa, la, sb, lb)


# -- reductions ------------------------------------------------------------------------


@examples
@given(logreal_arrays())
def test_sum_and_mean(x):
    total = call(lr.sum, x)
    check_special_or_value(total, stored(x), dtype=x.dtype)
    mean = call(lr.mean, x)
    if x.size:
        check_special_or_value(mean * x.size, stored(x), dtype=x.dtype, ulps=8)


@examples
@given(logreal_arrays())
def test_cumsum_every_prefix(x):
    out = call(lr.cumsum, x)
    terms = stored(x)
    for i in range(x.size):
        check_special_or_value(out[i], terms[: i + 1], dtype=x.dtype)


@examples
@given(logreal_arrays(element_logs=finite_logs | logs))
def test_prod(x):
    p = call(lr.prod, x)
    terms = stored(x)
    classes = [ieee_class(s, la) for s, la in terms]
    with np.errstate(invalid="ignore"):
        want_class = float(np.prod(np.array(classes))) if classes else 1.0
    if any(math.isnan(c) or math.isinf(c) for c in classes) or want_class == 0:
        assert classes_equal(ieee_class(float(p.sign), float(p.logabs)), want_class)
        return
    exact_log = mpmath.fsum(mpmath.mpf(la) for _, la in terms)
    assert float(p.sign) == want_class
    if abs(exact_log) > float(np.finfo(x.dtype).max):
        assert float(p.logabs) == (INF if exact_log > 0 else -INF)
        return
    bound = x.size * float(np.finfo(x.dtype).eps) ** 2 * float(sum(abs(la) for _, la in terms))
    err = abs(mpmath.mpf(float(p.logabs)) - exact_log)
    assert err <= 2 * np.spacing(np.abs(x.dtype.type(float(exact_log)))) + bound


@examples
@given(
    st.integers(1, 3).flatmap(
        lambda k: st.tuples(
            logreal_arrays(2 * k, np.float64, finite_logs),
            logreal_arrays(k * 3, np.float64, finite_logs),
        )
    )
)
def test_matmul_and_dot(pair):
    a, b = pair
    k = a.size // 2
    a2, b2 = a.reshape(2, k), b.reshape(k, 3)
    for got in (call(lr.matmul, a2, b2), call(lr.dot, a2, b2), a2 @ b2):
        assert got.shape == (2, 3)
        for i in range(2):
            for j in range(3):
                terms = [(float(a2.sign[i, t] * b2.sign[t, j]),
                          float(mpmath.mpf(float(a2.logabs[i, t])) + float(b2.logabs[t, j])))
                         for t in range(k)]  # fmt: skip
                exact_terms = [
                    exact_value(float(a2.sign[i, t]), float(a2.logabs[i, t]))
                    * exact_value(float(b2.sign[t, j]), float(b2.logabs[t, j]))
                    for t in range(k)
                ]
                exact = mpmath.fsum(exact_terms)
                absolute = mpmath.fsum(abs(t) for t in exact_terms)
                if any(math.isinf(la) for _, la in terms):
                    continue  # a product whose log overflows: covered by test_prod
                # Each product's log is rounded once (|log| u) before the exact
                # sum: the error bound is absolute, in the sum of |products|.
                top = max(abs(la) for _, la in terms)
                bound = absolute * (mpmath.expm1(mpmath.mpf(top) * 2.0**-52) + 2.0**-50)
                if exact != 0:  # and the result's own logabs, rounded: a few ulp (API.md)
                    log_exact = float(mpmath.log(abs(exact)))
                    bound += abs(exact) * mpmath.expm1(4 * math.ulp(abs(log_exact)))
                got_value = exact_value(float(got.sign[i, j]), float(got.logabs[i, j]))
                assert abs(got_value - exact) <= bound, (got[i, j], exact)


@examples
@given(logreal_arrays(4), logreal_arrays(4), st.lists(st.booleans(), min_size=4, max_size=4))
def test_where_concat_stack_are_exact(x, y, cond):
    assume(x.dtype == y.dtype)
    w = call(lr.where, np.array(cond), x, y)
    c = call(lr.concat, [x, y])
    s = call(lr.stack, [x, y], axis=1)
    for i in range(4):
        src = x if cond[i] else y
        assert stored(w[i]) == stored(src[i]) or np.isnan(src.logabs[i])
    np.testing.assert_array_equal(c.logabs, np.concatenate([x.logabs, y.logabs]))
    np.testing.assert_array_equal(s.sign, np.stack([x.sign, y.sign], axis=1))


@examples
@given(logreal_arrays(element_logs=logs | st.floats(-1e300, 1e300)))
def test_repr_reads_back(x):
    text = call(repr, x)
    assert text.startswith("LogReal(")
    items = re.findall(r"-?[\d.]+(?:e[+-]\d+)?|nan|-?inf", text[8:])
    for (s, la), item in zip(stored(x), items, strict=False):  # repr may summarise
        if math.isnan(s) or s == 0 or math.isinf(la):
            continue
        if "e" in item and not -745.1 < la < 709.7:  # outside float range: decimal text
            mantissa, exponent = item.lstrip("-").split("e")
            with mpmath.workprec(64 + 4 * len(exponent)):
                back = mpmath.log(mpmath.mpf(mantissa)) + int(exponent) * mpmath.log(10)
            # nine significant digits at most: within 1e-8 (or the log's own ulp)
            assert abs(back - la) <= 1e-8 + 2 * math.ulp(la), (item, la)
        assert item.startswith("-") == (s < 0)


@examples
@given(logreal_arrays(n=3), st.sampled_from([0, 1, 2, 3, 4]))
def test_cumprod_of_logreal(x, _):
    out = call(lr.cumprod, x)
    for i in range(x.size):
        sub = lr.prod(x[: i + 1])
        assert stored(out[i]) == stored(sub) or ulp_error(
            float(out.logabs[i]), mpmath.mpf(float(sub.logabs)), x.dtype.type) <= 2  # fmt: skip


@examples
@given(dtypes, st.data())
def test_exact_sum_oracle_agrees_with_integers(dtype, data):
    """The grouping oracle itself: exact cancellation of equal terms is exact."""
    la = data.draw(st.lists(st.floats(-5, 5), min_size=1, max_size=4))
    terms = [(1.0, v) for v in la] + [(-1.0, v) for v in la] + [(1.0, 0.0)]
    assert exact_sum(terms) == 1
    assert value_logabs(exact_sum(terms)) == (1, 0)
