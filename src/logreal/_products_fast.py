"""Numba kernels for the dp leave-one-out products and for cumprod, without ``op``.

Overrides of the portable algorithms of :mod:`logreal._products` for float32 and
float64 NumPy arrays of the two commutative number classes, registered with
compiled in :mod:`logreal._numba.products` and used only through
:func:`logreal._numba.kernel` (so ``LOGREAL_KERNELS=portable`` and
``_numba.portable()`` switch them off).  This module is the Numba-free glue.  A
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

import numpy as np

from . import _numba
from ._backend import SIGN_DTYPE, Array, Namespace

__all__ = ["EXCLUSIVE", "INCLUSIVE", "LOO", "lanes", "log", "real"]

LOO, INCLUSIVE, EXCLUSIVE = 0, 1, 2  # leave-one-out, cumprod, exclusive cumprod


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


def _lanes_of(out: np.ndarray, axis: int) -> np.ndarray:
    """The writable ``(outer, n, inner)`` view of a fresh C-ordered output."""
    shape = out.shape
    return out.reshape(math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :]))


def real(
    xp: Namespace, x: Array, axis: int, mode: int, reverse: bool = False, scale: float = 1.0
) -> Array | None:
    """Leave-one-out (``mode=LOO``) or cumprod of real floats along ``axis`` by
    the compiled kernel, or None where it does not apply.  Leave-one-out
    products come times ``scale``, which seeds the running suffix (so each
    result is still rounded once)."""
    fn = _numba.kernel("products_real", xp, x)
    x3 = None if fn is None or not x.dtype.isnative else lanes(x, axis)
    if fn is None or x3 is None:
        return None
    out = np.empty(x.shape, dtype=x.dtype)  # owns its data: no copy made of it later
    wide = x.dtype.itemsize == 8
    bits = out.view(np.uint64 if wide else np.uint32)
    fn(x3, _lanes_of(bits, axis), mode == LOO, mode == EXCLUSIVE, reverse, wide, float(scale))
    return out


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
    fn = _numba.kernel("products_log", xp, sign, logabs)
    if fn is None or not logabs.dtype.isnative:
        return None
    s3, l3 = lanes(sign, axis), lanes(logabs, axis)
    if s3 is None or l3 is None:
        return None
    out_s = np.empty(logabs.shape, dtype=SIGN_DTYPE)
    out_l = np.empty(logabs.shape, dtype=logabs.dtype)
    os3, ol3 = _lanes_of(out_s, axis), _lanes_of(out_l, axis)
    fn(s3, l3, os3, ol3, mode == LOO, mode == EXCLUSIVE, reverse, rows)
    return out_s, out_l
