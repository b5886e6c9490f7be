"""lr.einsum: the grammar, exact sums of products (mpmath), planning, NumPy dispatch."""

import math

import mpmath
import numpy as np
import pytest

import logreal as lr
from logreal import LogReal
from logreal._einsum import adjoint_plan, parse, plan

from oracle import exact_value

EPS = 2.0**-52


def exact_operand(x):
    """The exact stored values of an operand as an object array of mpf."""
    if isinstance(x, LogReal):
        sign, la = np.asarray(x.sign), np.asarray(x.logabs)
        out = np.empty(sign.shape, dtype=object)
        for i in np.ndindex(sign.shape):
            out[i] = exact_value(float(sign[i]), float(la[i]))
        return out
    return np.vectorize(mpmath.mpf, otypes=[object])(np.asarray(x, dtype=float))


def check_exact(spec, operands, ulps=6, cond_factor=8):
    """Each entry within a few ulp of the exact sum of the exact products.

    Bound on logabs: ``ulps`` ulps of the larger of |result| and the largest
    product's |logabs| (each product's logabs is a rounded sum of logs), plus
    ``cond_factor * eps`` times the cancellation ratio sum|p| / |sum p|.
    """
    exact_ops = [exact_operand(o) for o in operands]
    exact = np.asarray(np.einsum(spec, *exact_ops, optimize=False), dtype=object)
    absolute = np.asarray(
        np.einsum(
            spec, *[np.vectorize(abs, otypes=[object])(o) for o in exact_ops], optimize=False
        ),
        dtype=object,
    )
    top = max(abs(float(mpmath.log(abs(v)))) for o in exact_ops for v in o.ravel() if v != 0)
    got = lr.einsum(spec, *operands)
    assert isinstance(got, LogReal) == any(isinstance(o, LogReal) for o in operands)
    got = got if isinstance(got, LogReal) else LogReal(got)
    assert got.shape == exact.shape
    for i in np.ndindex(exact.shape):
        want, size = exact[i], absolute[i]
        sign, la = float(np.asarray(got.sign)[i]), float(np.asarray(got.logabs)[i])
        if want == 0:
            assert sign == 0, (spec, i)
            continue
        assert sign == (1 if want > 0 else -1), (spec, i)
        want_log = mpmath.log(abs(want))
        cond = float(size / abs(want))
        scale = max(abs(float(want_log)), len(operands) * top, 1.0)
        bound = ulps * math.ulp(scale) + cond_factor * EPS * cond
        assert abs(mpmath.mpf(la) - want_log) <= bound, (spec, i, la, want_log)


def logreal_operand(rng, shape, spread=30.0):
    """Random signs and magnitudes e^N(0, spread) (far outside float range at 800)."""
    return LogReal.from_log(rng.normal(0.0, spread, shape), rng.choice([-1.0, 1.0], shape))


