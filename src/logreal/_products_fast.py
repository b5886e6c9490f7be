"""Numba kernels for the dp leave-one-out products and for cumprod, without ``op``.

Overrides of the portable algorithms of :mod:`logreal._products` for float32 and
float64 NumPy arrays of the two commutative number classes, registered with
:func:`logreal._fast.builder` and used only through :func:`logreal._fast.kernel`
(so ``LOGREAL_KERNELS=portable`` and ``_fast.portable()`` switch them off).  A
kernel sees the input as an ``(outer, n, inner)`` view, the sequence in the
middle (:func:`lanes`), and runs along each lane: one forward pass, and for
leave-one-out one backward sweep with a running suffix.  Nothing is allocated
beyond the output.

Real floats.  A running product is kept in scaled form, a float mantissa ``m``
and an integer exponent ``e`` (the value ``m * 2**e``), computed in float64.  A
step multiplies ``m`` by the factor and renormalises by ``frexp`` only when the
product leaves ``[2**-400, 2**400]`` (a factor outside ``[2**-500, 2**500]`` is
split first), so every product is a normal float: it carries exactly the
rounding of the exact product, whatever the range of the partial products.  A
result ``m * 2**e`` is rounded once when written (``fin``, the correctly
rounded ``ldexp``).  Leave-one-out writes the prefix mantissa of every even
position into the output, 64 bits over the slots of the pair (so float32 output
holds them too); the backward sweep reads a pair's mantissa back, recomputes the
odd one by the same step, and recovers each prefix exponent from the next one
by subtracting that step's increment.  The products are formed left to right,
one rounding each, as the portable path forms them while the partial products
stay in range (there the results are bitwise equal); where they leave it, the
portable exact path groups the mantissas in rows and both are within the same
bound of the exact product.

LogReal.  The portable compensated running sums of the logs (TwoSum errors
summed on the side, re-seeded at every block of ``rows`` elements) and the
running sign products, replayed element by element in the input's precision:
the results are bitwise those of the portable path, zeros, infinities and nans
included.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _fast
from ._backend import Array, Namespace

__all__ = ["EXCLUSIVE", "INCLUSIVE", "LOO", "lanes", "log", "real"]

LOO, INCLUSIVE, EXCLUSIVE = 0, 1, 2  # leave-one-out, cumprod, exclusive cumprod

# The scaled form of real products: mantissas stay in [M_LO, M_HI], factors in
# [X_LO, X_HI] multiply them directly, so products of two mantissas or of a
# mantissa and a factor are normal floats.
M_LO, M_HI = 2.0**-400, 2.0**400
X_LO, X_HI = 2.0**-500, 2.0**500
# Along an inner axis, GROUP neighbouring lanes go together, TILE positions
# at a time (even, for the real kernel's pairs), so each cache line is read once.
GROUP, TILE = 16, 128


# ---------------------------------------------------------------------------
# Planning: the sequence of an array as lanes of a 3-d view.


def merged_stride(shape: tuple[int, ...], strides: tuple[int, ...]) -> int | None:
    """The stride of the axes ``shape`` merged into one, or None if they
    cannot be (no view exists).  Length-1 axes do not count."""
    if 0 in shape:
        return 0
    axes = [(d, s) for d, s in zip(shape, strides, strict=True) if d != 1]
    for (_, outer), (d, inner) in itertools.pairwise(axes):
        if outer != inner * d:
            return None
    return axes[-1][1] if axes else 0


def lanes(a: np.ndarray, axis: int) -> np.ndarray | None:
    """``a`` as an ``(outer, n, inner)`` view with ``axis`` in the middle, or None."""
    shape, strides = tuple(a.shape), tuple(a.strides)
    before = merged_stride(shape[:axis], strides[:axis])
    after = merged_stride(shape[axis + 1 :], strides[axis + 1 :])
    if before is None or after is None:
        return None
    return np.lib.stride_tricks.as_strided(
        a,
        (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])),
        (before, strides[axis], after),
        writeable=False,
    )


def real(xp: Namespace, x: Array, axis: int, mode: int, reverse: bool = False) -> Array | None:
    """Leave-one-out (``mode=LOO``) or cumprod of real floats along ``axis`` by
    the compiled kernel, or None where it does not apply."""
    fn = _fast.kernel("products_real", xp, x)
    x3 = None if fn is None or not x.dtype.isnative else lanes(x, axis)
    if fn is None or x3 is None:
        return None
    out = np.empty(x3.shape, dtype=x.dtype)
    wide = x.dtype.itemsize == 8
    fn(x3, out.view(np.uint64 if wide else np.uint32), mode, reverse, wide)
    return out.reshape(x.shape)


def log(
    xp: Namespace,
    sign: Array,
    logabs: Array,
    axis: int,
    mode: int,
    reverse: bool,
    rows: int,
) -> tuple[Array, Array] | None:
    """(sign, logabs) of the LogReal leave-one-out products or cumprod along
    ``axis``, replaying the portable blocks of ``rows`` elements; or None."""
    fn = _fast.kernel("products_log", xp, sign, logabs)
    if fn is None or not logabs.dtype.isnative:
        return None
    s3, l3 = lanes(sign, axis), lanes(logabs, axis)
    if s3 is None or l3 is None:
        return None
    out_s = np.empty(l3.shape, dtype=logabs.dtype)
    out_l = np.empty(l3.shape, dtype=logabs.dtype)
    fn(s3, l3, out_s, out_l, mode, reverse, rows)
    return out_s.reshape(logabs.shape), out_l.reshape(logabs.shape)


# ---------------------------------------------------------------------------
# Real floats in scaled form.


@_fast.builder("products_real")
def _real_kernel() -> Callable[..., Any]:
    import numba

    jit = numba.njit(nogil=True)  # no fastmath: each operation rounds as in NumPy
    last_tile = jit(_last_tile)
    inf = math.inf
    u32 = np.uint64(0xFFFFFFFF)
    s32, s52 = np.uint64(32), np.uint64(52)

    @jit
    def pow2(k):  # 2.0**k for -1074 <= k <= 1023, from its bits
        if k >= -1022:
            return np.uint64(np.uint64(k + 1023) << s52).view(np.float64)
        return np.uint64(np.uint64(1) << np.uint64(k + 1074)).view(np.float64)

    @jit
    def rescaled(m, x):  # step's slow path
        d = np.int64(0)
        ax = abs(x)
        if (ax >= X_LO and ax <= X_HI) or ax == 0.0 or not ax < inf:
            p = m * x
        else:  # a huge, tiny or subnormal factor: its mantissa
            mx, k = math.frexp(x)
            p = m * mx
            d = np.int64(k)
        ap = abs(p)
        if not (ap >= M_LO and ap <= M_HI) and ap != 0.0 and ap < inf:
            p, k = math.frexp(p)
            d += np.int64(k)
        return p, d

    @jit
    def step(m, x):
        """``m * x`` as (mantissa, exponent increment); see the module notes."""
        p = m * x
        ap, ax = abs(p), abs(x)
        if ap >= M_LO and ap <= M_HI and ax >= X_LO and ax <= X_HI:
            return p, np.int64(0)
        return rescaled(m, x)

    @jit
    def fin(q, e):
        """``q * 2**e`` correctly rounded (``q`` a product of two mantissas)."""
        return q if e == 0 else scaled(q, e)

    @jit
    def scaled(q, e):  # fin's slow path
        aq = abs(q)
        if aq == 0.0 or not aq < inf:
            return q
        if e >= -1022 and e <= 1023:
            return q * pow2(e)  # an exact power of two: one rounding
        if e > 3000 or e < -3000:  # |q| lies within 2**+-800
            return math.copysign(inf if e > 0 else 0.0, q)
        mq, k = math.frexp(q)
        e2 = e + np.int64(k)  # q * 2**e = mq * 2**e2, mq in [1/2, 1)
        if e2 > 1024:
            return math.copysign(inf, q)
        if e2 < -1074:
            return math.copysign(0.0, q)
        if e2 >= -1021:
            return (mq * 2.0) * pow2(e2 - 1)  # exact
        return mq * pow2(e2)  # a subnormal power of two: one rounding

    @jit
    def put_pair(ob, i, m, wide):  # m's 64 bits into slot i (and i + 1)
        bits = np.float64(m).view(np.uint64)
        if wide:
            ob[np.uint64(i)] = bits
        else:
            ob[np.uint64(i)] = np.uint32(bits & u32)
            ob[np.uint64(i + 1)] = np.uint32(bits >> s32)

    @jit
    def get_pair(ob, i, wide):
        if wide:
            return np.uint64(ob[np.uint64(i)]).view(np.float64)
        low, high = np.uint64(ob[np.uint64(i)]), np.uint64(ob[np.uint64(i + 1)])
        return np.uint64(low | (high << s32)).view(np.float64)

    @jit
    def put(ob, i, r, wide):  # a result, rounded to the output's dtype
        if wide:
            ob[np.uint64(i)] = np.float64(r).view(np.uint64)
        else:
            ob[np.uint64(i)] = np.float32(r).view(np.uint32)

    @jit
    def forward(x, ob, i0, i1, m, e, wide):
        """Prefixes over [i0, i1) (i0 even): the mantissas of even positions
        into the output; an odd last position's prefix is returned as ``tail``."""
        i, tail = i0, m
        while i + 1 < i1:
            put_pair(ob, i, m, wide)
            m, d = step(m, np.float64(x[np.uint64(i)]))
            e += d
            m, d = step(m, np.float64(x[np.uint64(i + 1)]))
            e += d
            i += 2
        if i < i1:
            tail = m
            m, d = step(m, np.float64(x[np.uint64(i)]))
            e += d
        return m, e, tail

    @jit
    def backward(x, ob, i0, i1, n, tail, sm, se, e_next, wide):
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

    @jit
    def scan(x, ob, i0, i1, m, e, exclusive, reverse, wide):
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

    def loo(x, ob, wide):
        outer, n, inner = x.shape
        group, tile = max(1, min(inner, GROUP)), max(n, 1) if inner == 1 else TILE
        m, tail = np.ones(group), np.ones(group)
        e, se = np.zeros(group, dtype=np.int64), np.zeros(group, dtype=np.int64)
        for o in range(outer):
            for g in range(0, inner, group):
                lanes = range(min(group, inner - g))
                for j in lanes:
                    m[j], e[j] = 1.0, 0
                for t in range(0, n, tile):
                    for j in lanes:
                        m[j], e[j], tail[j] = forward(
                            x[o, :, g + j], ob[o, :, g + j], t, min(t + tile, n), m[j], e[j], wide
                        )
                for j in lanes:  # now (m, se) is the running suffix, e the next prefix's exponent
                    m[j], se[j] = 1.0, 0
                for t in range(last_tile(n, tile), -1, -tile):
                    for j in lanes:
                        m[j], se[j], e[j] = backward(
                            x[o, :, g + j], ob[o, :, g + j], t, min(t + tile, n), n, tail[j],
                            m[j], se[j], e[j], wide,
                        )  # fmt: skip

    def cumprod(x, ob, exclusive, reverse, wide):
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
                        m[j], e[j] = scan(
                            x[o, :, g + j], ob[o, :, g + j], t, min(t + tile, n), m[j], e[j],
                            exclusive, reverse, wide,
                        )  # fmt: skip

    def signature(x: np.ndarray, ob: np.ndarray, *flags: Any) -> Any:
        out = numba.types.Array(numba.from_dtype(ob.dtype), 3, "A")
        return numba.void(readonly(x), out, *(numba.boolean,) * len(flags))

    kernels = {LOO: _per_dtype(loo, signature), INCLUSIVE: _per_dtype(cumprod, signature)}

    def products_real(x: Array, ob: Array, mode: int, reverse: bool, wide: bool) -> None:
        if mode == LOO:
            kernels[LOO](x, ob, wide)
        else:
            kernels[INCLUSIVE](x, ob, mode == EXCLUSIVE, reverse, wide)

    return products_real


