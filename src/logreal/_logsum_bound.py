"""The fast common case of ``logsumexp(a, b=b)``, kept only where a proven bound holds.

Algorithm (per slice of ``n`` terms, on any array-API namespace)::

    m = max(a)                          one reduction (and max |b|: two more)
    v = b * exp(max(a - m, floor))      one buffer; on NumPy every step in place
    s = tree_sum(v)                     pairwise, in place on NumPy
    A = tree_sum(|v|)                   with weights only (else A = s)
    r = m + log|s|                      as _logsum.finish_log: e ln2 + log f, f near 1

The answer is kept where the bound below is at most two ulps of ``r``; the
other slices (and every slice whose maximum is not finite: nan, +inf, or only
-inf; and all of them when some weight is beyond ``2**256``, float32 ``2**32``,
or not finite) go to the exact shifted sum of :mod:`logreal._logsum`.

Error bound (``u`` the unit roundoff, ``tau_i = e**(a_i - m)``, ``S = sum |b_i| tau_i``)
------------------------------------------------------------------------------------
1. ``m`` is one of the ``a_i``; without weights its term is ``exp(0) = 1``
   exactly, so ``S >= 1``.  With weights ``S`` is bounded below by
   ``A (1 - 2**-10)`` less the underflow term of 4 (``A``'s own error is far
   smaller), and slices with ``S`` below ``n max|b| 2**-512`` (float32:
   ``2**-64``) are redone.
2. ``d_i = fl(a_i - m) = (a_i - m) + delta_i`` with ``|delta_i| <= u |d_i|`` (to
   first order); the term is ``tau_i e**delta_i``.  For any ``L >= 1``,
   ``x e**-x`` falls for ``x >= 1``, so the terms with ``|d_i| > L`` have
   ``|b_i| tau_i |d_i| <= |b_i| L e**-L`` and the others at most ``L |b_i| tau_i``::

       sum |b_i| tau_i |delta_i| <= u S W,   W = L (1 + (n max|b| / S) e**-L),

   taken at ``L = max(1, ln(n max|b| / S) + 1)``.
3. ``exp`` is within ``c_exp`` ulps (relative ``2 c_exp u``): ``c_exp = 2`` for
   float64 (libm, SLEEF and NumPy's SIMD exp are within 1), ``4`` for float32
   (NumPy's AVX float32 exp: 2.52).  The clamp at ``floor`` (just above the
   log of the smallest normal) raises a term by less than ``e**floor``:
   ``n max|b| e**floor`` in all; it keeps ``exp`` off subnormal results (50
   times slower, and flushed by some backends).  The product by ``b`` adds
   ``u`` relatively, or the smallest normal ``tiny`` where it underflows.
4. Each term passes through at most ``D`` additions of the tree
   (:func:`tree_sum`), whatever the namespace's own summation order, so the
   tree is off by at most ``gamma_D = D u / (1 - D u)`` times the sum of the
   magnitudes.
5. So ``|s - sum b e**(a - m)| <= err = R S + n tiny`` with ``R = 1.01 (2 c_exp
   u + u + gamma_D + u W + (n max|b| / S) e**floor)`` (1.01 covers the
   second-order products), the sum itself is at least ``|s| - err`` (the sign
   of ``s`` is right when that is positive), and ``|log|s| - log|sum|| <= rho
   / (1 - rho)`` with ``rho = err / (|s| - err)``.
6. ``log|s| = e ln 2 + log f`` with ``|s| = f 2**e``, ``f`` in ``[sqrt 1/2,
   sqrt 2)``: ``m + e ln2_hi = hi + lo`` exactly (TwoSum); ``rest = e ln2_lo +
   log f`` has ``|rest| < 1/2``, so ``log f`` (``c_log`` ulps: 2 for float64, 4
   for float32) and the sum cost at most ``u (c_log / 2 + 1/4)``; ``fl(lo +
   rest)`` at most ``u (|lo| + 1/2)`` with ``|lo| <= u (|m| + 64)``; the last
   addition half an ulp of the result ``r``.

Altogether ``|r - log|sum b e**a|| <= B = rho / (1 - rho) + u (c_log / 2 + 1 +
|lo|) + ulp(r) / 2``, and the slice is kept when ``B <= 2 ulp(|r| - B)`` (the
spacing at the smallest the exact result can be); the bound's own arithmetic
gets a factor ``1 + 2**-10``.  Where the log-sum is small beside the errors of
a sum of ``n`` terms -- a result near 0 (``[-ln 2, -ln 2]``), many equal terms
with a small sum, a sum that cancels, tiny weights -- the bound fails and the
exact path answers.  For ``n = 10**7`` standard normals (``r`` about 16.6,
``ulp = 32 u``) ``B`` is about 54.4 u of the 64 u allowed.
"""

