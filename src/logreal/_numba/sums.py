"""Compiled twins of the portable sums (:mod:`logreal._logsum`,
:mod:`logreal._special`), one row (or one long row's blocks) at a time, writing
into outputs allocated by the caller:

* ``signed_logsum``: rows, the shift, then ``K`` and a compensated ``R``
  (:func:`logreal._special.signed_logsum`); ``logsum_split`` the same as
  unrounded ``(sign, m, t)`` for partial sums (Dask chunks);
* ``signed_cumsum``: rows, a running merge of ``(m, k, r)`` states
  (:func:`logreal._special.signed_cumsum`);
* ``compensated_sum``: rows, one Neumaier pass (``logreal._reduce``).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numba.core import types
from numba.extending import overload

from ._jit import helper, inline, kernel
from .exact import bits, difference, from_bits, two_sum_err
from .vmath import CLAMP, exp_parts, scale_pow2

__all__ = [
    "compensated_sum",
    "logsum_split",
    "signed_cumsum",
    "signed_logsum",
]

LN2 = math.log(2.0)
# ln 2 in two parts; e * LN2_HI is exact for |e| < 2**20 (fdlibm's split)
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
SQRT_HALF = math.sqrt(0.5)

# One long row runs on all cores from PARALLEL_MIN terms, in blocks of BLOCK
# merged in block order (results do not depend on the number of threads).
BLOCK = 1 << 14
PARALLEL_MIN = 1 << 16


@helper
def rescale(ms, k, r, m):  # type: ignore[no-untyped-def]
    """``_special._rescale``: the state ``(ms, k, r)`` on the larger shift ``m``.

    Two shortcuts give the same bits without the library calls they skip:
    an unchanged shift (``exp(0) = 1``, ``expm1(0) = 0``, no low part), and
    a single term (``r = 0``) shifted down by at least 1, where
    ``|expm1(-delta) - fix|`` exceeds 0.63, so ``k`` is always folded into
    ``r``.  (With ``r != 0`` the term ``r * shrink`` can bring ``kept`` back
    under ``|k| / 2``.)"""
    if ms == m:
        kept = k * -0.0 + r  # the general formula: k * (expm1(-0.0) - 0.0) + r * 1
        return (k, kept) if abs(kept) < 0.5 * abs(k) else (0.0, k + r)
    delta, delta_lo = difference(m, ms)
    shrink = math.exp(-delta)
    fix = shrink * delta_lo
    if r == 0.0 and delta >= 1.0:
        return 0.0, (k + r) * (shrink - fix)
    kept = k * (math.expm1(-delta) - fix) + r * (shrink - fix)
    if abs(kept) < 0.5 * abs(k):
        return k, kept
    return 0.0, (k + r) * (shrink - fix)


@helper
def finish_split(k, r, m):  # type: ignore[no-untyped-def]
    """(sign, m, t) of ``e**m (k + r)`` with ``logabs = m + t`` (``t`` unrounded
    into ``m``): zero is ``(0, -inf, 0)``, nan ``(nan, nan, 0)``."""
    total = k + r
    small = k != 0 and abs(r / k) < 0.5
    v = abs(k) if small else abs(total)
    # log v = e ln2 + log f (v = f 2**e): e * LN2_HI is exact and joins m by
    # TwoSum, so a large log|K| that cancels against m costs no ulps
    f, e = math.frexp(v)
    if 0 < f < SQRT_HALF:  # f in [sqrt(1/2), sqrt(2)): log f small, e = 0 next to 1
        f, e = 2.0 * f, e - 1
    t = (e * LN2_LO + math.log(f)) + (math.log1p(r / k) if small else 0.0)
    big = e * LN2_HI
    hi = m + big
    if math.isfinite(hi):
        t += two_sum_err(m, big, hi)
    logabs = hi + t
    if logabs != logabs:
        return math.nan, math.nan, 0.0
    if logabs == -math.inf or total == 0:
        return 0.0, -math.inf, 0.0
    if not math.isfinite(logabs):
        return (1.0 if total > 0 else -1.0), logabs, 0.0
    return (1.0 if total > 0 else -1.0), hi, t


@helper
def finish(k, r, m):  # type: ignore[no-untyped-def]
    """``_special._finish`` and ``canonical``: (sign, logabs) of ``e**m (k + r)``."""
    sign, m, t = finish_split(k, r, m)
    return sign, m + t


@kernel
def signed_cumsum(sign, logabs, s_out, l_out):  # type: ignore[no-untyped-def]
    """Each row's running sum as one running merge of states ``(m, k, r)``."""
    for j in range(logabs.shape[0]):
        m, k, r = -math.inf, 0.0, 0.0
        for i in range(logabs.shape[1]):
            li = logabs[j, i]
            mi = li if li >= m or li != li else m
            if m != m:
                mi = m
            k1, r1 = rescale(m, k, r, mi)
            k2, r2 = rescale(li, sign[j, i], 0.0, mi)
            m, k, r = mi, k1 + k2, r1 + r2
            s_out[j, i], l_out[j, i] = finish(k, r, m)


