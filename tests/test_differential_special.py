"""Differential tests of API.md sections 2-4 (special functions, products, norms).

Adversarial real and LogReal inputs (see ``differential.py``) against mpmath
from the exact inputs, exact fractions, or the documented IEEE answer; no
input is ever mutated.  More examples: ``LOGREAL_HYPOTHESIS_PROFILE=nightly``.
"""

import collections
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logreal as lr
from conftest import DIFFERENTIAL_EXAMPLES
from differential import (
    DBL_MAX,
    INF,
    NAN,
    call,
    check_value,
    ieee_class,
    ieee_sum,
    logreal_arrays,
    logs,
    real_arrays,
    reals,
    stored,
    sum_precision,
)

from oracle import ulp_error

examples = settings(max_examples=DIFFERENTIAL_EXAMPLES, deadline=None)
exponents = st.one_of(logs, st.floats(-30.0, 30.0))


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def as_f64(a) -> np.ndarray:
    return np.asarray(a).astype(np.float64)


# -- logsumexp and logcumsumexp -------------------------------------------------------


def lse_oracle(a: list[float], b: list[float]) -> tuple[float, float] | mpmath.mpf:
    """The IEEE (value, sign) where a term is special, else the exact sum."""
    special = []
    groups: dict[float, Fraction] = collections.defaultdict(Fraction)
    for x, w in zip(a, b, strict=True):
        if w == 0:
            continue  # a zero weight removes its term (SciPy)
        if math.isnan(x) or math.isnan(w) or x == INF or math.isinf(w):
            with np.errstate(invalid="ignore"):
                special.append(float(np.float64(w) * np.exp(np.float64(x if not math.isfinite(x)
                                                                     else 0.0))))  # fmt: skip
        elif x != -INF:
            groups[x] += Fraction(w)
    if special:
        total = ieee_sum(special)
        return (abs(total), math.copysign(1.0, total) if not math.isnan(total) else NAN)
    live = [(c, x) for x, c in groups.items() if c != 0]
    with mpmath.workprec(sum_precision([x for _, x in live]) + 64):
        exact = mpmath.fsum(
            mpmath.mpf(c.numerator) / c.denominator * mpmath.exp(mpmath.mpf(x)) for c, x in live
        )
    absolute = mpmath.fsum(
        abs(mpmath.mpf(c.numerator) / c.denominator * mpmath.exp(x)) for c, x in live
    )
    cond = float(absolute / abs(exact)) if exact else (math.inf if live else 1.0)
    return +exact, cond, absolute


def check_lse(logabs, sign, a, b, dtype):
    want = lse_oracle(a, b)
    if isinstance(want[0], float):
        assert same(float(logabs), want[0]) and same(float(sign), want[1]), (logabs, sign, want)
        return
    exact, cond, absolute = want
    check_value(sign, logabs, exact, dtype=dtype, cond=cond, absolute=absolute)


@examples
@given(real_arrays(shape=(2, 3), elements=st.one_of(reals, st.floats(-800, 800))),
       real_arrays(shape=(2, 3)), st.sampled_from([None, 0, 1, -1, (0, 1)]))  # fmt: skip