# ---------------------------------------------------------------------------
# LogReal: the portable compensated sums, replayed.


@_fast.builder("products_log")
def _log_kernel() -> Callable[..., Any]:
    import numba

    jit = numba.njit(nogil=True)
    last_tile = jit(_last_tile)

    @jit
    def two_sum_err(a, b, s):  # _numclass._two_sum_err
        bb = s - a
        return (a - (s - bb)) + (b - bb)

    @jit
    def fresh(v, zero):
        """The first term of an unseeded scan: the running pair (s, c)."""
        h = zero + v
        return v, (h - v) + two_sum_err(zero, v, h)

    @jit
    def split(s, c, zero):
        """The (hi, lo) of the running pair (_compensated_cumsum's output)."""
        if math.isfinite(s):
            hi = s + c
            return hi, c - (hi - s)
        return s, zero

    @jit
    def reseed(s, c, zero):
        """A seeded scan's first term: the pair's own (hi, lo) as the seed."""
        hi, lo = split(s, c, zero)
        h = zero + hi
        return hi, (h - hi) + two_sum_err(zero, hi, h) + lo

    @jit
    def add(s, c, v, seeded, zero):
        """One more log; a seeded scan adds its (zero) low parts as well."""
        h = s + v
        d = (h - h) + two_sum_err(s, v, h)
        if seeded:
            d = d + zero
        return h, c + d

    @jit
    def finish(sg, la, zero, nan):  # _numclass.Log._finish
        if la == -math.inf:
            sg = zero
        if la != la:
            sg = nan
        return sg, la

    @jit
    def forward(sg1, la1, os1, ol1, i0, i1, n, rows, sg, s, c, seeded, zero, nan):
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
            os1[np.uint64(i + 1)], ol1[np.uint64(i + 1)] = finish(sg, hi + lo, zero, nan)
        return sg, s, c, seeded

    @jit
    def backward(sg1, la1, os1, ol1, i0, i1, n, rows, sg, s, c, seeded, zero, nan):
        """Results over [i0, i1) from the end: the running suffix S_i times
        the stored prefix P_i (Log.mul, then Log._finish)."""
        k = (i1 - 1) % rows
        for i in range(i1 - 1, i0 - 1, -1):
            if n == 1:
                rs, rl = zero + 1, zero
            elif i == n - 1:
                rs, rl = finish(os1[np.uint64(i)], ol1[np.uint64(i)], zero, nan)
            else:
                hi, lo = split(s, c, zero)
                if i == 0:
                    rs, rl = finish(sg, hi + lo, zero, nan)
                else:
                    pla = ol1[np.uint64(i)]
                    h = pla + hi
                    low = two_sum_err(pla, hi, h) + lo
                    if not math.isfinite(h):
                        low = zero
                    rs, rl = finish(os1[np.uint64(i)] * sg, h + low, zero, nan)
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

    @jit
    def scan(sg1, la1, os1, ol1, i0, i1, n, rows, exclusive, reverse, sg, s, c, seeded, zero, nan):
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
            rs, rl = finish(sg, hi + lo, zero, nan)
            j = i if not exclusive else i - 1 if reverse else i + 1
            if 0 <= j < n:
                os1[np.uint64(j)], ol1[np.uint64(j)] = rs, rl
        return sg, s, c, seeded

    def loo(sg3, la3, os3, ol3, rows):
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
                        v = (
                            sg3[o, :, g + j],
                            la3[o, :, g + j],
                            os3[o, :, g + j],
                            ol3[o, :, g + j],
                        )
                        sg[j], s[j], c[j], seeded[j] = forward(
                            *v, t, min(t + tile, n), n, rows, sg[j], s[j], c[j], seeded[j],
                            zero, nan,
                        )  # fmt: skip
                for j in lanes:
                    sg[j], s[j], c[j], seeded[j] = 1, 0, 0, False
                for t in range(last_tile(n, tile), -1, -tile):
                    for j in lanes:
                        v = (
                            sg3[o, :, g + j],
                            la3[o, :, g + j],
                            os3[o, :, g + j],
                            ol3[o, :, g + j],
                        )
                        sg[j], s[j], c[j], seeded[j] = backward(
                            *v, t, min(t + tile, n), n, rows, sg[j], s[j], c[j], seeded[j],
                            zero, nan,
                        )  # fmt: skip

    def cumprod(sg3, la3, os3, ol3, rows, exclusive, reverse):
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
                        v = (
                            sg3[o, :, g + j],
                            la3[o, :, g + j],
                            os3[o, :, g + j],
                            ol3[o, :, g + j],
                        )
                        sg[j], s[j], c[j], seeded[j] = scan(
                            *v, t, min(t + tile, n), n, rows, exclusive, reverse,
                            sg[j], s[j], c[j], seeded[j], zero, nan,
                        )  # fmt: skip
                if exclusive and n > 0:
                    for j in lanes:
                        os3[o, n - 1 if reverse else 0, g + j] = 1
                        ol3[o, n - 1 if reverse else 0, g + j] = 0

    def signature(sign: np.ndarray, *args: Any) -> Any:
        out = numba.types.Array(numba.from_dtype(sign.dtype), 3, "A")
        flags = (numba.boolean,) * (len(args) - 4)
        return numba.void(readonly(sign), readonly(sign), out, out, numba.int64, *flags)

    kernels = {LOO: _per_dtype(loo, signature), INCLUSIVE: _per_dtype(cumprod, signature)}

    def products_log(
        sg3: Array, la3: Array, os3: Array, ol3: Array, mode: int, reverse: bool, rows: int
    ) -> None:
        if mode == LOO:
            kernels[LOO](sg3, la3, os3, ol3, rows)
        else:
            kernels[INCLUSIVE](sg3, la3, os3, ol3, rows, mode == EXCLUSIVE, reverse)

    return products_log


def _last_tile(n: int, tile: int) -> int:
    """The start of the last tile of ``tile`` positions covering [0, n)."""
    return (n - 1) // tile * tile if n else 0


def readonly(a: np.ndarray) -> Any:
    """The Numba type of a 3-d array of ``a``'s dtype, any layout, read only."""
    import numba

    return numba.types.Array(numba.from_dtype(a.dtype), 3, "A", readonly=True)


def _per_dtype(body: Callable[..., None], signature: Callable[..., Any]) -> Callable[..., None]:
    """``body`` compiled once per input dtype, for one signature (any layout),
    so that views of every layout share a compilation."""
    import numba

    compiled: dict[Any, Callable[..., None]] = {}

    def run(*args: Any) -> None:
        fn = compiled.get(args[0].dtype)
        if fn is None:
            fn = numba.njit(signature(*args), nogil=True)(body)
            compiled[args[0].dtype] = fn
        fn(*args)

    return run
