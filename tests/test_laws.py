"""Ring laws, IEEE rules, exact comparisons and powers of LogReal, by hypothesis.

The strategies deliberately produce zeros (often several in one array), +-inf,
nan, subnormals, log-magnitudes up to 1e15 (values like e**1e15, far outside
float range) and mixed signs, and build each element either from a log
(``LogReal.from_log``) or from a float (``LogReal(x)``), mixed in one array.

Exact laws (commutativity, identities, IEEE rules, comparisons, powers) are
checked bit for bit.  Associativity and distributivity cannot be exact in
floating point, and comparing the two sides with each other fails whenever a
cancellation turns a rounding error into a large relative one.  So each side is
compared with the mpmath value of the exact expression (``test_accuracy``'s
oracle, from the stored inputs), in value space, against the sum of the errors
its operations may commit:

    |side - exact| <= sum_j |v_j| * expm1(tol_j)

over every operation j of that side, ``v_j`` its exact result and ``tol_j`` its
logabs bound: 0.5 ulp for a product (one rounded addition of logs) and
``log_tol`` for a sum of two terms (2 ulp, plus 2**-52 * B where the result's log
nearly cancels).  Without cancellation this is a few ulp of the result's logabs;
after one it is the inner operation's error measured against the larger inner
value, which is as much as any float64 evaluation order can promise.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import logreal as lr
from test_accuracy import DBL_MAX, LN2, SUB, TINY, Exact, exact_sum, log_tol, ulp

INF, NAN = math.inf, math.nan
LMAX = math.log(DBL_MAX)
LSUB = math.log(SUB)

# ---------------------------------------------------------------------------
# Strategies.

FINITE_LOGS = st.one_of(
    st.sampled_from([0.0, LN2, -LN2, LMAX, LSUB, 1e6, -1e6, 2.0**-60, -(2.0**-60), 1e-300]),
    st.floats(-50, 50),
    st.floats(-1e6, 1e6),
    st.floats(-1e15, 1e15),
)
# Log-magnitudes whose sums overflow the float range of logabs itself; used where
# no law depends on logabs arithmetic staying finite.
EXTREME_LOGS = st.sampled_from([1e300, -1e300, DBL_MAX, -DBL_MAX])
NONFINITE_LOGS = st.sampled_from([-INF, INF, NAN])
SIGNS = st.sampled_from([-1.0, 1.0, 0.0])
FINITE_REALS = st.one_of(
    st.sampled_from([0.0, -0.0, SUB, -SUB, TINY, -TINY, DBL_MAX, -DBL_MAX, 1.0, -1.0, 2.0]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-TINY, TINY),  # subnormals
)
ANY_REALS = st.one_of(FINITE_REALS, st.sampled_from([INF, -INF, NAN]))
LENGTHS = st.integers(1, 5)


@st.composite
def logreal_arrays(draw, n: int, finite: bool = False, extreme: bool = True, nonzero=False):
    """A 1-d LogReal of length n, each element from a log or from a float.

    ``finite``: no inf or nan; ``extreme``: also |logabs| of 1e300 and DBL_MAX.
    """
    pool = [FINITE_LOGS]
    pool += [] if finite else [NONFINITE_LOGS]
    pool += [EXTREME_LOGS] if extreme else []
    logs = draw(st.lists(st.one_of(*pool), min_size=n, max_size=n))
    signs = draw(st.lists(SIGNS, min_size=n, max_size=n))
    reals = draw(st.lists(FINITE_REALS if finite else ANY_REALS, min_size=n, max_size=n))
    from_log = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    if nonzero:
        signs = [s or 1.0 for s in signs]
        reals = [r if r != 0 else 1.0 for r in reals]
    x = lr.where(
        np.asarray(from_log, dtype=bool),
        lr.LogReal.from_log(np.asarray(logs), np.asarray(signs)),
        lr.LogReal(np.asarray(reals)),
    )
    note(f"{x.sign.tolist()=} {x.logabs.tolist()=}")
    return x


@st.composite
def arrays_of_one_length(draw, count: int, **kw):
    n = draw(LENGTHS)
    return tuple(draw(logreal_arrays(n, **kw)) for _ in range(count))


def bits_equal(a, b) -> bool:
    """Equal components, nan in the same places, and the same sign bits elsewhere."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
        return False
    keep = ~np.isnan(a)
    return bool(np.array_equal(np.signbit(a[keep]), np.signbit(b[keep])))