@kernel
def compensated_sum(a, out):  # type: ignore[no-untyped-def]
    """Each row's sum by one Neumaier (Kahan-Babuska) pass."""
    for j in range(a.shape[0]):
        s, c = 0.0, 0.0
        for i in range(a.shape[1]):
            v = a[j, i]
            t = s + v
            if math.isfinite(t):
                c += (s - t) + v if abs(s) >= abs(v) else (v - t) + s
            s = t
        out[j] = s + c if math.isfinite(s) else s


# Weights beyond 2**+-500 make w * e**d overflow or lose the differences between
# weights: the kernels report them and the caller takes the exact portable path.
W_HI, W_LO = 2.0**500, 2.0**-500


@helper
def _weight(w, i):  # type: ignore[no-untyped-def]
    """``w[i]`` in float64 (float32 signs are widened), or 1 where the weights
    are None (compiled apart, no branch)."""
    if w is None:
        return 1.0
    return np.float64(w[i])


@helper
def _shift_of(w, lg, ceiling):  # type: ignore[no-untyped-def]
    """The largest finite logabs with a nonzero weight below ``ceiling - ln 2``
    (-inf where none), and whether a weight is beyond the shiftable range."""
    m = -math.inf
    extreme = False
    for i in range(lg.shape[0]):
        li, wi = lg[i], _weight(w, i)
        aw = abs(wi)
        extreme |= aw > W_HI or (aw < W_LO and aw != 0)
        if wi != 0 and math.isfinite(li) and li > m and li - ceiling <= -LN2:
            m = li
    return m, extreme


@helper
def _terms(w, lg, m, ceiling):  # type: ignore[no-untyped-def]
    """``K``, a Neumaier-compensated ``R`` as ``(r, c)``, the top terms' ``R``,
    and whether there were top terms and other terms, over terms below
    ``ceiling - ln 2`` (``_special._close_and_rest``)."""
    k, r, c, top_r = 0.0, 0.0, 0.0, 0.0
    had_top, rest_left = False, False
    for i in range(lg.shape[0]):
        wi = _weight(w, i)
        if wi == 0 or (math.isfinite(lg[i]) and lg[i] - ceiling > -LN2):
            continue
        d, d_lo = difference(lg[i], m)
        e = math.exp(d)
        fix = 0.0 if d_lo == 0 else e * d_lo
        if math.isfinite(d) and d > -LN2:
            k += wi
            had_top = True
            term = wi * (math.expm1(d) + fix)
            top_r += term
        else:
            rest_left = True
            term = wi * (e + fix)
        t = r + term
        if math.isfinite(t):
            c += (r - t) + term if abs(r) >= abs(term) else (term - t) + r
        r = t
    return k, r, c, top_r, had_top, rest_left


@helper
def _logsum_split(w, lg):  # type: ignore[no-untyped-def]
    """(sign, m, t) of ``sum(w e**lg)``, ``logabs = m + t``: the shift, then ``K``
    and a compensated ``R``; and whether a weight is beyond ``2**+-500`` (read
    in the first round's pass, which sees every term).

    Terms close to an earlier shift whose values cancelled exactly are left out
    (``_special._shifted_sum``); ``ceiling`` is that earlier shift.
    """
    ceiling = math.inf
    sign, m_out, t = 0.0, -math.inf, 0.0
    m, extreme = _shift_of(w, lg, ceiling)
    while True:  # one round per level of exactly cancelling top terms
        if ceiling != math.inf:
            m = _shift_of(w, lg, ceiling)[0]
        if m == -math.inf:
            m = 0.0
        k, r, c, top_r, had_top, rest_left = _terms(w, lg, m, ceiling)
        if math.isfinite(r):
            r += c
        sign, m_out, t = finish_split(k, r, m)
        if not (k + top_r == 0 and had_top and rest_left):
            return sign, m_out, t, extreme
        ceiling = m