def test_logsumexp_with_weights_and_axes(a, b, axis):
    logabs, sign = call(lr.logsumexp, a, axis=axis, b=b, return_sign=True)
    plain = call(lr.logsumexp, a, axis=axis, b=b)
    # API.md section 6: integers never widen a float (float32 with integers is float32)
    floats = [x.dtype for x in (a, b) if x.dtype.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.dtype(np.float64)
    af, bf = np.broadcast_arrays(as_f64(a), as_f64(b))
    axes = (0, 1) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    n = math.prod(af.shape[i] for i in axes)
    moved = np.moveaxis(af, axes, range(-len(axes), 0)).reshape(-1, n)
    wmoved = np.moveaxis(bf, axes, range(-len(axes), 0)).reshape(-1, n)
    flat_l, flat_s, flat_p = (np.ravel(v) for v in (logabs, sign, plain))
    for i in range(moved.shape[0]):
        check_lse(flat_l[i], flat_s[i], moved[i].tolist(), wmoved[i].tolist(), dtype)
        want_plain = NAN if flat_s[i] < 0 else flat_l[i]
        assert same(float(flat_p[i]), float(want_plain))


@examples
@given(real_arrays(elements=st.one_of(reals, st.floats(-800, 800))))
def test_logcumsumexp_every_prefix(a):
    if a.ndim == 0:
        with pytest.raises(ValueError):
            lr.logcumsumexp(a)
        return
    out = call(lr.logcumsumexp, a, axis=0)
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    af = as_f64(a)
    for idx in np.ndindex(*af.shape[1:]):
        col = af[(slice(None), *idx)].tolist()
        for i in range(len(col)):
            got = float(out[(i, *idx)])
            want = lse_oracle(col[: i + 1], [1.0] * (i + 1))
            if isinstance(want[0], float):
                assert same(got, want[0])
            else:
                check_value(1.0 if want[0] else 0.0, got, want[0], dtype=dtype, cond=want[1])


# -- elementwise log-space functions ------------------------------------------------------


def ulps_of(x: float) -> float:
    return math.ulp(x) if math.isfinite(x) else 0.0


@examples
@given(exponents, exponents)
def test_logaddexp_and_logsubexp(a, b):
    got = float(call(lr.logaddexp, a, b))
    with np.errstate(invalid="ignore"):
        want_np = float(np.logaddexp(a, b))  # NumPy's rules for the special values
    if not (math.isfinite(a) and math.isfinite(b)):
        assert same(got, want_np)
    else:
        with mpmath.workprec(2400):  # the difference of two doubles, exactly
            hi, lo = max(a, b), min(a, b)
            exact = hi + mpmath.log1p(mpmath.exp(mpmath.mpf(lo) - hi))
        # max + log1p(e**-d): an ulp of the max may remain beside a small result
        assert abs(mpmath.mpf(got) - exact) <= 2 * math.ulp(float(exact)) + 2 * ulps_of(max(a, b))
    sub = float(call(lr.logsubexp, a, b))
    if math.isnan(a) or math.isnan(b) or a < b or (a == b == INF):
        assert math.isnan(sub)
    elif a == b:
        assert sub == -INF
    elif b == -INF or a == INF:
        assert sub == a
    else:
        with mpmath.workprec(2400):
            exact = a + mpmath.log1p(-mpmath.exp(mpmath.mpf(b) - a))
        d = b - a
        with np.errstate(over="ignore"):
            amplify = math.exp(d) / -math.expm1(d) if d > -700 else 0.0
        bound = 4 * math.ulp(float(exact)) + 2 * math.ulp(a) + math.ulp(d) * amplify
        assert abs(mpmath.mpf(sub) - exact) <= bound, (a, b, sub, exact)


@examples
@given(exponents)
def test_log1mexp_and_log1pexp(x):
    got = float(call(lr.log1mexp, x))
    if math.isnan(x) or x > 0:
        assert math.isnan(got)
    elif x == 0:
        assert got == -INF
    elif x == -INF:
        assert got == 0.0
    else:
        exact = mpmath.log(-mpmath.expm1(x)) if x > -1 else mpmath.log1p(-mpmath.exp(x))
        assert ulp_error(got, exact) <= 2, (x, got)
    got = float(call(lr.log1pexp, x))
    if not math.isfinite(x):
        assert same(got, {INF: INF, -INF: 0.0}.get(x, NAN) if not math.isnan(x) else NAN)
    else:
        exact = mpmath.log1p(mpmath.exp(x))
        assert abs(mpmath.mpf(got) - exact) <= 2 * math.ulp(float(exact)) + 2 * ulps_of(
            max(x, 0.0)
        )


# -- products: prefixes, leave-one-out, the gradient of a product -------------------------


def exact_products(values: list[float]) -> list[Fraction | float]:
    return [Fraction(v) if math.isfinite(v) else v for v in values]


def check_real_product(got: float, factors: list[float], through_logs: bool = False) -> None:
    """Within (n + 4) u relative (docs/products.md), plus half the smallest subnormal;
    through logs (the log trick) also |sum of logs| * u relative."""
    classes = [v if not math.isfinite(v) else (0.0 if v == 0 else math.copysign(1.0, v))
               for v in factors]  # fmt: skip
    with np.errstate(invalid="ignore"):
        want_class = float(np.prod(np.array(classes, dtype=np.float64)))
    if not all(math.isfinite(v) for v in factors):
        assert same(ieee_class(np.sign(got), math.log(abs(got)) if got else -INF), want_class) or (
            same(got, want_class)
        )
        return
    exact = math.prod((Fraction(v) for v in factors), start=Fraction(1))
    rel = (len(factors) + 4) * 2.0**-53
    if through_logs:
        rel += sum(abs(math.log(abs(v))) for v in factors if v) * 2.0**-51
    if exact == 0:
        assert got == 0
        return
    if abs(exact) >= Fraction(DBL_MAX) * (1 + Fraction(1, 2**53) + Fraction(rel)):
        assert got == (INF if exact > 0 else -INF)
        return
    if abs(exact) >= Fraction(DBL_MAX) * (1 - Fraction(rel)) and math.isinf(got):
        return  # the overflow boundary
    want = float(exact) if abs(exact) < Fraction(DBL_MAX) else (DBL_MAX if exact > 0 else -DBL_MAX)
    tol = Fraction(2.0**-1075) + abs(exact) * Fraction(rel) + Fraction(math.ulp(want)) / 2
    assert abs(Fraction(got) - exact) <= tol, (got, want)


@examples
@given(st.lists(st.one_of(reals, st.floats(-10, 10)), min_size=0, max_size=6),
       st.booleans(), st.booleans())  # fmt: skip
def test_cumprod_of_reals(values, exclusive, reverse):
    x = np.array(values, dtype=np.float64)
    out = call(lr.cumprod, x, exclusive=exclusive, reverse=reverse)
    n = len(values)
    for i in range(n):
        lo, hi = (i, n) if reverse else (0, i + 1)
        if exclusive:
            lo, hi = (lo + 1, hi) if reverse else (lo, hi - 1)
        check_real_product(float(out[i]), values[lo:hi])


@examples
@given(st.lists(st.one_of(reals, st.floats(-10, 10)), min_size=1, max_size=6),
       st.sampled_from(["naive", "division", "log", "dp", "scan", "auto"]))  # fmt: skip
def test_leave_one_out_of_reals(values, method):
    x = np.array(values, dtype=np.float64)
    out = call(lr.leave_one_out, x, method=method)
    for i in range(len(values)):
        check_real_product(float(out[i]), values[:i] + values[i + 1 :], method == "log")


@examples
@given(logreal_arrays(element_logs=st.floats(-1e3, 1e3) | logs),
       st.sampled_from(["naive", "division", "log", "dp", "scan", "auto"]))  # fmt: skip
def test_leave_one_out_of_logreals(x, method):
    out = call(lr.leave_one_out, x, method=method)
    terms = stored(x)
    for i in range(x.size):
        others = terms[:i] + terms[i + 1 :]
        classes = [ieee_class(s, la) for s, la in others]
        with np.errstate(invalid="ignore"):
            want_class = float(np.prod(np.array(classes, dtype=np.float64))) if others else 1.0
        got_s, got_l = stored(out[i])[0]
        if not all(math.isfinite(c) for c in classes) or want_class == 0:
            assert same(ieee_class(got_s, got_l), want_class), (i, got_s, got_l, want_class)
            continue
        exact_log = mpmath.fsum(mpmath.mpf(la) for _, la in others)
        assert got_s == want_class
        slack = len(others) * 2.0**-52 * float(sum(abs(la) for _, la in others)) * 2.0**-50
        err = abs(mpmath.mpf(got_l) - exact_log)
        tol = 4 * np.spacing(np.abs(x.dtype.type(float(exact_log)))) + slack
        if x.dtype == np.float32 or method in ("division", "log"):  # p / x_i: two roundings
            top = max((abs(la) for _, la in terms if math.isfinite(la)), default=0.0)
            tol += 4 * float(np.finfo(x.dtype).eps) * top
        assert err <= tol, (method, i, got_l, exact_log)


@examples
@given(
    st.lists(st.floats(-4, 4), min_size=1, max_size=5).flatmap(
        lambda f: st.tuples(
            st.just(f), st.lists(st.floats(-4, 4), min_size=2 * len(f), max_size=2 * len(f))
        )
    )
)
def test_prod_grad_against_fractions(pair):
    f_list, df_list = pair
    n = len(f_list)
    f = np.array(f_list)
    df = np.array(df_list).reshape(n, 2)
    got = call(lr.prod_grad, f, df)
    assert got.shape == (2,)
    for k in range(2):
        terms = [
            math.prod((Fraction(f_list[j]) for j in range(n) if j != i), start=Fraction(1))
            * Fraction(df_list[2 * i + k])
            for i in range(n)
        ]
        exact = sum(terms, Fraction(0))
        bound = (n + 2) * 2.0**-52 * float(sum(abs(t) for t in terms)) + 1e-300
        assert abs(Fraction(float(got[k])) - exact) <= Fraction(bound), (got, float(exact))


# -- norms ---------------------------------------------------------------------------------

ORDERS = [1, 2, 3, 0.5, -1, INF, -INF, 0]


def norm_oracle(values: list[float], p: float):
    """(value or IEEE answer, log) of the exact p-norm."""
    if p > 0 and any(math.isinf(v) for v in values):
        return INF, INF
    if any(math.isnan(v) for v in values) and p != 0:
        return NAN, NAN
    if p == 0:
        c = float(sum(1 for v in values if v != 0))
        return c, (math.log(c) if c else -INF)
    mags = [abs(v) for v in values]
    if not mags:
        return (0.0, -INF) if p > 0 else (INF, INF)
    if p == INF:
        return max(mags), (math.log(max(mags)) if max(mags) else -INF)
    if p == -INF:
        return min(mags), (math.log(min(mags)) if min(mags) else -INF)
    if p < 0 and any(m == 0 for m in mags):
        return 0.0, -INF
    if all(m == 0 for m in mags):
        return 0.0, -INF
    with mpmath.workprec(400):
        total = mpmath.fsum(mpmath.mpf(m) ** p for m in mags if m != 0 or p > 0)
        lg = mpmath.log(total) / p if total else mpmath.mpf("-inf")
    return mpmath.exp(lg), lg


@examples
@given(real_arrays(shape=(5,), allow_int=True), st.sampled_from(ORDERS))
def test_norm_and_lognorm(x, p):
    got = float(call(lr.norm, x, p))
    got_log = float(call(lr.lognorm, x, p))
    dtype = x.dtype.type if x.dtype.kind == "f" else np.float64
    want, want_log = norm_oracle(as_f64(x).tolist(), p)
    if isinstance(want, float):
        assert same(got, dtype(want)) and same(got_log, dtype(want_log)), (got, got_log, want)
        return
    # |x|**p is rounded per term: the log is good to a few ulp, or a few u absolute
    eps = float(np.finfo(dtype).eps)
    assert abs(got_log - want_log) <= 4 * eps * max(abs(float(want_log)), 1.0), (got_log, want_log)
    with np.errstate(over="ignore"):
        ref = dtype(float(want))
        spacing = float(np.spacing(abs(ref)))
    if np.isinf(ref):
        assert got == INF
    else:
        tiny = float(np.finfo(dtype).smallest_subnormal)
        assert abs(mpmath.mpf(got) - want) <= 4 * max(spacing, tiny, eps * abs(float(want)))


@examples
@given(logreal_arrays(element_logs=st.floats(-1e5, 1e5) | logs), st.sampled_from(ORDERS))
def test_lognorm_of_logreal(x, p):
    got = float(call(lr.lognorm, x, p))
    terms = stored(x)
    if any(math.isnan(s) for s, _ in terms):
        if not (p > 0 and any(la == INF for _, la in terms)):
            assert math.isnan(got) or p == 0
            return
    las = [la for s, la in terms if s != 0]
    if p == 0:
        if not las:
            assert got == -INF
        else:  # float32 log of the count: within an ulp
            assert ulp_error(got, mpmath.log(len(las)), x.dtype.type) <= 1
        return
    if p > 0 and any(la == INF for la in las):
        assert got == INF
        return
    if not terms:  # the empty norm: 0, or inf for p < 0
        assert got == (-INF if p > 0 else INF)
        return
    if not las or (p < 0 and len(las) < len(terms)):  # all zero, or a zero with p < 0
        assert got == -INF
        return
    if p == INF or p == -INF:
        assert got == (max(las) if p > 0 else min(las))
        return
    if p < 0 and all(la == INF for la in las):  # (sum of 1/inf)**(1/p): 0**-1/|p| = inf
        assert got == INF
        return
    finite = [la for la in las if la != INF]  # p < 0: an infinite term adds 0
    m = max(finite) if p > 0 else min(finite)
    las = finite
    with mpmath.workprec(sum_precision([p * la for la in las]) + 64):
        want = m + mpmath.log(mpmath.fsum(mpmath.exp(p * (mpmath.mpf(la) - m)) for la in las)) / p
    tol = 8 + abs(p) * float(max(abs(la) for la in las)) * 2.0**-52 / math.ulp(float(want) or 1.0)
    assert ulp_error(got, want, x.dtype.type) <= tol, (got, want)
