"""Reductions, contractions and array assembly for LogReal and real arrays.

Each function takes LogReal or real input and keeps the number class: LogReal
in, LogReal out; real in, real out.  LogReal sums use the shifted sum of
:func:`logreal._special.signed_sum` (never pairwise ``logaddexp``; on long
slices without kernels, the fast pass of ``logsumexp`` where its error bound
holds), products add the logs, contractions sum each entry's terms the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _dask, _matmul, _numba
from ._backend import Array, as_float, is_python_scalar, namespace, normalize_axis, scalar_out
from ._exact import two_sum
from ._logreal import LogReal, _broadcast_shape, _lift
from ._special import canonical, signed_cumsum, signed_sum

__all__ = ["concat", "cumsum", "dot", "matmul", "mean", "prod", "stack", "sum", "where"]

Axis = int | Sequence[int] | None

# Terms a contraction materialises at once (per chunk of rows).
_CONTRACTION_BLOCK = 1 << 22


def _real(x: Any) -> Array:
    xp = namespace(x)
    return xp.asarray(x)


def _real_pair(x: Any, y: Any, xp: Any) -> tuple[Array, Array]:
    """``x`` and ``y`` as arrays of ``xp``; a Python scalar takes the other's dtype."""
    if is_python_scalar(x) and not is_python_scalar(y):
        b = xp.asarray(y)
        return xp.asarray(x, dtype=b.dtype), b
    if is_python_scalar(y) and not is_python_scalar(x):
        a = xp.asarray(x)
        return a, xp.asarray(y, dtype=a.dtype)
    return xp.asarray(x), xp.asarray(y)


def _ieee() -> Any:
    """Real floats reduce as IEEE says (overflow to +-inf, 0 * inf and
    inf - inf to nan), documented answers that NumPy would also warn about."""
    return np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore")


