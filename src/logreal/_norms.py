"""Vector p-norms and their logs without intermediate overflow or underflow.

``norm`` and ``lognorm`` check their arguments, plan which axes become rows,
and dispatch: a LogReal is reduced as log-sum-exp
(:func:`logreal._special.signed_logsum` of ``p * (log|x| - M)``, shifted by
the extreme log-magnitude ``M``); a real array is read as (rows, cols) tile by
tile, and each tile gives a scaled-sum *partial* that merges with the others
of its rows and is finished to the norm.  The algorithm is the portable one in
:mod:`logreal._norms_state`; for NumPy input a tile goes first to the Numba
kernels (:mod:`logreal._norms_fast`: whole contiguous rows in one fused pass),
else to the NumPy tile path (:mod:`logreal._norms_numpy`).  No full-size
temporary is made.  See ``docs/norms.md`` for the accuracy table and the
decisions API.md leaves open.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import _dask, _norms_fast
from ._backend import (
    Array,
    Namespace,
    default_float,
    is_numpy,
    namespace,
    normalize_axis,
    scalar_out,
    wide,
)
from ._logreal import LogReal
from ._norms_numpy import NumpyTiles
from ._norms_state import Reduction
from ._special import signed_logsum

__all__ = ["lognorm", "norm"]

Axis = int | Sequence[int] | None

# Elements per tile: big enough that the per-tile Python work is noise, small
# enough that a tile and its two work buffers stay in the L2 cache.
_TILE = 1 << 16
# Rows per tile when the rows are contiguous in memory (a transposed view).
_SQUARE = 1 << 8


# ---------------------------------------------------------------------------
# The order p.


def _order(p: object) -> float:
    """``p`` as a float (None: 2); ValueError, as NumPy's, unless it is a real number.

    A Python int beyond float range is +-inf (the limit of the p-norm).
    """
    if p is None:
        return 2.0
    if isinstance(p, np.ndarray) and p.ndim == 0 and p.dtype.kind in "iuf":
        p = p[()]
    if isinstance(p, bool | np.bool_) or not isinstance(p, numbers.Real):
        raise ValueError(
            f"invalid norm order {p!r} for vectors: p must be a real number "
            f"(inf, -inf, 0 and fractions included; logreal computes vector norms only)"
        )
    if type(p) is int and abs(p) >= 2**1024:
        return math.inf if p > 0 else -math.inf
    q = float(p)
    if math.isnan(q):
        raise ValueError("p must not be nan")
    return q


# ---------------------------------------------------------------------------
# Planning: which axes become rows and columns (pure functions, no arrays).


class _Plan(NamedTuple):
    perm: tuple[int, ...]  # kept axes first, then reduced axes
    out_shape: tuple[int, ...]  # shape without the reduced axes
    keep_shape: tuple[int, ...]  # shape with the reduced axes as 1
    rows: int
    cols: int


def _plan(shape: tuple[int, ...], axes: tuple[int, ...]) -> _Plan:
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    out_shape = tuple(shape[i] for i in kept)
    keep_shape = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return _Plan(
        kept + axes,
        out_shape,
        keep_shape,
        math.prod(out_shape),
        math.prod(shape[i] for i in axes),
    )


def _mergeable(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether these axes flatten into one without a copy (C order)."""
    dims = [(n, s) for n, s in zip(shape, strides, strict=True) if n != 1]
    return all(s == s2 * n2 for (_, s), (n2, s2) in itertools.pairwise(dims))


def _view_2d(v: Any, n_out: int, xp: Namespace) -> Any | None:
    """``v`` (kept axes first) as (rows, cols) without a copy, or None.

    Only NumPy tells whether a reshape copies; other namespaces reshape freely.
    """
    rows = math.prod(v.shape[:n_out])
    cols = math.prod(v.shape[n_out:])
    if not is_numpy(xp):
        return xp.reshape(v, (rows, cols))
    shape, strides = v.shape, v.strides
    if _mergeable(shape[:n_out], strides[:n_out]) and _mergeable(shape[n_out:], strides[n_out:]):
        return v.reshape(rows, cols)
    return None


# ---------------------------------------------------------------------------
# The tile driver.


