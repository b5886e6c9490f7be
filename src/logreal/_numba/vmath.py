"""Vectorisable ``exp``, ``log`` and ``log1p`` for the elementwise kernels.

Numba turns ``math.exp`` and ``math.log1p`` into calls of the C library, one
element at a time: a loop that calls them does not vectorise, and in the signed
addition they cost more than all the memory traffic.  The functions here are
branch-free float64 arithmetic (selects, bit casts, ``fma``), inlined into the
caller's loop, which LLVM then vectorises.  They take and return float64; a
float32 kernel evaluates them on its values widened to float64 and rounds the
result once.

The API, kept stable for other kernel modules (all inlined, float64 scalars):

``exp(x) -> float``
    ``e**x`` for every float64 (subnormal results, overflow to inf, ``-inf``
    -> 0, nan -> nan); within 1 ulp (0.63 worst found for normal results, 0.66
    for subnormal ones).
``exp_parts(x) -> (n, p_hi, p_lo)``
    ``e**x = 2**n * (1 + p_hi + p_lo)`` for ``-1100 <= x <= 1100`` (callers
    clamp): ``n`` an int64, ``|p| <= 0.42`` carried to about 2**-60 relative
    to 1.  ``expm1`` of small ``x`` is ``p_hi + p_lo`` with ``n = 0``.
``scale_pow2(v, n) -> float``
    ``v * 2**n`` for ``v`` in ``[0.5, 2]`` (or tiny) and ``|n| <= 1600``, one
    rounding (also into the subnormals, to 0 or to inf).
``log_dd(x) -> (hi, lo)``
    ``log x = hi + lo`` (``hi`` rounded to nearest, ``lo`` its correction) for
    positive finite ``x``, subnormals included; about 2**-58 relative.  Values
    at 0, inf and nan are not meaningful: callers select them.
``log_pos(x) -> float``
    ``log x`` for positive finite ``x``, subnormals included (other values are
    not meaningful: callers select them); within 1 ulp (0.78 worst found).
    Cheaper than ``log_dd``: no double-double.
``log(x) -> float``
    ``log x`` for every float64 (``log 0 = -inf``, negative -> nan); within
    1 ulp (0.78 worst found).
``log1p(x) -> float``
    ``log(1 + x)`` for every float64 (``-1 -> -inf``, below -1 -> nan, ``-0.0``
    and tiny ``x`` -> ``x``); within 1 ulp (0.54 worst found).
``exp_into(x, out)``, ``log_into(x, out)``, ``log1p_into(x, out)``
    Cached kernels: the function over a 1-d float64 or float32 array (a float32
    array is evaluated in float64 and rounded once), into ``out``.  (Widen
    with ``np.float64(v)``: Numba's ``float(v)`` keeps a float32 a float32.)

Algorithms (accuracy argued in each docstring, tested against mpmath over the
whole domain in ``tests/test_vmath.py``: ``exp_parts`` and ``scale_pow2``
through ``exp``, ``log_pos`` through ``log``, ``log_dd`` through ``log1p``):

* exp: ``x = n ln2 + r`` (Cody-Waite with fdlibm's two-part ln 2, exact for
  ``|n| < 2**21``), ``|r| <= ln2/2``; ``e**r - 1 = r + r**2 P(r)`` with the
  Taylor polynomial to ``r**13`` (truncation below 2**-57), the rounding of
  ``r`` carried; then ``2**n`` applied as two exact powers of two so that only
  the last product rounds (one rounding also into the subnormals).
* log_dd: ``x = 2**k f`` with ``f`` in ``[sqrt(1/2), sqrt(2))`` (subnormals
  scaled by 2**54 first); ``log f = 2 atanh(s)``, ``s = (f - 1) / (f + 1)``,
  with the quotient's remainder by ``fma`` (``s`` in double-double) and the odd
  series to ``s**21``; ``k ln2`` in two parts joined by TwoSum.
* log, log_pos: the same reduction and series in fdlibm's arrangement, which
  keeps the exact ``f = x/2**k - 1`` out of the rounded quotient (one double).
* log1p: ``1 + x`` by TwoSum as ``w + w_lo``, then ``log w + w_lo / w``.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import inline, kernel
from .exact import bits, fma, from_bits

__all__ = [
    "exp",
    "exp_into",
    "exp_parts",
    "log",
    "log1p",
    "log1p_into",
    "log_dd",
    "log_into",
    "log_pos",
    "scale_pow2",
]

LN2_HI = 6.93147180369123816490e-01  # 32 significant bits: n * LN2_HI exact, |n| < 2**21
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.4426950408889634
SQRT2 = 1.4142135623730951
TINY = 2.2250738585072014e-308  # smallest normal
TWO54 = 18014398509481984.0
CLAMP = 1100.0  # |x| beyond this: e**x is 0 or inf in any case
# e**r - 1 - r = r**2 * sum_j EXP_C[j] r**j, |r| <= ln2/2 (Taylor to r**13)
EXP_C = tuple(1.0 / math.factorial(j + 2) for j in range(12))
# log f = 2 s + s w sum_j LOG_C[j] w**j, w = s**2 <= 0.0295 (to s**21)
LOG_C = tuple(2.0 / (2 * j + 3) for j in range(10))


@inline
def exp_parts(x):  # type: ignore[no-untyped-def]
    """``e**x = 2**n (1 + p_hi + p_lo)`` for ``|x| <= 1100``.

    ``r = x - n LN2_HI`` is exact (Sterbenz; ``n LN2_HI`` is exact), and the
    rounding of ``r - n LN2_LO`` is carried in ``r_err``.  The series is
    truncated below ``0.35**14 / 14! < 2**-57``; ``p_hi + p_lo`` joins ``r``
    and ``r**2 P(r)`` by Fast2Sum (``|r**2 P| < |r|``).
    """
    n = np.rint(x * INV_LN2)
    r_hi = x - n * LN2_HI
    c_lo = n * LN2_LO
    r = r_hi - c_lo
    r_err = (r_hi - r) - c_lo
    # Estrin's scheme: a short dependency chain, so that a loop overlaps
    # its iterations (Horner's twelve chained fmas would set the pace)
    c = EXP_C
    r2 = r * r
    r4 = r2 * r2
    q01 = fma(fma(c[3], r, c[2]), r2, fma(c[1], r, c[0]))
    q23 = fma(fma(c[7], r, c[6]), r2, fma(c[5], r, c[4]))
    q45 = fma(fma(c[11], r, c[10]), r2, fma(c[9], r, c[8]))
    q = fma(fma(q45, r4, q23), r4, q01)
    small = fma(r, r * q, r_err)
    p_hi = r + small
    p_lo = (r - p_hi) + small
    return int(n), p_hi, p_lo


@inline
def scale_pow2(v, n):  # type: ignore[no-untyped-def]
    """``v * 2**n`` for ``|n| <= 1600`` and ``v`` in ``[0.5, 2]``: two exact
    powers of two, so that only the last product rounds."""
    n1 = n >> 1
    return (v * from_bits((n1 + 1023) << 52)) * from_bits((n - n1 + 1023) << 52)


@inline
def exp(x):  # type: ignore[no-untyped-def]
    """``e**x`` within 1 ulp for every float64.

    ``t = 1 + p`` by Fast2Sum with ``p``'s low part added before the one
    rounding of ``t``: ``t`` is within 0.5 ulp plus the roundings inside
    ``r**2 P(r)`` (about 0.13 ulp where ``|r|`` nears ln2/2);
    :func:`scale_pow2` rounds once more only where the result is subnormal
    (half an ulp of the subnormal grid, plus ``t``'s error scaled to it).
    """
    xc = x if x > -CLAMP else -CLAMP  # nan -> -CLAMP: restored below
    xc = xc if xc < CLAMP else CLAMP
    n, p_hi, p_lo = exp_parts(xc)
    t = 1.0 + p_hi
    t_lo = ((1.0 - t) + p_hi) + p_lo
    e = scale_pow2(t + t_lo, n)
    return e if x == x else x


@inline
def _log_reduce(x):  # type: ignore[no-untyped-def]
    """``x = 2**k g`` for positive finite ``x`` (subnormals scaled first), ``g``
    in ``[sqrt(1/2), sqrt(2))``: the argument reduction of both logs."""
    sub = x < TINY
    x = x * TWO54 if sub else x
    b = bits(x)
    k = (b >> 52) - (1023 + 54 if sub else 1023)
    g = from_bits((b & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = g > SQRT2
    return (k + 1 if big else k), (g * 0.5 if big else g)


@inline
def _log_series(z):  # type: ignore[no-untyped-def]
    """``sum_j LOG_C[j] z**j`` by Estrin's scheme (as in exp_parts)."""
    c = LOG_C
    z2 = z * z
    z4 = z2 * z2
    q03 = fma(fma(c[3], z, c[2]), z2, fma(c[1], z, c[0]))
    q47 = fma(fma(c[7], z, c[6]), z2, fma(c[5], z, c[4]))
    return fma(fma(c[9], z, c[8]), z4 * z4, fma(q47, z4, q03))


@inline
def log_dd(x):  # type: ignore[no-untyped-def]
    """``log x = hi + lo`` for positive finite ``x``, about 2**-58 relative.

    ``x = 2**k f``, ``f`` in ``[sqrt(1/2), sqrt(2))``; ``u = f - 1`` is exact,
    ``v = f + 1`` is carried as ``v + v_lo``, ``s = u / v`` and its correction
    ``s_lo = (u - s v - s v_lo) / v`` (remainder by fma, ``1 / v`` to 11 bits by
    a short series: ``s_lo`` needs no more).  The odd series of ``2 atanh(s)``,
    ``|s| < 0.172``, is truncated below ``w**11 / 23 < 2**-60``.  Then
    ``k LN2_HI + 2 s`` by TwoSum, the small parts added to its error.
    """
    k, f = _log_reduce(x)
    u = f - 1.0
    v = f + 1.0
    v_lo = f - (v - 1.0)
    s = u / v
    g = (v - 2.0) * 0.5  # 1 / v = 0.5 / (1 + g), |g| < 0.21
    rcp = 0.5 * (1.0 + g * (-1.0 + g * (1.0 + g * (-1.0 + g))))
    s_lo = (fma(-s, v, u) - s * v_lo) * rcp
    w = s * s
    q = _log_series(w)
    kf = float(k)
    big_part = kf * LN2_HI  # exact
    two_s = 2.0 * s
    hi = big_part + two_s
    bb = hi - big_part
    err = (big_part - (hi - bb)) + (two_s - bb)
    lo = err + ((2.0 * s_lo + s * w * q) + kf * LN2_LO)
    top = hi + lo
    return top, lo - (top - hi)


@inline
def log_pos(x):  # type: ignore[no-untyped-def]
    """``log x`` for positive finite ``x`` (subnormals included), within 1 ulp.

    fdlibm's arrangement: ``x = 2**k (1 + f)``, ``1 + f`` in ``[sqrt(1/2),
    sqrt(2))`` so that ``f`` is exact, ``s = f / (2 + f)``, and ``log(1 + f) =
    f - (f**2/2 - s (f**2/2 + R(s**2)))`` with ``R(z) = z sum_j LOG_C[j] z**j``:
    the quotient's rounding reaches only the small term, not ``f``, so no
    double-double is needed.  ``k ln2`` in two parts, the low one added first.
    """
    k, g = _log_reduce(x)
    f = g - 1.0
    s = f / (2.0 + f)
    z = s * s
    q = _log_series(z)
    hfsq = 0.5 * f * f
    kf = float(k)
    return kf * LN2_HI - ((hfsq - (s * (hfsq + z * q) + kf * LN2_LO)) - f)


@inline
def log(x):  # type: ignore[no-untyped-def]
    """``log x`` within 1 ulp for every float64 (0 -> -inf, inf -> inf, < 0 -> nan)."""
    ok = (x > 0.0) & (x < math.inf)
    y = log_pos(x if ok else 1.0)
    y = y if ok else (-math.inf if x == 0.0 else x)
    return y if x >= 0.0 else math.nan


@inline
def log1p(x):  # type: ignore[no-untyped-def]
    """``log(1 + x)`` within 1 ulp for every float64.

    ``w = 1 + x`` by TwoSum, ``w_lo`` its exact error; ``log(w + w_lo) =
    log w + w_lo / w`` up to ``(w_lo / w)**2 < 2**-106``, the quotient added to
    the low part of ``log w`` before the one rounding.  Tiny ``x`` (where
    ``log w`` is exactly 0) gives ``x`` exactly, ``-0.0`` included.
    """
    w = 1.0 + x
    bb = w - x
    w_lo = (x - (w - bb)) + (1.0 - bb)
    ok = (w > 0.0) & (w < math.inf)
    hi, lo = log_dd(w if ok else 1.0)
    y = hi + (lo + w_lo / w)
    y = y if ok else (-math.inf if w == 0.0 else w)
    y = x if x == 0.0 else y
    return y if x >= -1.0 else math.nan


# Array forms, for the tests and the benchmarks (a loop over a slice from 0
# vectorises).


@kernel
def exp_into(x, out):  # type: ignore[no-untyped-def]
    """``out[i] = e**x[i]``."""
    for i in range(out.shape[0]):
        out[i] = exp(np.float64(x[i]))


@kernel
def log_into(x, out):  # type: ignore[no-untyped-def]
    """``out[i] = log x[i]``."""
    for i in range(out.shape[0]):
        out[i] = log(np.float64(x[i]))


@kernel
def log1p_into(x, out):  # type: ignore[no-untyped-def]
    """``out[i] = log(1 + x[i])``."""
    for i in range(out.shape[0]):
        out[i] = log1p(np.float64(x[i]))