def same(x: lr.LogReal, y: lr.LogReal) -> bool:
    """Bit for bit equal components (nan in the same places)."""
    return bits_equal(x.sign, y.sign) and bits_equal(x.logabs, y.logabs)


def equal(x: lr.LogReal, y: lr.LogReal) -> bool:
    """Equal components, nan in the same places; a logabs of -0.0 equals 0.0 (both
    are log 1: ``from_log(-0.0)`` keeps the -0.0, and ``x + 0`` turns it into 0.0)."""
    return all(
        np.shape(a) == np.shape(b) and np.array_equal(a, b, equal_nan=True)
        for a, b in ((x.sign, y.sign), (x.logabs, y.logabs))
    )


def elements(x: lr.LogReal):
    return list(zip(x.sign.tolist(), x.logabs.tolist(), strict=True))


def is_finite(s: float, lg: float) -> bool:
    return s == 0 or math.isfinite(lg)


# ---------------------------------------------------------------------------
# Commutativity: exact, bit for bit, also beside reals.


@given(arrays_of_one_length(2))
def test_add_and_multiply_commute_exactly(xy):
    x, y = xy
    assert same(x + y, y + x)
    assert same(x * y, y * x)
    real = np.asarray(y)  # the float values of y as a real operand
    assert same(x + real, real + x)
    assert same(x * real, real * x)
    assert same(x + 2.5, 2.5 + x)
    assert same(x * -3, -3 * x)


# ---------------------------------------------------------------------------
# Identities and the zero.

ZEROS = {
    "int 0": lambda n: 0,
    "0.0": lambda n: 0.0,
    "-0.0": lambda n: -0.0,
    "np.float64(0)": lambda n: np.float64(0.0),
    "np.zeros": lambda n: np.zeros(n),
    "LogReal(zeros)": lambda n: lr.LogReal(np.zeros(n)),
    "LogReal(-0.0)": lambda n: lr.LogReal(-0.0),
    "x - x of finite x": lambda n: lr.LogReal(np.arange(n) - 2.0) - lr.LogReal(np.arange(n) - 2.0),
}
ONES = {
    "int 1": lambda n: 1,
    "1.0": lambda n: 1.0,
    "np.ones": lambda n: np.ones(n),
    "LogReal(1.0)": lambda n: lr.LogReal(1.0),
    "exp(0)": lambda n: lr.exp(np.zeros(n)),
}
# Each test below loops over every zero (or one); a failure names it.


@given(x=logreal_arrays(4))
def test_adding_zero_is_the_identity(x):
    for name, zero in ZEROS.items():
        z = zero(4)
        for r in (x + z, z + x, x - z):
            assert equal(r, x), name
            assert np.all((r == x) | np.isnan(x.logabs)), name


@given(x=logreal_arrays(4))
def test_multiplying_by_one_is_the_identity(x):
    for name, one in ONES.items():
        o = one(4)
        for r in (x * o, o * x, x / o):
            assert equal(r, x), name
            assert np.all((r == x) | np.isnan(x.logabs)), name
    minus_x = -x
    assert same(-minus_x, x)


@given(x=logreal_arrays(5))
def test_x_minus_x_is_the_canonical_zero(x):
    """Zero (sign 0, logabs -inf) for finite x, whatever its sign; nan for +-inf and nan."""
    for d in (x - x, -x + x, x + (-x), (-x) - (-x)):
        for (s, lg), (ds, dl) in zip(elements(x), elements(d), strict=True):
            if is_finite(s, lg):
                assert (ds, dl) == (0.0, -INF) and not math.copysign(1, ds) < 0
            else:
                assert math.isnan(ds) and math.isnan(dl)


@given(x=logreal_arrays(5))
def test_x_over_x_is_one(x):
    """One for finite nonzero x; 0/0, inf/inf and nan/nan are nan."""
    for (s, lg), (qs, ql) in zip(elements(x), elements(x / x), strict=True):
        if s != 0 and math.isfinite(lg):
            assert (qs, ql) == (1.0, 0.0)
        else:
            assert math.isnan(qs) and math.isnan(ql)


