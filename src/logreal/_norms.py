"""Vector p-norms and their logs without intermediate overflow or underflow.

One algorithm, two number classes
---------------------------------
``||x||_p = (sum |x_i|**p)**(1/p)`` is computed from a *scaled sum*: a scale
``m`` and a sum ``S`` with ``sum |x_i|**p = m**p * S``.  This is the state of
log-sum-exp (``log ||x||_p = logsumexp(p log|x|) / p``): the scale plays the
part of the shift by the largest term, and two states merge by rescaling the
smaller one.  For a LogReal the state *is* log-sum-exp
(:func:`logreal._special.signed_logsum` of ``p * (log|x| - M)``, shifted by the
extreme log-magnitude ``M``).  For real arrays it is kept in floats:

* the scale is the largest ``|x_i|`` for ``p > 0`` and the smallest for
  ``p < 0``, so the extreme term is about one and nothing over- or underflows;
  for ``p`` in {1, 2} it is rounded down to a power of two, so scaling adds no
  rounding (the exact-extreme scale keeps small and large ``|p|`` accurate);
* ``S`` is accumulated without an error that grows with n: the terms are split
  on a fixed binary grid (Rump, Ogita and Oishi's *ExtractVector*), the grid
  parts sum exactly and only a tiny remainder is rounded.  For ``p = 2`` the
  split is of ``x`` itself, so ``sum x**2 = sum hi**2 + sum lo * (x + hi)``
  with ``sum hi**2`` exact: the squares add no rounding either;
* the states of fixed-size tiles merge in double-double arithmetic, and the
  final root is corrected by one Newton step on the double-double sum (the
  square root's residual uses an exact Dekker product), so ``p = 2`` is within
  one ulp.

Real NumPy input is processed in tiles of ``_TILE`` elements, so no
full-size temporary is made; everything else is written against the array
API namespace of the input.  See ``docs/norms.md`` for the accuracy table
and the decisions API.md leaves open.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ._backend import Array, Namespace, is_numpy, namespace, normalize_axis, quiet, scalar_out
from ._logreal import LogReal
from ._special import signed_logsum

__all__ = ["lognorm", "norm"]

Axis = int | Sequence[int] | None

# Elements per tile: big enough that the per-tile Python work is noise, small
# enough that a tile and its two work buffers stay in the L2 cache.
_TILE = 1 << 16
# Below this |p| a term (|x| / scale)**p whose quotient underflows (or, for
# p < 0, overflows) still counts: see _ratio_pow.
_SMALL_P = 0.125
# Rows per tile when the rows are contiguous in memory (a transposed view).
_SQUARE = 1 << 8
# OpenBLAS runs a dot of more than 10000 elements on several threads.
_DOT_ROW = 1 << 13

# p = 2: tiles whose sum of squares lies in [2**-900, 2**900] need no scaling
# (squares of elements that underflow are below 2**-122 of the sum).
_SAFE_LO = 2.0**-900
_SAFE_HI = 2.0**900
# p = 2 grid: a tile is scaled so that its sum of squares lies in [2**48, 2**50];
# elements are then split at the integers, and the integer parts' squares sum
# exactly (below 2**53).
_GRID = 26

# ln 2 in two parts; k * _LN2_HI is exact for |k| < 2**20 (fdlibm's split).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SPLITTER = 134217729.0  # 2**27 + 1 (Dekker)


# ---------------------------------------------------------------------------
# The order p.


def _order(p: object) -> float:
    """``p`` as a float; TypeError unless it is a real number, ValueError for nan."""
    if isinstance(p, np.ndarray) and p.ndim == 0 and p.dtype.kind in "iuf":
        p = p[()]
    if isinstance(p, bool | np.bool_) or not isinstance(p, numbers.Real):
        raise TypeError(
            f"p must be a real number (inf, -inf, 0 and fractions included); got {p!r} "
            f"of type {type(p).__name__} (logreal computes vector norms only)"
        )
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
# Error-free transformations and exact binary scaling on arrays.


def _two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """``s + e == a + b`` exactly, ``s = fl(a + b)`` (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: Array) -> tuple[Array, Array]:
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a: Array, b: Array) -> tuple[Array, Array]:
    """``p + e == a * b`` exactly for |a|, |b| < 2**996 (Dekker, no fma)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _exponent(v: Array, xp: Namespace) -> Array:
    """``e`` with ``2**(e-1) <= v < 2**e`` for positive finite ``v`` (frexp); 0 elsewhere."""
    ok = xp.isfinite(v) & (v > 0)
    if is_numpy(xp):
        return xp.where(ok, np.frexp(v)[1].astype(v.dtype), 0.0)
    vv = xp.where(ok, v, 1.0)
    e = xp.floor(xp.log2(vv)) + 1.0
    low = _pow2(e - 1.0, xp)
    e = xp.where(low > vv, e - 1.0, xp.where(2.0 * low <= vv, e + 1.0, e))
    return xp.where(ok, e, 0.0)


def _pow2(k: Array, xp: Namespace) -> Array:
    """``2**k`` for integer-valued float ``k`` in [-1074, 1023], exactly."""
    if is_numpy(xp):
        return np.ldexp(1.0, k.astype(np.int32)).astype(k.dtype)
    return xp.pow(xp.asarray(2.0, dtype=k.dtype), k)


def _frexp(v: Array, xp: Namespace) -> tuple[Array, Array]:
    """``(f, k)`` with ``v = f * 2**k``, f in [1, 2), for positive finite v; exact."""
    k = _exponent(v, xp) - 1.0
    return v / _pow2(k, xp), k


def _ratio_pow(a: Array, m: Array, p: float, xp: Namespace) -> Array:
    """``(a / m)**p``, also where ``a / m`` itself would under- or overflow.

    For |p| >= 1/8 such a quotient's power is below 2**-127 of the extreme
    term: ``pow`` of the rounded quotient is fine.  For smaller |p| it is
    not negligible, so the quotient is kept as ``f * 2**k`` and the power is
    ``exp(p k ln2_hi) * exp(p (k ln2_lo + log f))`` with the first exponent
    an exact Dekker product.
    """
    if abs(p) >= _SMALL_P:
        return xp.pow(a / m, p)
    fa, ka = _frexp(a, xp)
    fm, km = _frexp(m, xp)
    k = ka - km
    z, z_err = _two_prod(k * _LN2_HI, p)
    rest = p * (k * _LN2_LO + xp.log(fa / fm)) + z_err
    return xp.exp(z) * xp.exp(rest)


def _grid_sum(v: Array, bound: Array, xp: Namespace) -> tuple[Array, Array]:
    """Sum of each row of ``v`` (|row sums of |v|| <= ``bound``) as ``hi + lo``.

    The parts of ``v`` on the grid ``ulp(sigma)`` sum exactly (their total
    stays below 2**52 grid units); only the remainders, each below half a grid
    unit, are rounded (Rump, Ogita & Oishi 2008, ExtractVector).
    """
    sigma = 1.5 * _pow2(_exponent(2.0 * bound, xp), xp)
    sigma = sigma[..., None]
    grid = (v + sigma) - sigma
    hi = xp.sum(grid, axis=-1)
    lo = xp.sum(v - grid, axis=-1)
    return _two_sum(hi, lo)


# ---------------------------------------------------------------------------
# The scaled-sum state of the real number class and its tiles.


class _State(NamedTuple):
    """Per row: ``sum |x|**p = scale**p * (hi + lo)``, plus nan/inf flags.

    ``scale`` is a positive float: a power of two for p in {1, 2}, else the
    extreme |x| itself.  It is 0 for a zero row when p > 0 and for a row
    holding a zero when p < 0, inf for a row of infinities when p < 0.
    """

    scale: Array
    hi: Array
    lo: Array
    nan: Array
    inf: Array


# -- portable tile kernels: x is a float64 tile (rows, cols) -----------------


def _rowdot(a: Array, b: Array, xp: Namespace) -> Array:
    """Dot products of the rows of two tiles (NumPy: on one thread, see :func:`_dot`)."""
    if is_numpy(xp):
        return np.einsum("ij,ij->i", a, b)
    return xp.vecdot(a, b, axis=-1)


def _p2_tile(x: Array, xp: Namespace) -> _State:
    """p = 2: split ``x`` on a grid so the squares of the grid parts sum exactly."""
    rows = x.shape[0]
    no = xp.zeros(rows, dtype=xp.bool)
    scale = xp.ones(rows, dtype=x.dtype)
    nan, inf = no, no
    d = _rowdot(x, x, xp)
    if not bool(xp.all((d >= _SAFE_LO) & (d <= _SAFE_HI))):
        # Rare: non-finite values, or a sum of squares near the ends of the
        # range.  Divide each row by a power of two below its largest |x|.
        nan = xp.any(xp.isnan(x), axis=-1)
        inf = xp.any(xp.isinf(x), axis=-1)
        x = xp.where(xp.isfinite(x), x, 0.0)
        big = xp.max(xp.abs(x), axis=-1)
        scale = xp.where(big > 0, _pow2(_exponent(big, xp) - 1.0, xp), 0.0)  # 0: a zero row
        x = x / xp.where(big > 0, scale, 1.0)[:, None]
        d = _rowdot(x, x, xp)
    k = xp.floor((_exponent(d, xp) + 1.0) / 2.0) + 1.0  # 4**k > 4 d
    z = x * _pow2(_GRID - k, xp)[:, None]  # sum z**2 in [2**48, 2**50]
    hi = xp.round(z)
    lo = z - hi
    exact = _rowdot(hi, hi, xp)  # integers, total below 2**51: exact
    rest = 2.0 * _rowdot(hi, lo, xp) + _rowdot(lo, lo, xp)
    back = _pow2(2.0 * (k - _GRID), xp)
    s, e = _two_sum(exact * back, rest * back)
    return _State(scale, s, e, nan, inf)


def _power_tile(x: Array, p: float, xp: Namespace) -> _State:
    """Finite p other than 0 and 2: terms ``(|x| / scale)**p`` summed on a grid."""
    a = xp.abs(x)
    nan = xp.any(xp.isnan(a), axis=-1)
    if p > 0:
        inf = xp.any(xp.isinf(a), axis=-1)
        a = xp.where(xp.isfinite(a), a, 0.0)  # inf and nan are flags now
        m = xp.max(a, axis=-1)
    else:
        inf = xp.zeros_like(nan)  # |inf|**p = 0 for p < 0: no flag needed
        a = xp.where(xp.isnan(a), math.inf, a)
        m = xp.min(a, axis=-1)
    special = (m == 0) | (m == math.inf)
    if p == 1:  # a power of two: the terms are exact
        m = xp.where(special, m, _pow2(_exponent(m, xp) - 1.0, xp))
    safe_m = xp.where(special, 1.0, m)[:, None]
    t = a / safe_m if p == 1 else _ratio_pow(a, safe_m, p, xp)  # extreme term: 1
    t = xp.where(special[:, None], 0.0, t)
    hi, lo = _grid_sum(t, xp.full(m.shape, 2.0 * x.shape[-1], dtype=x.dtype), xp)
    # A row of zeros (p > 0) sums to 0; a row holding a zero (p < 0, scale 0)
    # or only infinities (p < 0, scale inf) gets S = 1, so the norm is the scale.
    hi = xp.where(special, 0.0 if p > 0 else 1.0, hi)
    lo = xp.where(special, 0.0, lo)
    return _State(m, hi, lo, nan, inf)


# -- NumPy overrides: t is a float64 tile (rows, cols), buf two work rows ----
# Same arithmetic, with BLAS and reused cache-sized buffers (no allocation per
# operation).  Each returns None where the portable kernel must take the tile
# (non-finite values, zeros for p < 0, sums near the ends of the range).


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` by BLAS in rows short enough that it runs on one thread.

    A multithreaded dot on every tile waits for its helper threads, which is
    slow whenever the other cores are busy.
    """
    k = a.shape[0] // _DOT_ROW * _DOT_ROW
    rest = float(np.dot(a[k:], b[k:]))
    if not k:
        return rest
    return float(np.vecdot(a[:k].reshape(-1, _DOT_ROW), b[:k].reshape(-1, _DOT_ROW)).sum()) + rest