def _rows(v: Any, n_out: int, red: Reduction, log: bool, xp: Namespace) -> Array:
    """The finished reduction of each row of ``v`` (kept axes first), shape (rows,)."""
    w = _view_2d(v, n_out, xp)
    if w is None:
        # A NumPy view whose kept or reduced axes do not flatten without a
        # copy: copy it if small, else split it along its first axis.
        rows = math.prod(v.shape[:n_out])
        if math.prod(v.shape) <= _TILE:
            return _rows(xp.reshape(v, (rows, -1)), 1, red, log, xp)
        if v.shape[0] == 1:
            return _rows(v[0], max(n_out - 1, 0), red, log, xp)
        per = max(1, _TILE // math.prod(v.shape[1:]))
        pieces = [v[i : min(i + per, v.shape[0])] for i in range(0, v.shape[0], per)]
        if n_out > 0:
            return xp.concat([_rows(q, n_out, red, log, xp) for q in pieces])
        partials = [_piece_partial(q, red, xp) for q in pieces]
        return red.finish(red.merge(_stack(partials, xp), xp), log, xp)
    return _tiled(w, red, log, xp)


def _tile_shape(rows: int, cols: int, by_rows: bool) -> tuple[int, int]:
    """Tile (rows, cols) of about ``_TILE`` elements.

    Along the rows when memory runs down the columns (``by_rows``, a
    transposed view): tiles then cover contiguous memory either way.
    """
    if by_rows:  # square-ish: per-row work is spread over enough columns
        r = min(rows, _SQUARE)
        return r, max(1, _TILE // r)
    c = min(cols, _TILE)
    return max(1, _TILE // max(c, 1)), c


def _tiled(w: Any, red: Reduction, log: bool | None, xp: Namespace) -> Any:
    """The finished reduction of each row of the 2-D ``w``, tile by tile.

    With ``log=None`` the merged partials instead (each of shape (rows,)).  Where a
    compiled kernel takes whole contiguous rows, a tile is a band of rows.
    """
    rows, cols = w.shape
    tiles = _Tiles(red, xp, w)
    by_rows = is_numpy(xp) and rows > 1 and abs(w.strides[0]) < abs(w.strides[1])
    if tiles.whole_rows:
        r, c = max(1, _TILE // max(cols, 1)), cols
    else:
        r, c = _tile_shape(rows, cols, by_rows)
    tiles.reserve(min(r * c, rows * cols))
    outs = []
    for i in range(0, rows, r):
        top = min(i + r, rows)  # the array API leaves slices past the end undefined
        parts = tiles.partials(w[i:top, :], c)
        part = parts[0] if len(parts) == 1 else red.merge(_stack(parts, xp), xp)
        outs.append(part if log is None else red.finish(part, log, xp))
    if len(outs) == 1:
        return outs[0]
    return xp.concat(outs) if log is not None else tuple(map(xp.concat, zip(*outs, strict=True)))


class _Tiles:
    """Partials of the tiles of ``w``: Numba kernel, else NumPy tile path, else portable."""

    def __init__(self, red: Reduction, xp: Namespace, w: Any) -> None:
        self.red, self.xp = red, xp
        self.fast = _norms_fast.rows_kernel(red.p, xp, w)
        # the kernel reads whole rows in one pass where they are contiguous
        self.whole_rows = self.fast is not None and w.strides[1] == w.itemsize
        self.numpy: NumpyTiles | None = None

    def reserve(self, size: int) -> None:
        """Work buffers for tiles of at most ``size`` elements (NumPy tile path)."""
        if self.fast is None and is_numpy(self.xp):
            self.numpy = NumpyTiles(self.red.p, size)

    def partials(self, band: Any, c: int) -> list[tuple[Array, ...]]:
        """The partials of the tiles of ``c`` columns of a band of rows."""
        if self.whole_rows:  # long rows in chunks, on several threads
            return _norms_fast.chunk_partials(self.fast, band)  # type: ignore[arg-type]
        cols = band.shape[1]
        return [self.partial(band[:, j : min(j + c, cols)]) for j in range(0, cols, c)]

    def partial(self, t: Any) -> tuple[Array, ...]:
        if self.fast is not None:
            return self.fast(t)
        t = _f64(t, self.xp)
        if self.numpy is not None:
            part = self.numpy.partial(t)
            if part is not None:
                return part
        return self.red.tile(t, self.xp)


def _piece_partial(v: Any, red: Reduction, xp: Namespace) -> tuple[Array, ...]:
    """The merged partial (shape (1,)) of every element of ``v``."""
    w = _view_2d(xp.reshape(v, (1, *v.shape)), 1, xp)
    if w is None and math.prod(v.shape) <= _TILE:
        w = xp.reshape(v, (1, -1))
    if w is not None:
        return _tiled(w, red, None, xp)  # type: ignore[no-any-return]
    return red.merge(_stack([_piece_partial(q, red, xp) for q in v], xp), xp)


def _stack(partials: list[tuple[Array, ...]], xp: Namespace) -> tuple[Array, ...]:
    return tuple(xp.stack(col) for col in zip(*partials, strict=True))


def _f64(t: Array, xp: Namespace) -> Array:
    return t if t.dtype == xp.float64 else xp.astype(t, xp.float64)


# ---------------------------------------------------------------------------
# Real input.


def _real_input(x: object) -> tuple[Namespace, Array]:
    xp = namespace(x)
    if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real):
        raise TypeError(f"norm of complex input is not supported (got {x!r}); pass abs(x)")
    try:
        a = xp.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot read {type(x).__name__} as a real array: {exc}") from None
    if not xp.isdtype(a.dtype, ("real floating", "integral", "bool")):
        raise TypeError(
            f"norm takes real arrays; got dtype {a.dtype} (complex input is not "
            f"supported: pass abs(x), whose norm is the same)"
        )
    return xp, a


def _real_norm(x: object, p: float, axis: Axis, keepdims: bool, log: bool) -> Array:
    if _dask.is_dask(x):  # lazily, chunk by chunk
        return _dask.norm(x, p, axis, keepdims, log)
    xp, a = _real_input(x)
    dtype = a.dtype if xp.isdtype(a.dtype, "real floating") else default_float(xp)
    axes = normalize_axis(axis, a.ndim)
    plan = _plan(tuple(a.shape), axes)
    red = Reduction(p)
    with wide(xp):  # the tiles are float64 (JAX without x64: in a scope that has it)
        if plan.cols == 0 or plan.rows == 0:
            flat = red.empty(plan.rows, log, xp)
        else:
            v = a if plan.perm == tuple(range(a.ndim)) else xp.permute_dims(a, plan.perm)
            if a.ndim == 0:
                v = xp.reshape(v, (1,))
            flat = _rows(v, len(plan.out_shape), red, log, xp)
        with np.errstate(over="ignore"):  # float32 output: a norm beyond its range is inf
            flat = xp.astype(flat, dtype)
    out = xp.reshape(flat, plan.keep_shape if keepdims else plan.out_shape)
    return scalar_out(out, xp)


# ---------------------------------------------------------------------------
# LogReal input: the same state, as log-sum-exp.


def _logreal_lognorm(x: LogReal, p: float, axis: Axis, keepdims: bool) -> Array:
    xp = x._xp
    axes = normalize_axis(axis, x.ndim)
    la = x.logabs
    nan = xp.isnan(la)
    if la.size == 0 or math.prod(la.shape[i] for i in axes) == 0:
        shape = _plan(tuple(la.shape), axes).keep_shape
        fill = math.inf if p < 0 else -math.inf
        out = xp.full(shape, fill, dtype=la.dtype)
    elif p == math.inf:
        m = xp.max(xp.where(nan, -math.inf, la), axis=axes, keepdims=True)
        has_nan = xp.any(nan, axis=axes, keepdims=True)
        out = xp.where(m == math.inf, math.inf, xp.where(has_nan, math.nan, m))
    elif p == -math.inf:
        m = xp.min(xp.where(nan, math.inf, la), axis=axes, keepdims=True)
        out = xp.where(xp.any(nan, axis=axes, keepdims=True), math.nan, m)
    elif p == 0:
        count = xp.sum(xp.astype(x._sign != 0, la.dtype), axis=axes, keepdims=True)
        with np.errstate(divide="ignore"):  # IEEE: log 0 = -inf, x / 0 = inf
            out = xp.log(count)
    else:
        # Shift by the extreme finite log-magnitude M, then log-sum-exp of
        # p * (log|x| - M) <= 0: log ||x||_p = M + logsumexp(...) / p.
        finite = xp.isfinite(la)
        if p > 0:
            m = xp.max(xp.where(finite, la, -math.inf), axis=axes, keepdims=True)
        else:
            m = xp.min(xp.where(finite, la, math.inf), axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0.0)
        w = xp.where(nan, math.nan, xp.ones_like(la))
        _, total = signed_logsum(w, p * (la - m), axes, True, xp)
        out = m + total / p
        if p > 0:  # the hypot rule: an infinity wins over a nan
            out = xp.where(xp.any(la == math.inf, axis=axes, keepdims=True), math.inf, out)
    if not keepdims and axes:
        out = xp.squeeze(out, axis=axes)
    return out


# ---------------------------------------------------------------------------
# Public functions.


def norm(x: object, p: float = 2, axis: Axis = None, keepdims: bool = False) -> Any:
    """Vector p-norm ``(sum |x_i|**p)**(1/p)`` without overflow or underflow.

    Parameters
    ----------
    x : array_like or LogReal
        Real values (any real dtype; integers become float64, float32 stays
        float32) or a LogReal.  Complex input raises ``TypeError``.
    p : real number, optional
        The order, with NumPy's vector ``ord`` rules: ``inf`` is ``max |x|``,
        ``-inf`` is ``min |x|``, ``0`` counts the nonzero elements (nan
        counts, -0.0 does not), and any other value, negative or fractional,
        gives ``(sum |x_i|**p)**(1/p)``.  2 by default.
    axis : None or int or tuple of ints, optional
        Axes to reduce; all by default (the vector norm of every element,
        whatever the number of dimensions: matrix norms are never computed).
    keepdims : bool, optional
        Keep the reduced axes with length one.

    Returns
    -------
    array, scalar or LogReal
        The norm, in the input's number class and namespace.  A finite input
        gives the correctly scaled result whenever it is representable; for
        ``p > 0`` (``inf`` included) an infinite element gives ``inf`` even
        beside a nan (the IEEE ``hypot`` rule), otherwise nan propagates.

    Raises
    ------
    TypeError
        If `p` is not a real number, or `x` is complex or not numeric.
    ValueError
        If `p` is nan, or an axis is out of range or repeated.

    See Also
    --------
    lognorm : the log of the norm, finite where the norm over- or underflows.

    Notes
    -----
    ``p = 2`` is within one ulp: the squares are split exactly on a binary
    grid, their sum is exact up to a tiny remainder, tiles merge in
    double-double and the square root gets one Newton correction.  Other
    orders are within a few ulp; see ``docs/norms.md``.  An empty reduction
    gives 0 for ``p >= 0`` and ``inf`` for ``p < 0`` (also ``p = -inf``,
    where NumPy raises).

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> float(lr.norm([1e300]))                   # np.linalg.norm gives inf
    1e+300
    >>> float(lr.norm([3e300, 4e300]))
    5e+300
    >>> float(lr.norm([1e-320] * 4))              # np.linalg.norm gives 0.0
    2e-320
    >>> float(lr.norm([2.0, 2.0], p=2000))
    2.0006932673076907
    >>> lr.norm([[3.0, 4.0], [0.0, -2.0]], p=1, axis=1)
    array([7., 2.])
    >>> lr.norm(lr.exp([1e5, 1e5]))               # sqrt(2) * e**100000
    LogReal(3.96922139e+43429)
    """
    q = _order(p)
    if isinstance(x, LogReal):
        return LogReal.from_log(_logreal_lognorm(x, q, axis, keepdims))
    return _real_norm(x, q, axis, keepdims, log=False)


def lognorm(x: object, p: float = 2, axis: Axis = None, keepdims: bool = False) -> Any:
    """Natural log of the vector p-norm, finite where the norm itself is not.

    This is the log of the exact norm, not of its rounded float, so it stays
    accurate where ``norm`` overflows to inf or underflows to 0:
    ``log ||x||_p = logsumexp(p * log|x|) / p``.

    Parameters
    ----------
    x : array_like or LogReal
        Real values or a LogReal (complex input raises ``TypeError``).
    p : real number, optional
        The order, as in :func:`norm` (``inf``, ``-inf``, ``0`` included).
    axis : None or int or tuple of ints, optional
        Axes to reduce; all by default.
    keepdims : bool, optional
        Keep the reduced axes with length one.

    Returns
    -------
    array or scalar
        A real array in the input's namespace (float32 for float32 input,
        the LogReal's dtype for a LogReal): -inf where the norm is 0, inf
        where it is infinite.

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> dbl_max = np.finfo(np.float64).max
    >>> float(lr.lognorm([dbl_max, dbl_max]))     # log(sqrt(2) * DBL_MAX)
    710.1292864836639
    >>> float(lr.lognorm([1e-300] * 4))           # log(2e-300)
    -690.0823807176538
    >>> float(lr.lognorm(lr.exp([-1e4, -1e4]), p=1))    # log(2 e**-10000)
    -9999.30685281944
    """
    q = _order(p)
    if isinstance(x, LogReal):
        return scalar_out(_logreal_lognorm(x, q, axis, keepdims), x._xp)
    return _real_norm(x, q, axis, keepdims, log=True)
