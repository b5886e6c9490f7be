"""Dask arrays, lazily: reductions over mergeable states, chunk by chunk.

Building a result never computes.  Every data-dependent decision of the NumPy
code (the shift of a log-sum-exp, an exact-cancellation re-sum, extreme
weights, the scaling of a norm) is made inside the chunk functions, and chunks
combine by a merge rule that is exact up to one rounding:

* **log-sum-exp** (``lr.logsumexp``, LogReal ``sum`` and ``mean``): a chunk's
  partial is its own signed log-sum-exp ``(logabs, sign)``; partials merge by
  the signed log-sum-exp of ``sign * e**logabs``, so a chunk's top terms that
  cancel are handled inside the chunk and a cancellation between chunks by the
  same exact sum.
* **norms** (``lr.norm``, ``lr.lognorm`` of real input): a chunk's partial is
  the scaled-sum state of :mod:`logreal._norms_state` (``scale``, ``hi``,
  ``lo``, flags), merged and finished by the same :class:`Reduction`.
* **running sums** (LogReal ``cumsum``): each chunk's scan starts from the
  exact sum of the chunks before it (a carry).
* **LogReal contractions** (``matmul``, and through it ``dot`` and
  ``einsum``): every pair of chunks meeting on the contracted axis is
  multiplied by the NumPy product, and the partial products are summed over
  the contracted chunks by the log-sum-exp merge above.

Products along an axis (``cumprod``, ``leave_one_out``, ``prod_grad``) live in
:mod:`logreal._dask_scan`.

A partial of several arrays travels as one Dask array: ``(logabs, sign)`` as
the real and imaginary parts of a complex number (both stored exactly, nan
and infinities included), a norm state as a structured dtype.  The chunk work
runs the NumPy code, so the compiled kernels apply inside each chunk.

This module imports Dask only when a call has a Dask array in hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np

from ._backend import Array, normalize_axis

__all__ = ["cumsum", "is_dask", "logsum", "logsumexp", "matmul", "norm"]


def is_dask(*xs: Any) -> bool:
    """Whether any argument is a Dask array (Dask is not imported to tell)."""
    return any(array_api_compat.is_dask_array(x) for x in xs)


# ---------------------------------------------------------------------------
# Packing several arrays into one.


def _pack(re: Array, im: Array) -> np.ndarray:
    """``re + i im`` with both parts exactly as given (no arithmetic: nan stays put)."""
    re, im = np.broadcast_arrays(np.asarray(re), np.asarray(im))
    out = np.empty(re.shape, dtype=np.result_type(re.dtype, np.complex64))
    out.real, out.imag = re, im
    return out


def _moved(x: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """``x`` as (rows, cols) with ``axes`` last, and the shape with them as 1."""
    kept = tuple(i for i in range(x.ndim) if i not in axes)
    rows = math.prod(x.shape[i] for i in kept)
    cols = math.prod(x.shape[i] for i in axes)
    keep_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    return np.reshape(np.transpose(x, kept + axes), (rows, cols)), keep_shape


def _reduction(
    z: Any, axes: tuple[int, ...], keepdims: bool, step: Callable[..., Any], dtype: Any
) -> Any:
    """``dask.array.reduction`` with ``step(block, axis=, keepdims=)`` for the
    chunks, the combines and the aggregate, whose results have ``dtype``."""
    import dask.array as da

    meta = np.empty((0,) * (z.ndim if keepdims else z.ndim - len(axes)), dtype=dtype)
    return da.reduction(
        z,
        chunk=step,
        combine=step,
        aggregate=step,
        axis=axes,
        keepdims=keepdims,
        dtype=meta.dtype,
        concatenate=True,
        meta=meta,
    )


# ---------------------------------------------------------------------------
# Signed log-sum-exp.


_PARTIAL = np.dtype([("s", np.float64), ("m", np.float64), ("t", np.float64)])


def _lse_block(z: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """A block's signed log-sum-exp as partials ``(s, m, t)``, ``logabs = m + t``.

    The input is a chunk of terms (``lg + i w``, complex) or partials of earlier
    blocks, ``s e**(m + t)``: a partial carries its logabs unrounded, and a
    merge takes ``m + t`` as a double-double, so it costs no extra rounding.
    """
    from ._logsum import logsum_parts, merge_parts
    from ._special_fast import logsum_split

    if z.dtype.kind != "c":  # partials of earlier blocks (few: one per chunk)
        parts = merge_parts(z["s"], z["m"], z["t"], axis, np)
    else:
        lg, w = z.real, z.imag
        # the kernel, or where it does not apply (kernels off, a small chunk,
        # extreme weights) the portable parts
        parts = logsum_split(w, lg, axis) or logsum_parts(w, lg, axis, np)
    out = np.empty(np.shape(parts[0]), dtype=_PARTIAL)
    out["s"], out["m"], out["t"] = parts
    return out if keepdims else np.squeeze(out, axis)


def logsum(w: Any, lg: Any, axes: tuple[int, ...], keepdims: bool) -> tuple[Any, Any]:
    """(sign, logabs) of ``sum(w e**lg)`` over ``axes`` as Dask arrays."""
    import dask.array as da

    w, lg = da.broadcast_arrays(da.asarray(w), da.asarray(lg))
    w = w.rechunk(lg.chunks)
    z = da.map_blocks(_pack, lg, w, dtype=np.result_type(lg.dtype, np.complex64))
    parts = _reduction(z, axes, keepdims, _lse_block, _PARTIAL)
    return parts["s"].astype(lg.dtype), (parts["m"] + parts["t"]).astype(lg.dtype)


def _float_dtypes(a: Any, b: Any) -> Any:
    """SciPy's result dtype: ``a``'s float dtype, promoted by a float ``b`` only."""
    dtypes = [x.dtype for x in (a, b) if x is not None and np.dtype(x.dtype).kind == "f"]
    return np.result_type(*dtypes) if dtypes else np.dtype(np.float64)


def logsumexp(a: Any, axis: Any, b: Any, keepdims: bool, return_sign: bool) -> Any:
    """``lr.logsumexp`` of Dask ``a`` (``b``: Dask, NumPy, scalar or None), lazily."""
    import dask.array as da

    a = da.asarray(a)
    b = None if b is None else da.asarray(b)
    dtype = _float_dtypes(a, b)
    a = a.astype(dtype)
    w = da.ones_like(a) if b is None else b.astype(dtype)
    sign, logabs = logsum(w, a, normalize_axis(axis, a.ndim), keepdims)
    if return_sign:
        return logabs, sign
    return da.where(sign < 0, np.nan, logabs)


# ---------------------------------------------------------------------------
# Norms of real input.


def _state_dtype(red: Any) -> np.dtype:
    names = {2: ("scale", "hi", "lo", "nan", "inf"), 1: ("extreme", "nan"), 0: ("count",)}
    p = red.p
    fields = names[0 if p == 0 else 1 if p in (math.inf, -math.inf) else 2]
    return np.dtype([(f, bool if f in ("nan", "inf") else np.float64) for f in fields])


def _norm_step(red: Any) -> Callable[..., np.ndarray]:
    """The chunk (and combine) function: a block's rows to packed partials."""
    from ._norms import _tiled

    dtype = _state_dtype(red)

    def step(x: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
        rows, keep_shape = _moved(x, axis)
        if x.dtype == dtype:  # partials of earlier steps: merge them
            parts = tuple(np.ascontiguousarray(rows[f].T) for f in dtype.names or ())
            part = red.merge(parts, np)
        else:
            part = _tiled(np.ascontiguousarray(rows), red, None, np)
        out = np.empty(rows.shape[0], dtype=dtype)
        for f, v in zip(dtype.names or (), part, strict=True):
            out[f] = v
        kept = tuple(n for i, n in enumerate(x.shape) if i not in axis)
        return out.reshape(keep_shape if keepdims else kept)

    return step


def norm(x: Any, p: float, axis: Any, keepdims: bool, log: bool) -> Any:
    """``lr.norm`` (``log=False``) or ``lr.lognorm`` of a real Dask array, lazily."""
    import dask.array as da

    from ._norms_state import Reduction

    x = da.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    axes = normalize_axis(axis, x.ndim)
    red = Reduction(p)
    out_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    if not keepdims:
        out_shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    if any(x.shape[i] == 0 for i in axes):
        value = red.empty(1, log, np)[0]
        return da.full(out_shape, value, dtype=dtype)
    step = _norm_step(red)

    def finish(z: np.ndarray) -> np.ndarray:
        fields = tuple(z[f].reshape(-1) for f in z.dtype.names or ())
        with np.errstate(over="ignore"):  # float32: a norm beyond its range is inf
            return red.finish(fields, log, np).astype(dtype).reshape(z.shape)

    states = _reduction(x, axes, keepdims, step, _state_dtype(red))
    return states.map_blocks(finish, dtype=dtype, meta=np.empty((0,) * states.ndim, dtype))


# ---------------------------------------------------------------------------
# Running sums: each chunk's scan, started from the sum of the chunks before it.


def _logreal(z: np.ndarray) -> Any:
    from ._logreal import LogReal

    return LogReal.from_log(z.real, z.imag)


def _packed(x: Any) -> np.ndarray:
    return _pack(np.asarray(x.logabs), np.asarray(x.sign))


def _block_total(z: np.ndarray, axis: int) -> np.ndarray:
    from ._reduce import sum as lr_sum

    return _packed(lr_sum(_logreal(z), axis=axis, keepdims=True))


def _exclusive(z: np.ndarray, axis: int) -> np.ndarray:
    """The sums of the chunk totals before each one (zero for the first)."""
    from ._reduce import cumsum as lr_cumsum

    inclusive = _packed(lr_cumsum(_logreal(z), axis=axis))
    out = np.empty_like(inclusive)
    first = [slice(None)] * z.ndim
    first[axis] = slice(0, 1)
    out[tuple(first)] = _pack(-np.inf, 0.0)
    rest, before = list(first), list(first)
    rest[axis], before[axis] = slice(1, None), slice(0, -1)
    out[tuple(rest)] = inclusive[tuple(before)]
    return out


def _block_scan(z: np.ndarray, carry: np.ndarray, axis: int) -> np.ndarray:
    """The chunk's running sums with the carry prepended as one more term."""
    from ._reduce import cumsum as lr_cumsum

    terms = np.concatenate([carry, z], axis=axis)
    return np.delete(_packed(lr_cumsum(_logreal(terms), axis=axis)), 0, axis=axis)


def cumsum(sign: Any, logabs: Any, axis: int) -> tuple[Any, Any]:
    """(sign, logabs) of the running sums along ``axis`` of Dask (sign, logabs).

    A chunk's totals are summed exactly once more for the carries, and each
    chunk's scan starts from its carry as one more term, so a prefix whose top
    terms cancel across chunks is still exact (the carry is rounded once: the
    cancellation term of the stated bound).
    """
    import dask.array as da

    sign, logabs = da.broadcast_arrays(da.asarray(sign), da.asarray(logabs))
    sign = sign.rechunk(logabs.chunks)
    complex_dtype = np.result_type(logabs.dtype, np.complex64)
    z = da.map_blocks(_pack, logabs, sign, dtype=complex_dtype)
    ones = tuple((1,) * len(c) if i == axis else c for i, c in enumerate(z.chunks))
    totals = z.map_blocks(_block_total, axis=axis, chunks=ones, dtype=complex_dtype)
    carries = totals.rechunk({axis: -1}).map_blocks(_exclusive, axis=axis, dtype=complex_dtype)
    carries = carries.rechunk({axis: 1})
    # block j of the output pairs block j of z with carry j (one long on axis)
    index = tuple(range(z.ndim))
    out = da.blockwise(
        _block_scan,
        index,
        z,
        index,
        carries,
        index,
        axis=axis,
        dtype=complex_dtype,
        align_arrays=False,
        adjust_chunks={axis: z.chunks[axis]},
        meta=np.empty((0,) * z.ndim, dtype=complex_dtype),
    )
    return out.imag, out.real


# ---------------------------------------------------------------------------
# LogReal matrix products: chunk pairs by the NumPy product, then the exact sum.


def _chunk_matmul(za: np.ndarray, zb: np.ndarray) -> np.ndarray:
    """One pair of chunks' ``a @ b`` (the NumPy product, each entry rounded
    once), packed, with a length-1 axis where the contracted one was."""
    from ._reduce import matmul as lr_matmul

    out = lr_matmul(_logreal(za), _logreal(zb))
    return _packed(out)[..., None, :]


def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` of LogReals (ndim >= 2, aligned), one of them of Dask arrays, lazily.

    Every pair of chunks meeting on the contracted axis is multiplied by the
    NumPy product (a few ulp plus its cancellation term per entry); the
    partial products are then summed over the contracted chunks by the same
    exact signed sum as ``lr.sum``, so a cancellation between chunks costs no
    more than one inside a chunk.
    """
    import dask.array as da

    za, zb = (
        da.map_blocks(
            _pack,
            da.asarray(x.logabs),
            da.asarray(x.sign),
            dtype=np.result_type(x.dtype, np.complex64),
        )
        for x in (a, b)
    )
    for z in (za, zb):
        if any(math.isnan(c) for cs in z.chunks for c in cs):
            raise ValueError(
                f"matmul of a Dask array with unknown chunk sizes {z.chunks}: call "
                f"x.compute_chunk_sizes() (or give the chunks) first"
            )
    dtype = np.result_type(za.dtype, zb.dtype)
    ndim = max(za.ndim, zb.ndim)
    za = za[(None,) * (ndim - za.ndim)]
    zb = zb[(None,) * (ndim - zb.ndim)]
    lhs = tuple(range(ndim))  # batch..., i, k
    rhs = (*range(ndim - 2), ndim - 1, ndim)  # batch..., k, j
    out = da.blockwise(
        _chunk_matmul,
        tuple(range(ndim + 1)),  # batch..., i, k (one per chunk), j
        za,
        lhs,
        zb,
        rhs,
        adjust_chunks={ndim - 1: 1},
        dtype=dtype,
        concatenate=False,
        meta=np.empty((0,) * (ndim + 1), dtype=dtype),
    )
    real = np.empty(0, dtype=dtype).real.dtype
    parts = _reduction(out, (ndim - 1,), False, _lse_block, _PARTIAL)
    return _logreal_pair(parts["s"].astype(real), (parts["m"] + parts["t"]).astype(real))


def _logreal_pair(sign: Any, logabs: Any) -> Any:
    from ._logreal import LogReal

    return LogReal._new(sign, logabs)