SPECS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(2, 3), (3, 2)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 2)]),
    ("...ij,...jk", [(2, 1, 3, 4), (3, 4, 2)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii", [(4, 4)]),
    ("ii->i", [(4, 4)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("i,i", [(6,), (6,)]),
    ("bij,bjk->bik", [(3, 2, 5), (3, 5, 2)]),
    ("ij->", [(3, 4)]),
    ("ab,cd->ad", [(2, 3), (4, 5)]),
    ("i,ij,j->j", [(3,), (3, 4), (4,)]),
]


@pytest.mark.parametrize(("spec", "shapes"), SPECS, ids=[s for s, _ in SPECS])
def test_logreal_einsum_is_the_exact_sum_of_products(spec, shapes, rng):
    ops = [logreal_operand(rng, s) for s in shapes]
    check_exact(spec, ops, cond_factor=8 * len(ops))


@pytest.mark.parametrize(("spec", "shapes"), SPECS, ids=[s for s, _ in SPECS])
def test_mixed_real_and_logreal_operands(spec, shapes, rng):
    ops = [rng.normal(size=s) for s in shapes]
    ops[0] = LogReal.from_log(rng.normal(0.0, 5.0, shapes[0]), 1.0)
    check_exact(spec, ops, cond_factor=8 * len(ops))


@pytest.mark.parametrize(("spec", "shapes"), SPECS, ids=[s for s, _ in SPECS])
def test_real_operands_give_numpy_einsum(spec, shapes, rng):
    ops = [rng.normal(size=s) for s in shapes]
    got = lr.einsum(spec, *ops)
    want = np.einsum(spec, *ops)
    assert not isinstance(got, LogReal)
    assert np.shape(got) == np.shape(want)
    # Both are sums of the same products: they differ by rounding, bounded by
    # a few eps times the sum of absolute products (the naive sum's bound).
    size = np.einsum(spec, *[np.abs(o) for o in ops])
    assert np.all(np.abs(got - want) <= 16 * len(ops) * EPS * size)


def test_no_shift_by_the_maximum_underflow():
    a = lr.exp([[0.0, -800.0]])
    b = lr.exp([[-800.0], [0.0]])
    got = lr.einsum("ij,jk->ik", a, b)
    assert float(got.logabs[0, 0]) == -799.3068528194401
    assert float((a @ b).logabs[0, 0]) == -799.3068528194401


def test_values_beyond_float_range_and_exact_cancellation():
    a = LogReal.from_log(np.array([[2000.0, 2000.0, -5000.0]]), np.array([[1.0, -1.0, 1.0]]))
    b = LogReal.from_log(np.array([[1000.0], [1000.0], [-3000.0]]))
    got = lr.einsum("ij,jk->ik", a, b)
    # e^3000 - e^3000 + e^-8000: the large terms cancel exactly, the tiny one stays.
    assert float(got.sign[0, 0]) == 1.0
    assert float(got.logabs[0, 0]) == -8000.0
    zero = lr.einsum("i,i", lr.exp([700.0, 700.0]), lr.LogReal([1.0, -1.0]))
    assert float(zero.sign) == 0.0 and float(zero.logabs) == -math.inf
    check_exact("ij,jk->ik", [a, b])


def test_numpy_einsum_dispatches_to_logreal():
    a = LogReal.from_log(np.array([[900.0, 0.0], [0.0, -900.0]]))
    got = np.einsum("ij,jk->ik", a, np.eye(2))
    assert isinstance(got, LogReal)
    np.testing.assert_array_equal(np.asarray(got.logabs), np.asarray(a.logabs))


@pytest.mark.parametrize("optimize", ["auto", "greedy", "optimal", True, False])
def test_every_contraction_order_gives_the_same_exact_result(optimize, rng):
    ops = [logreal_operand(rng, s, spread=5.0) for s in [(3, 4), (4, 5), (5, 2), (2, 3)]]
    check_exact("ij,jk,kl,lm->im", ops, cond_factor=64)
    got = lr.einsum("ij,jk,kl,lm->im", *ops, optimize=optimize)
    ref = lr.einsum("ij,jk,kl,lm->im", *ops, optimize=False)
    assert got.shape == ref.shape == (3, 3)


def test_pairwise_steps_go_through_reduce_matmul(monkeypatch, rng):
    from logreal import _reduce

    calls = []
    inner = _reduce.matmul

    def spy(a, b):
        calls.append((a.shape, b.shape))
        return inner(a, b)

    monkeypatch.setattr(_reduce, "matmul", spy)
    ops = [logreal_operand(rng, s) for s in [(2, 3), (3, 4), (4, 5)]]
    lr.einsum("ij,jk,kl->il", *ops)
    assert len(calls) == 2  # one batched matmul per pairwise step
    assert all(len(a) == 3 and len(b) == 3 for a, b in calls)


def test_parse_and_plan_are_pure_and_follow_numpy():
    inputs, output = parse("...ij,jk", (3, 2))
    assert inputs[1] == ("j", "k") and output[1:] == ("i", "k")
    assert parse("ij,jk", (2, 2)) == ((("i", "j"), ("j", "k")), ("i", "k"))
    assert parse("ba", (2,))[1] == ("a", "b")  # implicit output: alphabetical
    assert parse("ii", (2,))[1] == ()  # a trace
    p = plan("ij,jk,kl->il", ((2, 3), (3, 100), (100, 4)), "greedy")
    dummies = [np.empty((2, 3)), np.empty((3, 100)), np.empty((100, 4))]
    want = np.einsum_path("ij,jk,kl->il", *dummies, optimize="greedy")[0][1:]
    assert list(p.path) == [tuple(s) for s in want]
    a = adjoint_plan("iij,jk->ik", ((3, 3, 2), (2, 4)), 0)
    assert a.subscripts == "ik,jk->ij" and a.diagonal is not None


@pytest.mark.parametrize(
    ("spec", "shapes", "match"),
    [
        ("ij,jk", [(2, 3), (4, 5)], "sizes"),
        ("ij", [(2, 3, 4)], "labels"),
        ("ij,jk", [(2, 3)], "operand"),
        ("i->j", [(2,)], "appears in no operand"),
        ("i1", [(2, 2)], "invalid"),
    ],
)
def test_bad_subscripts_raise_value_error(spec, shapes, match):
    with pytest.raises(ValueError, match=match):
        lr.einsum(spec, *[LogReal(np.ones(s)) for s in shapes])


def test_einsum_is_in_the_public_namespace():
    assert "einsum" in lr.__all__
    assert lr.einsum("i,i", [1.0, 2.0], [3.0, 4.0]) == 11.0