from __future__ import annotations

import math

import numpy as np

from ._backend import Array, Namespace, is_numpy
from ._exact import ulp
from ._logsum import finish_log  # the shared finish: e ln2 + log f joined exactly

__all__ = ["logsumexp_bound", "tree_sum"]

# exp and log error in ulps, by item size (see the module notes)
_C_EXP = {8: 2.0, 4: 4.0}
_C_LOG = {8: 2.0, 4: 4.0}
TOLERANCE = 2.0  # ulps of the result a fast answer may be off, proven


def tree_sum(t: Array, xp: Namespace, in_place: bool) -> tuple[Array, int]:
    """The sum along the last axis by halving, and ``D``, the additions a term passes.

    Each level adds the second half onto the first (in place on NumPy when
    ``in_place``: ``t`` is then overwritten); an odd element left over joins a
    running carry.  A term in the halves passes ``levels`` additions and the
    final one; a term that leaves at some level for the carry passes no more
    additions in the carry than levels remain, and the final one: ``D =
    levels + 1`` at most, whatever the namespace's own summation order.
    """
    n = t.shape[-1]
    carry = None
    levels = 0
    while n > 1:
        h = n // 2
        if n % 2:
            last = t[..., 2 * h : 2 * h + 1]
            carry = last if carry is None else carry + last
        if in_place:
            np.add(t[..., :h], t[..., h : 2 * h], out=t[..., :h])
            t = t[..., :h]
        else:
            t = t[..., :h] + t[..., h : 2 * h]
        n = h
        levels += 1
    total = t if carry is None else t + carry
    return total[..., 0], levels + 1


def _moved(x: Array, axes: tuple[int, ...], xp: Namespace) -> Array:
    """``x`` with the reduced axes moved last (a view where the namespace has them)."""
    perm = tuple(i for i in range(x.ndim) if i not in axes) + axes
    return x if perm == tuple(range(x.ndim)) else xp.permute_dims(x, perm)


def _terms(
    a: Array, w: Array | None, m: Array, axes: tuple[int, ...], xp: Namespace
) -> tuple[Array, Array | None]:
    """``w exp(max(a - m, floor))`` and its magnitudes, reduced axes last and flat: (*rest, n).

    The magnitudes are None without weights (the terms are positive).
    """
    rest = tuple(i for i in range(a.ndim) if i not in axes)
    shape = (*(a.shape[i] for i in rest), math.prod(a.shape[i] for i in axes))
    moved, shift = _moved(a, axes, xp), _moved(m, axes, xp)
    floor = _clamp(a.dtype, xp)
    if is_numpy(xp):  # one buffer, C order in the moved layout: the reshape is a view
        buf = np.empty(moved.shape, dtype=a.dtype)
        np.subtract(moved, shift, out=buf)
        np.maximum(buf, floor, out=buf)  # nan stays nan
        # rows holding +inf, or an infinite or nan weight: redone exactly
        with np.errstate(over="ignore", invalid="ignore"):
            np.exp(buf, out=buf)
            if w is not None:
                np.multiply(buf, _moved(w, axes, xp), out=buf)
        buf = buf.reshape(shape)
        return buf, None if w is None else np.abs(buf)
    with np.errstate(over="ignore", invalid="ignore"):  # as above
        t = xp.reshape(xp.exp(xp.clip(moved - shift, min=floor)), shape)
        if w is None:
            return t, None
        v = t * xp.reshape(_moved(w, axes, xp), shape)
    return v, xp.abs(v)


def _clamp(dtype: object, xp: Namespace) -> float:
    """The exponent below which terms are raised to ``e**floor`` (normal, near the smallest).

    Subnormal results make ``exp`` 50 times slower (and some backends flush
    them); a term below ``e**floor`` changes by less than ``e**floor`` each,
    which the bound counts as ``n e**floor``.
    """
    return math.log(float(xp.finfo(dtype).smallest_normal)) + 1.0


