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

from . import _dask, _numba, _special_fast
from ._backend import (
    Array,
    Namespace,
    as_float,
    is_numpy,
    is_python_scalar,
    namespace,
    normalize_axis,
    quiet,
    scalar_out,
)

__all__ = [
    "log1mexp",
    "log1pexp",
    "logaddexp",
    "logcumsumexp",
    "logsubexp",
    "logsumexp",
]

LN2 = math.log(2.0)

# --------------------------------------------------------------------------
# Kernels on (weight, logabs); all arguments share one namespace and dtype.


def _log1mexp(d: Array, xp: Namespace) -> Array:
    """log(1 - e**d) for d <= 0, switching at -ln 2 (Mächler 2012)."""
    near = d > -LN2
    # Each branch is evaluated only where it is accurate; the other side's
    # argument is replaced by a harmless value so that no nan is produced.
    a = xp.log(-xp.expm1(xp.where(near, d, -1.0)))
    b = xp.log1p(-xp.exp(xp.where(near, -1.0, d)))
    return xp.where(near, a, b)


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


def _difference(a: Array, b: Array, xp: Namespace) -> tuple[Array, Array]:
    """``a - b`` as ``d + d_lo`` exactly (Knuth's TwoSum); ``d_lo`` is 0 where not finite.

    The logs of two terms are exact inputs, but their difference is rounded to
    an ulp of the larger one.  A term's weight ``e**d`` turns that rounding into
    an error of ``e**d * ulp(a)``, which exceeds an ulp of a small result; the
    first-order correction ``e**d * d_lo`` removes it.
    """
    d = a - b
    back = d - a
    d_lo = (a - (d - back)) + (-b - back)
    return d, xp.where(xp.isfinite(d_lo), d_lo, 0.0)


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
    with quiet():
        swap = la < lb
        hi = xp.where(swap, lb, la)
        lo = xp.where(swap, la, lb)
        s_hi = xp.where(swap, sb, sa)
        opposite = (sa * sb) < 0
        d, d_lo = _difference(lo, hi, xp)
        d = xp.where(hi == lo, 0.0, d)  # <= 0; 0 also for two equal infinities
        e = xp.exp(d)
        signed_e = xp.where(opposite, -e, e)
        corr = xp.log1p(signed_e)
        near = opposite & (d > -LN2)
        corr = _patch(near, lambda t: xp.log(-xp.expm1(t)), d, corr, xp)
        # d(corr)/dd = ±e / (1 ± e): the first-order fix for d's rounding, with
        # 1 - e as -expm1(d) where it cancels.  (d_lo is 0 for equal
        # magnitudes, where the slope is infinite.)
        denom = _patch(near, lambda t: -xp.expm1(t), d, 1.0 + signed_e, xp)
        corr = corr + xp.where(d_lo == 0, 0.0, d_lo * (signed_e / denom))
        logabs = hi + corr
        # hi carries nan from either input, and -inf exactly for a zero result.
        sign = xp.where(logabs == -math.inf, 0.0, xp.where(xp.isnan(logabs), math.nan, s_hi))
        return sign, logabs


def canonical(sign: Array, logabs: Array, xp: Namespace) -> tuple[Array, Array]:
    """One zero (sign 0, logabs -inf) and one nan (sign nan, logabs nan)."""
    nan = xp.isnan(logabs) | xp.isnan(sign)
    zero = (logabs == -math.inf) | (sign == 0)
    sign = xp.where(nan, math.nan, xp.where(zero, 0.0, sign))
    logabs = xp.where(nan, math.nan, xp.where(zero, -math.inf, logabs))
    return sign, logabs


def _shift(w: Array, lg: Array, axes: tuple[int, ...], xp: Namespace) -> Array:
    """The largest finite log-magnitude with a nonzero weight (0 where none)."""
    if any(lg.shape[a] == 0 for a in axes):  # an empty sum: no shift needed
        shape = tuple(1 if a in axes else n for a, n in enumerate(lg.shape))
        return xp.zeros(shape, dtype=lg.dtype)
    live = xp.isfinite(lg) & (w != 0)
    m = xp.max(xp.where(live, lg, -math.inf), axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0.0)


def _close_and_rest(w: Array, lg: Array, m: Array, xp: Namespace) -> tuple[Array, Array]:
    """Per-term contributions to K (weights near the maximum) and to R."""
    d, d_lo = _difference(lg, m, xp)
    close = xp.isfinite(d) & (d > -LN2)
    k = xp.where(close, w, 0.0)
    # e**(d + d_lo) = e**d (1 + d_lo): close terms as expm1(d) + e**d d_lo.
    e = xp.exp(d)
    fix = xp.where(d_lo == 0, 0.0, e * d_lo)  # d_lo is 0 wherever e is inf or nan
    r = w * (xp.where(close, xp.expm1(xp.where(close, d, 0.0)), e) + fix)
    # Terms with zero weight contribute nothing, even where l is inf or nan.
    r = xp.where(w == 0, 0.0, r)
    return k, r


