"""Compiled dp leave-one-out products and cumprod, without ``op``.

Twins of the portable algorithms of :mod:`logreal._products` for float32 and
float64 NumPy arrays of the two commutative number classes.  A kernel sees the
input as an ``(outer, n, inner)`` view, the sequence in the middle
(``logreal._products_fast.lanes``), and runs along each lane: one forward pass,
and for leave-one-out one backward sweep with a running suffix.  Nothing is
allocated beyond the output.  The algorithms and their accuracy are described
in ``logreal._products_fast``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._jit import helper, kernel
from .exact import pow2, two_sum_err

__all__ = ["products_log", "products_real"]

# The scaled form of real products: mantissas stay in [M_LO, M_HI], factors in
# [X_LO, X_HI] multiply them directly, so products of two mantissas or of a
# mantissa and a factor are normal floats.
M_LO, M_HI = 2.0**-400, 2.0**400
X_LO, X_HI = 2.0**-500, 2.0**500
# Along an inner axis, GROUP neighbouring lanes go together, TILE positions
# at a time (even, for the real kernel's pairs), so each cache line is read once.
GROUP, TILE = 16, 128
# A single lane at least this long runs as two halves on two threads.
HALVES_MIN = 2**15
_U32, _S32 = np.uint64(0xFFFFFFFF), np.uint64(32)


@helper
def last_tile(n, tile):  # type: ignore[no-untyped-def]
    """The start of the last tile of ``tile`` positions covering [0, n)."""
    return (n - 1) // tile * tile if n else 0


# ---------------------------------------------------------------------------
# Real floats in scaled form.


@helper
def rescaled(m, x):  # type: ignore[no-untyped-def]
    """``step``'s slow path: a huge, tiny or subnormal factor, or a product
    that left the mantissa range."""
    d = np.int64(0)
    ax = abs(x)
    if (ax >= X_LO and ax <= X_HI) or ax == 0.0 or not ax < math.inf:
        p = m * x
    else:
        mx, k = math.frexp(x)
        p = m * mx
        d = np.int64(k)
    ap = abs(p)
    if not (ap >= M_LO and ap <= M_HI) and ap != 0.0 and ap < math.inf:
        p, k = math.frexp(p)
        d += np.int64(k)
    return p, d


@helper
def step(m, x):  # type: ignore[no-untyped-def]
    """``m * x`` as (mantissa, exponent increment).  A product in the mantissa
    range needs no other check: with ``m`` in it too, ``x`` is a normal float
    and ``p`` its correctly rounded product."""
    p = m * x
    ap = abs(p)
    if (ap >= M_LO) & (ap <= M_HI):
        return p, np.int64(0)
    return rescaled(m, x)


@helper
def scaled(q, e):  # type: ignore[no-untyped-def]
    """``fin``'s slow path: ``q * 2**e`` correctly rounded, ``e != 0``."""
    aq = abs(q)
    if aq == 0.0 or not aq < math.inf:
        return q
    if e >= -1022 and e <= 1023:
        return q * pow2(e)  # an exact power of two: one rounding
    if e > 3000 or e < -3000:  # |q| lies within 2**+-800
        return math.copysign(math.inf if e > 0 else 0.0, q)
    mq, k = math.frexp(q)
    e2 = e + np.int64(k)  # q * 2**e = mq * 2**e2, mq in [1/2, 1)
    if e2 > 1024:
        return math.copysign(math.inf, q)
    if e2 < -1074:
        return math.copysign(0.0, q)
    if e2 >= -1021:
        return (mq * 2.0) * pow2(e2 - 1)  # exact
    return mq * pow2(e2)  # a subnormal power of two: one rounding


@helper
def fin(q, e):  # type: ignore[no-untyped-def]
    """``q * 2**e`` correctly rounded (``q`` a product of two mantissas)."""
    return q if e == 0 else scaled(q, e)


@helper
def put_pair(ob, i, m, wide):  # type: ignore[no-untyped-def]
    """``m``'s 64 bits into slot i (and i + 1 for 32-bit output)."""
    b = np.float64(m).view(np.uint64)
    if wide:
        ob[np.uint64(i)] = b
    else:
        ob[np.uint64(i)] = np.uint32(b & _U32)
        ob[np.uint64(i + 1)] = np.uint32(b >> _S32)


@helper
def get_pair(ob, i, wide):  # type: ignore[no-untyped-def]
    if wide:
        return np.uint64(ob[np.uint64(i)]).view(np.float64)
    low, high = np.uint64(ob[np.uint64(i)]), np.uint64(ob[np.uint64(i + 1)])
    return np.uint64(low | (high << _S32)).view(np.float64)