def _rowdot_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape[0] == 1:
        return np.array([_dot(a[0], b[0])])
    return np.einsum("ij,ij->i", a, b)


def _work(buf: np.ndarray, t: np.ndarray, i: int) -> np.ndarray:
    return buf[i, : t.size].reshape(t.shape)


def _p2_numpy(t: np.ndarray, buf: np.ndarray, memo: dict[str, int]) -> tuple[Any, ...] | None:
    """:func:`_p2_tile` for tiles whose sums of squares need no scaling.

    A row's tiles usually share a scale, so a one-row tile first tries the
    grid of the previous tile (``memo``) and skips the pass that measures its
    sum of squares; the try stands only if the integer parts' squares sum to
    [2**46, 2**51), which keeps the sum exact and the remainder small.
    """
    hi, lo = _work(buf, t, 0), _work(buf, t, 1)
    if t.shape[0] == 1 and "k" in memo:
        k = memo["k"]
        np.multiply(t, math.ldexp(1.0, _GRID - k), out=lo)
        np.rint(lo, out=hi)
        exact = _dot(hi[0], hi[0])
        if 2.0**46 <= exact < 2.0**51:
            lo -= hi
            back = math.ldexp(1.0, 2 * (k - _GRID))
            rest = 2.0 * _dot(hi[0], lo[0]) + _dot(lo[0], lo[0])
            s, e = _two_sum(exact * back, rest * back)
            return np.ones(1), np.array([s]), np.array([e]), np.zeros(1, bool), np.zeros(1, bool)
    d = _rowdot_numpy(t, t)
    if not bool(np.all((d >= _SAFE_LO) & (d <= _SAFE_HI))):
        return None
    ks = (np.frexp(d)[1] + 1) // 2 + 1
    memo["k"] = int(ks[0])
    np.multiply(t, np.ldexp(1.0, _GRID - ks)[:, None], out=lo)
    np.rint(lo, out=hi)
    lo -= hi
    scale_back = np.ldexp(1.0, 2 * (ks - _GRID))
    exacts = _rowdot_numpy(hi, hi) * scale_back  # integers below 2**51: exact in any order
    rests = (2.0 * _rowdot_numpy(hi, lo) + _rowdot_numpy(lo, lo)) * scale_back
    no = np.zeros(t.shape[0], dtype=bool)
    return (np.ones(t.shape[0]), *_two_sum(exacts, rests), no, no)


