"""Compiled norm kernels: one fused pass over each contiguous row.

Twins of the portable state algorithm (:mod:`logreal._norms_state`); the
algorithm, the partials they write and the accuracy argument are described in
:mod:`logreal._norms_fast`, the Numba-free glue that cuts rows into chunks and
calls these kernels.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._jit import helper, inline, kernel
from .exact import bits, dd_add, exponent, fma, from_bits, pow2, scale2

__all__ = ["count", "extreme", "p1", "p2", "power"]

_MASK = 0x7FFFFFFFFFFFFFFF  # |x| as bits: clears the sign
_INF_BITS = 0x7FF0000000000000  # bits above this are nan
_NO = -(1 << 20)  # no exponent yet

_LN2_HI = 6.93147180369123816490e-01  # 32 significant bits: k * _LN2_HI exact, |k| < 2**21
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.4426950408889634
_SQRT2 = 1.4142135623730951
# log f = 2 s + s**3 * sum_j _LOG_C[j] s**(2j), s = (f - 1) / (f + 1), |s| < 0.172
_LOG_C = tuple(2.0 / (2 * j + 3) for j in range(12))
# exp r = 1 + r + r**2 * sum_j _EXP_C[j] r**j, |r| < 0.35
_EXP_C = tuple(1.0 / math.factorial(j + 2) for j in range(12))


# Reduction steps that may be reassociated (and so vectorised): used only for
# sums that are exact in any order, or whose rounding the bounds already take
# as order-free (B u per term).  Not inlined by Numba, so the flag stays on
# these additions only.
@numba.njit(fastmath={"reassoc"})
def radd(acc, a):  # type: ignore[no-untyped-def]
    return acc + a


@numba.njit(fastmath={"reassoc", "contract"})
def racc(acc, a, b):  # type: ignore[no-untyped-def]
    return acc + a * b


@helper
def scan(v):  # type: ignore[no-untyped-def]
    """Largest and smallest ``|x|`` bits of the block ``v`` (nan above inf), any inf.

    (Loops over blocks run from 0 over a slice: an index Numba knows is not
    negative is read with a plain vector load, not a gather.)
    """
    top = 0
    low = _MASK
    anyinf = False
    for i in range(v.shape[0]):
        a = bits(float(v[i])) & _MASK
        top = max(top, a)
        low = min(low, a)
        anyinf = anyinf | (a == _INF_BITS)
    return top, low, anyinf


def _log_parts(a):  # type: ignore[no-untyped-def]
    """``log a = k ln2 + (hi + lo)`` for positive finite a; |error| < 2**-57.

    ``a = 2**k f``, f in [sqrt(1/2), sqrt(2)); ``log f = 2 atanh(s)``,
    ``s = (f - 1) / (f + 1)`` in double-double (the remainder of the division
    exact by fma), then the odd series in s.
    """
    sub = a < 2.2250738585072014e-308
    a = a * 18014398509481984.0 if sub else a  # 2**54
    b = bits(a)
    k = (b >> 52) - 1023 - (54 if sub else 0)
    f = from_bits((b & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = f > _SQRT2
    f = f * 0.5 if big else f
    k = k + 1 if big else k
    u = f - 1.0  # exact
    v = f + 1.0
    v_lo = f - (v - 1.0)  # exact: v + v_lo = f + 1
    s = u / v
    d = (v - 2.0) * 0.5  # 1 / v = 0.5 / (1 + d), |d| < 0.21: 11 bits suffice
    rcp = 0.5 * (1.0 + d * (-1.0 + d * (1.0 + d * (-1.0 + d))))
    s_lo = (fma(-s, v, u) - s * v_lo) * rcp
    w = s * s
    c = _LOG_C
    q = fma(w, c[11], c[10])
    q = fma(q, w, c[9])
    q = fma(q, w, c[8])
    q = fma(q, w, c[7])
    q = fma(q, w, c[6])
    q = fma(q, w, c[5])
    q = fma(q, w, c[4])
    q = fma(q, w, c[3])
    q = fma(q, w, c[2])
    q = fma(q, w, c[1])
    q = fma(q, w, c[0])
    hi = 2.0 * s
    lo = 2.0 * s_lo + s * w * q
    top = hi + lo
    return k, top, lo - (top - hi)


@inline
def exp_dd(y_hi, y_lo):  # type: ignore[no-untyped-def]
    """``exp(y_hi + y_lo)`` for ``y <= 0`` (a little above is fine); 0 below 2**-1021.

    ``y = n ln2 + r`` (Cody-Waite, exact), then the Taylor series of ``exp r``
    and ``1 + r`` as a double-double: about 0.6 ulp.
    """
    n = np.rint(y_hi * _INV_LN2)
    r_hi = y_hi - n * _LN2_HI  # exact
    r_lo = y_lo - n * _LN2_LO
    r = r_hi + r_lo
    r_err = r_lo - (r - r_hi)
    c = _EXP_C
    e = fma(r, c[11], c[10])
    e = fma(e, r, c[9])
    e = fma(e, r, c[8])
    e = fma(e, r, c[7])
    e = fma(e, r, c[6])
    e = fma(e, r, c[5])
    e = fma(e, r, c[4])
    e = fma(e, r, c[3])
    e = fma(e, r, c[2])
    e = fma(e, r, c[1])
    e = fma(e, r, c[0])
    small = fma(r, r * e, r_err)
    one = 1.0 + r
    one_err = (1.0 - one) + r
    t = one + (one_err + small)
    ni = int(n) if y_hi > -1100.0 else -1100
    ok = ni >= -1021
    return t * from_bits((ni + 1023) << 52) if ok else 0.0


log_parts = inline(_log_parts)


def _term(a, p, km, hm, lm):  # type: ignore[no-untyped-def]
    """``(a / m)**p`` in [0, 1] from ``log m = km ln2 + hm + lm``; a = 0 or inf too.

    ``log(a / m)`` is formed from the two logs in double-double (no quotient:
    it could under- or overflow), ``y = p log(a / m)`` by an exact fma
    product, then :func:`exp_dd`.
    """
    ka, ha, la = log_parts(a if (a > 0.0 and a < math.inf) else 1.0)
    k = float(ka - km)
    s = k * _LN2_HI  # exact
    d = ha - hm
    bd = d - ha
    d_err = (ha - (d - bd)) + (-hm - bd)
    big = s + d
    bb = big - s
    big_err = (s - (big - bb)) + (d - bb)
    small = big_err + (d_err + (k * _LN2_LO + (la - lm)))
    y = p * big
    y_lo = fma(p, big, -y) + p * small
    t = exp_dd(y, y_lo)
    if a == 0.0 or a == math.inf:
        t = 0.0  # p > 0 for 0, p < 0 for inf: the kernels pass no other
    return t


term = inline(_term)
# the same, called rather than inlined: for the few calls outside the loops
log_parts_call = helper(_log_parts)
term_call = helper(_term)


# ---------------------------------------------------------------------------
# p = 1 and p = 2: exact grid sums under a running power-of-two scale.


@helper
def grid_sum1(v, s):  # type: ignore[no-untyped-def]
    """Exact sum of the integer parts of ``|v| s`` and the remainders' sum."""
    acc = 0.0
    rest = 0.0
    for i in range(v.shape[0]):
        z = abs(float(v[i])) * s
        h = np.rint(z)
        acc = radd(acc, h)
        rest = radd(rest, z - h)
    return acc, rest


