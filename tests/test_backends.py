"""Regressions on other array backends: results stay in the input's namespace.

PyTorch (CPU), JAX and array-api-strict are in the test extra; each case is
checked against the same call on NumPy (the truth for these functions), or
against float64 arithmetic that neither under- nor overflows.  The full matrix
of oracle cases is tests/test_backend_matrix.py.
"""

import array_api_compat
import array_api_strict as xps
import jax
import jax.numpy as jnp
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


# ---------------------------------------------------------------------------
# Issue 11: dtypes, devices, repr and mixing on every backend.

INT_B = [1, 2, 1, 3, 1]


def _float32_and_int(name):
    a = np.asarray(VALUES, dtype=np.float32)
    b = np.asarray(INT_B, dtype=np.int32 if name == "jax" else np.int64)
    if name == "numpy":
        return a, b
    if name == "torch":
        return torch.from_numpy(a), torch.from_numpy(b)
    lib = jnp if name == "jax" else xps
    return lib.asarray(a), lib.asarray(b)


def xp_asarray(a):
    """A NumPy scalar as a 0-d array (scalars have no ``__dlpack__``)."""
    return np.asarray(a) if isinstance(a, np.generic) else a


@pytest.mark.parametrize("name", ["numpy", "strict", "torch", "jax"])
def test_logsumexp_float32_with_integer_weights_stays_float32(name):
    a, b = _float32_and_int(name)
    got = lr.logsumexp(a, b=b)
    assert str(got.dtype).endswith("float32")
    # the float64 sum of b e**a, rounded once to float32, within 4 ulp
    want = np.float32(np.log(np.sum(np.asarray(INT_B) * np.exp(np.float64(VALUES)))))
    value = float(np.from_dlpack(got.detach() if name == "torch" else xp_asarray(got)))
    assert abs(value - want) <= 4 * np.spacing(want)


@pytest.mark.parametrize("b", [None, "empty"])
def test_logsumexp_of_an_empty_array_stays_on_its_device(b):
    device = xps.Device("device1")
    a = xps.asarray([], device=device)
    got = lr.logsumexp(a, b=None if b is None else xps.asarray([], device=device))
    assert array_api_compat.device(got) == device
    value, sign = lr.logsumexp(a, return_sign=True)
    assert array_api_compat.device(value) == device == array_api_compat.device(sign)
    assert float(np.from_dlpack(value)) == -np.inf and float(np.from_dlpack(sign)) == 0.0


def test_repr_of_a_tensor_that_requires_grad():
    t = torch.tensor([1.5, -3.0], dtype=torch.float64, requires_grad=True)
    assert repr(lr.LogReal(t)) == "LogReal([ 1.5, -3.0])"
    assert repr(lr.LogReal(t) * 2.0) == "LogReal([ 3.0, -6.0])"
    assert f"{lr.LogReal(t[0]):.3f}" == "1.500"


def test_repr_reads_no_foreign_array_through_numpy(monkeypatch):
    x = lr.LogReal(jnp.asarray([1.5, -3.0]))
    s = lr.LogReal(xps.asarray([0.25], device=xps.Device("device1")))
    real_asarray = np.asarray

    def strict_asarray(a, *args, **kwargs):
        assert isinstance(a, np.ndarray | np.generic | list | float), type(a)
        return real_asarray(a, *args, **kwargs)

    monkeypatch.setattr(np, "asarray", strict_asarray)
    assert repr(x) == "LogReal([ 1.5, -3.0], dtype=float32)"
    assert repr(s) == "LogReal([0.25])"


MIXES = {
    "torch+jax": (lambda: torch.ones(2), lambda: jnp.ones(2), "jax and torch"),
    "torch+numpy": (
        lambda: torch.ones(2, dtype=torch.float64),
        lambda: np.ones(2),
        "numpy and torch",
    ),
    "strict+jax": (lambda: xps.ones(2), lambda: jnp.ones(2), "array_api_strict and jax"),
}


@pytest.mark.parametrize("mix", sorted(MIXES))
@pytest.mark.parametrize(
    "call",
    [
        lambda x, y: lr.LogReal(x) + lr.LogReal(y),
        lambda x, y: lr.logaddexp(x, y),
        lambda x, y: lr.logsumexp(x, b=y),
        lambda x, y: lr.LogReal(x) * y,
    ],
)
def test_mixing_two_libraries_raises_naming_both(mix, call):
    make_x, make_y, names = MIXES[mix]
    with pytest.raises(TypeError, match=f"cannot mix arrays of {names}"):
        call(make_x(), make_y())


def test_a_numpy_scalar_beside_a_tensor_is_a_scalar():
    t = torch.tensor(VALUES, dtype=torch.float64)
    got = lr.LogReal(t) * np.float64(2.0)
    assert isinstance(got.logabs, torch.Tensor)
    # the stored logs are rounded: 4 ulp of the value (|logabs| < 3 here)
    np.testing.assert_allclose(_np(got.to_real()), np.asarray(VALUES) * 2.0, rtol=4 * 2**-52)


def test_jax_float32_products_keep_float32_and_enable_nothing():
    x = jnp.asarray([1e-30, 1e-30, 1e30, 3.0], dtype=jnp.float32)
    got = lr.leave_one_out(x)
    assert got.dtype == jnp.float32 and not jax.config.jax_enable_x64
    # the exact products of the other three float32 values, rounded once
    v = np.asarray(x, dtype=np.float64)
    want = np.asarray([np.prod(np.delete(v, i)) for i in range(4)]).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("transform", [jax.jit, jax.vmap, jax.grad])
def test_jax_transformations_raise_a_clear_error(transform):
    with pytest.raises(TypeError, match=r"cannot be traced by jax\.jit"):
        transform(lambda v: lr.logsumexp(v))(jnp.ones(3))
