"""The NumPy functions and ufuncs a LogReal answers: one explicit table each.

``LogReal.__array_ufunc__`` and ``__array_function__`` read these tables
(importing this module at call time), so what NumPy dispatches to is
written down here, whichever modules were imported first.  Anything absent
raises ``TypeError`` naming the operation; nothing falls back to floats.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._einsum import einsum
from ._logreal import ELEMENTWISE, LogReal, np_reshape
from ._products import cumprod
from ._reduce import concat, cumsum, dot, matmul, mean, prod, stack, sum, where

__all__ = ["FUNCTIONS", "UFUNCS"]


def _reduction(fn: Callable[..., Any], *, flatten_default: bool = False) -> Callable[..., Any]:
    """Adapt ``fn(x, axis, keepdims)`` to NumPy's reduction signature."""

    def call(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, **kw: Any) -> Any:
        extra = {k: v for k, v in kw.items() if k != "keepdims"}
        if dtype is not None or out is not None or extra:
            raise TypeError(f"numpy.{fn.__name__} on a LogReal takes only axis (and keepdims)")
        if flatten_default:  # np.cumsum / np.cumprod flatten when axis is None
            return fn(a, axis=axis)
        return fn(a, axis=axis, keepdims=kw.get("keepdims", False))

    return call


def _dot(a: Any, b: Any, out: Any = None) -> Any:
    if out is not None:
        raise TypeError("numpy.dot on a LogReal does not take out=")
    return dot(a, b)


def _joiner(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def call(arrays: Any, axis: int = 0, **kw: Any) -> Any:
        if any(v is not None for v in kw.values()):
            raise TypeError(f"numpy.{name} on a LogReal takes only axis (got {sorted(kw)})")
        return fn(arrays, axis=axis)

    return call


def _transpose(a: LogReal, axes: Any = None) -> LogReal:
    return a.transpose(*(() if axes is None else (axes,)))


UFUNCS: dict[np.ufunc, Callable[..., Any]] = {**ELEMENTWISE, np.matmul: matmul}

FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a: a.size,
    np.transpose: _transpose,
    np.reshape: np_reshape,
    np.sum: _reduction(sum),
    np.prod: _reduction(prod),
    np.mean: _reduction(mean),
    np.cumsum: _reduction(cumsum, flatten_default=True),
    np.cumprod: _reduction(cumprod, flatten_default=True),
    np.matmul: matmul,
    np.dot: _dot,
    np.einsum: einsum,
    np.where: where,
    np.concatenate: _joiner(concat, "concatenate"),
    np.stack: _joiner(stack, "stack"),
}
