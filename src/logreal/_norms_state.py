"""The scaled-sum state of a real p-norm, written once against the array API.

``sum |x_i|**p`` is kept per row as ``scale**p * (hi + lo)`` (:class:`State`):
the scale is the largest ``|x_i|`` for ``p > 0`` and the smallest for
``p < 0`` (rounded down to a power of two for p in {1, 2}), so no term over-
or underflows; the terms are summed on a fixed binary grid, so the error does
not grow with n; states of tiles merge exactly up to a double-double rounding;
the root gets one Newton correction.  :class:`Reduction` bundles, for one
order p, the tile partial, the merge of partials and the finish (also for
p = inf, -inf and 0).

This is the truth the NumPy tile paths (:mod:`logreal._norms_numpy`) and the
Numba kernels (:mod:`logreal._norms_fast`) override and are tested against.
Every function here runs on any array-API namespace (array-api-strict in the
tests); ``docs/norms.md`` states the bounds.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._backend import Array, Namespace, is_numpy
from ._exact import LN2_HI, LN2_LO, frexp, pow2, two_prod, two_sum

__all__ = ["GRID", "SAFE_HI", "SAFE_LO", "SMALL_P", "Reduction", "State"]

# Below this |p| a term (|x| / scale)**p whose quotient underflows (or, for
# p < 0, overflows) still counts: see _ratio_pow.
SMALL_P = 0.125

# p = 2: tiles whose sum of squares lies in [2**-900, 2**900] need no scaling
# (squares of elements that underflow are below 2**-122 of the sum).
SAFE_LO = 2.0**-900
SAFE_HI = 2.0**900
# p = 2 grid: a tile is scaled so that its sum of squares lies in [2**48, 2**50];
# elements are then split at the integers, and the integer parts' squares sum
# exactly (below 2**53).
GRID = 26

_LN2_HI, _LN2_LO = LN2_HI[8], LN2_LO[8]  # k * _LN2_HI is exact for |k| < 2**20


def _exponent(v: Array, xp: Namespace) -> Array:
    """``e`` with ``2**(e-1) <= v < 2**e`` for positive finite ``v`` (frexp's); 0 elsewhere."""
    ok = xp.isfinite(v) & (v > 0)
    return xp.where(ok, xp.astype(frexp(v, xp)[1], v.dtype), 0.0)


def _frexp(v: Array, xp: Namespace) -> tuple[Array, Array]:
    """``(f, k)`` with ``v = f * 2**k``, f in [1, 2), for positive finite v; exact."""
    m, e = frexp(v, xp)
    return m * 2.0, xp.astype(e - 1, v.dtype)


def _ratio_pow(a: Array, m: Array, p: float, xp: Namespace) -> Array:
    """``(a / m)**p``, also where ``a / m`` itself would under- or overflow.

    For |p| >= 1/8 such a quotient's power is below 2**-127 of the extreme
    term: ``pow`` of the rounded quotient is fine.  For smaller |p| it is
    not negligible, so the quotient is kept as ``f * 2**k`` and the power is
    ``exp(p k ln2_hi) * exp(p (k ln2_lo + log f))`` with the first exponent
    an exact Dekker product.
    """
    if abs(p) >= SMALL_P:
        with np.errstate(over="ignore", divide="ignore"):  # intended IEEE inf/nan
            return xp.pow(a / m, p)
    fa, ka = _frexp(a, xp)
    fm, km = _frexp(m, xp)
    k = ka - km
    z, z_err = two_prod(k * _LN2_HI, p)
    with np.errstate(divide="ignore"):  # IEEE: log 0 = -inf, x / 0 = inf
        rest = p * (k * _LN2_LO + xp.log(fa / fm)) + z_err
    return xp.exp(z) * xp.exp(rest)


def _grid_sum(v: Array, bound: Array, xp: Namespace) -> tuple[Array, Array]:
    """Sum of each row of ``v`` (|row sums of |v|| <= ``bound``) as ``hi + lo``.

    The parts of ``v`` on the grid ``ulp(sigma)`` sum exactly (their total
    stays below 2**52 grid units); only the remainders, each below half a grid
    unit, are rounded (Rump, Ogita & Oishi 2008, ExtractVector).
    """
    sigma = 1.5 * pow2(_exponent(2.0 * bound, xp), xp)
    sigma = sigma[..., None]
    grid = (v + sigma) - sigma
    hi = xp.sum(grid, axis=-1)
    lo = xp.sum(v - grid, axis=-1)
    return two_sum(hi, lo)


# ---------------------------------------------------------------------------
# The scaled-sum state of the real number class and its tiles.


class State(NamedTuple):
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
    """Dot products of the rows of two tiles (NumPy: einsum, on one thread)."""
    with np.errstate(over="ignore", invalid="ignore"):  # checked against SAFE_LO/HI
        if is_numpy(xp):
            return np.einsum("ij,ij->i", a, b)
        return xp.vecdot(a, b, axis=-1)


def _p2_tile(x: Array, xp: Namespace) -> State:
    """p = 2: split ``x`` on a grid so the squares of the grid parts sum exactly."""
    rows = x.shape[0]
    no = xp.zeros(rows, dtype=xp.bool)
    scale = xp.ones(rows, dtype=x.dtype)
    nan, inf = no, no
    d = _rowdot(x, x, xp)
    if not bool(xp.all((d >= SAFE_LO) & (d <= SAFE_HI))):
        # Rare: non-finite values, or a sum of squares near the ends of the
        # range.  Divide each row by a power of two below its largest |x|.
        nan = xp.any(xp.isnan(x), axis=-1)
        inf = xp.any(xp.isinf(x), axis=-1)
        x = xp.where(xp.isfinite(x), x, 0.0)
        big = xp.max(xp.abs(x), axis=-1)
        scale = xp.where(big > 0, pow2(_exponent(big, xp) - 1.0, xp), 0.0)  # 0: a zero row
        x = x / xp.where(big > 0, scale, 1.0)[:, None]
        d = _rowdot(x, x, xp)
    k = xp.floor((_exponent(d, xp) + 1.0) / 2.0) + 1.0  # 4**k > 4 d
    z = x * pow2(GRID - k, xp)[:, None]  # sum z**2 in [2**48, 2**50]
    hi = xp.round(z)
    lo = z - hi
    exact = _rowdot(hi, hi, xp)  # integers, total below 2**51: exact
    rest = 2.0 * _rowdot(hi, lo, xp) + _rowdot(lo, lo, xp)
    back = pow2(2.0 * (k - GRID), xp)
    s, e = two_sum(exact * back, rest * back)
    return State(scale, s, e, nan, inf)


def _power_tile(x: Array, p: float, xp: Namespace) -> State:
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
        m = xp.where(special, m, pow2(_exponent(m, xp) - 1.0, xp))
    safe_m = xp.where(special, 1.0, m)[:, None]
    t = a / safe_m if p == 1 else _ratio_pow(a, safe_m, p, xp)  # extreme term: 1
    t = xp.where(special[:, None], 0.0, t)
    hi, lo = _grid_sum(t, xp.full(m.shape, 2.0 * x.shape[-1], dtype=x.dtype), xp)
    # A row of zeros (p > 0) sums to 0; a row holding a zero (p < 0, scale 0)
    # or only infinities (p < 0, scale inf) gets S = 1, so the norm is the scale.
    hi = xp.where(special, 0.0 if p > 0 else 1.0, hi)
    lo = xp.where(special, 0.0, lo)
    return State(m, hi, lo, nan, inf)


# -- merging tile states and finishing -----------------------------------------


def _merge_states(st: State, p: float, xp: Namespace) -> State:
    """Merge tile states stacked along axis 0 (shape (tiles, rows)).

    Each tile's sum is rescaled to the extreme scale by ``(scale_t / m)**p``
    (exact for p in {1, 2}, whose scales are powers of two), multiplied out
    exactly, and all the parts are summed on a grid as in a tile.
    """
    m = xp.max(st.scale, axis=0) if p > 0 else xp.min(st.scale, axis=0)
    same = st.scale == m  # also 0 == 0 and inf == inf
    f = xp.where(same, 1.0, _ratio_pow(st.scale, xp.where(same, 1.0, m), p, xp))
    hi, err = two_prod(st.hi, f)
    lo = st.lo * f + err
    parts = xp.permute_dims(xp.concat([hi, lo], axis=0), (1, 0))
    total_hi, total_lo = _grid_sum(parts, xp.sum(xp.abs(parts), axis=-1), xp)
    return State(m, total_hi, total_lo, xp.any(st.nan, axis=0), xp.any(st.inf, axis=0))


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
        sq, sq_err = two_prod(r, r)
        residual = ((s - sq) - sq_err) + e  # s - sq is exact (Sterbenz)
        with np.errstate(invalid="ignore"):  # IEEE: inf - inf, 0 * inf give nan
            return r, xp.where(live, residual / (2.0 * r), 0.0)
    with np.errstate(over="ignore"):  # IEEE: overflow gives inf
        r = xp.pow(s, 1.0 / p)
    if abs(p) < 1:  # (r may overflow: S**(1/p) for p = 0.01 and S = 1e4)
        with np.errstate(invalid="ignore"):  # IEEE: inf - inf, 0 * inf give nan
            return r, xp.where(live & xp.isfinite(r), r * (e / s) / p, 0.0)
    rp = xp.pow(r, p)
    with np.errstate(invalid="ignore"):  # IEEE: inf - inf, 0 * inf give nan
        residual = ((s - rp) + e) / rp
    return r, xp.where(live & (r > 0) & xp.isfinite(r), r * residual / p, 0.0)


def _log_scale(m: Array, xp: Namespace) -> tuple[Array, Array]:
    """log(m) of positive finite m as ``k * ln2_hi`` (exact) plus a small rest."""
    k = _exponent(m, xp) - 1.0
    frac = m / pow2(k, xp)  # in [1, 2); exact
    return k * _LN2_HI, k * _LN2_LO + xp.log(frac)


def _finish(st: State, p: float, log: bool, xp: Namespace) -> Array:
    """The norm (or its log) of each row from its state and flags."""
    s, e, scale = st.hi, st.lo, st.scale
    ok = xp.isfinite(scale) & (scale > 0)
    if not log:
        r, dr = _root(s, e, p, xp)
        with np.errstate(over="ignore"):  # IEEE: overflow gives inf
            out = (r + dr) * scale  # exact scaling unless the norm is subnormal
    else:
        # log ||x|| = log(scale) + log(S) / p, with log(scale) = k ln2_hi (exact)
        # + rest and one rounding at the end; S near 1 through log1p.
        big, rest = _log_scale(xp.where(ok, scale, 1.0), xp)
        near_one = (s >= 0.5) & (s <= 2.0)
        with np.errstate(invalid="ignore", divide="ignore"):  # intended IEEE inf/nan
            log_s = xp.where(near_one, xp.log1p((s - 1.0) + e), xp.log(s) + xp.log1p(e / s))
        out = big + (rest + log_s / p)
        if p in (1, 2):
            # scale**p is a power of two: inside the range, log of the exact
            # double-double sum of |x|**p (no cancellation between the parts).
            with np.errstate(
                over="ignore", invalid="ignore", divide="ignore"
            ):  # intended IEEE inf/nan
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


class Reduction:
    """How the order p reduces real rows.

    A *partial* is a tuple of arrays of shape (rows,): a :class:`State` for
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
        return _merge_states(State(*parts), p, xp)

    def finish(self, part: tuple[Array, ...], log: bool, xp: Namespace) -> Array:
        p = self.p
        if p not in (0, math.inf, -math.inf):
            return _finish(State(*part), p, log, xp)
        if p == 0:
            out = part[0]
        else:
            m, nan = part
            hypot = (m == math.inf) if p > 0 else xp.zeros_like(nan)  # inf beats nan
            out = xp.where(hypot, math.inf, xp.where(nan, math.nan, m))
        with np.errstate(divide="ignore"):  # IEEE: log 0 = -inf, x / 0 = inf
            return xp.log(out) if log else out

    def empty(self, rows: int, log: bool, xp: Namespace) -> Array:
        """An empty reduction: 0 for p >= 0 (p = inf too), inf for p < 0."""
        value = (
            (math.inf if self.p < 0 else -math.inf) if log else (math.inf if self.p < 0 else 0.0)
        )
        return xp.full((rows,), value, dtype=xp.float64)
