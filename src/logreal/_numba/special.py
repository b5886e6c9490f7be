"""Compiled twins of :mod:`logreal._special` and the LogReal arithmetic.

Each kernel runs the portable algorithm's branches in the same order, one
element (or one slice) at a time, writing into outputs allocated by the caller:

* ``signed_add``, ``multiply``, ``divide``: flat arrays of (sign, logabs)
  pairs (:func:`logreal._special.signed_add`, ``_logreal._multiply``,
  ``_logreal._divide``).

The sums (``signed_logsum``, ``signed_cumsum``, ...) are in :mod:`.sums`.
"""

from __future__ import annotations

import math
from typing import Any

import numba

from ._jit import helper, kernel
from .exact import difference

__all__ = ["divide", "multiply", "signed_add"]

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
# vectorises a loop over a slice from 0, not over range(start, stop).
BLOCK = 1 << 14
PARALLEL_MIN = 1 << 16


@helper
def _add_block(sa, la, sb, lb, s_out, l_out):  # type: ignore[no-untyped-def]
    """``sa e**la + sb e**lb`` for each element (``_special.signed_add``).

    Written with selects rather than branches where the data decide (which
    operand is larger, whether the signs differ): random signs would defeat
    branch prediction.  The one branch left, Mächler's ``log(-expm1(d))`` for
    opposite signs within ``ln 2``, is rare on most data.
    """
    for i in range(l_out.shape[0]):
        swap = la[i] < lb[i]
        hi = lb[i] if swap else la[i]
        lo = la[i] if swap else lb[i]
        s_hi = sb[i] if swap else sa[i]
        d, d_lo = difference(lo, hi)
        d = 0.0 if hi == lo else d
        e = math.exp(d)
        opposite = sa[i] * sb[i] < 0
        se = -e if opposite else e
        denom = 1.0 + se
        corr = math.log1p(se)
        if opposite and d > -LN2:
            denom = -math.expm1(d)
            corr = math.log(denom)
        fix = d_lo * (se / denom)
        logabs = hi + (corr + fix if d_lo != 0 else corr)
        l_out[i] = logabs
        s_out[i] = settle(s_hi, logabs)


@helper
def _multiply_block(sa, la, sb, lb, s_out, l_out):  # type: ignore[no-untyped-def]
    """``_logreal._multiply``: the logs add."""
    for i in range(l_out.shape[0]):
        logabs = la[i] + lb[i]
        l_out[i] = logabs
        s_out[i] = settle(sa[i] * sb[i], logabs)


@helper
def _divide_block(sa, la, sb, lb, s_out, l_out):  # type: ignore[no-untyped-def]
    """``_logreal._divide``: the logs subtract; a zero divisor keeps the sign."""
    for i in range(l_out.shape[0]):
        logabs = la[i] - lb[i]
        l_out[i] = logabs
        s_out[i] = settle(sa[i] * (1.0 if sb[i] == 0 else sb[i]), logabs)


ADD, MULTIPLY, DIVIDE = 0, 1, 2


@helper
def _binary_block(op, sa, la, sb, lb, s_out, l_out):  # type: ignore[no-untyped-def]
    if op == ADD:
        _add_block(sa, la, sb, lb, s_out, l_out)
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
multiply = _by_size(MULTIPLY)
divide = _by_size(DIVIDE)
