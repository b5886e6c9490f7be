"""Numba kernels for real norms: one fused pass over each contiguous row.

Overrides of the portable state algorithm (:mod:`logreal._norms_state`) for
float32 and float64 NumPy rows, registered with :func:`logreal._fast.builder`
and used only through :func:`logreal._fast.kernel` (so ``LOGREAL_KERNELS=portable``
and ``_fast.portable()`` switch them off).  A kernel reads a C-contiguous
(rows, cols) band row by row in blocks of ``BLOCK`` elements and writes each
row's *partial* in the portable form: ``(scale, hi, lo, nan, inf)`` with
``sum |x|**p = scale**p * (hi + lo)`` for finite p != 0, ``(extreme |x|, nan)``
for p = +-inf, ``(count,)`` for p = 0.  The portable merge and finish
(:meth:`Reduction.merge`, :meth:`Reduction.finish`: the Newton-corrected root,
the log) do the rest, so the special-value rules and the root are shared.

* **p = 1, 2.**  A running power-of-two scale ``2**gE``.  Each block is
  scaled by a power of two ``2**(G - g)`` onto a grid and split at the
  integers, ``z = h + l``; the integer parts' powers (``h**2`` or ``h``) sum
  exactly (the block's total stays below 2**52, whatever the order of the
  vectorised sum), and only the remainders ``l (z + h)`` (p = 2) or ``l``
  (p = 1) are rounded.  The grid exponent ``g`` of the previous block is tried
  first; the block's exact total tells whether it fits (below 2**52: exact;
  above ``LOW``: the remainders are small), else the block is scanned for its
  largest ``|x|`` (and for inf/nan) and summed again on its own grid.  Blocks
  merge into the running double-double sum, rescaled exactly by a power of two
  when a larger exponent appears.
* **Other finite p.**  Per block the extreme ``|x|`` ``m`` (largest for
  p > 0, smallest for p < 0) and the terms ``(|x| / m)**p`` in [0, 1],
  computed as ``exp(p (log|x| - log m))`` in double-double (a vectorised
  log and exp written here; about 0.6 ulp per term, and ``m``'s own term
  exactly 1), summed on a grid as above.  The blocks' sums are kept and merged
  once at the end of the row by the factors ``(m_b / M)**p`` (as the portable
  merge of tiles; a running rescale by inexact factors would compound).
* **p = inf, -inf, 0.**  Largest or smallest ``|x|`` as integer bit patterns
  (nan sorts above inf), the nan flag, the count of nonzeros.

Rows of at least ``2 * CHUNK`` elements are cut into chunks of ``CHUNK`` that
run on ``THREADS`` threads (the kernels release the GIL); the chunks'
partials merge as tiles do.  The cut depends only on the row's length, so the
result does not depend on the number of threads.  No full-size temporary:
float32 is widened to float64 chunk by chunk, and a band that is not
C-contiguous (a tile of a strided view) is copied tile by tile.  The accuracy
argument, the bounds and the measured speed are in ``docs/norms.md``.
"""

from __future__ import annotations

import concurrent.futures
import functools
import math
import os
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from . import _fast
from ._backend import Namespace

__all__ = ["BLOCK", "CHUNK", "THREADS", "chunk_partials", "rows_kernel"]

# Elements per block: a block is re-read from the L1 cache when its grid does
# not fit.  A power of two; the tests make it tiny so every merge path runs.
BLOCK = 1 << 10
# A row of at least two chunks is cut into chunks of this many elements, whose
# partials merge as tiles do.  The cut depends only on the row's length, so
# the result does not depend on how many threads share the chunks.
CHUNK = 1 << 18
# Threads that share the chunks of a long row (the kernels release the GIL).
THREADS = min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)

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


def rows_kernel(p: float, xp: Namespace, w: Any) -> Callable[[Any], tuple[Any, ...]] | None:
    """A function from a 2-D band of rows of ``w`` to their partials, or None.

    None unless the compiled kernels apply (NumPy float32/float64, Numba
    importable, kernels enabled).  A band is copied when it is not a
    C-contiguous float64 array (a tile of a strided view, a chunk of float32:
    cache-sized).
    """
    if p in (math.inf, -math.inf):
        name = "norm_extreme"
    elif p == 0:
        name = "norm_count"
    else:
        name = {1: "norm_p1", 2: "norm_p2"}.get(p, "norm_power")  # type: ignore[call-overload]
    kernel = _fast.kernel(name, xp, w)
    if kernel is None:
        return None
    return functools.partial(_partials, kernel, p, BLOCK)