@given(x=logreal_arrays(4))
def test_zero_annihilates_finite_values(x):
    """0 * x is the zero for finite x; 0 * inf and 0 * nan are nan (IEEE)."""
    for name, zero in ZEROS.items():
        z = zero(4)
        for p in (z * x, x * z):
            for (s, lg), (ps, pl) in zip(elements(x), elements(p), strict=True):
                if is_finite(s, lg):
                    assert (ps, pl) == (0.0, -INF), (name, s, lg)
                else:
                    assert math.isnan(ps) and math.isnan(pl), (name, s, lg)


# ---------------------------------------------------------------------------
# Associativity and distributivity, against the exact value (module notes).


def add_tol(L, la, lb) -> float:
    """``log_tol`` of a two-term sum with exact result log L and operand logs la, lb."""
    m = max(v for v in (la, lb, -INF) if v == v)  # the larger operand's log
    m = mpmath.mpf(m) if math.isfinite(m) else mpmath.mpf(0)
    return log_tol(Exact(1.0, L, m, mpmath.mpf(1)))


def value_within(got, exact_sign, exact_L, parts) -> tuple[bool, str]:
    """``|got - exact| <= sum |v_j| expm1(tol_j)`` in value space, for ``parts`` = (L_j, tol_j).

    All values are scaled by e**-Lr, Lr the largest finite log, so that e**1e15 is fine.
    """
    gs, gl = got
    if mpmath.isnan(exact_L):
        return math.isnan(gs) and math.isnan(gl), "expected nan"
    if mpmath.isinf(exact_L) and exact_L > 0:
        return (gs, gl) == (exact_sign, INF), "expected an infinity"
    if math.isnan(gs) or gl == INF:
        return False, "got nan or inf for a finite value"
    logs = [v for v in (exact_L, mpmath.mpf(gl), *(p[0] for p in parts)) if mpmath.isfinite(v)]
    lr_ = max(logs) if logs else mpmath.mpf(0)
    v_exact = exact_sign * mpmath.exp(exact_L - lr_) if exact_sign != 0 else mpmath.mpf(0)
    if gs == exact_sign and gs != 0:
        err = abs(v_exact * mpmath.expm1(mpmath.mpf(gl) - exact_L))
    else:
        v_got = gs * mpmath.exp(mpmath.mpf(gl) - lr_) if gs != 0 else mpmath.mpf(0)
        err = abs(v_got - v_exact)
    bound = mpmath.fsum(
        mpmath.exp(L - lr_) * mpmath.expm1(t) for L, t in parts if mpmath.isfinite(L)
    )
    msg = f"error {mpmath.nstr(err, 5)} > bound {mpmath.nstr(bound, 5)} (scaled by e**-{lr_})"
    return err <= bound, msg


def exact_of(*terms) -> Exact:
    """The exact sum of LogReal elements given as (sign, logabs)."""
    return exact_sum([s for s, _ in terms], [lg for _, lg in terms])


def classify_sum(*terms):
    """(sign, L) of the IEEE result: nan, +-inf, or the exact sum."""
    ex = exact_of(*terms)
    return ex.sign, ex.L


@given(arrays_of_one_length(3, extreme=False))
def test_addition_is_associative_within_the_bound(xyz):
    """(x + y) + z and x + (y + z) each within the bound of their two additions;
    nan and the infinities exactly where IEEE puts them."""
    x, y, z = xyz
    lhs, rhs = (x + y) + z, x + (y + z)
    for i, (a, b, c) in enumerate(zip(elements(x), elements(y), elements(z), strict=True)):
        s, L = classify_sum(a, b, c)
        for got, (inner_a, inner_b), outer in (
            (elements(lhs)[i], (a, b), c),
            (elements(rhs)[i], (b, c), a),
        ):
            inner = exact_of(inner_a, inner_b)
            parts = [(inner.L, add_tol(inner.L, inner_a[1], inner_b[1]))]
            parts.append((L, add_tol(L, inner.L, outer[1])))
            ok, msg = value_within(got, s, L, parts)
            assert ok, f"element {i}: {(a, b, c)} -> {got}: {msg}"


