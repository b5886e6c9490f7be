"""Signed log-space sums and running sums: one shifted-sum state, written once.

A term is a *weight* ``w`` times ``e**x`` (a LogReal passes its sign as the
weight; ``logsumexp`` passes SciPy's ``b``).  With ``m`` the largest finite
``x`` of a slice, ``sum w e**x = e**m * (K + R)``: ``K`` sums the weights of
the terms within ``ln 2`` of ``m`` (exact for signs), ``R`` sums ``w *
expm1(x - m)`` over those and ``w * exp(x - m)`` over the rest, and the log
is ``log|K| + log1p(R / K)`` while ``|R / K| < 1/2``.  The rounding of ``x -
m`` is corrected to first order (:func:`two_diff`).

Exact cancellation.  When the terms next to the maximum cancel exactly (as
in ``e**1000 - e**1000 + e**10``), the rest was scaled by ``e**-m`` and may
have underflowed; the slice is summed again without them, as many times as
there are cancelling levels (no fixed limit; one round when nothing cancels).

Infinities and NaN follow IEEE: they are kept out of the state and summed
as floats (``inf + inf = inf``, ``inf - inf = nan``), in the running sum too.

Weights far from one (``1e-300`` or ``1e300``) are split exactly as
``f * 2**e``; ``e ln 2`` joins the exponent as a double-double, so weights
that nearly cancel keep every bit (:func:`weighted_logsum`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import _dask, _numba, _special_fast
from ._backend import Array, Namespace, is_numpy, widened
from ._exact import frexp, int_like, ln2_parts, two_diff, two_sum

__all__ = [
    "canonical",
    "finish_log",
    "hillis_steele",
    "merge_states",
    "scatter_masked",
    "signed_cumsum",
    "signed_logsum",
    "squeeze_axes",
    "weighted_logsum",
]

LN2 = math.log(2.0)


def canonical(sign: Array, logabs: Array, xp: Namespace) -> tuple[Array, Array]:
    """One zero (sign 0, logabs -inf) and one nan (sign nan, logabs nan)."""
    nan = xp.isnan(logabs) | xp.isnan(sign)
    zero = (logabs == -math.inf) | (sign == 0)
    sign = xp.where(nan, math.nan, xp.where(zero, 0.0, sign))
    logabs = xp.where(nan, math.nan, xp.where(zero, -math.inf, logabs))
    return sign, logabs


# --------------------------------------------------------------------------
# One shifted sum over ``axes`` (dims kept).


def _shift(w: Array, x: Array, axes: tuple[int, ...], xp: Namespace) -> Array:
    """The largest finite exponent with a nonzero weight (0 where none)."""
    if any(x.shape[a] == 0 for a in axes):  # an empty sum: no shift needed
        shape = tuple(1 if a in axes else n for a, n in enumerate(x.shape))
        return xp.zeros(shape, dtype=x.dtype, device=x.device)
    live = xp.isfinite(x) & (w != 0)
    m = xp.max(xp.where(live, x, -math.inf), axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0.0)


def _terms(w: Array, x: Array, x_lo: Array | None, m: Array, xp: Namespace) -> tuple[Array, ...]:
    """Per finite term: its part of K, its part of R, and whether it is a top term."""
    d, d_lo = two_diff(x, m, xp)
    if x_lo is not None:
        d_lo = d_lo + xp.where(xp.isfinite(d), x_lo, 0.0)
    live = xp.isfinite(d) & (w != 0)  # a removed (cancelled) term may lie above m
    close = live & (d > -LN2)
    k = xp.where(close, w, 0.0)
    e = xp.exp(xp.where(live, d, -math.inf))  # d <= 0 for live terms
    fix = e * d_lo  # e**(d + d_lo) = e**d (1 + d_lo) to first order
    r = w * (xp.where(close, xp.expm1(xp.where(close, d, 0.0)), e) + fix)
    return k, r, close


def finish_log(
    k: Array, r: Array, m: Array, xp: Namespace, base: Array | float = 0.0
) -> tuple[Array, Array]:
    """(sign, logabs) of ``e**(base + m) (k + r)``; ``base + m`` kept exact to the end."""
    sign, hi, t = _finish_split(k, r, m, xp, base)
    return canonical(sign, hi + t, xp)


def _finish_split(
    k: Array, r: Array, m: Array, xp: Namespace, base: Array | float = 0.0
) -> tuple[Array, Array, Array]:
    """(sign, hi, t) of ``e**(base + m) (k + r)`` with logabs ``hi + t`` not yet
    rounded: ``hi`` holds ``base + m`` and the exponent's ``e ln2_hi`` exactly."""
    total = k + r
    small = xp.abs(r) < 0.5 * xp.abs(k)  # False where k == 0
    u = r / xp.where(small, k, 1.0)
    # log v = e ln2 + log f (v = f 2**e): e * ln2_hi is exact and joins m (and
    # base) exactly, so a large log|K| that cancels against m costs no ulps
    f, e = frexp(xp.abs(xp.where(small, k, total)), xp)
    e = xp.astype(e, k.dtype)
    low = f < math.sqrt(0.5)  # f in [sqrt(1/2), sqrt(2)): log f small, e = 0 next to 1
    f, e = xp.where(low, f * 2.0, f), xp.where(low, e - 1.0, e)
    ln2_hi, ln2_lo = ln2_parts(k.dtype, xp)
    with np.errstate(divide="ignore"):  # log 0 = -inf: the exact zero
        rest = (e * ln2_lo + xp.log(f)) + xp.log1p(xp.where(small, u, 0.0))
    hi, lo = two_diff(m, -(e * ln2_hi), xp)  # m + e ln2_hi exactly
    if not (isinstance(base, float) and base == 0.0):
        hi, lo2 = two_diff(base, -hi, xp)  # base + m exactly, rounded once with the rest
        lo = lo + lo2
    return xp.sign(total), hi, lo + rest