def logsumexp_bound(
    a: Array, w: Array | None, axes: tuple[int, ...], xp: Namespace
) -> tuple[Array, Array, Array] | None:
    """``(sign, logabs, redo)`` of ``sum(w e**a)`` over ``axes`` (dims kept), or None.

    ``w`` is None (all weights one) or broadcast to ``a``'s shape and dtype.
    ``redo`` marks the slices whose fast answer is not proven within
    ``TOLERANCE`` ulps (their values are then meaningless); see the module
    notes.  None where nothing is summed (an empty slice, no axes).
    """
    if not axes or any(a.shape[i] == 0 for i in axes):
        return None
    n = math.prod(a.shape[i] for i in axes)
    m = xp.max(a, axis=axes, keepdims=True)
    finite = xp.isfinite(m)
    m = xp.where(finite, m, 0.0)
    wmax = None if w is None else max(float(xp.max(w)), -float(xp.min(w)))
    span = math.frexp(float(xp.finfo(a.dtype).max))[1]  # 1024, 128
    if wmax is not None and not wmax <= 2.0 ** (span // 4):  # also nan
        return None  # weights far from one, or not finite: the exact path (weighted_logsum)
    v, mags = _terms(a, w, m, axes, xp)
    in_place = is_numpy(xp)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, overflow: redone exactly
        s, depth = tree_sum(v, xp, in_place)
        s = xp.reshape(s, m.shape)
        amag = s if mags is None else xp.reshape(tree_sum(mags, xp, in_place)[0], m.shape)
    ok = finite & xp.isfinite(s) & xp.isfinite(amag) & (s != 0)
    s = xp.where(ok, s, 1.0)
    amag = xp.where(ok, amag, 1.0)
    sign, r = finish_log(s, xp.zeros_like(s), m, xp)
    bound = _Bound(n, depth, wmax, r.dtype, xp)
    return sign, r, ~(ok & bound.proven(r, s, amag, m))


class _Bound:
    """The error bound of the module notes for slices of ``n`` terms."""

    def __init__(self, n: int, depth: int, wmax: float | None, dtype: object, xp: Namespace):
        info = xp.finfo(dtype)
        size = 8 if dtype == xp.float64 else 4
        self.xp, self.n, self.wmax = xp, n, wmax
        self.u = u = float(info.eps) / 2
        self.c_log = _C_LOG[size]
        # relative to sum |w| e**(a - m): exp, the tree, the product by w
        self.base = 2 * _C_EXP[size] * u + depth * u / (1 - depth * u) + (u if wmax else 0.0)
        self.floor = math.exp(_clamp(dtype, xp))
        self.tiny = float(info.smallest_normal)  # a product that underflows (or is flushed)
        # slices whose magnitude sum is below this are redone: keeps ratio finite
        span = math.frexp(float(info.max))[1]
        self.least = n * (wmax or 1.0) * 2.0 ** -(span // 2)

    def proven(self, r: Array, s: Array, amag: Array, m: Array) -> Array:
        """Whether the bound is within ``TOLERANCE`` ulps of ``r``, per slice."""
        xp, u, n = self.xp, self.u, self.n
        if self.wmax is None:  # amag is s, and S >= 1 (the maximum's own term)
            a_low = xp.maximum(amag * (1 - 2.0**-10), 1.0)
            a_high, spill = amag * (1 + 2.0**-10), 0.0
        else:
            spill = n * self.tiny
            a_low = amag * (1 - 2.0**-10) - spill
            a_high = amag * (1 + 2.0**-10) + spill
        a_low = xp.where(a_low > self.least, a_low, 0.0)
        ratio = n * (self.wmax or 1.0) / xp.where(a_low > 0, a_low, 1.0)
        big_l = xp.maximum(xp.log(ratio) + 1.0, 1.0)
        w_avg = big_l * (1.0 + ratio * xp.exp(-big_l))  # the weighted mean of |a - m|
        rel = 1.01 * (self.base + u * w_avg + ratio * self.floor)
        err = rel * a_high + spill  # |s - S|
        gap = xp.abs(s) - err
        rho = err / xp.where(gap > 0, gap, 1.0)
        lo = u * (xp.abs(m) + 64.0)
        pre = rho / (1.0 - rho) + u * (self.c_log / 2 + 1.0 + lo)
        bound = (pre + ulp(r, xp) / 2) * (1.0 + 2.0**-10)
        low = xp.abs(r) - bound
        fits = bound <= TOLERANCE * ulp(xp.where(low > 0, low, 1.0), xp)
        return (a_low > 0) & (gap > 0) & (rho < 0.5) & (low > 0) & fits