def classify_product(*terms):
    """IEEE product of (sign, logabs) elements: sign, exact log (mp)."""
    if any(math.isnan(s) for s, _ in terms):
        return NAN, mpmath.mpf("nan")
    zero = any(s == 0 for s, _ in terms)
    inf = any(lg == INF for _, lg in terms)
    if zero and inf:
        return NAN, mpmath.mpf("nan")
    if zero:
        return 0.0, mpmath.mpf("-inf")
    sign = math.prod(s for s, _ in terms)
    return sign, mpmath.fsum(mpmath.mpf(lg) for _, lg in terms)


@given(arrays_of_one_length(3, extreme=False))
def test_multiplication_is_associative_within_the_bound(xyz):
    """Both groupings: exact sign, nan/zero/inf exactly, logabs within 0.5 ulp of the
    inner sum of logs plus 0.5 ulp of the result (two rounded additions).  Logs up to
    1e15: where a sum of logs overflows (1e308 + 1e308), the grouping decides, as in
    floats."""
    x, y, z = xyz
    lhs, rhs = (x * y) * z, x * (y * z)
    for i, (a, b, c) in enumerate(zip(elements(x), elements(y), elements(z), strict=True)):
        s, L = classify_product(a, b, c)
        for got, inner in ((elements(lhs)[i], (a, b)), (elements(rhs)[i], (b, c))):
            gs, gl = got
            if mpmath.isnan(L):
                assert math.isnan(gs) and math.isnan(gl), (i, got)
                continue
            assert gs == s, (i, a, b, c, got)
            if not mpmath.isfinite(L):
                assert gl == float(L), (i, got)
                continue
            inner_l = classify_product(*inner)[1]
            tol = 0.5 * ulp(inner_l) + 0.5 * ulp(L)
            assert abs(mpmath.mpf(gl) - L) <= tol, (i, a, b, c, got, L)


@given(arrays_of_one_length(3, finite=True, extreme=False))
def test_multiplication_distributes_over_addition_within_the_bound(xyz):
    """x * (y + z) and x * y + x * z, finite values (zeros included; with infinities
    IEEE arithmetic itself is not distributive: inf * (0 + 1) = inf but
    inf * 0 + inf * 1 = nan)."""
    x, y, z = xyz
    lhs, rhs = x * (y + z), x * y + x * z
    for i, (a, b, c) in enumerate(zip(elements(x), elements(y), elements(z), strict=True)):
        q = exact_of(b, c)
        if a[0] == 0 or q.sign == 0:
            assert elements(lhs)[i] == (0.0, -INF) and elements(rhs)[i] == (0.0, -INF)
            continue
        sign, L = a[0] * q.sign, mpmath.mpf(a[1]) + q.L
        # lhs: the sum y + z, then one rounded addition of logs
        lhs_tol = add_tol(q.L, b[1], c[1]) + 0.5 * ulp(L)
        ok, msg = value_within(elements(lhs)[i], sign, L, [(L, lhs_tol)])
        assert ok, f"lhs element {i}: {(a, b, c)} -> {elements(lhs)[i]}: {msg}"
        # rhs: two rounded products (computed here exactly as IEEE additions), then a sum
        p1, p2 = np.float64(a[1]) + b[1], np.float64(a[1]) + c[1]
        parts = [(mpmath.mpf(float(p)), 0.5 * ulp(p)) for p in (p1, p2) if np.isfinite(p)]
        psum = exact_sum([a[0] * b[0], a[0] * c[0]], [p1, p2])
        if psum.sign != 0:
            parts.append((psum.L, add_tol(psum.L, p1, p2)))
        ok, msg = value_within(elements(rhs)[i], sign, L, parts)
        assert ok, f"rhs element {i}: {(a, b, c)} -> {elements(rhs)[i]}: {msg}"


# ---------------------------------------------------------------------------
# One zero and one nan: every result is in the canonical form.


def assert_canonical(r: lr.LogReal, what: str) -> None:
    s, lg = np.asarray(r.sign), np.asarray(r.logabs)
    assert np.all(np.isin(s, [-1.0, 0.0, 1.0]) | np.isnan(s)), (what, s)
    assert np.array_equal(s == 0, lg == -INF), (what, "zero is (0, -inf) only", s, lg)
    assert np.array_equal(np.isnan(s), np.isnan(lg)), (what, "nan is (nan, nan) only", s, lg)