# The one-pass sum.  A row is cut into blocks of SUB terms (a and w of one block,
# 32 KiB, stay in L1 between the block's passes):
#
# 1. the shift pass finds the block's largest term with a nonzero weight (on
#    integer order keys, so the loop vectorises) and its flags;
# 2. the term pass adds each term on that shift into one of LANES compensated
#    sums (TwoSum, branch-free), term ``i`` into lane ``i % LANES``: a map over
#    the lanes, which vectorises with ``vmath``'s exp inlined; a term within
#    ln 2 of the shift is added as ``w (e**d - 1)``, its weight going to ``K``;
# 3. the lanes are merged in order: a compensated sum is never reassociated.
#
# Each block leaves the state ``(m, k, r)`` of the running merge (``e**m (k +
# r)``); the states are rescaled to the row's largest shift by ``rescale`` and
# summed in block order, so the result does not depend on the number of threads.
# A row goes to the exact rounds (``_logsum_split``) where a term is +inf or nan
# or a weight nan (IEEE rules), where no term is finite, and where signed terms
# cancel to below CANCEL times a bound on the sum of their magnitudes (a block
# with both signs bounds it by ``n max|w|``); exact cancellation of the top terms
# is such a case: the rounds then sum what is left on its own shift, which may
# lie far below.  Weights beyond 2**+-500 are reported, as by the exact path.
SUB = 2048
LANES = 64
CHUNK = 16  # blocks per task of one long row's threads
CANCEL = 2.0**-30
FAST_MIN = 256  # shorter rows: the exact rounds, one pass each
SPECIAL, EXTREME, NEGATIVE, POSITIVE = 1, 2, 4, 8


@inline
def _exp_top(d):  # type: ignore[no-untyped-def]
    """``(e**d, v)`` for ``d <= 0`` (or -inf): ``v = e**d - 1`` within an ulp
    of it where ``d > -ln 2`` (a top term), else ``v = e**d``."""
    n, p_hi, p_lo = exp_parts(max(d, -CLAMP))
    t = 1.0 + p_hi
    e = scale_pow2(t + (((1.0 - t) + p_hi) + p_lo), n)
    two_n = 1.0 if n == 0 else 0.5  # for a top term n is 0 or -1
    v = (two_n - 1.0) + two_n * (p_hi + p_lo)
    return e, (v if d > -LN2 else e)


@inline
def _order_key(x):  # type: ignore[no-untyped-def]
    """An int64 that orders like the float64 ``x`` (its own inverse on bits)."""
    b = bits(x)
    return b ^ ((b >> 63) & 0x7FFFFFFFFFFFFFFF)


@inline
def _scan_one(wi, ai, key, wkey, fl):  # type: ignore[no-untyped-def]
    """One term of the shift pass: the running maxima (as order keys, so the
    loop vectorises) of the terms with a nonzero weight and of ``|w|``, and
    the flags."""
    x = ai if wi != 0 else -math.inf
    k = _order_key(x)
    key = k if k > key else key
    aw = abs(wi)
    k = _order_key(aw)
    wkey = k if k > wkey else wkey
    fl |= SPECIAL if not x < math.inf or wi != wi else 0
    fl |= EXTREME if aw > W_HI or (aw < W_LO and aw != 0) else 0
    fl |= NEGATIVE if wi < 0 else 0
    fl |= POSITIVE if wi > 0 else 0
    return key, wkey, fl


@inline
def _term_one(wi, ai, m):  # type: ignore[no-untyped-def]
    """One term on the shift ``m``: its part of ``R`` and of ``K``."""
    x = ai if wi != 0 else -math.inf
    d = x - m
    back = d - x
    d_lo = (x - (d - back)) + (-m - back)  # exact.difference, inlined
    d_lo = d_lo if abs(d_lo) < math.inf else 0.0
    e, v = _exp_top(d)
    return wi * (v + e * d_lo), (wi if d > -LN2 else 0.0)


@inline
def _neumaier(r, c, term):  # type: ignore[no-untyped-def]
    """``r + term`` and the compensation ``c`` with its rounding error added."""
    t = r + term
    c += (r - t) + term if abs(r) >= abs(term) else (term - t) + r
    return t, c


@helper
def _block_shift(w, lg):  # type: ignore[no-untyped-def]
    """The block's shift pass: its largest term with a nonzero weight (-inf
    where none; nan counts as large), its largest ``|w|``, and its flags."""
    key, wkey, flags = _order_key(-math.inf), _order_key(0.0), 0
    for i in range(lg.shape[0]):
        key, wkey, flags = _scan_one(_weight(w, i), lg[i], key, wkey, flags)
    return from_bits(_order_key(from_bits(key))), from_bits(_order_key(from_bits(wkey))), flags