def _finish(k: Array, r: Array, m: Array, xp: Namespace) -> tuple[Array, Array]:
    total = k + r
    u = r / k
    small = xp.abs(u) < 0.5  # False where k == 0 (u is inf or nan)
    fine = xp.log(xp.abs(xp.where(small, k, 1.0))) + xp.log1p(xp.where(small, u, 0.0))
    logabs = m + xp.where(small, fine, xp.log(xp.abs(total)))
    return canonical(xp.sign(total), logabs, xp)


def signed_logsum(
    w: Array, lg: Array, axes: tuple[int, ...], keepdims: bool, xp: Namespace
) -> tuple[Array, Array]:
    """(sign, logabs) of ``sum(w * e**l)`` over ``axes`` (see the module notes)."""
    if _dask.is_dask(lg):  # lazily, chunk by chunk
        return _dask.logsum(w, lg, axes, keepdims)
    fused = _special_fast.logsum(w, lg, axes, keepdims)
    if fused is not None:  # two passes per slice, the reduced axes moved last
        return fused
    with quiet():
        sign, logabs = _shifted_sum(w, lg, axes, xp)
    if not keepdims:
        sign = xp.squeeze(sign, axis=axes) if axes else sign
        logabs = xp.squeeze(logabs, axis=axes) if axes else logabs
    return sign, logabs


def _shifted_sum(w: Array, lg: Array, axes: tuple[int, ...], xp: Namespace) -> tuple[Array, Array]:
    """The shifted sum, kept dims; again without the top terms where they cancel exactly.

    When the terms next to the largest cancel exactly (as in
    ``e**1000 - e**1000 + e**10``) the rest was scaled by ``e**-m`` and may
    have underflowed: those slices are summed again without the cancelled
    terms, so the answer is not a false zero.
    """
    sign, logabs = None, None
    pending = None  # slices still to be (re)computed; None: all
    for _ in range(64):  # one round per level of exactly cancelling terms
        m = _shift(w, lg, axes, xp)
        k, r = _close_and_rest(w, lg, m, xp)
        top = (k != 0) & xp.isfinite(lg - m)
        # The value of the top terms: K plus their expm1 parts.
        top_value = xp.sum(k, axis=axes, keepdims=True) + xp.sum(
            xp.where(top, r, 0.0), axis=axes, keepdims=True
        )
        k = xp.sum(k, axis=axes, keepdims=True)
        r = xp.sum(r, axis=axes, keepdims=True)
        s, la = _finish(k, r, m, xp)
        sign = s if sign is None else xp.where(pending, s, sign)
        logabs = la if logabs is None else xp.where(pending, la, logabs)
        had_top = xp.any(top, axis=axes, keepdims=True)
        rest_left = xp.any((w != 0) & ~top, axis=axes, keepdims=True)
        redo = (top_value == 0) & had_top & rest_left
        pending = redo if pending is None else pending & redo
        if not bool(xp.any(pending)):
            break
        w = xp.where(top & pending, 0.0, w)
    return sign, logabs


def _slice(start: int | None, stop: int | None, axis: int, ndim: int) -> tuple[slice, ...]:
    idx = [slice(None)] * ndim
    idx[axis] = slice(start, stop)
    return tuple(idx)


def hillis_steele(
    parts: tuple[Array, ...],
    combine: Callable[..., tuple[Array, ...]],
    axis: int,
    xp: Namespace,
) -> tuple[Array, ...]:
    """Inclusive scan of ``combine`` along ``axis`` in ceil(log2 n) vectorised steps.

    ``parts`` are parallel arrays that together hold one element (sign and
    logabs, say); ``combine(*earlier, *later)`` must be associative.
    """
    ndim = parts[0].ndim
    n = parts[0].shape[axis]
    step = 1
    while step < n:
        head = _slice(None, step, axis, ndim)
        prev = _slice(None, n - step, axis, ndim)
        cur = _slice(step, None, axis, ndim)
        new = combine(*(p[prev] for p in parts), *(p[cur] for p in parts))
        parts = tuple(xp.concat([p[head], q], axis=axis) for p, q in zip(parts, new, strict=True))
        step *= 2
    return parts