RESULTS = {
    "x+y": lambda x, y: x + y,
    "x-y": lambda x, y: x - y,
    "x*y": lambda x, y: x * y,
    "x/y": lambda x, y: x / y,
    "y/x": lambda x, y: y / x,
    "x**3": lambda x, y: x**3,
    "x**-2": lambda x, y: x**-2,
    "x**0.5": lambda x, y: x**0.5,
    "-x": lambda x, y: -x,
    "abs(x)": lambda x, y: abs(x),
    "x*2.5": lambda x, y: x * 2.5,
    "x/real(y)": lambda x, y: x / np.asarray(y),
    "sum": lambda x, y: lr.sum(lr.stack([x, y])),
    "sum(axis=0)": lambda x, y: lr.sum(lr.stack([x, y]), axis=0),
    "prod(axis=0)": lambda x, y: lr.prod(lr.stack([x, y]), axis=0),
    "cumsum": lambda x, y: lr.cumsum(lr.concat([x, y])),
    "dot": lambda x, y: lr.dot(x, y),
    "outer@": lambda x, y: x.reshape(-1, 1) @ y.reshape(1, -1),
}


@given(arrays_of_one_length(2))
def test_every_result_is_canonical(xy):
    """API.md: one zero (sign 0, logabs -inf), and a nan is nan in both components.
    A result that underflows in log space (x / inf, or logabs below -DBL_MAX) must be
    that zero, else it compares unequal to LogReal(0.0) and hashes differently."""
    x, y = xy
    assert_canonical(x, "input")
    for name, fn in RESULTS.items():
        assert_canonical(fn(x, y), name)


# ---------------------------------------------------------------------------
# IEEE rules, pinned by API.md.


def L(v):
    return lr.LogReal(v)


IEEE = [
    ("inf+inf", lambda: L(INF) + L(INF), (1.0, INF)),
    ("-inf+-inf", lambda: L(-INF) + L(-INF), (-1.0, INF)),
    ("inf-inf", lambda: L(INF) - L(INF), (NAN, NAN)),
    ("inf+-inf", lambda: L(INF) + L(-INF), (NAN, NAN)),
    ("inf+1", lambda: L(INF) + 1.0, (1.0, INF)),
    ("-inf+e^1e6", lambda: L(-INF) + lr.exp(1e6), (-1.0, INF)),
    ("0*inf", lambda: L(0.0) * L(INF), (NAN, NAN)),
    ("-inf*0", lambda: L(-INF) * 0.0, (NAN, NAN)),
    ("inf*-2", lambda: L(INF) * -2.0, (-1.0, INF)),
    ("1/0", lambda: L(1.0) / L(0.0), (1.0, INF)),
    ("-1/0", lambda: L(-1.0) / L(0.0), (-1.0, INF)),
    ("-1/-0.0", lambda: L(-1.0) / L(-0.0), (-1.0, INF)),
    ("e^-1e6/0", lambda: lr.exp(-1e6) / 0.0, (1.0, INF)),
    ("0/0", lambda: L(0.0) / L(0.0), (NAN, NAN)),
    ("inf/inf", lambda: L(INF) / L(-INF), (NAN, NAN)),
    ("1/inf", lambda: L(1.0) / L(INF), (0.0, -INF)),
    ("-1/inf", lambda: L(-1.0) / L(INF), (0.0, -INF)),
    ("e^-1e6/inf", lambda: lr.exp(-1e6) / L(-INF), (0.0, -INF)),
    ("e^1e308*e^1e308", lambda: lr.exp(1e308) * lr.exp(1e308), (1.0, INF)),
    ("e^-1e308*e^-1e308", lambda: lr.exp(-1e308) * lr.exp(-1e308), (0.0, -INF)),
    ("-e^-1e308/e^1e308", lambda: -lr.exp(-1e308) / lr.exp(1e308), (0.0, -INF)),
    ("(e^1e308)**-2", lambda: lr.exp(1e308) ** -2, (0.0, -INF)),
    ("0/5", lambda: L(0.0) / 5.0, (0.0, -INF)),
    ("nan+1", lambda: L(NAN) + 1.0, (NAN, NAN)),
    ("nan*0", lambda: L(NAN) * 0.0, (NAN, NAN)),
    ("nan-nan", lambda: L(NAN) - L(NAN), (NAN, NAN)),
]


