"""Stable special functions on real arrays, and the signed log-space kernels.

The kernels work on a number given as a *weight* ``w`` and a log-magnitude ``l``
(value ``w * e**l``).  A LogReal passes its sign as the weight; ``logsumexp``
passes SciPy's ``b``.  So LogReal sums and ``logsumexp`` are one algorithm.

Accuracy of a shifted sum
-------------------------
With ``m`` the largest finite ``l``, ``sum w e**l = e**m * (K + R)`` where ``K``
sums the weights of the terms within ``ln 2`` of ``m`` and ``R`` sums
``w * expm1(l - m)`` over those terms and ``w * exp(l - m)`` over the rest.
``expm1`` keeps the low bits of terms next to the maximum (so ``1 - e**-2**-60``
is not a false zero), ``K`` is exact for signs, and the final logarithm is
``log|K| + log1p(R / K)`` while ``|R / K| < 1/2``, so a tiny correction to a
dominant term is not rounded away.  Nothing is folded pairwise in log space.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _dask, _numba, _special_fast
from ._backend import (
    Array,
    Namespace,
    as_float,
    floating,
    is_numpy,
    is_python_scalar,
    namespace,
    normalize_axis,
    scalar_out,
)
from ._exact import two_diff
from ._logsum import (
    canonical,
    hillis_steele,
    merge_states,
    scatter_masked,
    signed_cumsum,
    signed_logsum,
    squeeze_axes,
    weighted_logsum,
)
from ._logsum_bound import logsumexp_bound

__all__ = [
    "canonical",
    "hillis_steele",
    "log1mexp",
    "log1pexp",
    "logaddexp",
    "logcumsumexp",
    "logsubexp",
    "logsumexp",
    "merge_states",
    "signed_add",
    "signed_cumsum",
    "signed_logsum",
    "signed_sum",
]

LN2 = math.log(2.0)
# Slices shorter than this skip the portable fast pass (see logsumexp).
FAST_MIN_TERMS = 1 << 16

# --------------------------------------------------------------------------
# Kernels on (weight, logabs); all arguments share one namespace and dtype.


def _log1mexp(d: Array, xp: Namespace) -> Array:
    """log(1 - e**d) for d <= 0, switching at -ln 2 (Mächler 2012)."""
    near = d > -LN2
    # Each branch is evaluated only where it is accurate; the other side's
    # argument is replaced by a harmless value so that no nan is produced.
    with np.errstate(divide="ignore"):  # log(-expm1(0)) = -inf
        a = xp.log(-xp.expm1(xp.where(near & (d <= 0), d, -1.0)))
    b = xp.log1p(-xp.exp(xp.where(near, -1.0, d)))
    b = xp.where(
        d < -37.0, -xp.exp(xp.where(d < -37.0, d, -37.0)), b
    )  # log(1 - y) = -y to double precision
    return xp.where(d > 0, math.nan, xp.where(near, a, b))  # nan also stays nan


def _patch(
    mask: Array, fn: Callable[[Array], Array], arg: Array, out: Array, xp: Namespace
) -> Array:
    """``where(mask, fn(arg), out)``, evaluating ``fn`` only under the mask on NumPy."""
    if is_numpy(xp):
        if mask.any():
            out = xp.asarray(out)  # a ufunc on 0-d input returns an immutable scalar
            out[mask] = fn(arg[mask])
        return out
    return xp.where(mask, fn(xp.where(mask, arg, -1.0)), out)


def signed_add(sa: Array, la: Array, sb: Array, lb: Array, xp: Namespace) -> tuple[Array, Array]:
    """(sign, logabs) of ``sa e**la + sb e**lb`` for canonical inputs.

    ``hi + log1p(±e**d)`` with ``d = lo - hi <= 0``; for opposite signs with
    ``d > -ln 2`` the correction is ``log(-expm1(d))`` instead (Mächler 2012),
    computed only where it is needed.  The rounding of ``d`` itself is corrected
    to first order (:func:`_difference`).  Equal magnitudes of opposite sign
    give ``log(0) = -inf``: the exact zero.
    """
    fused = _numba.kernel("signed_add", xp, sa, la, sb, lb)
    if fused is not None:
        return fused(sa, la, sb, lb)
    if is_numpy(xp) and _blockable(sa, la, sb, lb):
        return _by_blocks(_signed_add, (sa, la, sb, lb), xp)
    return _signed_add(sa, la, sb, lb, xp)


# Elements a NumPy elementwise kernel handles at once: its two dozen temporaries
# then stay in cache and are reused by the allocator, where full-size ones
# each cost a fresh allocation and its page faults (twice as fast at 10**7).
_BLOCK = 1 << 14


def _blockable(*arrays: Array) -> bool:
    """Large NumPy arrays of one shape, each C-contiguous (flat views need no copy)."""
    first = arrays[0]
    return (
        getattr(first, "size", 0) >= 4 * _BLOCK
        and all(isinstance(a, np.ndarray) and a.flags.c_contiguous for a in arrays)
        and all(a.shape == first.shape for a in arrays)
    )


def _by_blocks(
    fn: Callable[..., tuple[Array, ...]], arrays: tuple[Array, ...], xp: Namespace
) -> tuple[Array, ...]:
    """``fn(*arrays)`` computed over consecutive blocks of the flattened arrays."""
    shape = arrays[0].shape
    flat = [a.reshape(-1) for a in arrays]
    size = flat[0].shape[0]
    outs: list[Array] = []
    for start in range(0, size, _BLOCK):
        parts = fn(*(a[start : start + _BLOCK] for a in flat), xp)
        if not outs:
            outs = [np.empty(size, dtype=p.dtype) for p in parts]
        for out, part in zip(outs, parts, strict=True):
            out[start : start + _BLOCK] = part
    return tuple(out.reshape(shape) for out in outs)


def _signed_add(sa: Array, la: Array, sb: Array, lb: Array, xp: Namespace) -> tuple[Array, Array]:
    """:func:`signed_add` on arrays of any namespace (the portable code)."""
    swap = la < lb
    hi = xp.where(swap, lb, la)
    lo = xp.where(swap, la, lb)
    s_hi = xp.where(swap, sb, sa)
    opposite = (sa * sb) < 0
    d, d_lo = two_diff(lo, hi, xp)
    d = xp.where(hi == lo, 0.0, d)  # <= 0; 0 also for two equal infinities
    e = xp.exp(d)
    signed_e = xp.where(opposite, -e, e)
    near = opposite & (d > -LN2)
    corr = xp.log1p(xp.where(near, 0.0, signed_e))
    corr = _patch(near, _log_neg_expm1(xp), d, corr, xp)
    # d(corr)/dd = ±e / (1 ± e): the first-order fix for d's rounding, with
    # 1 - e as -expm1(d) where it cancels.  (d_lo is 0 for equal
    # magnitudes, where the slope is infinite.)
    denom = _patch(near, lambda t: -xp.expm1(t), d, 1.0 + signed_e, xp)
    # d_lo != 0 only where d is inexact, so far from 0: the quotient is finite.
    fixable = d_lo != 0
    slope = signed_e / xp.where(fixable, denom, 1.0)
    corr = corr + xp.where(fixable, d_lo * slope, 0.0)
    with np.errstate(invalid="ignore"):  # inf - inf = nan (opposite infinities)
        logabs = hi + corr
    # hi carries nan from either input, and -inf exactly for a zero result.
    sign = xp.where(logabs == -math.inf, 0.0, xp.where(xp.isnan(logabs), math.nan, s_hi))
    return sign, logabs


def _log_neg_expm1(xp: Namespace) -> Callable[[Array], Array]:
    def fn(t: Array) -> Array:
        with np.errstate(divide="ignore"):  # log(-expm1(0)) = -inf: the exact zero
            return xp.log(-xp.expm1(t))

    return fn


# --------------------------------------------------------------------------
# Public functions on real arrays.


def _real(*args: Any) -> tuple[Namespace, list[Array]]:
    """Float arrays of one namespace and dtype; Python scalars are weak (NumPy 2)."""
    xp = namespace(*args)
    strong = [as_float(a, xp) for a in args if not is_python_scalar(a)]
    dtype = xp.result_type(*strong) if strong else xp.float64
    return xp, [
        xp.asarray(a, dtype=dtype)
        if is_python_scalar(a)
        else _as_dtype(as_float(a, xp), dtype, xp)
        for a in args
    ]


def _as_dtype(a: Array, dtype: Any, xp: Namespace) -> Array:
    """``a`` in ``dtype``, the array itself (no copy) when it is already."""
    return a if a.dtype == dtype else xp.astype(a, dtype)


def log1mexp(x: Any) -> Array:
    """log(1 - e**x) for x <= 0, accurate for every x.

    Uses ``log(-expm1(x))`` above ``-ln 2`` and ``log1p(-exp(x))`` below
    (Mächler 2012).  Returns -inf at 0 and nan for x > 0.

    Examples
    --------
    >>> import logreal as lr
    >>> float(lr.log1mexp(-1e-20))       # log(1e-20); naive log(1 - exp(x)) gives -inf
    -46.0517018598809
    >>> float(lr.log1mexp(-50.0))         # -e**-50; naive gives 0.0
    -1.9287498479639178e-22
    """
    xp, (x,) = _real(x)
    out = _log1mexp(x, xp)
    return scalar_out(out, xp)


def log1pexp(x: Any) -> Array:
    """log(1 + e**x), accurate for every x (the softplus).

    ``e**x`` below -37, ``log1p(e**x)`` up to 18, ``x + e**-x`` up to 33.3,
    then ``x`` (Mächler 2012): each branch within about an ulp.

    Examples
    --------
    >>> import logreal as lr
    >>> float(lr.log1pexp(1000.0)), float(lr.log1pexp(-50.0))
    (1000.0, 1.9287498479639178e-22)
    """
    xp, (x,) = _real(x)
    mid = xp.log1p(xp.exp(xp.where(x > 18.0, 0.0, x)))
    high = x + xp.exp(-xp.where(x > 18.0, x, 18.0))
    low = xp.exp(xp.where(x <= -37.0, x, 0.0))
    out = xp.where(x <= -37.0, low, xp.where(x <= 18.0, mid, xp.where(x <= 33.3, high, x)))
    return scalar_out(out, xp)


def logaddexp(a: Any, b: Any) -> Array:
    """log(e**a + e**b) without overflow, elementwise with broadcasting.

    Examples
    --------
    >>> import logreal as lr
    >>> float(lr.logaddexp(1000.0, 1000.0))
    1000.6931471805599
    """
    xp, (a, b) = _real(a, b)
    a, b = xp.broadcast_arrays(a, b)
    # The signed sum with both signs +1: its first-order correction for the
    # rounding of a - b keeps a small result within an ulp (np.logaddexp's
    # can be 15 ulp off: logaddexp(1.9e-10, -16)).
    _, out = signed_add(xp.ones_like(a), a, xp.ones_like(b), b, xp)
    return scalar_out(out, xp)


def logsubexp(a: Any, b: Any) -> Array:
    """log(e**a - e**b) for a >= b, elementwise with broadcasting.

    -inf where ``a == b`` (finite, or both -inf); nan where ``a < b`` and for
    ``a == b == +inf``.

    Examples
    --------
    >>> import logreal as lr
    >>> float(lr.logsubexp(0.0, -2.0**-60))     # log(1 - e**-2**-60)
    -41.58883083359672
    >>> float(lr.logsubexp(1.0, 1.0))
    -inf
    """
    xp, (a, b) = _real(a, b)
    a, b = xp.broadcast_arrays(a, b)
    # e**a - e**b as a signed sum (Mächler's switch near a == b, and the
    # first-order correction for the rounding of b - a); a negative result
    # (a < b) is nan, as are inf - inf and nan inputs.
    sign, out = signed_add(xp.ones_like(a), a, -xp.ones_like(b), b, xp)
    return scalar_out(xp.where(sign < 0, math.nan, out), xp)


def logsumexp(
    a: Any,
    axis: int | Sequence[int] | None = None,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
) -> Array | tuple[Array, Array]:
    """log(sum(b * exp(a))) without overflow, with SciPy's contract.

    Parameters
    ----------
    a : array_like
        Exponents.
    axis : None or int or tuple of ints, optional
        Axes to sum over; all by default.
    b : array_like, optional
        Weights broadcast against `a`; they may be negative.  A zero weight
        removes its term even where `a` is inf or nan (as in SciPy).
    keepdims : bool, optional
        Keep the reduced axes with length one.
    return_sign : bool, optional
        Return ``(log|s|, sign(s))``.  Without it a negative sum gives nan.

    Returns
    -------
    res : array or scalar
        ``log|sum(b * exp(a))|``.
    sgn : array or scalar
        Only with `return_sign`: +1, -1, 0 for an empty or exactly cancelling
        sum, nan where the sum is nan (as ``inf - inf``).

    Notes
    -----
    Unlike ``scipy.special.logsumexp`` the terms next to the largest one are
    summed through ``expm1``, so ``1 - e**-2**-60`` is not a false zero, and
    ``[1000, 1000, 999]`` with weights ``[1, -1, 1]`` gives ``(999.0, 1.0)``
    rather than ``(nan, nan)``; an empty sum has sign 0, not -1.

    Examples
    --------
    >>> import logreal as lr
    >>> float(lr.logsumexp([1000.0, 1000.0]))
    1000.6931471805599
    >>> lr.logsumexp([1000.0, 1000.0, 999.0], b=[1, -1, 1], return_sign=True)
    (np.float64(999.0), np.float64(1.0))
    >>> float(lr.logsumexp([0.0, -2.0**-60], b=[1, -1]))
    -41.58883083359672
    """
    if _dask.is_dask(a, b):  # lazily, chunk by chunk
        return _dask.logsumexp(a, axis, b, keepdims, return_sign)
    fused = _special_fast.logsumexp(a, axis, b, keepdims)
    if fused is not None:  # NumPy float input: the compiled kernel, no preparation
        return _result(*fused, return_sign, namespace())
    w: Array | None = None
    if b is None:
        xp, (a,) = _real(a)
    else:
        xp, (a, w) = floating(a, b)  # float32 a with integer b stays float32
        a, w = xp.broadcast_arrays(a, w)
    axes = normalize_axis(axis, a.ndim)
    out = _where_proven(a, w, axes, keepdims, xp)
    if out is None:  # short slices, or nothing to sum: the exact path
        w = xp.ones_like(a) if w is None else w
        out = weighted_logsum(a, w, axes, keepdims, xp)
    return _result(*out, return_sign, xp)


def signed_sum(
    w: Array, lg: Array, axes: tuple[int, ...], keepdims: bool, xp: Namespace
) -> tuple[Array, Array]:
    """(sign, logabs) of ``sum(w e**lg)`` over ``axes`` for a LogReal's signs
    ``w``: :func:`signed_logsum`, whose portable path first tries the fast
    pass where its bound holds on long slices."""
    return signed_logsum(w, lg, axes, keepdims, xp, quick=_where_proven)


def _where_proven(
    a: Array, w: Array | None, axes: tuple[int, ...], keepdims: bool, xp: Namespace
) -> tuple[Array, Array] | None:
    """The portable fast sum on slices where its bound holds and the exact one
    on the others; None where it does not run (then the exact path does).

    The fast pass pays only on long slices: on short ones its own passes cost
    more than the exact sum, and a result near 0 sends the slice there anyway.
    """
    terms = math.prod(a.shape[i] for i in axes)
    quick = logsumexp_bound(a, w, axes, xp) if terms >= FAST_MIN_TERMS else None
    if quick is None:
        return None
    sign, logabs = _redo_slices(a, w, axes, *quick, xp)
    return squeeze_axes(sign, axes, keepdims, xp), squeeze_axes(logabs, axes, keepdims, xp)


def _redo_slices(
    a: Array,
    w: Array | None,
    axes: tuple[int, ...],
    sign: Array,
    logabs: Array,
    redo: Array,
    xp: Namespace,
) -> tuple[Array, Array]:
    """(sign, logabs), dims kept: the fast answers, and the exact sums of the ``redo`` slices."""
    if not bool(xp.any(redo)):
        return sign, logabs
    rest = tuple(i for i in range(a.ndim) if i not in axes)
    n = math.prod(a.shape[i] for i in axes)
    flat = xp.reshape(redo, (-1,))
    (idx,) = xp.nonzero(flat)

    def rows(x: Array) -> Array:
        return xp.take(xp.reshape(xp.permute_dims(x, rest + axes), (-1, n)), idx, axis=0)

    picked = rows(a)
    weights = xp.ones_like(picked) if w is None else rows(w)
    s, lg = weighted_logsum(picked, weights, (1,), False, xp)
    sign = xp.reshape(scatter_masked(flat, s, xp.reshape(sign, (-1,)), xp), redo.shape)
    logabs = xp.reshape(scatter_masked(flat, lg, xp.reshape(logabs, (-1,)), xp), redo.shape)
    return sign, logabs


def _result(sign: Array, logabs: Array, return_sign: bool, xp: Namespace) -> Any:
    """``logsumexp``'s answer: nan for a negative sum unless the sign is returned."""
    if not return_sign:
        return scalar_out(xp.where(sign < 0, math.nan, logabs), xp)
    return scalar_out(logabs, xp), scalar_out(sign, xp)


def logcumsumexp(a: Any, axis: int = 0) -> Array:
    """Running log-sum-exp along `axis`: ``out[i] = log(sum(exp(a[:i + 1])))``.

    Examples
    --------
    >>> import logreal as lr
    >>> lr.logcumsumexp([-1000.0, -1000.0, 0.0])
    array([-1000.        ,  -999.30685282,     0.        ])
    """
    xp, (a,) = _real(a)
    if a.ndim == 0:
        raise ValueError("logcumsumexp needs an array with at least one dimension")
    (ax,) = normalize_axis(axis, a.ndim)
    _, out = signed_cumsum(xp.ones_like(a), a, ax, xp)
    return out