def _round(
    w: Array,
    x: Array,
    x_lo: Array | None,
    axes: tuple[int, ...],
    xp: Namespace,
    base: Array | float = 0.0,
) -> tuple[Array, Array, Array, Array, Array]:
    """One shifted sum of the finite terms: (sign, hi, t, top terms, redo), the
    logabs ``hi + t`` left unrounded.

    ``redo`` marks slices whose top terms cancelled exactly while smaller
    terms remain: their answer is the sum of the others.
    """
    m = _shift(w, x, axes, xp)
    k, r, top = _terms(w, x, x_lo, m, xp)
    top_value = xp.sum(k, axis=axes, keepdims=True) + xp.sum(
        xp.where(top, r, 0.0), axis=axes, keepdims=True
    )
    sign, hi, t = _finish_split(
        xp.sum(k, axis=axes, keepdims=True), xp.sum(r, axis=axes, keepdims=True), m, xp, base
    )
    had_top = xp.any(top, axis=axes, keepdims=True)
    rest = xp.any((w != 0) & ~top, axis=axes, keepdims=True)
    return sign, hi, t, top, (top_value == 0) & had_top & rest


def special_terms(w: Array, x: Array, xp: Namespace) -> Array:
    """Each term that is infinite or nan as its IEEE float value, 0 for the others.

    A term is special where ``x`` is +inf or nan or the weight is not finite;
    its value ``w * e**x`` is then +-inf or nan whatever the magnitudes, so
    ``e**x`` is taken as 1 for finite ``x``.  A zero weight removes its term.
    """
    ordinary = xp.isfinite(w) & ((x == -math.inf) | xp.isfinite(x))
    e = xp.exp(xp.where(xp.isfinite(x), 0.0, x))
    with np.errstate(invalid="ignore"):  # inf * 0 (an infinite weight on e**-inf) = nan
        value = w * e
    return xp.where(ordinary | (w == 0), 0.0, value)


def _specials(w: Array, x: Array, axes: tuple[int, ...], xp: Namespace) -> Array:
    """The IEEE sum of the special terms (0 where there are none)."""
    with np.errstate(invalid="ignore"):  # inf - inf = nan, as IEEE says
        return xp.sum(special_terms(w, x, xp), axis=axes, keepdims=True)


