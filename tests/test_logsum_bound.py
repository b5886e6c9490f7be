"""The fast portable logsumexp and its proven bound (logreal._logsum_bound).

Oracles: mpmath at 300 bits from the exact binary inputs, and exact integer
sums for the halving tree.  Adversarial inputs -- results near 0, many equal
terms, terms over a wide range -- must leave the fast path, where the cheap
answer is many ulps off; inputs the bound accepts must be within 2 ulp.
"""

import math

import array_api_strict as xps
import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import logreal as lr
from logreal import _numba
from logreal._logsum_bound import TOLERANCE, logsumexp_bound, tree_sum

from oracle import ulp_error

mpmath.mp.prec = 300


def exact_lse(a) -> mpmath.mpf:
    """log sum e**a of the exact float inputs (-inf terms drop out)."""
    flat = [mpmath.mpf(float(x)) for x in np.ravel(a) if x != -math.inf]
    m = max(flat)  # shifted, so that tiny exponents (1e-311) keep their bits
    return m + mpmath.log(mpmath.fsum(mpmath.exp(x - m) for x in flat))


def portable_lse(a, **kwargs):
    with _numba.portable():
        return lr.logsumexp(a, **kwargs)


def redo_of(a, axes=None):
    a = np.asarray(a, dtype=np.float64)
    axes = tuple(range(a.ndim)) if axes is None else axes
    return np.asarray(logsumexp_bound(a, None, axes, np)[2])


def naive(a) -> float:
    """The cheap formula alone: m + log(sum(exp(a - m)))."""
    m = np.max(a)
    return float(m + np.log(np.sum(np.exp(a - m))))


# -- the halving tree ------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 1000, 4097])
@pytest.mark.parametrize("in_place", [True, False])
def test_tree_sum_of_integers_is_exact_with_its_depth(n, in_place, rng):
    ints = rng.integers(0, 2**20, size=(3, n))
    got, depth = tree_sum(ints.astype(np.float64), np, in_place)
    assert got.tolist() == [float(v) for v in ints.sum(axis=1)]  # exact: below 2**53
    assert depth == n.bit_length()  # floor(log2 n) halvings and the carry's addition


@pytest.mark.parametrize("n", [2, 5, 13, 64, 100, 1023])
def test_tree_sum_depth_bounds_every_term(n):
    # brute force: each node of the halving order as {term: additions passed}
    def add(p, q):
        return {i: c + 1 for i, c in (p | q).items()}

    nodes = [{i: 0} for i in range(n)]
    carry = None
    while len(nodes) > 1:
        h = len(nodes) // 2
        if len(nodes) % 2:
            carry = nodes[2 * h] if carry is None else add(carry, nodes[2 * h])
        nodes = [add(nodes[i], nodes[h + i]) for i in range(h)]
    total = nodes[0] if carry is None else add(nodes[0], carry)
    _, depth = tree_sum(np.zeros(n), np, False)
    assert sorted(total) == list(range(n))
    assert max(total.values()) <= depth


# -- adversarial inputs leave the fast path -----------------------------------------


LN2 = math.log(2.0)
ADVERSARIAL = {
    "pair near zero": [-LN2, -LN2],
    "equal terms summing to one": [-math.log(3**11)] * 3**11,
    "one and a dust of tiny terms": [0.0] + [-40.0] * 1000,
    "dominant term below zero": [-1e-17, -50.0, -60.0],
    "near ln 2 of many": [-math.log(1e5) + 1e-12] * 100000,
}


def within_contract(got: float, a, exact) -> bool:
    """2 ulp, plus the cancellation term: the shift's ulps where the log-sum cancels it.

    (``m + log s`` near 0 keeps an absolute error of about ``u |m|`` in any
    float computation: STYLE.md's amplified input error.)
    """
    allowance = 2.0**-53 * float(np.max(np.abs(a))) / math.ulp(float(exact))
    return ulp_error(got, exact) <= 2 + allowance


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_inputs_take_the_exact_path(name):
    a = np.asarray(ADVERSARIAL[name])
    assert bool(redo_of(a))  # the bound cannot vouch for the cheap answer
    assert within_contract(portable_lse(a), a, exact_lse(a))


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_the_cheap_answer_is_worse_than_the_exact_path(name):
    # why the exact path is needed: the formula alone loses many ulps here
    a = np.asarray(ADVERSARIAL[name])
    exact = exact_lse(a)
    cheap = abs(mpmath.mpf(naive(a)) - exact)
    assert cheap > 4 * math.ulp(float(exact))
    assert cheap > 4 * abs(mpmath.mpf(float(portable_lse(a))) - exact)