@helper
def put(ob, i, r, wide):  # type: ignore[no-untyped-def]
    """A result, rounded to the output's dtype."""
    if wide:
        ob[np.uint64(i)] = np.float64(r).view(np.uint64)
    else:
        ob[np.uint64(i)] = np.float32(r).view(np.uint32)


@helper
def real_forward(x, ob, i0, i1, m, e, wide):  # type: ignore[no-untyped-def]
    """Prefixes over [i0, i1) (i0 even): the mantissas of even positions
    into the output; an odd last position's prefix is returned as ``tail``,
    and ``moved``, nonzero where a step changed the exponent."""
    i, tail, moved = i0, m, np.int64(0)
    while i + 1 < i1:
        put_pair(ob, i, m, wide)
        m, d0 = step(m, np.float64(x[np.uint64(i)]))
        m, d1 = step(m, np.float64(x[np.uint64(i + 1)]))
        e += d0 + d1
        moved |= d0 | d1
        i += 2
    if i < i1:
        tail = m
        m, d = step(m, np.float64(x[np.uint64(i)]))
        e += d
        moved |= d
    return m, e, tail, moved


@helper
def real_backward_flat(x, ob, i0, i1, n, tail, sm, se, e, wide):  # type: ignore[no-untyped-def]
    """``real_backward`` where no prefix step of [i0, i1) changed the
    exponent: every prefix exponent is ``e``, and the odd prefix is the plain
    product the forward step formed.  A loop of its own: the same loop with a
    ``flat`` flag gave the same bits but cost 10% on 10^7 factors near one
    (17 against 19 ms, medians of seven paired runs)."""
    i = i1 - 1
    if i1 == n and n % 2 == 1:
        put(ob, i, fin(tail * sm, e + se), wide)
        sm, d = step(sm, np.float64(x[np.uint64(i)]))
        se += d
        i -= 1
    while i > i0:  # the pair (i - 1, i)
        m0 = get_pair(ob, i - 1, wide)
        x0, x1 = np.float64(x[np.uint64(i - 1)]), np.float64(x[np.uint64(i)])
        put(ob, i, fin((m0 * x0) * sm, e + se), wide)
        sm, d = step(sm, x1)
        se += d
        put(ob, i - 1, fin(m0 * sm, e + se), wide)
        sm, d = step(sm, x0)
        se += d
        i -= 2
    return sm, se, e


@helper
def real_backward(x, ob, i0, i1, n, tail, sm, se, e_next, wide):  # type: ignore[no-untyped-def]
    """Results over [i0, i1), from the end: the running suffix ``(sm, se)``
    times each prefix, whose exponent is the next one's minus its step's
    increment (``e_next`` is the exponent of the prefix at i1)."""
    i = i1 - 1
    if i1 == n and n % 2 == 1:
        xi = np.float64(x[np.uint64(i)])
        e_i = e_next - step(tail, xi)[1]
        put(ob, i, fin(tail * sm, e_i + se), wide)
        sm, d = step(sm, xi)
        se += d
        e_next = e_i
        i -= 1
    while i > i0:  # the pair (i - 1, i)
        m0 = get_pair(ob, i - 1, wide)
        x0, x1 = np.float64(x[np.uint64(i - 1)]), np.float64(x[np.uint64(i)])
        m1, d0 = step(m0, x0)
        e1 = e_next - step(m1, x1)[1]
        e0 = e1 - d0
        put(ob, i, fin(m1 * sm, e1 + se), wide)
        sm, d = step(sm, x1)
        se += d
        put(ob, i - 1, fin(m0 * sm, e0 + se), wide)
        sm, d = step(sm, x0)
        se += d
        e_next = e0
        i -= 2
    return sm, se, e_next


@helper
def real_scan(x, ob, i0, i1, m, e, exclusive, reverse, wide):  # type: ignore[no-untyped-def]
    """Running products over [i0, i1), in reverse from the end."""
    for t in range(i1 - i0):
        i = i1 - 1 - t if reverse else i0 + t
        if exclusive:
            put(ob, i, fin(m, e), wide)
        m, d = step(m, np.float64(x[np.uint64(i)]))
        e += d
        if not exclusive:
            put(ob, i, fin(m, e), wide)
    return m, e


@helper
def seed_of(scale):  # type: ignore[no-untyped-def]
    """``scale`` in scaled form, the seed of a running suffix."""
    if scale == 1.0:
        return 1.0, np.int64(0)
    if scale == 0.0 or not abs(scale) < math.inf:
        return scale, np.int64(0)
    m, k = math.frexp(scale)
    return m, np.int64(k)