@helper
def grid_sum2(v, s):  # type: ignore[no-untyped-def]
    """Exact sum of the squared integer parts of ``|v| s`` and the remainders' sum."""
    acc = 0.0
    rest = 0.0
    for i in range(v.shape[0]):
        z = abs(float(v[i])) * s
        h = np.rint(z)
        acc = racc(acc, h, h)
        rest = racc(rest, z - h, z + h)  # z**2 - h**2
    return acc, rest


@helper
def grid_sum_tiny(v, p, s1, s2):  # type: ignore[no-untyped-def]
    """:func:`grid_sum` for a block below 2**-1002: scaled in two exact steps."""
    acc = 0.0
    rest = 0.0
    for i in range(v.shape[0]):
        z = (abs(float(v[i])) * s1) * s2
        h = np.rint(z)
        acc += h * h if p == 2 else h
        rest += (z - h) * (z + h) if p == 2 else z - h
    return acc, rest


@helper
def grid_sum(v, p, g, big_g):  # type: ignore[no-untyped-def]
    """The block's powers on the grid ``2**(G - g)``: exact part and remainder."""
    k = big_g - g
    if k > 1023:
        return grid_sum_tiny(v, p, pow2(k // 2), pow2(k - k // 2))
    return grid_sum2(v, pow2(k)) if p == 2 else grid_sum1(v, pow2(k))


@kernel
def p12(x, p, block, big_g, low, scale, hi, lo, nan, inf):  # type: ignore[no-untyped-def]
    """Partials ``(scale, hi, lo, nan, inf)`` of each row for p = 1 or 2."""
    g = _NO  # the grid to try on the next block (rows often share it)
    for j in range(x.shape[0]):
        row = x[j]
        n = row.shape[0]
        g_top = _NO  # the largest grid exponent merged: the sum is S * 2**(p (g_top - G))
        s_hi = 0.0
        s_lo = 0.0
        has_nan = False
        has_inf = False
        for b0 in range(0, n, block):
            b1 = min(b0 + block, n)
            fits = False
            acc, rest = 0.0, 0.0
            if g != _NO:
                acc, rest = grid_sum(row[b0:b1], p, g, big_g)
                fits = acc >= low and acc < 4503599627370496.0  # 2**52; false for nan
            if not fits:
                top, _, anyinf = scan(row[b0:b1])
                if anyinf:  # inf beats nan: the norm is inf
                    has_inf = True
                    break
                if top > _INF_BITS:
                    has_nan = True  # keep looking for an inf
                    continue
                if top == 0:
                    continue
                g = exponent(top)
                acc, rest = grid_sum(row[b0:b1], p, g, big_g)
            if g > g_top:
                if g_top != _NO:
                    s_hi = scale2(s_hi, p * (g_top - g))
                    s_lo = scale2(s_lo, p * (g_top - g))
                g_top = g
            f = p * (g - g_top)
            s_hi, s_lo = dd_add(s_hi, s_lo, scale2(acc, f), scale2(rest, f))
        nan[j] = has_nan
        inf[j] = has_inf
        if g_top == _NO:  # zeros (or only specials)
            scale[j], hi[j], lo[j] = 0.0, 0.0, 0.0
        else:  # sum = S * 2**(p (1 - G)) * (2**(g_top - 1))**p
            scale[j] = pow2(g_top - 1)
            hi[j] = scale2(s_hi, p * (1 - big_g))
            lo[j] = scale2(s_lo, p * (1 - big_g))


def p1(x: np.ndarray, *args: object) -> None:
    """:func:`p12` for p = 1."""
    p12(x, 1, *args)


def p2(x: np.ndarray, *args: object) -> None:
    """:func:`p12` for p = 2."""
    p12(x, 2, *args)


# ---------------------------------------------------------------------------
# Other finite p: per-block extremes and terms (|x| / m)**p in [0, 1].


@helper
def block_sum(v, p, m, grid):  # type: ignore[no-untyped-def]
    """Sum of ``(|x| / m)**p`` over the block as an exact part and a remainder."""
    km, hm, lm = log_parts(m)
    acc = 0.0
    rest = 0.0
    for i in range(v.shape[0]):
        z = term(abs(float(v[i])), p, km, hm, lm) * grid
        h = np.rint(z)
        acc = radd(acc, h)
        rest = radd(rest, z - h)
    return acc, rest


@helper
def merge_blocks(ms, sums, rests, used, p):  # type: ignore[no-untyped-def]
    """``(M, hi, lo)``: the blocks' sums on the row's extreme ``M``, merged once
    (the factors ``(m_b / M)**p`` do not compound)."""
    big_m = ms[0]
    for b in range(used):
        big_m = max(big_m, ms[b]) if p > 0 else min(big_m, ms[b])
    s_hi, s_lo = dd_add(0.0, 0.0, sums[0], rests[0])
    if used == 1:  # a short row: nothing to merge
        return big_m, s_hi, s_lo
    km, hm, lm = log_parts_call(big_m)
    s_hi = 0.0
    s_lo = 0.0
    for b in range(used):
        f = 1.0 if ms[b] == big_m else term_call(ms[b], p, km, hm, lm)
        prod = sums[b] * f
        s_hi, s_lo = dd_add(s_hi, s_lo, prod, fma(sums[b], f, -prod) + rests[b] * f)
    return big_m, s_hi, s_lo


@kernel
def power(x, p, block, grid_exp, scale, hi, lo, nan, inf):  # type: ignore[no-untyped-def]
    """Partials ``(scale, hi, lo, nan, inf)`` of each row for finite p other than 0, 1, 2."""
    n = x.shape[1]
    blocks = (n + block - 1) // block
    ms = np.empty(blocks)
    sums = np.empty(blocks)
    rests = np.empty(blocks)
    grid = pow2(grid_exp)
    back = pow2(-grid_exp)
    for j in range(x.shape[0]):
        row = x[j]
        used = 0
        has_nan = False
        has_inf = False
        has_zero = False  # p < 0: the norm is 0
        for b0 in range(0, n, block):
            b1 = min(b0 + block, n)
            top, low, anyinf = scan(row[b0:b1])
            if p > 0 and anyinf:  # inf beats nan
                has_inf = True
                break
            if top > _INF_BITS:
                has_nan = True
                continue
            if p > 0:
                if top == 0:
                    continue
                m = from_bits(top)
            else:
                if low == 0:
                    has_zero = True
                if has_zero or low == _INF_BITS:  # infinities contribute 0
                    continue
                m = from_bits(low)
            acc, rest = block_sum(row[b0:b1], p, m, grid)
            ms[used] = m
            sums[used] = acc * back
            rests[used] = rest * back
            used += 1
        nan[j] = has_nan
        inf[j] = has_inf
        if has_zero or used == 0:
            # p > 0: zeros (or only specials); p < 0: a zero, or only
            # infinities: S = 1, so the norm is the scale
            scale[j] = 0.0 if has_zero or p > 0 else math.inf
            hi[j] = 0.0 if p > 0 else 1.0
            lo[j] = 0.0
            continue
        scale[j], hi[j], lo[j] = merge_blocks(ms, sums, rests, used, p)


# ---------------------------------------------------------------------------
# p = +-inf and p = 0.


@kernel
def extreme(x, largest, m, nan):  # type: ignore[no-untyped-def]
    """``max |x|`` (or min) of each row ignoring nan, and whether it holds a nan."""
    for j in range(x.shape[0]):
        row = x[j]
        top = 0
        low = _MASK
        has_nan = False
        for i in range(row.shape[0]):
            a = bits(float(row[i])) & _MASK
            is_nan = a > _INF_BITS
            has_nan = has_nan | is_nan
            top = max(top, 0 if is_nan else a)
            low = min(low, a)  # nan sorts above inf: never the least unless all are
        m[j] = from_bits(top if largest else low)
        nan[j] = has_nan


@kernel
def count(x, out):  # type: ignore[no-untyped-def]
    """Nonzeros of each row (nan counts, -0.0 does not)."""
    for j in range(x.shape[0]):
        row = x[j]
        c = 0.0
        for i in range(row.shape[0]):
            c = radd(c, 1.0 if row[i] != 0 else 0.0)  # integers: exact in any order
        out[j] = c