def _real_dot(a: Array, b: Array, xp: Any) -> Array:
    """NumPy's ``dot`` rules on any array-API namespace."""
    with _ieee():
        if a.ndim == 0 or b.ndim == 0:
            return a * b
        if a.ndim <= 2 and b.ndim <= 2:
            return xp.matmul(a, b)
        return xp.tensordot(a, b, axes=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Sum over `axis`; for a LogReal, shifted by the largest magnitude.

    A LogReal sum is within a few ulp of the exact log-magnitude however many
    terms there are; terms next to the largest one go through ``expm1``, so
    cancellation is not rounded to a false zero.  The empty sum is zero.

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> tiny = lr.LogReal(np.full(1_000_000, 1e-300))
    >>> float(lr.sum(tiny).logabs)           # log(1e-294); floats give the same here
    -676.9600173402494
    >>> lr.sum(lr.exp([0.0, -2.0**-60]) * [1, -1]).logabs   # 1 - e**-2**-60
    array(-41.58883083)
    >>> lr.sum(np.arange(4.0))                 # real in, real out
    np.float64(6.0)
    """
    if isinstance(x, LogReal):
        axes = normalize_axis(axis, x.ndim)
        return LogReal._new(*signed_sum(x._sign, x.logabs, axes, keepdims, x._xp))
    a = as_float(_real(x))  # integers and bools become float64: no wrap-around
    xp = namespace(a)
    with _ieee():
        return scalar_out(xp.sum(a, axis=_axis_arg(axis, a.ndim), keepdims=keepdims), xp)


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Product over `axis`; for a LogReal, a sum of logs and a product of signs.

    Its log-magnitude error is that of the plain sum of the n logs.  The empty
    product is one.

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> halves = lr.LogReal(np.full(100_000, 0.5))
    >>> lr.prod(halves).logabs                 # np.prod underflows to 0.0
    array(-69314.71805599)
    >>> lr.prod(lr.LogReal([-2.0, 3.0, -4.0]))
    LogReal(24.0)
    """
    if isinstance(x, LogReal):
        xp = x._xp
        axes = normalize_axis(axis, x.ndim)
        sign = xp.prod(x._sign, axis=axes, keepdims=keepdims)  # exact in float32
        logabs = _compensated_sum(x.logabs, axes, keepdims, xp)
        return LogReal._new(*canonical(sign, logabs, xp))
    a = as_float(_real(x))  # integers and bools become float64: no wrap-around
    xp = namespace(a)
    with _ieee():
        out = xp.prod(a, axis=_axis_arg(axis, a.ndim), keepdims=keepdims)
    return scalar_out(out, xp)


def _compensated_sum(a: Array, axes: tuple[int, ...], keepdims: bool, xp: Any) -> Array:
    """Sum over ``axes`` by a pairwise tree of TwoSums, adding the rounding errors back.

    Every level halves the terms with Knuth's error-free TwoSum; the errors are
    summed (they are tiny) and added once at the end, so the result is within
    about half an ulp however many terms (a plain pairwise sum of 10^5 copies
    of log 0.5 is a few ulp off).
    """
    rest = tuple(i for i in range(a.ndim) if i not in axes)
    n = math.prod(a.shape[i] for i in axes)
    fused = _numba.kernel("compensated_sum", xp, a)
    if fused is not None:  # one compensated pass along the last axis
        moved = xp.permute_dims(a, rest + axes)
        total = fused(xp.reshape(moved, (*(a.shape[i] for i in rest), n)))
        total = xp.asarray(total)
        if keepdims:
            shape = tuple(1 if i in axes else a.shape[i] for i in range(a.ndim))
            total = xp.reshape(total, shape)
        return total
    moved = xp.permute_dims(a, axes + rest) if axes + rest != tuple(range(a.ndim)) else a
    s = xp.reshape(moved, (n, *(a.shape[i] for i in rest)))
    err = xp.zeros(s.shape[1:], dtype=a.dtype)
    while s.shape[0] > 1:
        if s.shape[0] % 2:
            s = xp.concat([s, xp.zeros((1, *s.shape[1:]), dtype=a.dtype)], axis=0)
        u, v = s[0::2, ...], s[1::2, ...]
        t, e = two_sum(u, v)  # inf - inf = nan, overflow to inf: IEEE, dropped below
        err = err + xp.sum(xp.where(xp.isfinite(e), e, 0.0), axis=0)
        s = t
    total = s[0, ...] + err if n else err
    if keepdims:
        total = xp.reshape(total, tuple(1 if i in axes else a.shape[i] for i in range(a.ndim)))
    return total


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Arithmetic mean over `axis` (nan for an empty slice, without a warning).

    Examples
    --------
    >>> import logreal as lr
    >>> lr.mean(lr.exp([2000.0, 2000.0]) * [1, 3]) / lr.exp(2000.0)
    LogReal(2.0)
    """
    if isinstance(x, LogReal):
        count = math.prod(x.shape[a] for a in normalize_axis(axis, x.ndim))
        return sum(x, axis, keepdims) / float(count)
    a = as_float(_real(x))
    xp = namespace(a)
    axes = normalize_axis(axis, a.ndim)
    count = math.prod(a.shape[i] for i in axes)
    with _ieee():  # an empty mean is 0 / 0 = nan, as documented
        return scalar_out(xp.sum(a, axis=axes, keepdims=keepdims) / count, xp)


def cumsum(x: Any, axis: int | None = 0) -> Any:
    """Running sums along `axis` (``None`` flattens first).

    For a LogReal every prefix is a shifted sum like :func:`sum`; prefixes far
    below the slice's largest term are recomputed by a log-depth scan, so they
    do not underflow.

    Examples
    --------
    >>> import logreal as lr
    >>> lr.cumsum(lr.exp([-1000.0, -1000.0, 1000.0])).logabs
    array([-1000.        ,  -999.30685282,  1000.        ])
    """
    if axis is None:
        x = x.reshape(-1) if isinstance(x, LogReal) else namespace(x).reshape(_real(x), (-1,))
        axis = 0
    if isinstance(x, LogReal):
        if x.ndim == 0:
            raise ValueError("cumsum needs an array with at least one dimension")
        (ax,) = normalize_axis(axis, x.ndim)
        return LogReal._new(*signed_cumsum(x.sign, x.logabs, ax, x._xp))
    a = as_float(_real(x))  # integers and bools become float64: no wrap-around
    with _ieee():
        return namespace(a).cumulative_sum(a, axis=axis)


# -- contractions --------------------------------------------------------


def matmul(x: Any, y: Any) -> Any:
    """Matrix product with NumPy's ``matmul`` rules, each entry an exact log-space sum.

    Rows and columns are scaled by their largest magnitudes and multiplied as
    floats (BLAS on NumPy); every entry whose error bound fails -- cancellation,
    an entry far below its row's and column's scale, infinities or nan -- is
    recomputed as the shifted sum of its k terms (as :func:`sum`).  So each
    entry is within a few ulp of its exact value, plus ``(k + 10) u`` times
    the ratio of the sum of absolute products to the absolute sum.  See
    :mod:`logreal._matmul`.

    Examples
    --------
    >>> import logreal as lr
    >>> a = lr.exp([[1000.0, 0.0], [0.0, -1000.0]])
    >>> (a @ a).logabs
    array([[2000.,    1000.],
           [1000.,       0.]])
    >>> float((lr.exp([[0.0, -800.0]]) @ lr.exp([[-800.0], [0.0]])).logabs[0, 0])
    -799.3068528194401
    """
    if not (isinstance(x, LogReal) or isinstance(y, LogReal)):
        with _ieee():
            return namespace(x, y).matmul(_real(x), _real(y))
    like = x if isinstance(x, LogReal) else y
    assert isinstance(like, LogReal)
    a, b = _lift(x, like), _lift(y, like)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: input operand does not have enough dimensions (0-d)")
    a2 = a.reshape(1, a.shape[0]) if a.ndim == 1 else a
    b2 = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not align "
            f"({a2.shape[-1]} != {b2.shape[-2]})"
        )
    _broadcast_shape(a2.shape[:-2], b2.shape[:-2])
    if _dask.is_dask(a2.logabs, b2.logabs):  # lazily: chunk pairs, then the exact sum
        out = _dask.matmul(a2, b2)
    else:
        out = _matmul.scaled_matmul(a2, b2)
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


def _contract_exact(a: LogReal, b: LogReal) -> LogReal:
    """``a @ b`` for ndim >= 2, every entry by its own shifted sum (no BLAS).

    The reference the fast product is tested against; row blocks bound the
    k-term temporaries.
    """
    m, k = a.shape[-2:]
    n = b.shape[-1]
    batch = math.prod(_broadcast_shape(a.shape[:-2], b.shape[:-2]))
    rows = max(1, _CONTRACTION_BLOCK // max(1, k * n * batch))
    blocks = []
    for start in range(0, max(m, 1), rows):
        stop = min(start + rows, m)
        terms = a[..., start:stop, :, None] * b[..., None, :, :]
        blocks.append(sum(terms, axis=-2))
    return blocks[0] if len(blocks) == 1 else concat(blocks, axis=-2)


def dot(x: Any, y: Any) -> Any:
    """NumPy's ``dot``: a product with a scalar, ``matmul`` up to 2-d, and for
    N-d the sum over the last axis of `x` and the second-to-last of `y`.

    Examples
    --------
    >>> import logreal as lr
    >>> lr.dot(lr.exp([800.0, 800.0]), lr.LogReal([1.0, -1.0]))
    LogReal(0.0)
    """
    if not (isinstance(x, LogReal) or isinstance(y, LogReal)):
        return _real_dot(*_real_pair(x, y, namespace(x, y)), namespace(x, y))
    like = x if isinstance(x, LogReal) else y
    assert isinstance(like, LogReal)
    a, b = _lift(x, like), _lift(y, like)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)
    k = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k != kb:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} not aligned ({k} != {kb})")
    if b.ndim == 1:  # the sum over the last axis of a
        return matmul(a.reshape(-1, k), b).reshape(a.shape[:-1])
    order = (b.ndim - 2, *range(b.ndim - 2), b.ndim - 1)
    bm = b.transpose(*order).reshape(k, -1)
    out = matmul(a.reshape(-1, k), bm)
    return out.reshape(*a.shape[:-1], *b.shape[:-2], b.shape[-1])


# -- assembly --------------------------------------------------------------


def where(cond: Any, x: Any, y: Any) -> Any:
    """Elements of `x` where `cond` holds, else of `y` (LogReal if either is).

    Examples
    --------
    >>> import logreal as lr
    >>> lr.where([True, False], lr.exp([1e4, 1e4]), -1.0).to_real()
    array([inf, -1.])
    """
    xp = namespace(cond, x, y)
    c = xp.asarray(cond)
    if not (isinstance(x, LogReal) or isinstance(y, LogReal)):
        a, b = _real_pair(x, y, xp)
        return xp.where(c, a, b)
    like = x if isinstance(x, LogReal) else y
    assert isinstance(like, LogReal)
    a, b = _lift(x, like), _lift(y, like)
    dtype = xp.result_type(a.dtype, b.dtype)
    sign = xp.where(c, a._sign, b._sign)
    logabs = xp.where(c, xp.astype(a.logabs, dtype), xp.astype(b.logabs, dtype))
    return LogReal._new(sign, logabs)


def _assemble(join: Callable[..., Array], xs: Sequence[object], axis: int) -> Any:
    xs = list(xs)
    if not xs:
        raise ValueError("need at least one array to join")
    like = next((x for x in xs if isinstance(x, LogReal)), None)
    if like is None:
        xp = namespace(*xs)
        return join(xp, [_real(x) for x in xs], axis)
    parts = [_lift(x, like) for x in xs]
    xp = namespace(*(p.logabs for p in parts))
    dtype = xp.result_type(*(p.dtype for p in parts))
    signs = [p._sign for p in parts]
    logs = [xp.astype(p.logabs, dtype) for p in parts]
    return LogReal._new(join(xp, signs, axis), join(xp, logs, axis))


def concat(xs: Sequence[object], axis: int = 0) -> Any:
    """Join arrays along an existing axis.

    Examples
    --------
    >>> import logreal as lr
    >>> lr.concat([lr.exp([1e5]), lr.LogReal([2.0])])
    LogReal([2.80666336e+43429, 2.0])
    """
    return _assemble(lambda xp, parts, ax: xp.concat(parts, axis=ax), xs, axis)


def stack(xs: Sequence[object], axis: int = 0) -> Any:
    """Join arrays along a new axis.

    Examples
    --------
    >>> import logreal as lr
    >>> lr.stack([lr.LogReal([1.0, 2.0]), lr.LogReal([3.0, 4.0])]).shape
    (2, 2)
    """
    return _assemble(lambda xp, parts, ax: xp.stack(parts, axis=ax), xs, axis)


def _axis_arg(axis: Axis, ndim: int) -> Any:
    return None if axis is None else normalize_axis(axis, ndim)
