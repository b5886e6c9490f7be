"""Sums, running sums and weighted logsumexp: exact cancellation at any depth, IEEE specials.

Every case runs on both paths: the portable array-API code and, where Numba
is installed, the compiled kernels with their glue.  Oracles are mpmath sums
of the exact stored inputs (300 bits).
"""

import collections
import contextlib
import math

import mpmath
import numpy as np
import pytest

import logreal as lr
from logreal import _logsum, _numba

from oracle import exact_value, ulp_error, value_logabs

INF, NAN = math.inf, math.nan


@pytest.fixture(params=["kernels", "portable"])
def path(request):
    """A factory of the context that selects the path (a fresh one per use)."""
    return _numba.portable if request.param == "portable" else contextlib.nullcontext


def exact_sum(sign, logabs):
    """The exact stored sum: terms with one log-magnitude are added as integers first.

    (A 300-bit sum of e**1000 + 1 - e**1000 would lose the 1; grouping keeps
    every exact cancellation exact.)
    """
    groups: dict[float, float] = collections.defaultdict(float)
    for s, la in zip(sign, logabs, strict=True):
        groups[float(la)] += float(s)
    return mpmath.fsum(exact_value(c, la) for la, c in groups.items() if c != 0)


def assert_matches(got: lr.LogReal, exact, cond: float = 1.0, ulps: float = 4.0):
    """Sign exactly; logabs within ``ulps`` plus the cancellation term ``cond * u``."""
    s, la = value_logabs(exact)
    assert float(got.sign) == s, (got, exact)
    if s == 0:
        assert float(got.logabs) == -INF
        return
    slack = cond * 2.0**-52 / math.ulp(abs(float(la))) if la != 0 else 0.0
    assert ulp_error(float(got.logabs), la) <= ulps + slack, (got, la)


# -- exact cancellation, any number of levels ------------------------------------


@pytest.mark.parametrize("spacing", [800.0, 1.0, 1e5])
@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_sum_with_100_levels_of_exact_cancellation(path, spacing, order, rng):
    logs = np.repeat(spacing * np.arange(1, 101), 2)
    signs = np.tile([1.0, -1.0], 100)
    logs, signs = np.append(logs, 0.0), np.append(signs, 1.0)  # ... plus 1
    if order == "shuffled":
        perm = rng.permutation(logs.size)
        logs, signs = logs[perm], signs[perm]
    x = lr.LogReal.from_log(logs, signs)
    with path():
        total = lr.sum(x)
        lse = lr.logsumexp(logs, b=signs, return_sign=True)
    assert (float(total.sign), float(total.logabs)) == (1.0, 0.0)  # exactly 1
    assert lse == (0.0, 1.0)


def test_sum_rounds_only_where_something_cancels(monkeypatch, rng):
    calls = []
    real_round = _logsum._round
    monkeypatch.setattr(_logsum, "_round", lambda *a: calls.append(1) or real_round(*a))
    with _numba.portable():
        lr.sum(lr.LogReal(rng.normal(size=(50, 40))), axis=0)
        assert len(calls) == 1  # one pass when nothing cancels exactly
        lr.sum(lr.LogReal.from_log([3000.0, 3000.0, 2000.0, 2000.0, 5.0], [1, -1, 1, -1, 1]))
        assert len(calls) == 1 + 3  # one more round per cancelled level


