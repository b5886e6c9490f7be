"""Error-free transformations and exact binary scaling, written once for every portable caller.

Every function here runs on any array-API namespace (and on Python floats where
it takes no ``xp``).  Rounding is IEEE round-to-nearest-even; no fused
multiply-add is assumed.

``two_sum(a, b)`` (Knuth)
    ``s + err == a + b`` exactly with ``s = fl(a + b)``, whatever the order of
    magnitudes, as long as nothing overflows.
``two_prod(a, b)`` (Dekker, with Veltkamp's ``split``)
    ``p + err == a * b`` exactly with ``p = fl(a * b)`` for ``|a|, |b| < 2**996``
    (float64) and products whose error is not below the subnormal range.
``frexp(x, xp)``, ``ldexp(m, e, xp)``, ``pow2(k, xp)``
    One mantissa convention, C's and NumPy's: ``x = m * 2**e`` with ``|m|`` in
    ``[1/2, 1)``, ``e`` an integer; ``0``, ``inf`` and ``nan`` keep their value
    in ``m`` with ``e = 0``.  Callers that want a mantissa in ``[1, 2)`` take
    ``(2 m, e - 1)``, which is exact.  The split is exact also for subnormals.
``ulp(x, xp)``
    The spacing of the floats at ``|x|``: ``2**(e - p)`` for ``|x|`` in
    ``[2**(e-1), 2**e)`` and ``p`` the precision (53, 24), never below the
    smallest subnormal.
``LN2_HI``, ``LN2_LO``
    ``ln 2 = LN2_HI + LN2_LO`` with the low bits of ``LN2_HI`` zero, so ``k *
    LN2_HI`` is exact for integers ``|k| < 2**11`` (float32: ``2**8``, enough
    for its exponents) and float64 ``|k| < 2**20`` (fdlibm's split), keyed by
    the item size of the float type.
"""

from __future__ import annotations

import math

import array_api_compat
import numpy as np

from ._backend import Array, Namespace

__all__ = [
    "LN2_HI",
    "LN2_LO",
    "frexp",
    "ldexp",
    "ln2_parts",
    "pow2",
    "split",
    "two_diff",
    "two_prod",
    "two_sum",
    "two_sum_err",
    "ulp",
]

# ln 2 in two parts (fdlibm's for float64; a 16-bit head for float32).
LN2_HI = {8: 6.93147180369123816490e-01, 4: 0.693145751953125}
LN2_LO = {8: 1.90821492927058770002e-10, 4: 1.428606765330187045e-06}

_SPLITTER = 134217729.0  # 2**27 + 1 (Veltkamp/Dekker) for float64


def ln2_parts(dtype: object, xp: Namespace) -> tuple[float, float]:
    """``(LN2_HI, LN2_LO)`` for a float dtype of ``xp`` (float32 or float64)."""
    wide = dtype == xp.float64
    return LN2_HI[8 if wide else 4], LN2_LO[8 if wide else 4]


# ---------------------------------------------------------------------------
# Error-free sums and products.


def two_sum_err(a: Array, b: Array, s: Array) -> Array:
    """The exact error ``(a + b) - s`` of ``s = fl(a + b)`` (Knuth's TwoSum).

    Not finite (nan) where ``a``, ``b`` or ``s`` is not; the caller decides
    what such an error means.
    """
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf = nan: the caller's
        back = s - a
        return (a - (s - back)) + (b - back)


def two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """``(s, err)`` with ``s = fl(a + b)`` and ``s + err == a + b`` exactly (Knuth)."""
    with np.errstate(invalid="ignore", over="ignore"):  # IEEE inf/nan are the caller's
        s = a + b
    return s, two_sum_err(a, b, s)


def two_diff(a: Array, b: Array, xp: Namespace) -> tuple[Array, Array]:
    """``a - b`` as ``d + d_lo`` exactly (TwoSum); ``d_lo`` is 0 where it is not finite.

    The difference of two exact logs is rounded to an ulp of the larger; a
    term's weight ``e**d`` turns that into an error above an ulp of a small
    result, which a first-order correction ``e**d * d_lo`` removes.  Where
    ``d`` is infinite or nan (``inf - inf``, or a difference beyond the float
    range) there is nothing to correct, and ``d_lo`` is 0.
    """
    d, d_lo = two_sum(a, -b)
    return d, xp.where(xp.isfinite(d_lo), d_lo, 0.0)


