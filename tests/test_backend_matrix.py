"""The same oracle cases on every installed backend, in float32 and float64.

Each case runs once on NumPy inputs (the reference: NumPy's results are held to
mpmath by tests/test_accuracy.py and the differential tests) and once on the
backend's arrays of the same values; the backend's result must agree within
4 ulp of its dtype (LogReal: signs exactly, logabs within 4 ulp), be an array
of the backend's namespace, keep the dtype and stay on the input's device.
On the NumPy row the values agree by construction: that row checks the
namespace, dtype and scalar habits only.

JAX float64 runs inside ``jax.enable_x64()``; nothing global is switched on.
A backend whose package is installed but cannot be used fails (no silent
skip); one that is not installed is skipped, except that under CI (or with
``LOGREAL_REQUIRE_BACKENDS=1``) every backend of the ``test`` extra in
pyproject.toml must be installed.  Dask is covered by tests/test_dask.py.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import os
import pathlib
import re
import tomllib
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np
import pytest

import logreal as lr

X = [0.5, -1.0, 2.0, 3.0, 8.0, -0.25]
POS = [0.5, 1.0, 2.0, 3.0, 8.0, 0.25]
Y = [2.0, -0.125, 1.5, 4.0, 0.125, -6.0]  # no cancellation in X + Y
ZERO = [2.0, 0.0, 4.0, -3.0, 0.5, 1.5]
M = [[0.5, -1.0, 2.0], [3.0, 8.0, -0.25]]
W = [1, -1, 2, 1, 3, -2]
MATS = (np.eye(2)[None] * np.asarray([1.0, 2.0, 0.5])[:, None, None]) + np.asarray(
    [[[0.0, 1.0], [0.5, 0.0]]]
)


class Backend:
    """Arrays of one library: made from NumPy values, read back, and recognised."""

    def __init__(self, name: str, module: Any, scope: Callable[[str], Any]) -> None:
        self.name, self.module, self._scope = name, module, scope
        self.xp = array_api_compat.array_namespace(self.asarray(np.zeros(1)))

    def asarray(self, v: Any, dtype: str = "float64") -> Any:
        a = np.asarray(v, dtype=dtype if np.asarray(v).dtype.kind == "f" else None)
        if self.name == "numpy":
            return a
        if self.name == "torch":
            return self.module.from_numpy(a.copy())
        return self.module.asarray(a)

    def scope(self, dtype: str) -> Any:
        return self._scope(dtype)

    def to_numpy(self, a: Any) -> np.ndarray:
        if self.name == "torch":
            return a.detach().cpu().numpy()  # type: ignore[no-any-return]
        if self.name == "numpy":
            return np.asarray(a)
        return np.from_dlpack(a, device="cpu", copy=True)


def _no_scope(dtype: str) -> Any:
    return contextlib.nullcontext()


def _jax_scope(dtype: str) -> Any:
    import jax

    return jax.enable_x64(True) if dtype == "float64" else contextlib.nullcontext()


MODULES = {
    "numpy": "numpy",
    "array_api_strict": "array_api_strict",
    "torch": "torch",
    "jax": "jax",
}


def _make(name: str) -> Backend:
    module = importlib.import_module(MODULES[name])
    if name == "jax":
        module = importlib.import_module("jax.numpy")
        return Backend(name, module, _jax_scope)
    return Backend(name, module, _no_scope)


@pytest.fixture(params=sorted(MODULES))
def backend(request: pytest.FixtureRequest) -> Backend:
    name = request.param
    if importlib.util.find_spec(MODULES[name]) is None:
        pytest.skip(f"{name} is not installed")
    try:
        b = _make(name)
    except Exception as exc:  # installed but unusable: a failure, never a skip
        pytest.fail(f"{name} is installed but cannot be used: {exc!r}")
    return b


@pytest.fixture(params=["float32", "float64"])
def dtype(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---------------------------------------------------------------------------
# The cases: each takes ``a`` (values -> array of the backend, in the dtype)
# and ``xp`` (the backend's namespace) and returns a result to compare.

L = lr.LogReal
Case = Callable[[Callable[..., Any], Any], Any]

CASES: dict[str, Case] = {
    # section 1: LogReal arithmetic, comparisons, reductions, assembly
    "logreal": lambda a, xp: L(a(X)),
    "from_log": lambda a, xp: L.from_log(a(Y), a([1.0, -1.0, 1.0, 0.0, 1.0, -1.0])),
    "add": lambda a, xp: L(a(X)) + L(a(Y)),
    "sub": lambda a, xp: L(a(X)) - -a(Y),
    "sub_close": lambda a, xp: L(a(POS)) - a([0.25, 0.25, 0.5, 0.5, 2.0, 0.0625]),
    "sub_self": lambda a, xp: L(a(X)) - L(a(X)),
    "mul_scalar": lambda a, xp: L(a(X)) * 2.5,
    "div": lambda a, xp: L(a(X)) / L(a(Y)),
    "pow_int": lambda a, xp: L(a(X)) ** 3,
    "pow_half": lambda a, xp: L(a(POS)) ** 0.5,
    "neg_abs": lambda a, xp: abs(-L(a(X))),
    "eq": lambda a, xp: L(a(X)) == L(a(ZERO)),
    "lt": lambda a, xp: L(a(X)) < a(Y),
    "ge": lambda a, xp: L(a(X)) >= L(a(ZERO)),
    "to_real": lambda a, xp: (L(a(X)) * L(a(Y))).to_real(),
    "exp": lambda a, xp: lr.exp(a(Y)),
    "log": lambda a, xp: lr.log(L(a(X))),
    "sqrt": lambda a, xp: lr.sqrt(L(a(POS))),
    "sum": lambda a, xp: lr.sum(L(a(X))),
    "sum_axis": lambda a, xp: lr.sum(L(a(M)), axis=1, keepdims=True),
    "prod": lambda a, xp: lr.prod(L(a(X))),
    "mean": lambda a, xp: lr.mean(L(a(M)), axis=0),
    "cumsum": lambda a, xp: lr.cumsum(L(a(X))),
    "dot": lambda a, xp: lr.dot(L(a(X)), L(a(Y))),
    "matmul": lambda a, xp: L(a(M)) @ L(a(M)).T,
    "where": lambda a, xp: lr.where(a(X) > 1.0, L(a(X)), L(a(Y))),
    "concat_stack": lambda a, xp: lr.stack([lr.concat([L(a(X)), L(a(Y))])] * 2, axis=1),
    "index_reshape": lambda a, xp: L(a(M)).reshape(3, 2)[1:, 1],
    "einsum_mixed": lambda a, xp: lr.einsum("ij,kj->ik", L(a(M)), a(M)),
    "einsum_trace": lambda a, xp: lr.einsum("ii", L(a([[1.0, -2.0], [3.0, 4.0]]))),
    # section 2: special functions
    "logsumexp": lambda a, xp: lr.logsumexp(a(Y)),
    "logsumexp_axis": lambda a, xp: lr.logsumexp(a(M), axis=1, keepdims=True),
    "logsumexp_axes": lambda a, xp: lr.logsumexp(a(M), axis=(0, 1)),
    "logsumexp_b_sign": lambda a, xp: lr.logsumexp(a(Y), b=a(X), return_sign=True),
    "logsumexp_b_int": lambda a, xp: lr.logsumexp(a(Y), b=a(W)),
    "logsumexp_cancel": lambda a, xp: lr.logsumexp(
        a([1.0, 1.0, 0.5]), b=a([1.0, -1.0, 1.0]), return_sign=True
    ),
    "logsumexp_empty": lambda a, xp: lr.logsumexp(a([]), return_sign=True),
    "logaddexp": lambda a, xp: lr.logaddexp(a(X), a(Y)),
    "logsubexp": lambda a, xp: lr.logsubexp(a(POS) + 1.0, a(POS)),
    "log1mexp": lambda a, xp: lr.log1mexp(-a(POS)),
    "log1pexp": lambda a, xp: lr.log1pexp(a(Y)),
    "logcumsumexp": lambda a, xp: lr.logcumsumexp(a(Y)),
    # section 3: products
    "prod_real": lambda a, xp: lr.prod(a(ZERO)),
    "cumprod": lambda a, xp: lr.cumprod(a(X)),
    "cumprod_excl_rev": lambda a, xp: lr.cumprod(a(X), exclusive=True, reverse=True),
    "cumprod_logreal": lambda a, xp: lr.cumprod(L(a(M)), axis=1),
    "cumprod_op": lambda a, xp: lr.cumprod(a(MATS), op=xp.matmul),
    "loo_naive": lambda a, xp: lr.leave_one_out(a(ZERO), method="naive"),
    "loo_division": lambda a, xp: lr.leave_one_out(a(ZERO), method="division"),
    "loo_log": lambda a, xp: lr.leave_one_out(a(ZERO), method="log"),
    "loo_dp": lambda a, xp: lr.leave_one_out(a(ZERO), method="dp"),
    "loo_scan": lambda a, xp: lr.leave_one_out(a(ZERO), method="scan"),
    "loo_logreal": lambda a, xp: lr.leave_one_out(L(a(M)), axis=1),
    "loo_op": lambda a, xp: lr.leave_one_out(a(MATS), op=xp.matmul),
    "prod_grad": lambda a, xp: lr.prod_grad(a(X), a(Y)),
    "prod_grad_logreal": lambda a, xp: lr.prod_grad(L(a(X)), a(Y)),
    # section 4: norms
    "norm2": lambda a, xp: lr.norm(a(X)),
    "norm1_axis": lambda a, xp: lr.norm(a(M), p=1, axis=1),
    "norm_inf": lambda a, xp: lr.norm(a(X), p=math.inf),
    "norm_neg_inf": lambda a, xp: lr.norm(a(X), p=-math.inf),
    "norm0": lambda a, xp: lr.norm(a(ZERO), p=0),
    "norm3": lambda a, xp: lr.norm(a(M), p=3, axis=0, keepdims=True),
    "norm_neg": lambda a, xp: lr.norm(a(X), p=-1.5),
    "norm_logreal": lambda a, xp: lr.norm(L(a(X)), p=2),
    "lognorm": lambda a, xp: lr.lognorm(a(X), p=1),
    "lognorm_logreal": lambda a, xp: lr.lognorm(L(a(M)), axis=1),
    # section 5: a gradient, real and LogReal
    "grad_logsumexp": lambda a, xp: lr.grad(lambda v: lr.logsumexp(v))(a(Y)),
    "grad_logreal": lambda a, xp: lr.grad(lambda v: lr.sum(L(v) * L(v) / 2.0))(a(X)),
}


def _parts(r: Any) -> list[Any]:
    """A result's arrays: a LogReal's sign and logabs, a tuple's members."""
    if isinstance(r, tuple):
        return [p for x in r for p in _parts(x)]
    if isinstance(r, lr.LogReal):
        return [r.sign, r.logabs]
    return [r]