def test_cumsum_prefix_whose_top_terms_cancel(path):
    x = lr.LogReal.from_log([0.0, 1000.0, 1000.0], [1, 1, -1])
    with path():
        out = lr.cumsum(x)
    for i in range(3):
        assert_matches(out[i], exact_sum(x.sign[: i + 1], x.logabs[: i + 1]))
    assert (float(out.sign[2]), float(out.logabs[2])) == (1.0, 0.0)
    assert (float(lr.sum(x).sign), float(lr.sum(x).logabs)) == (1.0, 0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cumsum_random_cancelling_levels_against_mpmath(path, dtype, rng):
    for _ in range(5):
        levels = rng.choice([-2000.0, -900.0, 0.0, 5.0, 800.0, 1700.0], size=12)
        logs = np.concatenate([levels, levels, rng.normal(scale=3, size=4)]).astype(dtype)
        signs = np.concatenate([np.ones(12), -np.ones(12), rng.choice([-1.0, 1.0], 4)])
        perm = rng.permutation(logs.size)
        x = lr.LogReal.from_log(logs[perm], signs[perm].astype(dtype))
        with path():
            out = lr.cumsum(x)
        assert out.dtype == dtype
        for i in range(x.size):
            exact = exact_sum(x.sign[: i + 1], x.logabs[: i + 1])
            s, la = value_logabs(exact)
            terms = [abs(exact_value(float(x.sign[j]), float(x.logabs[j]))) for j in range(i + 1)]
            cond = float(mpmath.fsum(terms) / abs(exact)) if s else 1.0
            assert float(out.sign[i]) == s
            if s:
                tol = (4 + cond) * float(np.finfo(dtype).eps) * max(1.0, abs(float(la)))
                assert abs(float(out.logabs[i]) - float(la)) <= tol


# -- infinities and nan follow IEEE, also in running sums ------------------------------


@pytest.mark.parametrize(
    "values",
    [[INF, INF, -INF], [INF, -INF, INF], [-INF, 1.0, -INF], [NAN, INF], [2.0, INF, 0.0, -3.0]],
)
def test_cumsum_specials_follow_ieee_prefix_sums(path, values):
    x = lr.LogReal(values)
    with path():
        out = lr.cumsum(x)
    for i in range(len(values)):
        with np.errstate(invalid="ignore"):
            want = math.fsum(values[: i + 1]) if all(map(math.isfinite, values[: i + 1])) else None
            ieee = np.cumsum(np.array(values))[i]  # inf - inf = nan, as IEEE says
        got = float(out[i].to_real())
        if want is None:
            assert (math.isnan(got) and math.isnan(ieee)) or got == ieee, (i, got, ieee)
        else:
            assert got == want
        whole = lr.sum(x[: i + 1])  # the non-cumulative sum agrees
        assert (math.isnan(got) and math.isnan(float(whole.to_real()))) or got == float(whole)


def test_logcumsumexp_specials_match_logaddexp_accumulate(path):
    a = np.array([-INF, 1.0, INF, 2.0, NAN, 0.0])
    with path():
        out = lr.logcumsumexp(a)
    with np.errstate(invalid="ignore"):
        want = np.logaddexp.accumulate(a)
    np.testing.assert_array_equal(out, want)


# -- logsumexp weights: exact for any finite weights -------------------------------


def mp_lse(a, b):
    s = mpmath.fsum(
        mpmath.mpf(float(w)) * mpmath.exp(mpmath.mpf(float(x))) for x, w in zip(a, b, strict=True)
    )
    return s


def test_logsumexp_issue_examples(path):
    with path():
        assert lr.logsumexp([1e20, 1e20, 0], b=[2, -1, 1e-200]) == 1e20  # SciPy: 1e20
        logabs, sign = lr.logsumexp([0, 0], b=[1e200, -np.nextafter(1e200, INF)], return_sign=True)
    exact = mp_lse([0, 0], [1e200, -np.nextafter(1e200, INF)])
    assert sign == -1.0
    assert ulp_error(logabs, mpmath.log(abs(exact))) <= 1


@pytest.mark.parametrize("seed", range(6))
def test_logsumexp_extreme_mixed_weights_against_mpmath(path, seed):
    rng = np.random.default_rng(seed)
    n = 9
    a = rng.choice([0.0, 1.0, -700.0, 700.0, 1e5, -1e5], size=n) + rng.normal(size=n)
    mags = 10.0 ** rng.uniform(-300, 300, size=n)
    b = mags * rng.choice([-1.0, 1.0], size=n)
    b[1], a[1] = -np.nextafter(b[0], 0.0), a[0]  # a near-cancelling pair
    with path():
        logabs, sign = lr.logsumexp(a, b=b, return_sign=True)
    exact = mp_lse(a, b)
    terms = mpmath.fsum(
        abs(mpmath.mpf(w) * mpmath.exp(mpmath.mpf(x))) for x, w in zip(a, b, strict=True)
    )
    s, la = value_logabs(exact)
    assert sign == s
    cond = float(terms / abs(exact))
    assert ulp_error(logabs, la) <= 4 + cond * 2.0**-52 / math.ulp(abs(float(la)))


def test_logsumexp_extreme_weights_keep_axis_shapes_and_specials(path):
    a = np.array([[0.0, 1.0, INF], [2.0, -INF, 3.0]])
    b = np.array([[1e300, -1e-300, 0.0], [1e-300, 1e300, 2.0]])
    with path():
        got = lr.logsumexp(a, axis=1, b=b, keepdims=True, return_sign=True)
    row0 = mp_lse([0.0, 1.0], [1e300, -1e-300])
    row1 = mp_lse([2.0, 3.0], [1e-300, 2.0])
    assert got[0].shape == (2, 1)
    assert ulp_error(got[0][0, 0], mpmath.log(row0)) <= 1
    assert ulp_error(got[0][1, 0], mpmath.log(row1)) <= 1
    # an infinite exponent with a huge weight, and with an infinite weight
    assert lr.logsumexp([INF, 0.0], b=[1e300, 1.0]) == INF
    assert lr.logsumexp([INF, 0.0], b=[-1e300, 1.0], return_sign=True) == (INF, -1.0)
    assert np.isnan(lr.logsumexp([INF, INF], b=[1e300, -1e-300]))
