"""Numba-free glue of the compiled sums (:mod:`logreal._numba.sums`).

:func:`logsum` hands the compiled kernel the terms as ``(rows, n)`` with the
summed axes last (a view where the memory allows, else one copy), and
:func:`logsumexp` is the direct route for NumPy float input that skips the
portable path's preparation (float copies, a ones array for absent weights, the
masks for zero weights and extreme weights): the kernel reads ``a`` (and ``b``)
once per pass and reports weights beyond ``2**+-500``, for which the caller takes
the exact portable path instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _numba
from ._backend import SIGN_DTYPE, Array, normalize_axis

__all__ = ["logsum", "logsum_split", "logsumexp"]


def _rows(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    rest = tuple(i for i in range(a.ndim) if i not in axes)
    n = math.prod(a.shape[i] for i in axes)
    moved = np.transpose(a, rest + axes) if rest + axes != tuple(range(a.ndim)) else a
    return np.reshape(moved, (math.prod(a.shape[i] for i in rest), n))


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view: an array from ``np.broadcast_arrays`` (or a view of
    one) warns when Numba asks whether it is writeable; a read-only one does not."""
    view = a.view()
    view.flags.writeable = False
    return view


def logsum(
    w: Array, lg: Array, axes: tuple[int, ...], keepdims: bool
) -> tuple[Array, Array] | None:
    """(sign, logabs) of ``sum(w e**lg)`` over ``axes`` by the compiled kernel, or
    None where it does not apply (not NumPy float, kernels off, extreme weights).
    ``w`` may be None (all weights 1)."""
    fn = _numba.kernel("signed_logsum", np, lg) if isinstance(lg, np.ndarray) else None
    if fn is None or (w is not None and not _weights_fit(w, lg)):
        return None
    rows = _read_only(_rows(lg, axes))
    weights = None if w is None else _read_only(_rows(np.broadcast_to(w, lg.shape), axes))
    sign = np.empty(rows.shape[0], dtype=lg.dtype)
    logabs = np.empty(rows.shape[0], dtype=lg.dtype)
    if not fn(weights, rows, sign, logabs):
        return None
    shape = tuple(1 if i in axes else n for i, n in enumerate(lg.shape))
    if not keepdims:
        shape = tuple(n for i, n in enumerate(lg.shape) if i not in axes)
    return sign.reshape(shape), logabs.reshape(shape)


def _weights_fit(w: Any, lg: np.ndarray) -> bool:
    """NumPy weights of ``lg``'s dtype, or stored (float32) signs."""
    return isinstance(w, np.ndarray) and w.dtype in (lg.dtype, SIGN_DTYPE)


def logsumexp(a: Any, axis: Any, b: Any, keepdims: bool) -> tuple[Array, Array] | None:
    """(sign, logabs) of SciPy's ``logsumexp`` for NumPy float ``a`` and ``b`` of
    ``a``'s shape and dtype (or none), or None where the kernel does not apply."""
    if type(a) is not np.ndarray or a.dtype.kind != "f":
        return None
    if b is not None and (type(b) is not np.ndarray or b.shape != a.shape):
        return None
    return logsum(b, a, normalize_axis(axis, a.ndim), keepdims)


def logsum_split(w: np.ndarray, lg: np.ndarray, axes: tuple[int, ...]) -> tuple[Array, ...] | None:
    """``(sign, m, t)`` of ``sum(w e**lg)`` over ``axes`` (kept, as length 1), with
    ``logabs = m + t`` not yet rounded into one float: partial sums that merge
    (Dask chunks) without that rounding.  None where the kernel does not apply."""
    fn = _numba.kernel("logsum_split", np, lg)
    if fn is None or not _weights_fit(w, lg):
        return None
    rows = _rows(lg, axes)
    weights = _rows(np.broadcast_to(w, lg.shape), axes)
    out = tuple(np.empty(rows.shape[0]) for _ in range(3))
    if not fn(weights, rows, *out):
        return None
    shape = tuple(1 if i in axes else n for i, n in enumerate(lg.shape))
    return tuple(o.reshape(shape) for o in out)
