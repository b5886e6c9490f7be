"""Strategies and oracles for the differential tests (tests/test_differential*.py).

Adversarial inputs: zeros and repeated zeros, +-inf, nan, subnormals,
DBL_MAX, log-magnitudes up to +-1e300, exact and near cancellations,
float32 and float64, integer and bool arrays, Python ints beyond int64,
0-d, empty, non-contiguous, Fortran-ordered and read-only arrays.

Oracles: mpmath at 300 bits from the exact stored inputs (a float is an
exact dyadic number; a LogReal's (sign, logabs) is taken as exact), exact
grouping of equal log-magnitudes so that exact cancellation stays exact,
and the IEEE rules for the special values (a term's class: +-inf, nan).
"""

from __future__ import annotations

import collections
import math

import mpmath
import numpy as np
from hypothesis import strategies as st

import logreal as lr

from oracle import exact_value, value_logabs

INF, NAN = math.inf, math.nan
DBL_MAX = float(np.finfo(np.float64).max)
TINY = 5e-324

SPECIAL_REALS = [0.0, -0.0, INF, -INF, NAN, TINY, -TINY, 2.2250738585072014e-308, DBL_MAX,
                 -DBL_MAX, 1.0, -1.0, 0.5, 3.0, 1e-300, 1e300]  # fmt: skip
SPECIAL_LOGS = [
    0.0,
    -INF,
    INF,
    NAN,
    1e300,
    -1e300,
    709.0,
    -745.5,
    1000.0,
    TINY,
    -TINY,
    -(2.0**-60),
]

reals = st.one_of(
    st.sampled_from(SPECIAL_REALS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-50.0, 50.0),
)
logs = st.one_of(
    st.sampled_from(SPECIAL_LOGS),
    st.floats(-1e300, 1e300),
    st.floats(-800.0, 800.0),
    st.floats(-2.0, 2.0),
)
finite_logs = st.one_of(st.floats(-1e300, 1e300), st.floats(-800.0, 800.0))
signs = st.sampled_from([1.0, -1.0, 0.0])
dtypes = st.sampled_from([np.float64, np.float32])
layouts = st.sampled_from(["C", "F", "strided", "readonly"])
shapes = st.sampled_from([(), (0,), (1,), (5,), (2, 3), (3, 0), (4, 2)])


def layout(a: np.ndarray, how: str) -> np.ndarray:
    """The same values in another memory layout (the values never change)."""
    if how == "F":
        return np.asfortranarray(a)
    if how == "strided" and a.ndim:
        wide = np.repeat(a, 2, axis=-1)
        return wide[..., ::2]
    if how == "readonly":
        a = a.copy()
        a.setflags(write=False)
    return a