Terms = tuple[Array, Array | None, Array | float]  # (x, x_lo, base) of live weights


def shifted_sum(
    w: Array,
    x: Array,
    axes: tuple[int, ...],
    xp: Namespace,
    exponents: Callable[[Array], Terms] | None = None,
) -> tuple[Array, Array]:
    """(sign, logabs) of ``sum(w * e**x)`` over ``axes``, dims kept.

    A round is one pass; rounds repeat, without the top terms, while some
    slice's top terms cancelled exactly, and update only those slices.
    ``exponents(w)``, if given, rewrites the exponents for the live weights
    ``w`` of each round as ``base + x + x_lo`` (see :func:`weighted_logsum`).
    """
    sign, hi, t = shifted_parts(w, x, axes, xp, exponents)
    return canonical(sign, hi + t, xp)


def shifted_parts(
    w: Array,
    x: Array,
    axes: tuple[int, ...],
    xp: Namespace,
    exponents: Callable[[Array], Terms] | None = None,
) -> tuple[Array, Array, Array]:
    """:func:`shifted_sum` as ``(sign, hi, t)``, logabs ``hi + t`` not yet rounded.

    Partial sums in this form merge (Dask chunks) without a rounding each.
    The zero is ``(0, -inf, 0)``; a special (infinite or nan) sum has ``t = 0``.
    """
    big = _specials(w, x, axes, xp)
    live = (w != 0) & xp.isfinite(x) & xp.isfinite(w)
    w = xp.where(live, w, 0.0)
    x = xp.where(live, x, -math.inf)
    plain: Terms = (x, None, 0.0)
    e, e_lo, base = _split_terms(exponents, w, plain)
    sign, hi, t, top, redo = _round(w, e, e_lo, axes, xp, base)
    while bool(xp.any(redo & (big == 0))):
        w = xp.where(top & redo, 0.0, w)
        e, e_lo, base = _split_terms(exponents, w, plain)
        s2, h2, t2, top, redo2 = _round(w, e, e_lo, axes, xp, base)
        sign, hi, t = xp.where(redo, s2, sign), xp.where(redo, h2, hi), xp.where(redo, t2, t)
        redo = redo & redo2
    special = big != 0
    sign = xp.where(special, xp.sign(big), sign)
    hi = xp.where(special, xp.abs(big), hi)
    t = xp.where(special, 0.0, t)
    rounded_sign, rounded = canonical(sign, hi + t, xp)
    whole = (rounded_sign == 0) | xp.isnan(rounded_sign) | special
    return rounded_sign, xp.where(whole, rounded, hi), xp.where(whole, 0.0, t)


def _split_terms(exponents: Callable[[Array], Terms] | None, w: Array, plain: Terms) -> Terms:
    return plain if exponents is None else exponents(w)


def squeeze_axes(a: Array, axes: tuple[int, ...], keepdims: bool, xp: Namespace) -> Array:
    return a if keepdims or not axes else xp.squeeze(a, axis=axes)


Quick = Callable[[Array, Array, tuple[int, ...], bool, Namespace], "tuple[Array, Array] | None"]


def signed_logsum(
    w: Array,
    lg: Array,
    axes: tuple[int, ...],
    keepdims: bool,
    xp: Namespace,
    quick: Quick | None = None,
) -> tuple[Array, Array]:
    """(sign, logabs) of ``sum(w * e**lg)`` over ``axes`` (see the module notes).

    ``quick(lg, w, axes, keepdims, xp)``, where given, runs before the exact
    portable sum and may answer instead of it (``logsumexp``'s proven fast
    pass, which lives above this module).  ``w`` may be a LogReal's stored
    (float32) signs: the compiled kernel reads them as they are, every other
    path as numbers in ``lg``'s dtype.
    """
    fused = _special_fast.logsum(w, lg, axes, keepdims)
    if fused is not None:  # the compiled kernel: the same rounds, one pass each
        return fused
    w = widened(w, lg, xp)
    if _dask.is_dask(lg):  # lazily, chunk by chunk
        return _dask.logsum(w, lg, axes, keepdims)
    fast = None if quick is None else quick(lg, w, axes, keepdims, xp)
    if fast is not None:
        return fast
    sign, logabs = shifted_sum(w, lg, axes, xp)
    return squeeze_axes(sign, axes, keepdims, xp), squeeze_axes(logabs, axes, keepdims, xp)


