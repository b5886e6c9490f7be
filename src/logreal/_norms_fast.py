"""Numba kernels for real norms: one fused pass over each contiguous row.

Overrides of the portable state algorithm (:mod:`logreal._norms_state`) for
float32 and float64 NumPy rows, compiled in :mod:`logreal._numba.norms` and used
only through :func:`logreal._numba.kernel` (so ``LOGREAL_KERNELS=portable`` and
``_numba.portable()`` switch them off); this module is the Numba-free glue.
A kernel reads a C-contiguous (rows, cols) band row by row in blocks of
``BLOCK`` elements and writes each row's *partial* in the portable form:
``(scale, hi, lo, nan, inf)`` with ``sum |x|**p = scale**p * (hi + lo)`` for
finite p != 0, ``(extreme |x|, nan)`` for p = +-inf, ``(count,)`` for p = 0.
The portable merge and finish
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
from typing import Any

import numpy as np

from . import _numba
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
    kernel = _numba.kernel(name, xp, w)
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