@pytest.mark.parametrize("scale,n", [(100.0, 10**5), (1.0, 4 * 10**4), (30.0, 777)])
def test_accepted_answers_are_within_two_ulp(scale, n, rng):
    a = rng.normal(scale=scale, size=n) + 20.0
    assert not bool(redo_of(a))  # the common case stays fast
    assert ulp_error(portable_lse(a), exact_lse(a)) <= TOLERANCE


def test_large_inputs_stay_on_the_fast_path(rng):
    # the benchmark data (10**7 in the benchmark; 10**6 here)
    assert not bool(redo_of(rng.normal(scale=100.0, size=10**6)))
    assert not bool(redo_of(rng.normal(size=10**6) + 16.0))


@given(
    st.lists(
        st.floats(min_value=-800.0, max_value=800.0, allow_nan=False, allow_subnormal=True),
        min_size=1,
        max_size=40,
    ),
    st.integers(min_value=0, max_value=3),
)
def test_every_answer_is_within_two_ulp(values, repeat):
    # repeated values make the same-magnitude sums that stress the bound
    a = np.asarray(values * (1 + 50 * repeat))
    assert within_contract(portable_lse(a), a, exact_lse(a))


@given(st.floats(min_value=-30.0, max_value=30.0), st.integers(min_value=1, max_value=3000))
def test_equal_terms_within_two_ulp(x, n):
    a = np.full(n, x)
    exact = mpmath.log(n) + mpmath.mpf(x)
    assert within_contract(portable_lse(a), a, exact)


def test_float32_within_two_ulp(rng):
    a = rng.normal(scale=20.0, size=5000).astype(np.float32) + np.float32(30.0)
    got = portable_lse(a)
    assert got.dtype == np.float32
    assert not bool(logsumexp_bound(a, None, (0,), np)[2])
    assert ulp_error(got, exact_lse(a), np.float32) <= 2


# -- slices: some fast, some redone, specials by SciPy's rules ---------------------


def test_rows_mix_fast_and_exact_and_special(rng):
    rows = [
        rng.normal(size=50) + 40.0,  # fast
        np.asarray([-LN2, -LN2] * 25),  # near zero: exact
        np.concatenate([[math.nan], np.zeros(49)]),
        np.concatenate([[math.inf], np.zeros(49)]),
        np.full(50, -math.inf),
    ]
    a = np.stack(rows)
    got, sign = portable_lse(a, axis=1, return_sign=True)
    for k in range(2):
        assert within_contract(got[k], rows[k], exact_lse(rows[k]))
    assert math.isnan(got[2]) and math.isnan(sign[2])
    assert got[3] == math.inf and sign[3] == 1
    assert got[4] == -math.inf and sign[4] == 0
    assert list(redo_of(a, (1,))[:, 0]) == [False, True, True, True, True]


@pytest.mark.parametrize("axis", [0, 1, (0, 2), None, -1])
def test_axes_and_keepdims_on_other_namespaces(axis, rng):
    a = rng.normal(size=(4, 5, 6)) * 30.0
    a[1, 2, :] = -LN2  # a slice near zero for axis=-1: redone exactly
    want = portable_lse(a, axis=axis, keepdims=True)
    for make, back in (
        (lambda v: xps.asarray(v), lambda v: np.asarray(v)),
        (lambda v: torch.from_numpy(v), lambda v: v.numpy()),
    ):
        got = portable_lse(make(a), axis=axis, keepdims=True)
        np.testing.assert_array_max_ulp(back(got), np.asarray(want), 2)


# -- weights and signs ---------------------------------------------------------------


def exact_weighted(a, b) -> mpmath.mpf:
    """sum b e**a of the exact float inputs (zero weights drop out)."""
    pairs = [(float(x), float(w)) for x, w in zip(np.ravel(a), np.ravel(b), strict=True) if w]
    m = max(x for x, _ in pairs)
    # 2200 bits: exponents as small as 2**-1074 still move e**x off one
    with mpmath.workprec(2200):
        return +mpmath.fsum(mpmath.mpf(w) * mpmath.exp(mpmath.mpf(x) - m) for x, w in pairs), m


def weighted_redo(a, b):
    return bool(logsumexp_bound(np.asarray(a), np.asarray(b, dtype=np.float64), (0,), np)[2])


@pytest.mark.parametrize("kind", ["signs", "weights"])
def test_weighted_answers_within_two_ulp(kind, rng):
    a = rng.normal(scale=100.0, size=20000)
    b = rng.choice([-1.0, 1.0], size=a.size)
    if kind == "weights":
        b = b * rng.uniform(0.1, 10.0, size=a.size)
    assert not weighted_redo(a, b)  # the benchmark data stays fast
    total, m = exact_weighted(a, b)
    logabs, sign = portable_lse(a, b=b, return_sign=True)
    assert sign == mpmath.sign(total)
    assert ulp_error(logabs, m + mpmath.log(abs(total))) <= TOLERANCE


