"""Regressions on other array backends: results stay in the input's namespace.

PyTorch (CPU) and array-api-strict are in the test extra; each case is checked
against the same call on NumPy (the truth for these functions).
"""

import array_api_strict as xps
import numpy as np
import pytest
import torch

import logreal as lr

VALUES = [0.5, 1.0, 2.0, 3.0, 8.0]


def _torch():
    return torch.tensor(VALUES, dtype=torch.float64)


def _strict():
    return xps.asarray(VALUES, dtype=xps.float64)


BACKENDS = {"torch": (_torch, torch.Tensor), "strict": (_strict, type(_strict()))}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request):
    return BACKENDS[request.param]


def _np(v):
    return np.asarray(v.cpu() if isinstance(v, torch.Tensor) else v)


def test_logreal_with_a_bare_array_operand(backend):
    make, kind = backend
    t = make()
    got = lr.LogReal(t) + t
    assert isinstance(got.logabs, kind)
    want = lr.LogReal(np.asarray(VALUES)) + np.asarray(VALUES)
    np.testing.assert_array_equal(_np(got.logabs), want.logabs)
    np.testing.assert_array_equal(_np(lr.LogReal(t) == t), np.ones(len(VALUES), bool))


def test_where_with_a_python_scalar(backend):
    make, kind = backend
    t = make()
    got = lr.where(t > 1.5, t, 0.0)
    assert isinstance(got, kind)
    np.testing.assert_array_equal(_np(got), np.where(np.asarray(VALUES) > 1.5, VALUES, 0.0))


def test_dot_stays_in_the_namespace(backend):
    make, kind = backend
    t = make()
    got = lr.dot(t, t)
    assert isinstance(got, kind)
    assert float(_np(got)) == np.dot(VALUES, VALUES)


def test_grad_of_a_real_output(backend):
    make, kind = backend
    g = lr.grad(lambda v: lr.logsumexp(v))(make())
    assert isinstance(g, kind)
    a = np.asarray(VALUES)
    np.testing.assert_allclose(_np(g), np.exp(a - np.logaddexp.reduce(a)), rtol=1e-15)