@helper
def _lanes_add(w, lg, m, r, c, k):  # type: ignore[no-untyped-def]
    """Term ``j`` of the slice on the shift ``m`` into lane ``j``: its part of
    ``R`` into ``r`` (TwoSum's error into ``c``) and of ``K`` into ``k`` (a map
    over the lanes: it vectorises, the exp inlined)."""
    for j in range(lg.shape[0]):
        term, top = _term_one(_weight(w, j), lg[j], m)
        rj = r[j]
        t = rj + term
        back = t - rj
        c[j] += (rj - (t - back)) + (term - back)
        r[j] = t
        k[j] += top


@helper
def _block(w, lg, scratch):  # type: ignore[no-untyped-def]
    """One block's state ``(m, k, r)``, a bound on the sum of its terms'
    magnitudes on ``m`` (``sum |w| e**d``: the sum's own magnitude where the
    weights have one sign, else ``n max|w|``), and its flags; ``scratch`` is
    (3, LANES) floats."""
    n = lg.shape[0]
    m, w_max, flags = _block_shift(w, lg)
    if m == -math.inf or flags & SPECIAL:
        return -math.inf, 0.0, 0.0, 0.0, flags
    r, c, kk = scratch[0], scratch[1], scratch[2]
    r[:] = 0.0
    c[:] = 0.0
    kk[:] = 0.0
    for i in range(0, n, LANES):  # LANES compensated sums, each term in its lane
        j = min(i + LANES, n)
        _lanes_add(_part(w, i, j), lg[i:j], m, r, c, kk)
    k, rs, cs = 0.0, 0.0, 0.0
    for j in range(LANES):  # the lanes merged in order
        k += kk[j]
        t = rs + r[j]
        cs += two_sum_err(rs, r[j], t) + c[j]
        rs = t
    g = n * w_max if flags & NEGATIVE and flags & POSITIVE else abs(k + (rs + cs))
    return m, k, rs + cs, g, flags


@helper
def _blocks(w, lg, first, last, states, flags, scratch):  # type: ignore[no-untyped-def]
    """Blocks ``first`` to ``last - 1`` of a row into ``states`` (m, k, r, g)."""
    n = lg.shape[0]
    for b in range(first, last):
        i, j = b * SUB, min(b * SUB + SUB, n)
        m, k, r, g, f = _block(_part(w, i, j), lg[i:j], scratch)
        states[b, 0], states[b, 1], states[b, 2], states[b, 3] = m, k, r, g
        flags[b] = f


@helper
def _merge(w, lg, states, flags):  # type: ignore[no-untyped-def]
    """(sign, m, t, extreme) of the row from its blocks' states, in block order;
    the exact rounds where the one-pass sum does not decide."""
    fl = 0
    top = -math.inf
    for b in range(flags.shape[0]):
        fl |= flags[b]
        top = states[b, 0] if states[b, 0] > top else top
    if fl & EXTREME:
        return 0.0, -math.inf, 0.0, True
    if fl & SPECIAL or top == -math.inf:
        return _logsum_split(w, lg)
    k, r, c, g = 0.0, 0.0, 0.0, 0.0
    for b in range(flags.shape[0]):
        m = states[b, 0]
        if m == -math.inf:
            continue
        k1, r1 = rescale(m, states[b, 1], states[b, 2], top)
        k += k1
        r, c = _neumaier(r, c, r1)
        g += states[b, 3] * math.exp(m - top)
    r += c
    if fl & NEGATIVE and fl & POSITIVE and not abs(k + r) > CANCEL * g:
        return _logsum_split(w, lg)
    sign, m_out, t = finish_split(k, r, top)
    return sign, m_out, t, False


@helper
def _row_split(w, lg, states, flags, scratch):  # type: ignore[no-untyped-def]
    """(sign, m, t, extreme) of one row, in one thread; scratch for its blocks."""
    n = lg.shape[0]
    if n < FAST_MIN:
        return _logsum_split(w, lg)
    nb = (n + SUB - 1) // SUB
    _blocks(w, lg, 0, nb, states, flags, scratch)
    return _merge(w, lg, states[:nb], flags[:nb])


def _row_of(w, j):  # type: ignore[no-untyped-def]
    """Row ``j`` of the weights, None where they are None."""
    return None if w is None else w[j]