@kernel
def real_loo(x, ob, wide, scale):  # type: ignore[no-untyped-def]
    outer, n, inner = x.shape
    group, tile = max(1, min(inner, GROUP)), max(n, 1) if inner == 1 else TILE
    m, tail = np.ones(group), np.ones(group)
    e, se = np.zeros(group, dtype=np.int64), np.zeros(group, dtype=np.int64)
    moved, d = np.zeros(group, dtype=np.int64), np.int64(0)
    seed_m, seed_e = seed_of(scale)
    for o in range(outer):
        for g in range(0, inner, group):
            lanes = range(min(group, inner - g))
            for j in lanes:
                m[j], e[j], moved[j] = 1.0, 0, 0
            for t in range(0, n, tile):
                for j in lanes:
                    m[j], e[j], tail[j], d = real_forward(
                        x[o, :, g + j], ob[o, :, g + j], t, min(t + tile, n), m[j], e[j], wide
                    )
                    moved[j] |= d
            for j in lanes:  # now (m, se) is the running suffix, e the next prefix's exponent
                m[j], se[j] = seed_m, seed_e
            for t in range(last_tile(n, tile), -1, -tile):
                for j in lanes:
                    args = (x[o, :, g + j], ob[o, :, g + j], t, min(t + tile, n), n, tail[j])
                    if moved[j]:
                        m[j], se[j], e[j] = real_backward(*args, m[j], se[j], e[j], wide)
                    else:
                        m[j], se[j], e[j] = real_backward_flat(*args, m[j], se[j], e[j], wide)


@helper
def back_half(x, ob, tail, sm, se, e, moved, wide):  # type: ignore[no-untyped-def]
    """The backward sweep over a whole half, seeded by the other half's total."""
    n = x.shape[0]
    if moved:
        real_backward(x, ob, 0, n, n, tail, sm, se, e, wide)
    else:
        real_backward_flat(x, ob, 0, n, n, tail, sm, se, e, wide)


@kernel(parallel=True)
def real_loo_halves(x, ob, wide, scale):  # type: ignore[no-untyped-def]
    """One long lane in two halves that meet in the middle, on two threads.

    The first half runs forwards from the start and the second, reversed,
    from the end (its "prefixes" are the suffixes, seeded by ``scale``); then
    each half sweeps back seeded by the other's total.  Every running product
    is the serial kernel's, step for step, so the results are its bits (but
    for the sign of a nan: the second half multiplies a suffix by a prefix).
    """
    n = x.shape[0]
    mid = n // 2 - n // 2 % 2  # even: the first half has no odd tail
    seed_m, seed_e = seed_of(scale)
    tm, tt = np.ones(2), np.ones(2)
    te, moved = np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)
    for h in numba.prange(2):
        if h == 0:
            tm[0], te[0], tt[0], moved[0] = real_forward(x[:mid], ob[:mid], 0, mid, 1.0, 0, wide)
        else:
            xr, obr = x[mid:][::-1], ob[mid:][::-1]
            tm[1], te[1], tt[1], moved[1] = real_forward(xr, obr, 0, n - mid, seed_m, seed_e, wide)
    for h in numba.prange(2):
        if h == 0:
            back_half(x[:mid], ob[:mid], tt[0], tm[1], te[1], te[0], moved[0], wide)
        else:
            xr, obr = x[mid:][::-1], ob[mid:][::-1]
            back_half(xr, obr, tt[1], tm[0], te[0], te[1], moved[1], wide)


@kernel
def real_cumprod(x, ob, exclusive, reverse, wide):  # type: ignore[no-untyped-def]
    outer, n, inner = x.shape
    group, tile = max(1, min(inner, GROUP)), max(n, 1) if inner == 1 else TILE
    m, e = np.ones(group), np.zeros(group, dtype=np.int64)
    for o in range(outer):
        for g in range(0, inner, group):
            lanes = range(min(group, inner - g))
            for j in lanes:
                m[j], e[j] = 1.0, 0
            for t in range(last_tile(n, tile), -1, -tile) if reverse else range(0, n, tile):
                for j in lanes:
                    m[j], e[j] = real_scan(
                        x[o, :, g + j], ob[o, :, g + j], t, min(t + tile, n), m[j], e[j],
                        exclusive, reverse, wide,
                    )  # fmt: skip


def products_real(
    x: np.ndarray,
    ob: np.ndarray,
    loo: bool,
    exclusive: bool,
    reverse: bool,
    wide: bool,
    scale: float = 1.0,
) -> None:
    """Leave-one-out (times ``scale``) or (exclusive) cumprod of real floats
    into the bits ``ob``."""
    if loo and x.shape[0] == x.shape[2] == 1 and x.shape[1] >= HALVES_MIN:
        real_loo_halves(x[0, :, 0], ob[0, :, 0], wide, scale)
    elif loo:
        real_loo(x, ob, wide, scale)
    else:
        real_cumprod(x, ob, exclusive, reverse, wide)