@pytest.mark.parametrize("case", IEEE, ids=[c[0] for c in IEEE])
def test_ieee_rules(case):
    _, fn, (s, lg) = case
    r = fn()
    assert bits_equal(r.sign, s) and bits_equal(r.logabs, lg)


@given(x=logreal_arrays(4))
def test_comparisons_with_nan_are_false_except_not_equal(x):
    nan = L(NAN)
    for a, b in ((x, nan), (nan, x)):
        for op in ("__eq__", "__lt__", "__le__", "__gt__", "__ge__"):
            assert not np.any(getattr(a, op)(b)), op
        assert np.all(a != b)
    isnan = np.isnan(x.logabs)
    assert not np.any((x == x)[isnan]) and np.all((x != x)[isnan])
    assert np.all((x == x)[~isnan]) and not np.any((x != x)[~isnan])


# ---------------------------------------------------------------------------
# Comparisons: exact on (sign, logabs), a total order on the non-nan values.


def order_key(s: float, lg: float):
    """The position of sign * e**logabs on the real line, exactly: (sign, sign * logabs)."""
    return (0.0, 0.0) if s == 0 else (s, s * lg)


OPS = {
    "<": (lambda a, b: a < b, lambda p, q: p < q),
    "<=": (lambda a, b: a <= b, lambda p, q: p <= q),
    ">": (lambda a, b: a > b, lambda p, q: p > q),
    ">=": (lambda a, b: a >= b, lambda p, q: p >= q),
    "==": (lambda a, b: a == b, lambda p, q: p == q),
    "!=": (lambda a, b: a != b, lambda p, q: p != q),
}


@given(arrays_of_one_length(2))
def test_comparisons_are_exact_and_a_total_order(xy):
    x, y = xy
    ex, ey = elements(x), elements(y)
    for name, (op, key_op) in OPS.items():
        got = np.asarray(op(x, y))
        for i, (a, b) in enumerate(zip(ex, ey, strict=True)):
            if math.isnan(a[0]) or math.isnan(b[0]):
                assert got[i] == (name == "!="), (name, a, b)
            else:
                assert got[i] == key_op(order_key(*a), order_key(*b)), (name, a, b)
    # trichotomy on non-nan elements
    lt, eq, gt = np.asarray(x < y), np.asarray(x == y), np.asarray(x > y)
    keep = ~(np.isnan(x.sign) | np.isnan(y.sign))
    assert np.all((lt.astype(int) + eq + gt)[keep] == 1)


@given(arrays_of_one_length(3, finite=True, extreme=False))
def test_order_agrees_with_the_exact_values_and_is_transitive(xyz):
    """The key order is the order of the exact real numbers (checked with mpmath for
    logs within +-1e6) and < is transitive."""
    x, y, z = xyz
    for a, b in ((x, y), (y, z), (x, z)):
        pairs = zip(elements(a), elements(b), np.asarray(a < b), strict=True)
        for (s1, l1), (s2, l2), lt in pairs:
            if max(abs(l1), abs(l2)) <= 1e6 or s1 == 0 or s2 == 0:
                # 1100 bits tell e**l from e**(l + one ulp) apart, even for l = 5e-324
                with mpmath.workprec(1100):
                    v1 = s1 * mpmath.exp(l1) if s1 else mpmath.mpf(0)
                    v2 = s2 * mpmath.exp(l2) if s2 else mpmath.mpf(0)
                    assert bool(lt) == (v1 < v2), ((s1, l1), (s2, l2))
    chain = np.asarray(x < y) & np.asarray(y < z)
    assert np.all(np.asarray(x < z)[chain])


def test_comparisons_never_go_through_floats():
    assert lr.exp(1000.0) < lr.exp(2000.0)
    assert -lr.exp(2000.0) < -lr.exp(1000.0)
    assert lr.exp(1000.0) != lr.exp(np.nextafter(1000.0, INF))
    assert lr.exp(-1e6) > 0 and -lr.exp(-1e6) < 0.0 and lr.exp(-1e6) > lr.exp(-2e6)
    assert L(0.0) == L(-0.0) and L(0.0) <= L(-0.0) and not L(0.0) < L(-0.0)
    assert lr.exp(1e300) < L(INF) and -L(INF) < -lr.exp(1e300)
    assert lr.exp(800.0) > DBL_MAX  # a real operand is read exactly, its log compared