def _partials(kernel: Callable[..., Any], p: float, block: int, t: Any) -> tuple[Any, ...]:
    t = np.ascontiguousarray(t, dtype=np.float64)
    rows = t.shape[0]
    if p in (math.inf, -math.inf):
        m, nan = np.empty(rows), np.empty(rows, dtype=bool)
        kernel(t, p > 0, m, nan)
        return m, nan
    if p == 0:
        count = np.empty(rows)
        kernel(t, count)
        return (count,)
    b = block.bit_length() - 1
    if p in (1, 2):
        args: tuple[Any, ...] = _p12_args(int(p), block)
    else:  # terms are at most 1: on the grid 2**-(52 - b) a block's sum is exact
        args = (p, block, 52 - b)
    out = (np.empty(rows), np.empty(rows), np.empty(rows))
    flags = (np.empty(rows, dtype=bool), np.empty(rows, dtype=bool))
    kernel(t, *args, *out, *flags)
    return (*out, *flags)


def chunk_partials(fn: Callable[[Any], tuple[Any, ...]], band: Any) -> list[tuple[Any, ...]]:
    """The partials of ``band`` (whole rows) by ``fn``, in chunks of ``CHUNK`` columns.

    The calling thread works through the chunks together with up to
    ``THREADS - 1`` helpers, each taking the next chunk not yet taken: on a
    busy machine the caller does most of the work itself instead of waiting.
    float32 rows are always cut (each chunk is widened to float64 on its own).
    """
    cols = band.shape[1]
    if cols < 2 * CHUNK and (band.dtype == np.float64 or cols <= CHUNK):
        return [fn(band)]
    pieces = [band[:, j : j + CHUNK] for j in range(0, cols, CHUNK)]
    if THREADS == 1:
        return [fn(q) for q in pieces]
    out: list[tuple[Any, ...]] = [()] * len(pieces)
    todo = iter(range(len(pieces)))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            out[i] = fn(pieces[i])

    helpers = [_pool().submit(work) for _ in range(min(THREADS, len(pieces)) - 1)]
    work()
    for helper in helpers:
        helper.result()
    return out


@functools.cache
def _pool() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(THREADS - 1, thread_name_prefix="logreal-norm")


def _p12_args(p: int, block: int) -> tuple[int, int, float]:
    """``(block, G, LOW)`` for p = 1, 2: the grid ``2**G`` holds a block's largest ``|x|``.

    With ``block = 2**b`` a block's integer parts' powers sum below 2**52
    when every ``|h| <= 2**G``.  ``LOW`` is the least exact total for which the
    rounded remainders stay below 2**-56 of the block's sum (a guessed grid
    may be a few bits coarser than the block's own).
    """
    b = block.bit_length() - 1
    if p == 2:
        g = (52 - b) // 2
        return block, g, 2.0 ** (2 * g - 6)
    g = 52 - b
    return block, g, 2.0 ** (g - 12)


# ---------------------------------------------------------------------------
# Compiled helpers, shared by the kernels (built once, on first use).