# ---------------------------------------------------------------------------
# LogReal: the portable compensated sums, replayed.


@helper
def fresh(v, zero):  # type: ignore[no-untyped-def]
    """The first term of an unseeded scan: the running pair (s, c)."""
    h = zero + v
    return v, (h - v) + two_sum_err(zero, v, h)


@helper
def split(s, c, zero):  # type: ignore[no-untyped-def]
    """The (hi, lo) of the running pair (_compensated_cumsum's output)."""
    if math.isfinite(s):
        hi = s + c
        return hi, c - (hi - s)
    return s, zero


@helper
def reseed(s, c, zero):  # type: ignore[no-untyped-def]
    """A seeded scan's first term: the pair's own (hi, lo) as the seed."""
    hi, lo = split(s, c, zero)
    h = zero + hi
    return hi, (h - hi) + two_sum_err(zero, hi, h) + lo


@helper
def add(s, c, v, seeded, zero):  # type: ignore[no-untyped-def]
    """One more log; a seeded scan adds its (zero) low parts as well."""
    h = s + v
    d = (h - h) + two_sum_err(s, v, h)
    if seeded:
        d = d + zero
    return h, c + d


@helper
def settle_log(sg, la, zero, nan):  # type: ignore[no-untyped-def]
    """``_numclass.Log._finish``: logabs decides zero and nan."""
    if la == -math.inf:
        sg = zero
    if la != la:
        sg = nan
    return sg, la


@helper
def log_forward(sg1, la1, os1, ol1, i0, i1, n, rows, sg, s, c, seeded, zero, nan):  # type: ignore[no-untyped-def]
    """The finished prefixes P_{i+1} for i in [i0, i1), into the output."""
    k = i0 % rows  # counted on: a division per element costs more than the sums
    for i in range(i0, min(i1, n - 1)):
        v, sx = la1[np.uint64(i)], sg1[np.uint64(i)]
        if i == 0:
            s, c = fresh(v, zero)
            sg = sx
        else:
            if k == 0:
                s, c = reseed(s, c, zero)
                seeded = True
            s, c = add(s, c, v, seeded, zero)
            sg = sg * sx
        k = 0 if k == rows - 1 else k + 1
        hi, lo = split(s, c, zero)
        os1[np.uint64(i + 1)], ol1[np.uint64(i + 1)] = settle_log(sg, hi + lo, zero, nan)
    return sg, s, c, seeded


@helper
def log_backward(sg1, la1, os1, ol1, i0, i1, n, rows, sg, s, c, seeded, zero, nan):  # type: ignore[no-untyped-def]
    """Results over [i0, i1) from the end: the running suffix S_i times
    the stored prefix P_i (Log.mul, then Log._finish)."""
    k = (i1 - 1) % rows
    for i in range(i1 - 1, i0 - 1, -1):
        if n == 1:
            rs, rl = zero + 1, zero
        elif i == n - 1:
            rs, rl = settle_log(os1[np.uint64(i)], ol1[np.uint64(i)], zero, nan)
        else:
            hi, lo = split(s, c, zero)
            if i == 0:
                rs, rl = settle_log(sg, hi + lo, zero, nan)
            else:
                pla = ol1[np.uint64(i)]
                h = pla + hi
                low = two_sum_err(pla, hi, h) + lo
                if not math.isfinite(h):
                    low = zero
                rs, rl = settle_log(os1[np.uint64(i)] * sg, h + low, zero, nan)
        os1[np.uint64(i)], ol1[np.uint64(i)] = rs, rl
        if i >= 1:  # S_{i-1} = x_i S_i
            v, sx = la1[np.uint64(i)], sg1[np.uint64(i)]
            if i == n - 1:
                s, c = fresh(v, zero)
                sg = sx
            else:
                if k == 0:
                    s, c = reseed(s, c, zero)
                    seeded = True
                s, c = add(s, c, v, seeded, zero)
                sg = sg * sx
        k = rows - 1 if k == 0 else k - 1
    return sg, s, c, seeded