# ---------------------------------------------------------------------------
# Hashing: equal 0-d values hash alike.


@given(x=logreal_arrays(1))
def test_equal_scalars_hash_alike(x):
    x0 = x.reshape(())
    candidates = [
        x0 + 0,
        x0 * 1,
        np.negative(-x0),
        lr.LogReal.from_log(x0.logabs, x0.sign),
        x0 - x0,
        L(0.0),
        L(-0.0),
        x0 / x0,
        L(1.0),
        abs(x0),
    ]
    for y in candidates:
        if bool(x0 == y):
            assert hash(x0) == hash(y)
        for w in candidates:
            if bool(y == w):
                assert hash(y) == hash(w)


def test_signed_zeros_are_one_value_with_one_hash():
    assert bool(L(-0.0) == L(0.0)) and hash(L(-0.0)) == hash(L(0.0))
    assert hash(L(1.0) - L(1.0)) == hash(L(-2.0) - L(-2.0)) == hash(L(0.0))


# ---------------------------------------------------------------------------
# Powers.

INT_P = [-4, -3, -2, -1, 0, 1, 2, 3, 4, 3.0, -3.0, 2.0]
FRAC_P = [0.5, -0.5, 1.5, -2.5, 1 / 3]


def expected_power(s: float, lg: float, p: float):
    """(sign, logabs) of (s e**logabs) ** p by API.md: integer p keeps the sign's parity;
    negative base with non-integer p is nan; 0**0 = 1; 0**-p = +inf; x**0 = 1 (IEEE,
    also for nan)."""
    integer = float(p).is_integer()
    if p == 0:
        return 1.0, 0.0
    if math.isnan(s):
        return NAN, NAN
    if s < 0 and not integer:
        return NAN, NAN
    sign = 1.0 if s > 0 else (s ** int(p) if s < 0 else 0.0)
    if s == 0:
        return (0.0, -INF) if p > 0 else (1.0, INF)
    if lg == 0:
        return sign, 0.0
    logabs = float(mpmath.mpf(p) * mpmath.mpf(lg))  # one rounded multiplication
    return (0.0, -INF) if logabs == -INF else (sign, logabs)


@given(x=logreal_arrays(4), p=st.sampled_from(INT_P + FRAC_P))
def test_powers(x, p):
    r = x**p
    r_arr = x ** np.full(4, p)
    assert same(r, r_arr)
    for (s, lg), got in zip(elements(x), elements(r), strict=True):
        want = expected_power(s, lg, p)
        assert bits_equal(np.asarray(got), np.asarray(want)), ((s, lg), p, got, want)


POWER_CASES = [
    ("(-2)**3", -2.0, 3, -8.0),
    ("(-2)**3.0", -2.0, 3.0, -8.0),
    ("(-2)**2", -2.0, 2, 4.0),
    ("(-2)**-1", -2.0, -1, -0.5),
    ("0**0", 0.0, 0, 1.0),
    ("0**0.0", 0.0, 0.0, 1.0),
    ("0**-1", 0.0, -1, INF),
    ("-0.0**-1", -0.0, -1, INF),
    ("0**-2", 0.0, -2, INF),
    ("0**2", 0.0, 2, 0.0),
    ("(-2)**0.5", -2.0, 0.5, NAN),
    ("(-8)**(1/3)", -8.0, 1 / 3, NAN),
    ("(-inf)**3", -INF, 3, -INF),
    ("(-inf)**-3", -INF, -3, 0.0),
]


@pytest.mark.parametrize("case", POWER_CASES, ids=[c[0] for c in POWER_CASES])
def test_pinned_powers(case):
    """Signs, zeros, infinities and nan exactly; a finite value within the representation's
    error: log 2 is stored rounded, p * log 2 rounds again and exp once more,
    ``|got - want| <= 2**-52 * (2 |p log 2| + 2) * |want|``."""
    _, base, p, want = case
    got = float(L(base) ** p)
    if base != 0 and math.isfinite(want) and want != 0:
        assert math.copysign(1, got) == math.copysign(1, want)
        tol = 2.0**-52 * (2 * abs(p * math.log(abs(base))) + 2) * abs(want)
        assert abs(got - want) <= tol
    else:
        assert bits_equal(got, want)