WEIGHTED_ADVERSARIAL = {
    "exact cancellation": ([1000.0, 1000.0, 999.0], [1.0, -1.0, 1.0]),
    "near cancellation": ([0.0, -(2.0**-60)], [1.0, -1.0]),
    "many terms cancelling": ([0.0] * 1001, [1.0, -1.0] * 500 + [1e-3]),
    "tiny weights": ([0.0, -1.0], [1e-300, 2e-300]),
    "zero weight on the maximum": ([50.0, 0.0, -1.0], [0.0, 1.0, 1.0]),
}


@pytest.mark.parametrize("name", sorted(WEIGHTED_ADVERSARIAL))
def test_weighted_adversarial_inputs(name):
    a, b = (np.asarray(v) for v in WEIGHTED_ADVERSARIAL[name])
    total, m = exact_weighted(a, b)
    logabs, sign = portable_lse(a, b=b, return_sign=True)
    assert sign == mpmath.sign(total)
    if name in ("near cancellation", "many terms cancelling", "tiny weights"):
        assert weighted_redo(a, b)  # here the cheap sum loses the answer's digits
    if total == 0:
        assert logabs == -math.inf
        return
    exact = m + mpmath.log(abs(total))
    assert within_contract(logabs, a, exact)


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-50.0, max_value=50.0),
            st.sampled_from([-1.0, 1.0, 0.5, -3.0, 0.0, 1e-5]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_weighted_sums_keep_their_sign_and_bound(pairs):
    a = np.asarray([p[0] for p in pairs])
    b = np.asarray([p[1] for p in pairs])
    logabs, sign = portable_lse(a, b=b, return_sign=True)
    if not np.any(b):
        assert sign == 0
        return
    total, m = exact_weighted(a, b)
    assert sign == mpmath.sign(total)
    if total != 0:
        # the exact path's own bound: 4 ulp plus the cancellation term
        mags = (abs(w) * mpmath.exp(mpmath.mpf(x) - m) for x, w in zip(a, b, strict=True))
        cond = float(mpmath.fsum(mags))
        exact = m + mpmath.log(abs(total))
        slack = 2.0**-50 * cond / float(abs(total)) / math.ulp(float(exact))
        assert within_contract(logabs, a, exact) or ulp_error(logabs, exact) <= 4 + slack


def test_short_slices_skip_the_fast_pass(monkeypatch):
    # Below FAST_MIN_TERMS the fast pass costs more than the exact sum (and is
    # mostly redone): lr.logsumexp goes straight to the exact path.
    from logreal import _numba, _special

    def refuse(*args):
        raise AssertionError("the fast pass ran on a short slice")

    monkeypatch.setattr(_special, "logsumexp_bound", refuse)
    a = np.linspace(-3.0, 3.0, _special.FAST_MIN_TERMS - 1)
    with _numba.portable():
        got, column = lr.logsumexp(a), lr.logsumexp(a[:, None], axis=0)[0]
    with mpmath.workprec(100):
        want = float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in a)))
    assert got == column and abs(got - want) <= np.spacing(want)


def test_long_logreal_sums_take_the_fast_pass_where_it_is_proven(monkeypatch, rng):
    # lr.sum of a LogReal without kernels: the same fast pass as logsumexp on
    # slices of FAST_MIN_TERMS or more, the exact sum where its bound fails.
    from logreal import _special

    ran = []
    bound = _special.logsumexp_bound

    def spy(*args):
        out = bound(*args)
        ran.append(None if out is None else int(np.sum(np.asarray(out[2]))))
        return out

    monkeypatch.setattr(_special, "logsumexp_bound", spy)
    n = _special.FAST_MIN_TERMS
    logs = rng.normal(scale=100.0, size=(n, 2))  # dominated by a few terms: proven
    logs[:, 1] = rng.normal(scale=1.0, size=n)  # random signs cancel: redone exactly
    signs = rng.choice([-1.0, 1.0], (n, 2))
    with _numba.portable():
        got = lr.sum(lr.LogReal.from_log(logs, signs), axis=0)
    assert ran == [1]  # one slice kept, one redone
    for j in range(2):
        terms = [
            mpmath.mpf(float(s)) * mpmath.exp(mpmath.mpf(float(v)))
            for s, v in zip(signs[:, j], logs[:, j], strict=True)
        ]
        total = mpmath.fsum(terms)
        assert float(got.sign[j]) == (1.0 if total > 0 else -1.0)
        assert ulp_error(float(got.logabs[j]), mpmath.log(abs(total))) <= TOLERANCE
    with _numba.portable():  # short slices: straight to the exact sum
        lr.sum(lr.LogReal.from_log(logs[: n - 1, 0], signs[: n - 1, 0]))
    assert len(ran) == 1