def _stored_signs(r: Any) -> list[Any]:
    """The signs a result's LogReals store (float32 whatever the dtype)."""
    if isinstance(r, tuple):
        return [s for x in r for s in _stored_signs(x)]
    return [r._sign] if isinstance(r, lr.LogReal) else []


def _close(got: np.ndarray, want: np.ndarray, name: str) -> None:
    """Equal where special (0, inf, nan), else within 4 ulp (of 1, below 1)."""
    assert got.shape == want.shape, name
    if want.dtype.kind == "b":
        np.testing.assert_array_equal(got, want, err_msg=name)
        return
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    finite = np.isfinite(want) & ~same
    with np.errstate(invalid="ignore"):  # inf - inf where both are special
        err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    # 4 ulp of the value; below 1 in magnitude, 4 ulp of 1: a log-magnitude
    # near 0 stands for a value near 1, whose relative error it carries.
    ulp = np.spacing(np.maximum(np.abs(want), want.dtype.type(1))).astype(np.float64)
    bad = ~same & ~(finite & (err <= 4 * ulp))
    assert not bad.any(), f"{name}: got {got[bad]!r}, want {want[bad]!r} (4 ulp)"


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_on_backend(case: str, backend: Backend, dtype: str) -> None:
    fn = CASES[case]
    with backend.scope(dtype):
        want = fn(
            lambda v: np.asarray(v, dtype=dtype if np.asarray(v).dtype.kind == "f" else None), np
        )
        arg = backend.asarray(X, dtype)
        got = fn(lambda v: backend.asarray(v, dtype), backend.xp)
        want_parts, got_parts = _parts(want), _parts(got)
        assert type(got) is type(want) or not isinstance(want, lr.LogReal | tuple)
        assert len(got_parts) == len(want_parts)
        for g, w in zip(got_parts, want_parts, strict=True):
            w = np.asarray(w)
            if backend.name == "numpy":
                assert isinstance(g, np.ndarray | np.generic), case
            else:
                assert array_api_compat.array_namespace(g) is backend.xp, case
                assert array_api_compat.device(g) == array_api_compat.device(arg), case
            got_np = backend.to_numpy(g)
            assert str(got_np.dtype) == str(w.dtype), f"{case}: {got_np.dtype} != {w.dtype}"
            _close(got_np, w, case)
        for s in _stored_signs(got):
            assert str(backend.to_numpy(s).dtype) == "float32", case
            if backend.name != "numpy":
                assert array_api_compat.array_namespace(s) is backend.xp, case


def _test_extra_backends() -> list[str]:
    """The array libraries of pyproject.toml's ``test`` extra, among MODULES."""
    root = pathlib.Path(__file__).resolve().parents[1]
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["test"]
    names = {re.split(r"[\[<>=!~ ]", req, maxsplit=1)[0].replace("-", "_") for req in extra}
    return sorted(n for n in MODULES if n in names)


def test_the_test_extra_lists_every_backend() -> None:
    assert _test_extra_backends() == ["array_api_strict", "jax", "torch"]


def test_no_installed_backend_was_skipped() -> None:
    """Every installed backend ran (the fixture fails rather than skips an
    unusable one); under CI every backend of the test extra must be installed."""
    required = os.environ.get("LOGREAL_REQUIRE_BACKENDS") == "1" or bool(os.environ.get("CI"))
    for name in ["numpy", *_test_extra_backends()]:
        installed = importlib.util.find_spec(MODULES[name]) is not None
        if required:
            assert installed, f"{name} is in the test extra but not installed"
        if installed:
            _make(name)  # raises if the library cannot be used
