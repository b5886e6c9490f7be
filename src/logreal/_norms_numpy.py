"""NumPy tile paths for real norms: the portable tile arithmetic with BLAS and reused buffers.

:class:`NumpyTiles` computes the partial of a float64 NumPy tile as
:meth:`logreal._norms_state.Reduction.tile` does, with ``out=`` into two
cache-sized work rows (no allocation per operation) and BLAS dots, and returns
None for a tile it does not cover (non-finite values, zeros for p < 0, sums
near the ends of the range, |p| < 1/8), which then goes to the portable
kernel.  It serves NumPy input where the Numba kernels
(:mod:`logreal._norms_fast`) do not: without Numba, under
``LOGREAL_KERNELS=portable`` and for integer dtypes.

* BLAS dots are taken in rows of ``_DOT_ROW`` elements (``np.vecdot`` on a
  reshaped view): OpenBLAS runs a longer dot on several threads, and a
  threaded dot per tile waits for its helper thread whenever the other core is
  busy.
* A one-row p = 2 tile first tries the grid of the previous tile.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._exact import two_sum
from ._norms_state import GRID, SAFE_HI, SAFE_LO, SMALL_P

__all__ = ["NumpyTiles"]

# OpenBLAS runs a dot of more than 10000 elements on several threads.
_DOT_ROW = 1 << 13


class NumpyTiles:
    """Partials of float64 NumPy tiles of at most ``size`` elements for the order ``p``."""

    def __init__(self, p: float, size: int) -> None:
        self.p = p
        self.buf = np.empty((2, size))
        self.memo: dict[str, int] = {}  # hints one tile leaves for the next

    def partial(self, t: np.ndarray) -> tuple[Any, ...] | None:
        """The partial of each row of ``t`` (see :class:`Reduction`), or None."""
        p, buf = self.p, self.buf
        if p == math.inf:  # max |x| = max(max x, -min x): no temporary
            m = np.maximum(t.max(axis=-1), -t.min(axis=-1))
            return None if bool(np.isnan(m).any()) else (m, np.zeros(m.shape, dtype=bool))
        if p == -math.inf:
            m = np.abs(t, out=_work(buf, t, 0)).min(axis=-1)
            return None if bool(np.isnan(m).any()) else (m, np.zeros(m.shape, dtype=bool))
        if p == 0:  # nan counts, -0.0 does not
            return (np.count_nonzero(t, axis=-1).astype(np.float64),)
        return _p2_numpy(t, buf, self.memo) if p == 2 else _power_numpy(t, p, buf)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` by BLAS in rows short enough that it runs on one thread.

    A multithreaded dot on every tile waits for its helper threads, which is
    slow whenever the other cores are busy.
    """
    k = a.shape[0] // _DOT_ROW * _DOT_ROW
    with np.errstate(over="ignore", invalid="ignore"):  # IEEE: overflow gives inf
        rest = float(np.dot(a[k:], b[k:]))
        if not k:
            return rest
        rows = np.vecdot(a[:k].reshape(-1, _DOT_ROW), b[:k].reshape(-1, _DOT_ROW))
        return float(rows.sum()) + rest


def _rowdot_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each row's dot product; an overflow is inf (the caller then rescales)."""
    if a.shape[0] == 1:
        return np.array([_dot(a[0], b[0])])
    with np.errstate(over="ignore", invalid="ignore"):
        return np.einsum("ij,ij->i", a, b)


def _work(buf: np.ndarray, t: np.ndarray, i: int) -> np.ndarray:
    return buf[i, : t.size].reshape(t.shape)


def _p2_numpy(t: np.ndarray, buf: np.ndarray, memo: dict[str, int]) -> tuple[Any, ...] | None:
    """The portable p = 2 tile for tiles whose sums of squares need no scaling.

    A row's tiles usually share a scale, so a one-row tile first tries the
    grid of the previous tile (``memo``) and skips the pass that measures its
    sum of squares; the try stands only if the integer parts' squares sum to
    [2**46, 2**51), which keeps the sum exact and the remainder small.
    """
    hi, lo = _work(buf, t, 0), _work(buf, t, 1)
    if t.shape[0] == 1 and "k" in memo:
        k = memo["k"]
        with np.errstate(over="ignore", invalid="ignore"):  # a wrong guess: rejected below
            np.multiply(t, math.ldexp(1.0, GRID - k), out=lo)
            np.rint(lo, out=hi)
            exact = _dot(hi[0], hi[0])
        if 2.0**46 <= exact < 2.0**51:
            lo -= hi
            back = math.ldexp(1.0, 2 * (k - GRID))
            rest = 2.0 * _dot(hi[0], lo[0]) + _dot(lo[0], lo[0])
            s, e = two_sum(exact * back, rest * back)
            return np.ones(1), np.array([s]), np.array([e]), np.zeros(1, bool), np.zeros(1, bool)
    d = _rowdot_numpy(t, t)
    if not bool(np.all((d >= SAFE_LO) & (d <= SAFE_HI))):
        return None
    ks = (np.frexp(d)[1] + 1) // 2 + 1
    memo["k"] = int(ks[0])
    np.multiply(t, np.ldexp(1.0, GRID - ks)[:, None], out=lo)
    np.rint(lo, out=hi)
    lo -= hi
    scale_back = np.ldexp(1.0, 2 * (ks - GRID))
    exacts = _rowdot_numpy(hi, hi) * scale_back  # integers below 2**51: exact in any order
    rests = (2.0 * _rowdot_numpy(hi, lo) + _rowdot_numpy(lo, lo)) * scale_back
    no = np.zeros(t.shape[0], dtype=bool)
    return (np.ones(t.shape[0]), *two_sum(exacts, rests), no, no)


def _grid_sum_numpy(a: np.ndarray, bound: np.ndarray, grid: np.ndarray) -> tuple[Any, Any]:
    """The portable grid sum of the rows of ``a`` in place (``a`` is overwritten)."""
    sigma = 1.5 * np.ldexp(1.0, np.frexp(2.0 * bound)[1])
    np.add(a, sigma[:, None], out=grid)
    grid -= sigma[:, None]
    exact = grid.sum(axis=-1)
    a -= grid
    return two_sum(exact, a.sum(axis=-1))


def _power_numpy(t: np.ndarray, p: float, buf: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """The portable power tile for tiles without zeros (p < 0) or non-finite values."""
    if abs(p) < SMALL_P:
        return None
    a = np.abs(t, out=_work(buf, t, 0))
    m = a.max(axis=-1) if p > 0 else a.min(axis=-1)
    if not bool(np.all((m > 0) & (m < math.inf))):
        return None
    no = np.zeros(t.shape[0], dtype=bool)
    if p == 1:
        with np.errstate(over="ignore"):  # an inf total sends the tile to the scaled path
            total = a.sum(axis=-1)  # the grid's bound: no scaling needed
        if not bool(np.all((total >= SAFE_LO) & (total <= SAFE_HI))):
            return None
        return (np.ones(t.shape[0]), *_grid_sum_numpy(a, total, _work(buf, t, 1)), no, no)
    with np.errstate(over="ignore"):  # IEEE: overflow gives inf
        np.divide(a, m[:, None], out=a)
    np.power(a, p, out=a)
    bound = np.full(t.shape[0], float(t.shape[1]))
    return (m, *_grid_sum_numpy(a, bound, _work(buf, t, 1)), no, no)