@st.composite
def real_arrays(draw, shape=None, elements=reals, allow_int=True):
    shape = draw(shapes) if shape is None else shape
    kind = draw(
        st.sampled_from(["float64", "float32", "int", "bool"] if allow_int else ["float64"])
    )
    n = math.prod(shape)
    if kind == "int":
        vals = draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n))
        a = np.array(vals, dtype=np.int64).reshape(shape)
    elif kind == "bool":
        a = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        a = a.reshape(shape)
    else:
        vals = draw(st.lists(elements, min_size=n, max_size=n))
        if vals and draw(st.booleans()):  # repeated values: zeros, ties, cancellations
            vals = [vals[0]] * (n // 2) + vals[n // 2 :]
        with np.errstate(over="ignore"):  # float32: huge values round to inf
            a = np.array(vals, dtype=kind).reshape(shape)
    return layout(a, draw(layouts))


@st.composite
def logreal_arrays(draw, n=None, dtype=None, element_logs=logs):
    """LogReal vectors with exact (x, -x) and near (nextafter) cancellations mixed in."""
    exact_n = n
    n = draw(st.integers(0, 7)) if n is None else n
    dtype = draw(dtypes) if dtype is None else dtype
    la = draw(st.lists(element_logs, min_size=n, max_size=n))
    sg = draw(st.lists(signs, min_size=n, max_size=n))
    if n and draw(st.booleans()):
        k = draw(st.integers(1, n))
        la, sg = la + la[:k], sg + [-s for s in sg[:k]]  # exact cancellations
    if n and draw(st.booleans()):
        la.append(float(np.nextafter(la[0], INF)) if math.isfinite(la[0]) else la[0])
        sg.append(-sg[0])  # a near cancellation
    perm = draw(st.permutations(range(len(la))))[: len(la) if exact_n is None else exact_n]
    with np.errstate(over="ignore"):
        la_a = np.array([la[i] for i in perm], dtype=dtype)
    sg_a = np.array([sg[i] for i in perm], dtype=dtype)
    return lr.LogReal.from_log(la_a, sg_a)


def stored(x: lr.LogReal) -> list[tuple[float, float]]:
    return list(zip(np.ravel(x.sign).tolist(), np.ravel(x.logabs).tolist(), strict=True))


def ieee_class(sign: float, logabs: float) -> float:
    """A float with the value's IEEE class: +-inf, nan, 0, or +-1 for a finite nonzero."""
    if math.isnan(sign) or math.isnan(logabs):
        return NAN
    if sign == 0:
        return 0.0
    return sign * INF if logabs == INF else sign


def ieee_sum(values: list[float]) -> float:
    """The IEEE sum of special values (inf - inf = nan)."""
    with np.errstate(invalid="ignore"):
        return float(np.sum(np.array(values, dtype=np.float64)))


def sum_precision(logs: list[float]) -> int:
    """Bits for an exact-enough sum: the terms' spread (capped) plus 1100 for
    near-cancellations of subnormal size (e**5e-324 - 1 is 2**-1074)."""
    finite = [la for la in logs if math.isfinite(la)]
    spread = (max(finite) - min(finite)) / math.log(2) if finite else 0.0
    return 300 + 1100 + int(min(spread, 4000.0))


def exact_sum(terms: list[tuple[float, float]]) -> mpmath.mpf:
    """The exact sum of finite stored terms; equal log-magnitudes first add as integers."""
    groups: dict[float, float] = collections.defaultdict(float)
    for s, la in terms:
        if s != 0:
            groups[la] += s
    live = [(c, la) for la, c in groups.items() if c != 0]
    with mpmath.workprec(sum_precision([la for _, la in live])):
        total = mpmath.fsum(exact_value(c, la) for c, la in live)
    return +total  # rounded to the working precision (300 bits)


def cond_of(terms: list[tuple[float, float]], exact: mpmath.mpf) -> float:
    """sum |terms| / |sum| (inf for an exact zero with nonzero terms)."""
    if exact == 0:
        return math.inf if any(s != 0 for s, _ in terms) else 1.0
    absolute = mpmath.fsum(abs(exact_value(s, la)) for s, la in terms if s != 0)
    return float(absolute / abs(exact))


def check_value(
    got_sign, got_logabs, exact, *, dtype=np.float64, ulps=4.0, cond=1.0, extra=0.0, absolute=None
):
    """Sign exactly; logabs within ``ulps`` ulp plus ``cond * u`` and ``extra`` (absolute).

    Where the sum cancelled below its terms' rounding (``cond * u >= 1/4``) the
    value is held to ``4 u * absolute`` (``absolute``: the sum of |terms|).
    """
    dtype = np.dtype(dtype).type
    s, la = value_logabs(exact)
    got_sign, got_logabs = float(got_sign), float(got_logabs)
    eps = float(np.finfo(dtype).eps)
    if cond * eps >= 0.25:  # cancelled below the terms' rounding: an absolute bound
        assert absolute is not None, "pass the sum of |terms| for a cancelling sum"
        got = exact_value(got_sign, got_logabs) if got_sign else mpmath.mpf(0)
        assert abs(got - exact) <= 4 * eps * absolute, (got_sign, got_logabs, exact)
        return
    assert got_sign == s, (got_sign, got_logabs, exact)
    if s == 0:
        assert got_logabs == -INF
        return
    want = float(la)
    if math.isinf(np.float64(want).astype(dtype)):  # the exact log beyond dtype's range
        assert got_logabs == want or abs(got_logabs) > float(np.finfo(dtype).max) / 2
        return
    with np.errstate(over="ignore"):  # the spacing at the largest float
        spacing = float(np.spacing(np.abs(dtype(want))))
    if not math.isfinite(spacing):
        spacing = math.ulp(want)
    # a relative error of the value (cond * u) is an absolute error of its log
    err = abs(mpmath.mpf(got_logabs) - la)
    assert err <= ulps * spacing + cond * eps + extra, (got_logabs, la, cond)


def check_special_or_value(got: lr.LogReal, terms, *, dtype=np.float64, ulps=4.0):
    """A sum of stored terms: the IEEE answer where a term is special, else the exact sum."""
    classes = [ieee_class(s, la) for s, la in terms]
    specials = [c for c in classes if math.isnan(c) or math.isinf(c)]
    if specials:
        want = ieee_sum(specials)
        got_val = ieee_class(float(got.sign), float(got.logabs))
        assert (math.isnan(want) and math.isnan(got_val)) or got_val == want, (got, want)
        return
    finite = [(s, la) for s, la in terms if s != 0]
    exact = exact_sum(finite)
    absolute = mpmath.fsum(abs(exact_value(s, la)) for s, la in finite)
    cond = cond_of(finite, exact)
    check_value(got.sign, got.logabs, exact, dtype=dtype, ulps=ulps, cond=cond, absolute=absolute)


def snapshot(args) -> list:
    out = []
    for a in args:
        if isinstance(a, lr.LogReal):
            out.append((np.array(a.sign, copy=True), np.array(a.logabs, copy=True)))
        elif isinstance(a, np.ndarray):
            out.append(np.array(a, copy=True))
        else:
            out.append(None)
    return out


def unchanged(args, before) -> None:
    """Inputs are never mutated (nan compares equal to nan here)."""
    for a, b in zip(args, before, strict=True):
        if isinstance(a, lr.LogReal):
            np.testing.assert_array_equal(a.sign, b[0])
            np.testing.assert_array_equal(a.logabs, b[1])
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)


def call(fn, *args, **kwargs):
    """``fn(*args)`` under warnings-as-errors, checking that no input changed."""
    before = snapshot(args)
    out = fn(*args, **kwargs)
    unchanged(args, before)
    return out