def _part(w, i, j):  # type: ignore[no-untyped-def]
    """``w[i:j]``, None where the weights are None."""
    return None if w is None else w[i:j]


# Chosen by the weights' type when compiling (a helper with an ``is None``
# branch would return an optional array, and its loops would not vectorise).
@overload(_row_of)
def _row_of_typed(w, j):  # type: ignore[no-untyped-def]
    if isinstance(w, types.NoneType):
        return lambda w, j: None
    return lambda w, j: w[j]


@overload(_part)
def _part_typed(w, i, j):  # type: ignore[no-untyped-def]
    if isinstance(w, types.NoneType):
        return lambda w, i, j: None
    return lambda w, i, j: w[i:j]


@helper
def _scratch(n):  # type: ignore[no-untyped-def]
    nb = max((n + SUB - 1) // SUB, 1)
    return np.empty((nb, 4)), np.empty(nb, dtype=np.int64), np.empty((3, LANES))


@kernel
def logsum_split(w, lg, s_out, m_out, t_out):  # type: ignore[no-untyped-def]
    """Each row's sum as ``(sign, m, t)`` (``logabs = m + t`` before its last
    rounding), for partial sums that merge without that rounding; False where a
    weight was beyond ``2**+-500`` (the caller then takes the exact path)."""
    states, flags, scratch = _scratch(lg.shape[1])
    extreme = False
    for j in range(lg.shape[0]):
        s_out[j], m_out[j], t_out[j], row_extreme = _row_split(
            _row_of(w, j), lg[j], states, flags, scratch
        )
        extreme |= row_extreme
    return not extreme


@kernel
def _logsum_rows(w, lg, s_out, l_out):  # type: ignore[no-untyped-def]
    states, flags, scratch = _scratch(lg.shape[1])
    extreme = False
    for j in range(lg.shape[0]):
        sign, m, t, row_extreme = _row_split(_row_of(w, j), lg[j], states, flags, scratch)
        s_out[j], l_out[j] = sign, m + t
        extreme |= row_extreme
    return extreme


@kernel(parallel=True)
def _logsum_rows_parallel(w, lg, s_out, l_out):  # type: ignore[no-untyped-def]
    rows, n = lg.shape
    group = max(1, PARALLEL_MIN // max(n, 1))  # rows per task
    tasks = (rows + group - 1) // group
    extreme = np.zeros(tasks, dtype=np.bool_)
    for task in numba.prange(tasks):
        states, flags, scratch = _scratch(n)
        for j in range(task * group, min(task * group + group, rows)):
            sign, m, t, row_extreme = _row_split(_row_of(w, j), lg[j], states, flags, scratch)
            s_out[j], l_out[j] = sign, m + t
            extreme[task] |= row_extreme
    return extreme.any()


@kernel(parallel=True)
def _logsum_long(w, lg, s_out, l_out):  # type: ignore[no-untyped-def]
    """One long row, its blocks on threads (CHUNK blocks a task), then the
    states merged in block order (so the result does not depend on the threads)."""
    n = lg.shape[0]
    nb = (n + SUB - 1) // SUB
    states = np.empty((nb, 4))
    flags = np.empty(nb, dtype=np.int64)
    for task in numba.prange((nb + CHUNK - 1) // CHUNK):
        scratch = np.empty((3, LANES))
        _blocks(w, lg, task * CHUNK, min(task * CHUNK + CHUNK, nb), states, flags, scratch)
    sign, m, t, extreme = _merge(w, lg, states, flags)
    s_out[0], l_out[0] = sign, m + t
    return extreme


def signed_logsum(w: Any, lg: Any, s_out: Any, l_out: Any) -> bool:
    """Each row's ``sum(w e**lg)`` into the outputs (``w`` None: all weights 1);
    False where a weight was beyond ``2**+-500`` (the caller then takes the
    exact portable path)."""
    rows, n = lg.shape
    if rows * n < PARALLEL_MIN:
        return not _logsum_rows(w, lg, s_out, l_out)
    # the threads take the tasks one at a time (a thread that the system
    # deschedules then holds no fixed half of the work)
    chunksize = numba.set_parallel_chunksize(1)
    try:
        if rows == 1:
            return not _logsum_long(None if w is None else w[0], lg[0], s_out, l_out)
        return not _logsum_rows_parallel(w, lg, s_out, l_out)
    finally:
        numba.set_parallel_chunksize(chunksize)
