"""The portable code path runs unchanged on a strict array-API namespace.

array-api-strict accepts only what the standard allows, so agreement with the
NumPy results here shows that no NumPy-only call hides in the portable path.
"""

import array_api_strict as xps
import numpy as np
import pytest

import logreal as lr
from logreal import _numba

A = [1.0, -2.0, 0.0, 3e-300, -5e-310, 7.5]
B = [0.5, 2.0, -1.0, 1e300, -5e-310, 0.0]


def as_numpy(v):
    if isinstance(v, lr.LogReal):
        return as_numpy(v.sign), as_numpy(v.logabs)
    if isinstance(v, tuple):
        return tuple(as_numpy(t) for t in v)
    return np.asarray(v)


def reshape(v, shape):
    return v.__array_namespace__().reshape(v, shape)


CASES = {
    "add": lambda m, a, b: m.LogReal(a) + m.LogReal(b),
    "sub": lambda m, a, b: m.LogReal(a) - m.LogReal(b),
    "mul": lambda m, a, b: m.LogReal(a) * b,
    "div": lambda m, a, b: m.LogReal(a) / m.LogReal(b),
    "pow": lambda m, a, b: m.LogReal(a) ** 3,
    "sqrt": lambda m, a, b: m.sqrt(m.LogReal(b)),
    "less": lambda m, a, b: m.LogReal(a) < m.LogReal(b),
    "equal": lambda m, a, b: m.LogReal(a) == m.LogReal(a),
    "sum": lambda m, a, b: m.sum(m.LogReal(a)),
    "prod": lambda m, a, b: m.prod(m.LogReal(a)),
    "mean": lambda m, a, b: m.mean(m.LogReal(b)),
    "cumsum": lambda m, a, b: m.cumsum(m.LogReal(a) * m.exp(a * 1000)),
    "matmul": lambda m, a, b: m.matmul(m.LogReal(a).reshape(2, 3), m.LogReal(b).reshape(3, 2)),
    "einsum": lambda m, a, b: m.einsum(
        "...ij,jk,kk->...ik",
        m.LogReal(a).reshape(1, 2, 3),
        reshape(b, (3, 2)),
        m.LogReal(a[:4]).reshape(2, 2),
    ),
    "einsum real": lambda m, a, b: m.einsum("ij,jk->ik", reshape(a, (2, 3)), reshape(b, (3, 2))),
    "where": lambda m, a, b: m.where(a > b, m.LogReal(a), m.LogReal(b)),
    "log": lambda m, a, b: m.log(m.LogReal(a)),
    "logsumexp": lambda m, a, b: m.logsumexp(a, b=b, return_sign=True),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b),
    "logsubexp": lambda m, a, b: m.logsubexp(a, b),
    "log1mexp": lambda m, a, b: m.log1mexp(-(a * a)),
    "log1pexp": lambda m, a, b: m.log1pexp(a),
    "logcumsumexp": lambda m, a, b: m.logcumsumexp(a),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_strict_namespace_agrees_with_numpy(name):
    case = CASES[name]
    with _numba.portable():
        want = as_numpy(case(lr, np.asarray(A), np.asarray(B)))
    got_raw = case(lr, xps.asarray(A), xps.asarray(B))
    parts = got_raw if isinstance(got_raw, tuple) else (got_raw,)
    for part in parts:
        arrays = (part.sign, part.logabs) if isinstance(part, lr.LogReal) else (part,)
        for arr in arrays:
            assert type(arr).__module__.startswith("array_api_strict"), name
    got = as_numpy(got_raw)
    for g, w in zip(_flat(got), _flat(want), strict=True):
        np.testing.assert_array_equal(g, w)


def _flat(v):
    if isinstance(v, tuple):
        return [x for t in v for x in _flat(t)]
    return [v]