def scatter_masked(mask: Array, values: Array, out: Array, xp: Namespace) -> Array:
    """``out`` with its masked entries (in order) replaced by ``values``; a gather."""
    flat = xp.reshape(mask, (-1,))
    small = flat.shape[0] < 2**31  # int32 positions where 64-bit types may be missing
    pos = xp.cumulative_sum(xp.astype(flat, int_like(values.dtype, xp) if small else xp.int64)) - 1
    picked = xp.take(values, xp.clip(pos, 0, None), axis=0)
    return xp.reshape(xp.where(flat, picked, xp.reshape(out, (-1,))), out.shape)


# --------------------------------------------------------------------------
# Weights far from one (logsumexp's b).


def _extreme(b: Array, xp: Namespace) -> bool:
    """Whether any weight is far enough from one that ``w * e**d`` could lose bits."""
    limit = 2.0 ** (math.frexp(float(xp.finfo(b.dtype).max))[1] // 4)
    mag = xp.abs(b)
    return bool(xp.any(xp.isfinite(mag) & ((mag > limit) | ((mag < 1.0 / limit) & (mag != 0)))))


def weighted_logsum(
    a: Array, b: Array, axes: tuple[int, ...], keepdims: bool, xp: Namespace
) -> tuple[Array, Array]:
    """(sign, logabs) of ``sum(b * e**a)`` for any finite weights, bits kept.

    Weights near one go straight to :func:`signed_logsum`.  Otherwise each
    ``b = f * 2**e``; with ``M`` a slice's largest ``a + e ln 2`` the
    exponent ``(a - M) + e ln 2`` is formed as a double-double (TwoSum, and
    ``e * ln2_hi`` exact), and the shifted sum runs on the ``f`` with that
    exponent, so neither the weights' range nor their near-cancellation
    costs a bit.
    """
    if not _extreme(b, xp):
        if bool(xp.any(xp.isinf(b))):  # an infinite weight: the IEEE answer (portable)
            sign, logabs = shifted_sum(b, a, axes, xp)
            return squeeze_axes(sign, axes, keepdims, xp), squeeze_axes(logabs, axes, keepdims, xp)
        return signed_logsum(b, a, axes, keepdims, xp)
    f, exponents = _mantissa_terms(a, b, axes, xp)
    sign, logabs = shifted_sum(f, a, axes, xp, exponents)
    return squeeze_axes(sign, axes, keepdims, xp), squeeze_axes(logabs, axes, keepdims, xp)


def logsum_parts(w: Array, lg: Array, axes: tuple[int, ...], xp: Namespace) -> tuple[Array, ...]:
    """``(sign, hi, t)`` of ``sum(w e**lg)`` over ``axes`` (dims kept), logabs
    ``hi + t`` unrounded (see :func:`shifted_parts`), for any weights."""
    if _extreme(w, xp):
        f, exponents = _mantissa_terms(lg, w, axes, xp)
        return shifted_parts(f, lg, axes, xp, exponents)
    return shifted_parts(w, lg, axes, xp)


def merge_parts(
    sign: Array, hi: Array, lo: Array, axes: tuple[int, ...], xp: Namespace
) -> tuple[Array, ...]:
    """:func:`logsum_parts` of partial sums ``sign e**(hi + lo)`` (Dask chunks).

    Each exponent ``hi + lo`` enters as a double-double, renormalised so that
    its low part is at most half an ulp of the high one: the partials' low
    parts are not lost to ``e**lo`` rounded next to one.
    """
    x, x_lo = two_sum(hi, lo)
    x_lo = xp.where(xp.isfinite(x), x_lo, 0.0)

    def exponents(live: Array) -> Terms:
        return xp.where(live != 0, x, -math.inf), x_lo, 0.0

    return shifted_parts(sign, x, axes, xp, exponents)


def _mantissa_terms(
    a: Array, b: Array, axes: tuple[int, ...], xp: Namespace
) -> tuple[Array, Callable[[Array], Terms]]:
    """Weights ``b = f 2**e`` far from one as the terms ``f e**(a + e ln 2)``:
    the mantissas ``f``, and their exponents re-based every round as a
    double-double (see :func:`weighted_logsum`)."""
    f, e = frexp(b, xp)  # b = f 2**e, |f| in [1/2, 1); 0, inf, nan: f = b, e = 0
    f, e = f * 2.0, xp.astype(e - 1, a.dtype)  # |f| in [1, 2): weights near one stay one
    e = xp.where(xp.isfinite(b) & (b != 0), e, 0.0)
    hi, lo = ln2_parts(a.dtype, xp)
    scaled = a + e * LN2  # a term's log-magnitude, to choose the shift only

    def exponents(live_f: Array) -> Terms:
        # Re-based every round: after exactly cancelling top terms, the next
        # base is the largest remaining term, so (a - base) stays exact.
        base = _shift(live_f, scaled, axes, xp)
        d, d_lo = two_diff(a, base, xp)
        x, x_lo = two_diff(d, -(e * hi), xp)
        # Renormalise so that |x_lo| <= ulp(x) / 2: a lo part shared by terms
        # that cancel must not survive only as rounded first-order corrections.
        x, x_lo = two_diff(x, -(x_lo + d_lo + e * lo), xp)
        return xp.where(live_f != 0, x, -math.inf), x_lo, base

    return f, exponents


# --------------------------------------------------------------------------
# Running sums: the state (m, k, r), worth e**m (k + r), and its merge rule.


def _rescale(ms: Array, k: Array, r: Array, m: Array, xp: Namespace) -> tuple[Array, Array]:
    """A state ``e**ms (k + r)`` written against the larger shift ``m >= ms``.

    The weights stay in ``k`` while the correction stays below half of them;
    otherwise everything moves into ``r``.  An empty state has ``ms = -inf``.
    """
    same = ms == m  # also two empty states (-inf, -inf)
    delta, delta_lo = two_diff(xp.where(same, 0.0, m), xp.where(same, 0.0, ms), xp)
    shrink = xp.exp(-delta)
    fix = shrink * delta_lo  # e**-(delta + delta_lo) = shrink - fix, to first order
    r_kept = k * (xp.expm1(-delta) - fix) + r * (shrink - fix)
    keep = xp.abs(r_kept) < 0.5 * xp.abs(k)
    return xp.where(keep, k, 0.0), xp.where(keep, r_kept, (k + r) * (shrink - fix))


def merge_states(
    m1: Array, k1: Array, r1: Array, m2: Array, k2: Array, r2: Array, xp: Namespace
) -> tuple[Array, Array, Array]:
    """The sum of two finite states ``(m, k, r)``, each worth ``e**m (k + r)``.

    Associative up to rounding: a running sum, a scan or a reduction over
    chunks combine states with this one rule.  A term is the state
    ``(x, w, 0)``; the empty state is ``(-inf, 0, 0)``.
    """
    m = xp.maximum(m1, m2)
    a_k, a_r = _rescale(m1, k1, r1, m, xp)
    b_k, b_r = _rescale(m2, k2, r2, m, xp)
    return m, a_k + b_k, a_r + b_r


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


def _running_max(a: Array, axis: int, xp: Namespace) -> Array:
    if is_numpy(xp):
        return np.maximum.accumulate(a, axis=axis)
    return hillis_steele((a,), lambda u, v: (xp.maximum(u, v),), axis, xp)[0]


def signed_cumsum(sign: Array, logabs: Array, axis: int, xp: Namespace) -> tuple[Array, Array]:
    """Running signed log-sum-exp along ``axis``, each prefix as exact as :func:`shifted_sum`.

    The finite terms run through the merged state (a log-depth scan, or the
    compiled one-pass kernel); infinities and nan are summed as floats, as
    IEEE says; prefixes whose answer may have lost underflowed terms (it is
    zero or far below the prefix's largest term: exact cancellation) are
    summed again by :func:`shifted_sum`, so each prefix is what :func:`signed_logsum`
    gives for it.
    """
    if logabs.shape[axis] == 0:
        return sign, logabs
    if _dask.is_dask(logabs):  # lazily: chunk scans started from carries
        return _dask.cumsum(sign, logabs, axis)
    live = xp.isfinite(logabs) & (sign != 0)
    w = xp.where(live, sign, 0.0)
    x = xp.where(live, logabs, -math.inf)
    fused = _numba.kernel("signed_cumsum", xp, w, x)
    if fused is not None:
        out_s, out_l = fused(xp.moveaxis(w, axis, -1), xp.moveaxis(x, axis, -1))
        out_s, out_l = xp.moveaxis(out_s, -1, axis), xp.moveaxis(out_l, -1, axis)
    else:
        m, k, r = hillis_steele(
            (x, w, xp.zeros_like(x)),
            lambda m1, k1, r1, m2, k2, r2: merge_states(m1, k1, r1, m2, k2, r2, xp),
            axis,
            xp,
        )
        out_s, out_l = finish_log(k, r, xp.where(xp.isfinite(m), m, 0.0), xp)
    top = _running_max(x, axis, xp)
    # Below u times its largest term, a prefix may be the running state's
    # rounding residue, or may have lost underflowed terms: sum it again.
    eps = float(xp.finfo(x.dtype).eps)
    suspect = xp.isfinite(top) & (out_l < top + math.log(eps))
    if bool(xp.any(suspect)):
        out_s, out_l = _resum_prefixes(w, x, suspect, out_s, out_l, axis, xp)
    big = special_terms(sign, logabs, xp)
    with np.errstate(invalid="ignore"):  # inf - inf = nan, as IEEE says
        big = xp.cumulative_sum(big, axis=axis)
    special = big != 0
    out_s = xp.where(special, xp.sign(big), out_s)
    out_l = xp.where(special, xp.abs(big), out_l)
    return canonical(out_s, out_l, xp)


_PREFIX_BLOCK = 1 << 20  # terms materialised at once when prefixes are re-summed


def _resum_prefixes(
    w: Array, x: Array, suspect: Array, out_s: Array, out_l: Array, axis: int, xp: Namespace
) -> tuple[Array, Array]:
    """Each suspect prefix summed again from its terms (by blocks of prefixes)."""
    n = x.shape[axis]
    w2 = xp.reshape(xp.moveaxis(w, axis, -1), (-1, n))
    x2 = xp.reshape(xp.moveaxis(x, axis, -1), (-1, n))
    flat = xp.reshape(xp.moveaxis(suspect, axis, -1), (-1,))
    (idx,) = xp.nonzero(flat)
    row, col = idx // n, idx % n
    upto = xp.arange(n)
    signs, logs = [], []
    step = max(1, _PREFIX_BLOCK // n)
    for start in range(0, int(idx.shape[0]), step):
        r, c = row[start : start + step], col[start : start + step]
        keep = upto[None, :] <= c[:, None]
        wb = xp.where(keep, xp.take(w2, r, axis=0), 0.0)
        xb = xp.where(keep, xp.take(x2, r, axis=0), -math.inf)
        s, lg = shifted_sum(wb, xb, (1,), xp)
        signs.append(s[:, 0])
        logs.append(lg[:, 0])
    s_fix, l_fix = xp.concat(signs), xp.concat(logs)
    moved_s, moved_l = xp.moveaxis(out_s, axis, -1), xp.moveaxis(out_l, axis, -1)
    moved_s = xp.reshape(scatter_masked(flat, s_fix, moved_s, xp), moved_s.shape)
    moved_l = xp.reshape(scatter_masked(flat, l_fix, moved_l, xp), moved_l.shape)
    return xp.moveaxis(moved_s, -1, axis), xp.moveaxis(moved_l, -1, axis)
