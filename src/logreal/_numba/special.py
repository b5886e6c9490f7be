"""Compiled twins of :mod:`logreal._special` and the LogReal arithmetic.

Each kernel runs the portable algorithm's branches in the same order, one
element (or one slice) at a time, writing into outputs allocated by the caller:

* ``signed_add``, ``signed_subtract``, ``multiply``, ``divide``: flat arrays
  of (sign, logabs) pairs (:func:`logreal._special.signed_add`,
  ``_logreal._multiply``, ``_logreal._divide``), vectorised (:mod:`.vmath`).

The sums (``signed_logsum``, ``signed_cumsum``, ...) are in :mod:`.sums`.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from ._jit import helper, inline, kernel
from .exact import difference
from .vmath import exp_parts, log_pos, scale_pow2

__all__ = ["divide", "multiply", "signed_add", "signed_subtract"]

LN2 = math.log(2.0)


@helper
def settle(sign, logabs):  # type: ignore[no-untyped-def]
    """``_logreal._settle``: logabs decides zero and nan."""
    if logabs == -math.inf:
        return 0.0
    if logabs != logabs:
        return math.nan
    return sign


# Elementwise kernels: a serial loop over one block, and a parallel loop over
# blocks of BLOCK elements for long arrays (threads share nothing; results do not
# depend on the number of threads).  Blocks are passed as slices: Numba
# vectorises a loop over a slice from 0, not over range(start, stop).  The loops
# have no branches (selects only) and call no library function, so LLVM
# vectorises them whole.
BLOCK = 1 << 14
PARALLEL_MIN = 1 << 16
CLAMP = 1100.0  # e**d for d below -CLAMP is 0 whatever d is


@inline
def settle_select(sign, logabs):  # type: ignore[no-untyped-def]
    """:func:`settle` by selects: 0 for logabs -inf, nan for nan."""
    sign = 0.0 if logabs == -math.inf else sign
    return sign if logabs == logabs else math.nan


@inline
def signed_add_one(sa, la, sb, lb):  # type: ignore[no-untyped-def]
    """(sign, logabs) of ``sa e**la + sb e**lb`` in float64 (``_special.signed_add``).

    ``hi + log w`` with ``d = lo - hi <= 0`` and ``w = 1 + sgn e**d``, from the
    reduction ``e**d = 2**n (1 + p)`` as ``w = (1 + sgn 2**n) + sgn 2**n p``:
    ``1 + sgn 2**n`` is exact or carried by TwoSum, ``2**n p`` is exact.  For
    opposite signs within ln 2 this is Mächler's ``-expm1(d)`` branch by itself:
    ``n`` is 0 there (``w = -p``, ``p = expm1(d)`` to full relative accuracy)
    or -1 (``w = 1/2 - p/2``), so nothing cancels; beyond, it is ``1 - e**d``.
    ``w`` is carried in double-double (its low part and the rounding of ``d``
    enter to first order, the slope of ``log w`` being ``1 / w``), and
    ``log w`` is within an ulp (:func:`.vmath.log_pos`).  Equal magnitudes of opposite
    sign give ``w = 0`` exactly: logabs -inf, the exact zero.  Every step is a
    select, and exp and log are :mod:`.vmath`'s, so a loop of this vectorises.
    """
    swap = la < lb
    hi = lb if swap else la
    lo = la if swap else lb
    s_hi = sb if swap else sa
    opposite = sa * sb < 0.0
    d, d_lo = difference(lo, hi)  # d_lo 0 where d is not finite
    d = 0.0 if hi == lo else d  # <= 0; 0 also for two equal infinities
    n, p_hi, p_lo = exp_parts(d if d > -CLAMP else -CLAMP)  # nan: restored below
    p2 = scale_pow2(1.0, n)  # 2**n (0 far below)
    sp2 = -p2 if opposite else p2
    a = 1.0 + sp2
    a_lo = (1.0 - a) + sp2  # exact: 1 >= 2**n
    b = sp2 * p_hi
    w = a + b  # Fast2Sum: |a| >= |b|, or a = 0
    w_lo = ((a - w) + b) + (a_lo + sp2 * p_lo)
    se = sp2 + b  # sgn e**d, for the slope
    zero = w == 0.0
    corr = log_pos(1.0 if zero else w) + (w_lo + d_lo * se) / w
    logabs = hi + (-math.inf if zero else corr)
    logabs = d if d != d else logabs
    return settle_select(s_hi, logabs), logabs


@helper
def _add_block(sa, la, sb, lb, s_out, l_out, negate):  # type: ignore[no-untyped-def]
    """``sa e**la + sb e**lb`` (``- sb e**lb`` if ``negate``) for each element."""
    flip = -1.0 if negate else 1.0
    f8 = np.float64  # float() would keep float32 in Numba
    for i in range(l_out.shape[0]):
        sign, logabs = signed_add_one(f8(sa[i]), f8(la[i]), 0.0 + flip * f8(sb[i]), f8(lb[i]))
        s_out[i] = sign
        l_out[i] = logabs


@helper
def _multiply_block(sa, la, sb, lb, s_out, l_out):  # type: ignore[no-untyped-def]
    """``_logreal._multiply``: the logs add."""
    for i in range(l_out.shape[0]):
        logabs = la[i] + lb[i]
        l_out[i] = logabs
        s_out[i] = settle_select(sa[i] * sb[i], logabs)


@helper
def _divide_block(sa, la, sb, lb, s_out, l_out):  # type: ignore[no-untyped-def]
    """``_logreal._divide``: the logs subtract; a zero divisor keeps the sign."""
    for i in range(l_out.shape[0]):
        logabs = la[i] - lb[i]
        l_out[i] = logabs
        s_out[i] = settle_select(sa[i] * (1.0 if sb[i] == 0 else sb[i]), logabs)


ADD, SUBTRACT, MULTIPLY, DIVIDE = 0, 1, 2, 3


@helper
def _binary_block(op, sa, la, sb, lb, s_out, l_out):  # type: ignore[no-untyped-def]
    if op == ADD or op == SUBTRACT:
        _add_block(sa, la, sb, lb, s_out, l_out, op == SUBTRACT)
    elif op == MULTIPLY:
        _multiply_block(sa, la, sb, lb, s_out, l_out)
    else:
        _divide_block(sa, la, sb, lb, s_out, l_out)


@kernel
def _binary_serial(op, sa, la, sb, lb, s_out, l_out):  # type: ignore[no-untyped-def]
    _binary_block(op, sa, la, sb, lb, s_out, l_out)


@kernel(parallel=True)
def _binary_parallel(op, sa, la, sb, lb, s_out, l_out):  # type: ignore[no-untyped-def]
    n = l_out.shape[0]
    for b in numba.prange((n + BLOCK - 1) // BLOCK):
        i, j = b * BLOCK, min(b * BLOCK + BLOCK, n)
        _binary_block(op, sa[i:j], la[i:j], sb[i:j], lb[i:j], s_out[i:j], l_out[i:j])


def _by_size(op: int) -> Any:
    """The serial kernel for short arrays, the threaded one for long arrays."""

    def run(*arrays: Any) -> None:
        kernel = _binary_parallel if arrays[-1].shape[0] >= PARALLEL_MIN else _binary_serial
        kernel(op, *arrays)

    return run


signed_add = _by_size(ADD)
signed_subtract = _by_size(SUBTRACT)
multiply = _by_size(MULTIPLY)
divide = _by_size(DIVIDE)