def _rescale(ms: Array, k: Array, r: Array, m: Array, xp: Namespace) -> tuple[Array, Array]:
    """A state ``e**ms (k + r)`` written against the larger shift ``m >= ms``.

    The weights stay in ``k`` while the correction stays below half of them
    (so ``k + r`` never cancels by more than a bit); otherwise everything moves
    into ``r``.
    """
    delta, delta_lo = _difference(m, ms, xp)
    delta = xp.where(ms == m, 0.0, delta)  # >= 0; 0 for equal infinities
    shrink = xp.exp(-delta)
    fix = shrink * delta_lo  # e**-(delta + delta_lo) = shrink - fix, to first order
    r_kept = k * (xp.expm1(-delta) - fix) + r * (shrink - fix)
    keep = xp.abs(r_kept) < 0.5 * xp.abs(k)
    return xp.where(keep, k, 0.0), xp.where(keep, r_kept, (k + r) * (shrink - fix))


def merge_states(
    m1: Array, k1: Array, r1: Array, m2: Array, k2: Array, r2: Array, xp: Namespace
) -> tuple[Array, Array, Array]:
    """The sum of two shifted-sum states ``(m, k, r)``, each worth ``e**m (k + r)``.

    Mergeable and associative up to rounding: a running sum, a scan or a
    reduction over chunks all combine states with this one rule.
    """
    with quiet():
        m = xp.maximum(m1, m2)  # nan propagates
        a_k, a_r = _rescale(m1, k1, r1, m, xp)
        b_k, b_r = _rescale(m2, k2, r2, m, xp)
        return m, a_k + b_k, a_r + b_r


def signed_cumsum(sign: Array, logabs: Array, axis: int, xp: Namespace) -> tuple[Array, Array]:
    """Running signed log-sum-exp along ``axis``, each prefix with its own shift.

    Every term starts as the state ``(logabs, sign, 0)``; prefixes are merged
    states (:func:`merge_states`), so a prefix is shifted by its own largest
    term, not by the slice's, and is as accurate as :func:`signed_logsum` of
    its terms.  Portable path: a log-depth scan; NumPy with Numba: one pass.
    """
    if logabs.shape[axis] == 0:
        return sign, logabs
    if _dask.is_dask(logabs):  # lazily: chunk scans started from carries
        return _dask.cumsum(sign, logabs, axis)
    fused = _numba.kernel("signed_cumsum", xp, sign, logabs)
    if fused is not None:
        moved_s, moved_l = xp.moveaxis(sign, axis, -1), xp.moveaxis(logabs, axis, -1)
        out_s, out_l = fused(moved_s, moved_l)
        return xp.moveaxis(out_s, -1, axis), xp.moveaxis(out_l, -1, axis)
    with quiet():
        m, k, r = hillis_steele(
            (logabs, sign, xp.zeros_like(logabs)),
            lambda m1, k1, r1, m2, k2, r2: merge_states(m1, k1, r1, m2, k2, r2, xp),
            axis,
            xp,
        )
        return _finish(k, r, m, xp)


# --------------------------------------------------------------------------
# Public functions on real arrays.


def _real(*args: Any) -> tuple[Namespace, list[Array]]:
    """Float arrays of one namespace and dtype; Python scalars are weak (NumPy 2)."""
    xp = namespace(*args)
    strong = [as_float(a, xp) for a in args if not is_python_scalar(a)]
    dtype = xp.result_type(*strong) if strong else xp.float64
    return xp, [
        xp.asarray(a, dtype=dtype) if is_python_scalar(a) else xp.astype(as_float(a, xp), dtype)
        for a in args
    ]


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
    with quiet():
        out = _log1mexp(x, xp)
    return scalar_out(out, xp)


def log1pexp(x: Any) -> Array:
    """log(1 + e**x), accurate for every x (the softplus).

    Examples
    --------
    >>> import logreal as lr
    >>> float(lr.log1pexp(1000.0)), float(lr.log1pexp(-50.0))
    (1000.0, 1.9287498479639178e-22)
    """
    xp, (x,) = _real(x)
    with quiet():
        out = xp.logaddexp(xp.zeros_like(x), x)
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
    with quiet():
        out = xp.logaddexp(a, b)
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
    with quiet():
        d = xp.where(a == b, 0.0, b - a)
        out = a + _log1mexp(d, xp)
        out = xp.where((a == b) & (a == -math.inf), -math.inf, out)
    return scalar_out(out, xp)


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
    if b is None:
        xp, (a,) = _real(a)
        w = xp.ones_like(a)
    else:
        xp, (a, w) = _real(a, b)
        a, w = xp.broadcast_arrays(a, w)
    axes = normalize_axis(axis, a.ndim)
    with quiet():
        mag = xp.abs(w)
        extreme = bool(xp.any((mag > 2.0**500) | ((mag < 2.0**-500) & (mag != 0))))
        if extreme:  # fold the weights' magnitudes into the exponents
            a = a + xp.log(mag)
            w = xp.sign(w)
        a = xp.where(w == 0, -math.inf, a)
    return _result(*signed_logsum(w, a, axes, keepdims, xp), return_sign, xp)


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
