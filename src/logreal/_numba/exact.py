"""Error-free transforms and exact power-of-two scaling, compiled: the one home
of the kernels' exact arithmetic (the portable twins are in ``logreal._exact``
and the modules that call them).

The IEEE bit casts, ``fma`` and ``prefetch`` are LLVM intrinsics; everything
else is plain float arithmetic in the order written (no fastmath).
"""

from __future__ import annotations

import math

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._jit import helper

__all__ = [
    "bits",
    "dd_add",
    "difference",
    "exponent",
    "fma",
    "from_bits",
    "pow2",
    "scale2",
    "two_sum_err",
]


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


@helper
def two_sum_err(a, b, s):  # type: ignore[no-untyped-def]
    """The rounding error of ``s = a + b`` (Knuth's TwoSum)."""
    bb = s - a
    return (a - (s - bb)) + (b - bb)


@helper
def difference(a, b):  # type: ignore[no-untyped-def]
    """``a - b`` as ``(d, d_lo)``, the low part 0 where it is not finite."""
    d = a - b
    back = d - a
    d_lo = (a - (d - back)) + (-b - back)
    return d, (d_lo if math.isfinite(d_lo) else 0.0)


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
    err = two_sum_err(s_hi, a, s) + (s_lo + r)
    hi = s + err
    return hi, err - (hi - s)