def split(a: Array) -> tuple[Array, Array]:
    """``a = hi + lo`` with ``hi`` of 26 significant bits and ``lo`` of 26 (Veltkamp)."""
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a: Array, b: Array) -> tuple[Array, Array]:
    """``(p, err)`` with ``p = fl(a * b)`` and ``p + err == a * b`` exactly (Dekker, no fma).

    Exact for float64 ``|a|, |b| < 2**996`` whose product's error is not
    below the subnormal range.
    """
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


# ---------------------------------------------------------------------------
# Exact scaling by powers of two.


def int_like(dtype: object, xp: Namespace) -> object:
    """The integer dtype of a float's width: int32 for float32, int64 otherwise.

    Binary exponents fit either; float32 data may live where 64-bit types do
    not (JAX without x64, array-api-strict's ``no_x64`` device).
    """
    return xp.int32 if dtype == xp.float32 else xp.int64


def frexp(x: Array, xp: Namespace) -> tuple[Array, Array]:
    """``(m, e)`` with ``x = m * 2**e`` exactly, ``|m|`` in [1/2, 1), ``e`` an
    integer array of :func:`int_like` ``x``.

    ``0``, ``inf`` and ``nan`` keep their value in ``m`` and get ``e = 0``.
    The namespace's own ``frexp`` where it has one (NumPy, PyTorch, JAX, CuPy);
    otherwise an estimate from ``log2`` corrected by exact powers of two.
    """
    native = getattr(xp, "frexp", None)
    if native is not None:
        m, e = native(x)
        return m, xp.astype(e, int_like(x.dtype, xp))
    live = xp.isfinite(x) & (x != 0)
    mag = xp.abs(xp.where(live, x, 1.0))
    e = xp.astype(xp.where(live, xp.floor(xp.log2(mag)) + 1.0, 0.0), int_like(x.dtype, xp))
    m = ldexp(x, -e, xp)
    # log2 may be off by one next to a power of two; m is then off by a factor 2
    low = live & (xp.abs(m) < 0.5)
    high = live & (xp.abs(m) >= 1.0)
    m = xp.where(low, m * 2.0, xp.where(high, m * 0.5, m))
    e = e - xp.astype(low, e.dtype) + xp.astype(high, e.dtype)
    return m, e


def ldexp(m: Array, e: Array, xp: Namespace) -> Array:
    """``m * 2**e`` for an integer array ``e``, rounded once (IEEE overflow gives inf).

    Exact whenever the result is a normal float, or ``|m|`` is in [1/2, 1) and
    the result is representable.
    """
    native = getattr(xp, "ldexp", None)
    if native is not None:
        with np.errstate(over="ignore"):  # IEEE: overflow gives inf
            return native(m, e)
    # Three power-of-two factors, each exact as a float and each product exact
    # while |m| stays in range; the clip only removes exponents whose result
    # is 0 or inf anyway.
    e = xp.clip(e, -2400, 2400)
    third = e // 3
    two = xp.asarray(2.0, dtype=m.dtype, device=array_api_compat.device(m))
    with np.errstate(over="ignore"):  # IEEE: overflow gives inf
        for p in (third, third, e - 2 * third):
            m = m * xp.pow(two, xp.astype(p, m.dtype))
    return m


def pow2(k: Array, xp: Namespace, dtype: object = None) -> Array:
    """``2**k`` exactly for integer-valued ``k`` in the float range (0 below, inf above).

    In ``dtype``; by default ``k``'s own float dtype, float64 for integer ``k``.
    """
    if dtype is None:
        dtype = k.dtype if xp.isdtype(k.dtype, "real floating") else xp.float64
    one = xp.ones(k.shape, dtype=dtype, device=array_api_compat.device(k))
    return ldexp(one, xp.astype(k, int_like(dtype, xp)), xp)


def ulp(x: Array, xp: Namespace) -> Array:
    """The spacing of the floats of ``x``'s dtype at ``|x|`` (finite ``x``).

    ``2**(e - p)`` for ``|x|`` in ``[2**(e-1), 2**e)``, ``p`` the precision;
    the smallest subnormal for subnormals and 0.
    """
    info = xp.finfo(x.dtype)
    digits = round(-math.log2(float(info.eps))) + 1  # 53, 24
    _, e = frexp(x, xp)
    tiny = float(info.smallest_normal) * float(info.eps)  # the smallest subnormal
    spacing = xp.maximum(pow2(e - digits, xp, x.dtype), tiny)  # subnormals: tiny
    return xp.where(x == 0, tiny, spacing)