@functools.cache
def _lib() -> SimpleNamespace:
    import numba
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def bits(typingctx, v):  # type: ignore[no-untyped-def]
        """The IEEE bits of a float64 as an int64."""

        def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
            return builder.bitcast(args[0], ir.IntType(64))

        return types.int64(types.float64), codegen

    @intrinsic
    def from_bits(typingctx, b):  # type: ignore[no-untyped-def]
        """The float64 with these IEEE bits."""

        def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
            return builder.bitcast(args[0], ir.DoubleType())

        return types.float64(types.int64), codegen

    @intrinsic
    def fma(typingctx, a, b, c):  # type: ignore[no-untyped-def]
        """``a * b + c`` with one rounding (llvm.fma)."""

        def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
            d = ir.DoubleType()
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(d, [d, d, d]), "llvm.fma.f64"
            )
            return builder.call(fn, args)

        f8 = types.float64
        return f8(f8, f8, f8), codegen

    @intrinsic
    def prefetch(typingctx, arr, i):  # type: ignore[no-untyped-def]
        """Ask for the cache line of ``arr[i]`` (llvm.prefetch; no effect on values)."""

        def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
            arrty = sig.args[0]
            ary = context.make_array(arrty)(context, builder, value=args[0])
            ptr = cgutils.get_item_pointer2(
                context,
                builder,
                data=ary.data,
                shape=cgutils.unpack_tuple(builder, ary.shape),
                strides=cgutils.unpack_tuple(builder, ary.strides),
                layout=arrty.layout,
                inds=[args[1]],
                wraparound=False,
                boundscheck=False,
            )
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fn = cgutils.get_or_insert_function(
                builder.module,
                ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                "llvm.prefetch.p0",
            )
            read, keep, data = ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)
            builder.call(fn, [builder.bitcast(ptr, i8p), read, keep, data])
            return context.get_dummy_value()

        return types.void(arr, types.intp), codegen

    jit = functools.partial(numba.njit, nogil=True, error_model="numpy")
    helper = functools.partial(numba.njit, error_model="numpy")
    # per-element functions of the vectorised loops: inlined by Numba (LLVM
    # would keep them as calls, which do not vectorise)
    inline = functools.partial(numba.njit, inline="always", error_model="numpy")

    # Reduction steps that may be reassociated (and so vectorised): used only
    # for sums that are exact in any order, or whose rounding the bounds
    # already take as order-free (B u per term).  Not inlined by Numba, so
    # the flag stays on these additions only.
    @numba.njit(fastmath={"reassoc"})
    def radd(acc, a):  # type: ignore[no-untyped-def]
        return acc + a

    @numba.njit(fastmath={"reassoc", "contract"})
    def racc(acc, a, b):  # type: ignore[no-untyped-def]
        return acc + a * b

    @helper
    def pow2(k):  # type: ignore[no-untyped-def]
        """``2.0**k`` exactly for integer k (0 below 2**-1074, inf above 2**1023)."""
        if k > 1023:
            return math.inf
        if k >= -1022:
            return from_bits((k + 1023) << 52)
        if k >= -1074:
            return from_bits(1 << (k + 1074))
        return 0.0

    @helper
    def scale2(v, k):  # type: ignore[no-untyped-def]
        """``v * 2.0**k``, exact unless it under- or overflows (|k| up to 2200)."""
        k = max(min(k, 2200), -2200)
        half = k // 2
        return (v * pow2(half)) * pow2(k - half)

    @helper
    def exponent(b):  # type: ignore[no-untyped-def]
        """frexp's ``e`` (``2**(e-1) <= v < 2**e``) of the positive finite v with bits b."""
        if b >= 1 << 52:
            return (b >> 52) - 1022
        return (bits(float(b)) >> 52) - 1023 + 1 - 1074  # subnormal: bit length - 1074

    @helper
    def dd_add(s_hi, s_lo, a, r):  # type: ignore[no-untyped-def]
        """``(s_hi + s_lo) + (a + r)`` as a normalised double-double (``a`` exact)."""
        s = s_hi + a
        bb = s - s_hi
        err = (s_hi - (s - bb)) + (a - bb)
        err = err + (s_lo + r)
        hi = s + err
        return hi, err - (hi - s)

    @helper
    def scan(v):  # type: ignore[no-untyped-def]
        """Largest and smallest ``|x|`` bits of the block ``v`` (nan above inf), any inf.

        (Loops over blocks run from 0 over a slice: an index Numba knows is
        not negative is read with a plain vector load, not a gather.)
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

    @inline
    def log_parts(a):  # type: ignore[no-untyped-def]
        """``log a = k ln2 + (hi + lo)`` for positive finite a; |error| < 2**-57.

        ``a = 2**k f``, f in [sqrt(1/2), sqrt(2)); ``log f = 2 atanh(s)``,
        ``s = (f - 1) / (f + 1)`` in double-double (the remainder of the
        division exact by fma), then the odd series in s.
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

        ``y = n ln2 + r`` (Cody-Waite, exact), then the Taylor series of
        ``exp r`` and ``1 + r`` as a double-double: about 0.6 ulp.
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

    @inline
    def term(a, p, km, hm, lm):  # type: ignore[no-untyped-def]
        """``(a / m)**p`` in [0, 1] from ``log m = km ln2 + hm + lm``; a = 0 or inf too.

        ``log(a / m)`` is formed from the two logs in double-double (no
        quotient: it could under- or overflow), ``y = p log(a / m)`` by an
        exact fma product, then :func:`exp_dd`.
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

    # the same, called rather than inlined: for the few calls outside the loops
    log_parts_call = helper(log_parts.py_func)  # type: ignore[attr-defined]
    term_call = helper(term.py_func)  # type: ignore[attr-defined]

    return SimpleNamespace(
        jit=jit,
        bits=bits,
        from_bits=from_bits,
        fma=fma,
        prefetch=prefetch,
        radd=radd,
        racc=racc,
        pow2=pow2,
        scale2=scale2,
        exponent=exponent,
        dd_add=dd_add,
        scan=scan,
        log_parts=log_parts,
        term=term,
        log_parts_call=log_parts_call,
        term_call=term_call,
    )


# ---------------------------------------------------------------------------
# The kernels.


@_fast.builder("norm_p2")
def _build_p2() -> Callable[..., Any]:
    return _p12_kernel(2)


@_fast.builder("norm_p1")
def _build_p1() -> Callable[..., Any]:
    return _p12_kernel(1)


def _p12_kernel(p: int) -> Callable[..., Any]:
    """The kernel for p = 1 or 2 (a separate compilation each: one loop per block)."""
    lib = _lib()
    radd, racc, scan, exponent = lib.radd, lib.racc, lib.scan, lib.exponent
    pow2, scale2, dd_add, prefetch = lib.pow2, lib.scale2, lib.dd_add, lib.prefetch

    @lib.jit
    def grid_sum(v, g, big_g):  # type: ignore[no-untyped-def]
        """Exact sum of the integer parts' powers and the rounded remainders' sum."""
        k = big_g - g
        if k > 1023:  # a block of values below 2**-1002: scale in two exact steps
            return grid_sum_tiny(v, pow2(k // 2), pow2(k - k // 2))
        s = pow2(k)
        acc = 0.0
        rest = 0.0
        for i in range(v.shape[0]):
            z = abs(float(v[i])) * s
            h = np.rint(z)
            if p == 2:
                acc = racc(acc, h, h)
                rest = racc(rest, z - h, z + h)  # z**2 - h**2
            else:
                acc = radd(acc, h)
                rest = radd(rest, z - h)
        return acc, rest

    @lib.jit
    def grid_sum_tiny(v, s1, s2):  # type: ignore[no-untyped-def]
        acc = 0.0
        rest = 0.0
        for i in range(v.shape[0]):
            z = (abs(float(v[i])) * s1) * s2
            h = np.rint(z)
            acc += h * h if p == 2 else h
            rest += (z - h) * (z + h) if p == 2 else z - h
        return acc, rest

    @lib.jit
    def p12(x, block, big_g, low, scale, hi, lo, nan, inf):  # type: ignore[no-untyped-def]
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
                for q in range(b1, min(b1 + block, n), 8):  # the next block, 8 per line
                    prefetch(row, q)
                fits = False
                acc, rest = 0.0, 0.0
                if g != _NO:
                    acc, rest = grid_sum(row[b0:b1], g, big_g)
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
                    acc, rest = grid_sum(row[b0:b1], g, big_g)
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

    return p12  # type: ignore[no-any-return]


@_fast.builder("norm_power")
def _build_power() -> Callable[..., Any]:
    lib = _lib()
    radd, scan, pow2, dd_add = lib.radd, lib.scan, lib.pow2, lib.dd_add
    from_bits, fma, log_parts, term = lib.from_bits, lib.fma, lib.log_parts, lib.term
    log_parts_call, term_call = lib.log_parts_call, lib.term_call

    @lib.jit
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

    @lib.jit
    def power(x, p, block, grid_exp, scale, hi, lo, nan, inf):  # type: ignore[no-untyped-def]
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
            big_m = ms[0]
            for b in range(used):
                big_m = max(big_m, ms[b]) if p > 0 else min(big_m, ms[b])
            s_hi, s_lo = dd_add(0.0, 0.0, sums[0], rests[0])
            if used == 1:  # a short row: nothing to merge
                scale[j], hi[j], lo[j] = big_m, s_hi, s_lo
                continue
            km, hm, lm = log_parts_call(big_m)
            s_hi = 0.0
            s_lo = 0.0
            for b in range(used):  # once per row: the factors do not compound
                f = 1.0 if ms[b] == big_m else term_call(ms[b], p, km, hm, lm)
                prod = sums[b] * f
                s_hi, s_lo = dd_add(s_hi, s_lo, prod, fma(sums[b], f, -prod) + rests[b] * f)
            scale[j], hi[j], lo[j] = big_m, s_hi, s_lo

    return power  # type: ignore[no-any-return]


@_fast.builder("norm_extreme")
def _build_extreme() -> Callable[..., Any]:
    lib = _lib()
    bits, from_bits = lib.bits, lib.from_bits

    @lib.jit
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

    return extreme  # type: ignore[no-any-return]


@_fast.builder("norm_count")
def _build_count() -> Callable[..., Any]:
    lib = _lib()
    radd = lib.radd

    @lib.jit
    def count(x, out):  # type: ignore[no-untyped-def]
        """Nonzeros of each row (nan counts, -0.0 does not)."""
        for j in range(x.shape[0]):
            row = x[j]
            c = 0.0
            for i in range(row.shape[0]):
                c = radd(c, 1.0 if row[i] != 0 else 0.0)  # integers: exact in any order
            out[j] = c

    return count  # type: ignore[no-any-return]