@helper
def log_scan(sg1, la1, os1, ol1, i0, i1, n, rows, exclusive, reverse, sg, s, c, seeded, zero, nan):  # type: ignore[no-untyped-def]
    """Running products over [i0, i1), in reverse from the end.  A block
    of the portable scan starts where ``k`` (i, or i + 1 in reverse,
    modulo rows) is 0."""
    k = (i1 % rows) if reverse else (i0 % rows)
    for t in range(i1 - i0):
        i = i1 - 1 - t if reverse else i0 + t
        v, sx = la1[np.uint64(i)], sg1[np.uint64(i)]
        if i == (n - 1 if reverse else 0):
            s, c = fresh(v, zero)
            sg = sx
        else:
            if k == 0:
                s, c = reseed(s, c, zero)
                seeded = True
            s, c = add(s, c, v, seeded, zero)
            sg = sg * sx
        if reverse:
            k = rows - 1 if k == 0 else k - 1
        else:
            k = 0 if k == rows - 1 else k + 1
        hi, lo = split(s, c, zero)
        rs, rl = settle_log(sg, hi + lo, zero, nan)
        j = i if not exclusive else i - 1 if reverse else i + 1
        if 0 <= j < n:
            os1[np.uint64(j)], ol1[np.uint64(j)] = rs, rl
    return sg, s, c, seeded


@kernel
def log_loo(sg3, la3, os3, ol3, rows):  # type: ignore[no-untyped-def]
    zero, nan = la3.dtype.type(0.0), la3.dtype.type(math.nan)
    outer, n, inner = la3.shape
    group, tile = max(1, min(inner, GROUP)), max(n, 1) if inner == 1 else TILE
    sg, s = np.ones(group, la3.dtype), np.zeros(group, la3.dtype)
    c, seeded = np.zeros(group, la3.dtype), np.zeros(group, dtype=np.bool_)
    for o in range(outer):
        for g in range(0, inner, group):
            lanes = range(min(group, inner - g))
            for j in lanes:
                sg[j], s[j], c[j], seeded[j] = 1, 0, 0, False
            for t in range(0, n, tile):
                for j in lanes:
                    sg[j], s[j], c[j], seeded[j] = log_forward(
                        sg3[o, :, g + j], la3[o, :, g + j], os3[o, :, g + j], ol3[o, :, g + j],
                        t, min(t + tile, n), n, rows, sg[j], s[j], c[j], seeded[j], zero, nan,
                    )  # fmt: skip
            for j in lanes:
                sg[j], s[j], c[j], seeded[j] = 1, 0, 0, False
            for t in range(last_tile(n, tile), -1, -tile):
                for j in lanes:
                    sg[j], s[j], c[j], seeded[j] = log_backward(
                        sg3[o, :, g + j], la3[o, :, g + j], os3[o, :, g + j], ol3[o, :, g + j],
                        t, min(t + tile, n), n, rows, sg[j], s[j], c[j], seeded[j], zero, nan,
                    )  # fmt: skip


@kernel
def log_cumprod(sg3, la3, os3, ol3, rows, exclusive, reverse):  # type: ignore[no-untyped-def]
    zero, nan = la3.dtype.type(0.0), la3.dtype.type(math.nan)
    outer, n, inner = la3.shape
    group, tile = max(1, min(inner, GROUP)), max(n, 1) if inner == 1 else TILE
    sg, s = np.ones(group, la3.dtype), np.zeros(group, la3.dtype)
    c, seeded = np.zeros(group, la3.dtype), np.zeros(group, dtype=np.bool_)
    for o in range(outer):
        for g in range(0, inner, group):
            lanes = range(min(group, inner - g))
            for j in lanes:
                sg[j], s[j], c[j], seeded[j] = 1, 0, 0, False
            for t in range(last_tile(n, tile), -1, -tile) if reverse else range(0, n, tile):
                for j in lanes:
                    sg[j], s[j], c[j], seeded[j] = log_scan(
                        sg3[o, :, g + j], la3[o, :, g + j], os3[o, :, g + j], ol3[o, :, g + j],
                        t, min(t + tile, n), n, rows, exclusive, reverse,
                        sg[j], s[j], c[j], seeded[j], zero, nan,
                    )  # fmt: skip
            if exclusive and n > 0:
                for j in lanes:
                    os3[o, n - 1 if reverse else 0, g + j] = 1
                    ol3[o, n - 1 if reverse else 0, g + j] = 0


def products_log(
    sg3: np.ndarray,
    la3: np.ndarray,
    os3: np.ndarray,
    ol3: np.ndarray,
    loo: bool,
    exclusive: bool,
    reverse: bool,
    rows: int,
) -> None:
    """LogReal leave-one-out or (exclusive) cumprod, replaying blocks of ``rows``."""
    if loo:
        log_loo(sg3, la3, os3, ol3, rows)
    else:
        log_cumprod(sg3, la3, os3, ol3, rows, exclusive, reverse)