def _grid_sum_numpy(a: np.ndarray, bound: np.ndarray, grid: np.ndarray) -> tuple[Any, Any]:
    """:func:`_grid_sum` of the rows of ``a`` in place (``a`` is overwritten)."""
    sigma = 1.5 * np.ldexp(1.0, np.frexp(2.0 * bound)[1])
    np.add(a, sigma[:, None], out=grid)
    grid -= sigma[:, None]
    exact = grid.sum(axis=-1)
    a -= grid
    return _two_sum(exact, a.sum(axis=-1))


def _power_numpy(t: np.ndarray, p: float, buf: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """:func:`_power_tile` for tiles without zeros (p < 0) or non-finite values."""
    if abs(p) < _SMALL_P:
        return None
    a = np.abs(t, out=_work(buf, t, 0))
    m = a.max(axis=-1) if p > 0 else a.min(axis=-1)
    if not bool(np.all((m > 0) & (m < math.inf))):
        return None
    no = np.zeros(t.shape[0], dtype=bool)
    if p == 1:
        total = a.sum(axis=-1)  # the grid's bound: no scaling needed
        if not bool(np.all((total >= _SAFE_LO) & (total <= _SAFE_HI))):
            return None
        return (np.ones(t.shape[0]), *_grid_sum_numpy(a, total, _work(buf, t, 1)), no, no)
    np.divide(a, m[:, None], out=a)
    np.power(a, p, out=a)
    bound = np.full(t.shape[0], float(t.shape[1]))
    return (m, *_grid_sum_numpy(a, bound, _work(buf, t, 1)), no, no)


# -- merging tile states and finishing -----------------------------------------


def _merge_states(st: _State, p: float, xp: Namespace) -> _State:
    """Merge tile states stacked along axis 0 (shape (tiles, rows)).

    Each tile's sum is rescaled to the extreme scale by ``(scale_t / m)**p``
    (exact for p in {1, 2}, whose scales are powers of two), multiplied out
    exactly, and all the parts are summed on a grid as in a tile.
    """
    m = xp.max(st.scale, axis=0) if p > 0 else xp.min(st.scale, axis=0)
    with quiet():
        same = st.scale == m  # also 0 == 0 and inf == inf
        f = xp.where(same, 1.0, _ratio_pow(st.scale, xp.where(same, 1.0, m), p, xp))
        hi, err = _two_prod(st.hi, f)
        lo = st.lo * f + err
    parts = xp.permute_dims(xp.concat([hi, lo], axis=0), (1, 0))
    total_hi, total_lo = _grid_sum(parts, xp.sum(xp.abs(parts), axis=-1), xp)
    return _State(m, total_hi, total_lo, xp.any(st.nan, axis=0), xp.any(st.inf, axis=0))


def _root(s: Array, e: Array, p: float, xp: Namespace) -> tuple[Array, Array]:
    """``(s + e)**(1/p)`` as ``r + dr``, ``dr`` a correction below an ulp of ``r``.

    ``s + e`` must be normalised (``|e| <= ulp(s) / 2``).  p = 2: Newton's
    step with the residual ``s - r*r`` from an exact Dekker product.
    |p| >= 1: Newton's step with the residual of ``pow(r, p)``, which also
    removes the error of rounding 1/p.  |p| < 1: only the first-order term of
    ``e`` (Newton would multiply pow's own error by 1/|p|).
    """
    live = (s > 0) & xp.isfinite(s)
    if p == 1:
        return s, e
    if p == 2:
        r = xp.sqrt(s)
        sq, sq_err = _two_prod(r, r)
        residual = ((s - sq) - sq_err) + e  # s - sq is exact (Sterbenz)
        return r, xp.where(live, residual / (2.0 * r), 0.0)
    r = xp.pow(s, 1.0 / p)
    if abs(p) < 1:
        return r, xp.where(live, r * (e / s) / p, 0.0)
    rp = xp.pow(r, p)
    residual = ((s - rp) + e) / rp
    return r, xp.where(live & (r > 0) & xp.isfinite(r), r * residual / p, 0.0)


def _log_scale(m: Array, xp: Namespace) -> tuple[Array, Array]:
    """log(m) of positive finite m as ``k * ln2_hi`` (exact) plus a small rest."""
    k = _exponent(m, xp) - 1.0
    frac = m / _pow2(k, xp)  # in [1, 2); exact
    return k * _LN2_HI, k * _LN2_LO + xp.log(frac)


def _finish(st: _State, p: float, log: bool, xp: Namespace) -> Array:
    """The norm (or its log) of each row from its state and flags."""
    s, e, scale = st.hi, st.lo, st.scale
    ok = xp.isfinite(scale) & (scale > 0)
    if not log:
        r, dr = _root(s, e, p, xp)
        out = (r + dr) * scale  # exact scaling unless the norm is subnormal
    else:
        # log ||x|| = log(scale) + log(S) / p, with log(scale) = k ln2_hi (exact)
        # + rest and one rounding at the end; S near 1 through log1p.
        big, rest = _log_scale(xp.where(ok, scale, 1.0), xp)
        near_one = (s >= 0.5) & (s <= 2.0)
        log_s = xp.where(near_one, xp.log1p((s - 1.0) + e), xp.log(s) + xp.log1p(e / s))
        out = big + (rest + log_s / p)
        if p in (1, 2):
            # scale**p is a power of two: inside the range, log of the exact
            # double-double sum of |x|**p (no cancellation between the parts).
            sp = scale * scale if p == 2 else scale
            total, total_err = s * sp, e * sp
            inside = ok & (total >= 2.0**-1000) & (total <= 2.0**1000)
            out = xp.where(inside, (xp.log(total) + xp.log1p(total_err / total)) / p, out)
        zero = (s == 0) | (scale == 0)  # scale 0: a zero row (p > 0), a zero (p < 0)
        out = xp.where(zero, -math.inf, xp.where(scale == math.inf, math.inf, out))
    if p > 0:
        return xp.where(st.inf, math.inf, xp.where(st.nan, math.nan, out))
    return xp.where(st.nan, math.nan, out)


# ---------------------------------------------------------------------------
# Reductions of the real number class: tile -> partial, merge, finish.


class _Reduction:
    """How the order p reduces real rows.

    A *partial* is a tuple of arrays of shape (rows,): a :class:`_State` for
    finite p other than 0, ``(extreme |x|, has nan)`` for p = +-inf,
    ``(count,)`` for p = 0.  Partials of tiles of the same rows are stacked
    along a new first axis and merged.
    """

    def __init__(self, p: float) -> None:
        self.p = p

    def tile(self, x: Array, xp: Namespace) -> tuple[Array, ...]:
        """The partial of each row of a float64 tile (portable)."""
        p = self.p
        if p in (math.inf, -math.inf):
            a = xp.abs(x)
            nan = xp.isnan(a)
            if p > 0:
                return xp.max(xp.where(nan, 0.0, a), axis=-1), xp.any(nan, axis=-1)
            return xp.min(xp.where(nan, math.inf, a), axis=-1), xp.any(nan, axis=-1)
        if p == 0:  # nan != 0, and -0.0 == 0
            return (xp.sum(xp.astype(x != 0, x.dtype), axis=-1),)
        return _p2_tile(x, xp) if p == 2 else _power_tile(x, p, xp)

    def tile_numpy(
        self, t: np.ndarray, buf: np.ndarray, memo: dict[str, int]
    ) -> tuple[Any, ...] | None:
        """The partial of each row of a float64 NumPy tile, or None (see above)."""
        p = self.p
        if p == math.inf:  # max |x| = max(max x, -min x): no temporary
            m = np.maximum(t.max(axis=-1), -t.min(axis=-1))
            return None if bool(np.isnan(m).any()) else (m, np.zeros(m.shape, dtype=bool))
        if p == -math.inf:
            m = np.abs(t, out=_work(buf, t, 0)).min(axis=-1)
            return None if bool(np.isnan(m).any()) else (m, np.zeros(m.shape, dtype=bool))
        if p == 0:  # nan counts, -0.0 does not
            return (np.count_nonzero(t, axis=-1).astype(np.float64),)
        return _p2_numpy(t, buf, memo) if p == 2 else _power_numpy(t, p, buf)

    def merge(self, parts: tuple[Array, ...], xp: Namespace) -> tuple[Array, ...]:
        """One partial from partials stacked along axis 0."""
        p = self.p
        if parts[0].shape[0] == 1:  # tile partials are already normalised
            return tuple(q[0] for q in parts)
        if p in (math.inf, -math.inf):
            best = xp.max(parts[0], axis=0) if p > 0 else xp.min(parts[0], axis=0)
            return best, xp.any(parts[1], axis=0)
        if p == 0:
            return (xp.sum(parts[0], axis=0),)
        return _merge_states(_State(*parts), p, xp)

    def finish(self, part: tuple[Array, ...], log: bool, xp: Namespace) -> Array:
        p = self.p
        with quiet():
            if p not in (0, math.inf, -math.inf):
                return _finish(_State(*part), p, log, xp)
            if p == 0:
                out = part[0]
            else:
                m, nan = part
                hypot = (m == math.inf) if p > 0 else xp.zeros_like(nan)  # inf beats nan
                out = xp.where(hypot, math.inf, xp.where(nan, math.nan, m))
            return xp.log(out) if log else out

    def empty(self, rows: int, log: bool, xp: Namespace) -> Array:
        """An empty reduction: 0 for p >= 0 (p = inf too), inf for p < 0."""
        value = (
            (math.inf if self.p < 0 else -math.inf) if log else (math.inf if self.p < 0 else 0.0)
        )
        return xp.full((rows,), value, dtype=xp.float64)


# ---------------------------------------------------------------------------
# The tile driver.


def _rows(v: Any, n_out: int, red: _Reduction, log: bool, xp: Namespace) -> Array:
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


def _tiled(w: Any, red: _Reduction, log: bool | None, xp: Namespace) -> Any:
    """The finished reduction of each row of the 2-D ``w``, tile by tile.

    With ``log=None`` the merged partial instead (for one row).
    """
    rows, cols = w.shape
    by_rows = is_numpy(xp) and rows > 1 and abs(w.strides[0]) < abs(w.strides[1])
    r, c = _tile_shape(rows, cols, by_rows)
    tiles = _Tiles(red, xp, min(r * c, rows * cols))
    outs = []
    for i in range(0, rows, r):
        top = min(i + r, rows)  # the array API leaves slices past the end undefined
        parts = [tiles.partial(w[i:top, j : min(j + c, cols)]) for j in range(0, cols, c)]
        part = parts[0] if len(parts) == 1 else red.merge(_stack(parts, xp), xp)
        outs.append(part if log is None else red.finish(part, log, xp))
    return outs[0] if len(outs) == 1 else xp.concat(outs)


class _Tiles:
    """Partials of tiles, by the NumPy override where it applies."""

    def __init__(self, red: _Reduction, xp: Namespace, size: int) -> None:
        self.red, self.xp = red, xp
        self.buf = np.empty((2, size)) if is_numpy(xp) else None
        self.memo: dict[str, int] = {}  # hints one tile leaves for the next

    def partial(self, t: Any) -> tuple[Array, ...]:
        t = _f64(t, self.xp)
        if self.buf is not None:
            part = self.red.tile_numpy(t, self.buf, self.memo)
            if part is not None:
                return part
        return self.red.tile(t, self.xp)


def _piece_partial(v: Any, red: _Reduction, xp: Namespace) -> tuple[Array, ...]:
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
    xp, a = _real_input(x)
    dtype = a.dtype if xp.isdtype(a.dtype, "real floating") else xp.float64
    axes = normalize_axis(axis, a.ndim)
    plan = _plan(tuple(a.shape), axes)
    red = _Reduction(p)
    if plan.cols == 0 or plan.rows == 0:
        flat = red.empty(plan.rows, log, xp)
    else:
        v = a if plan.perm == tuple(range(a.ndim)) else xp.permute_dims(a, plan.perm)
        if a.ndim == 0:
            v = xp.reshape(v, (1,))
        with quiet():
            flat = _rows(v, len(plan.out_shape), red, log, xp)
    with quiet():  # float32 output: a norm beyond float32's range rounds to inf
        flat = xp.astype(flat, dtype)
    out = xp.reshape(flat, plan.keep_shape if keepdims else plan.out_shape)
    return scalar_out(out, xp)


# ---------------------------------------------------------------------------
# LogReal input: the same state, as log-sum-exp.


def _logreal_lognorm(x: LogReal, p: float, axis: Axis, keepdims: bool) -> Array:
    xp = x._xp
    axes = normalize_axis(axis, x.ndim)
    la = x.logabs
    with quiet():
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
            count = xp.sum(xp.astype(x.sign != 0, la.dtype), axis=axes, keepdims=True)
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
