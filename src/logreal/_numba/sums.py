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

from ._jit import helper, kernel
from .exact import difference, two_sum_err

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
    """``_special._rescale``: the state ``(ms, k, r)`` on the larger shift ``m``."""
    delta, delta_lo = difference(m, ms)
    if ms == m:
        delta = 0.0
    shrink = math.exp(-delta)
    fix = shrink * delta_lo
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
def _shift_of(w, lg, ceiling):  # type: ignore[no-untyped-def]
    """The largest finite logabs with a nonzero weight below ``ceiling - ln 2``
    (-inf where none), and whether a weight is beyond the shiftable range."""
    m = -math.inf
    extreme = False
    for i in range(lg.shape[0]):
        li, wi = lg[i], w[i]
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
        wi = w[i]
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


@helper
def _logsum_row(w, lg):  # type: ignore[no-untyped-def]
    """(sign, logabs) of ``sum(w e**lg)``, and whether a weight was extreme."""
    sign, m, t, extreme = _logsum_split(w, lg)
    return sign, m + t, extreme


@kernel
def logsum_split(w, lg, s_out, m_out, t_out):  # type: ignore[no-untyped-def]
    """Each row's sum as ``(sign, m, t)`` (``logabs = m + t`` before its last
    rounding), for partial sums that merge without that rounding; True where a
    weight was beyond ``2**+-500`` (the caller then takes the exact path)."""
    extreme = False
    for j in range(lg.shape[0]):
        s_out[j], m_out[j], t_out[j], row_extreme = _logsum_split(w[j], lg[j])
        extreme |= row_extreme
    return not extreme


@kernel
def _logsum_rows(w, lg, s_out, l_out):  # type: ignore[no-untyped-def]
    extreme = False
    for j in range(lg.shape[0]):
        s_out[j], l_out[j], row_extreme = _logsum_row(w[j], lg[j])
        extreme |= row_extreme
    return extreme


@kernel(parallel=True)
def _logsum_rows_parallel(w, lg, s_out, l_out):  # type: ignore[no-untyped-def]
    rows = lg.shape[0]
    extreme = np.zeros(rows, dtype=np.bool_)
    for j in numba.prange(rows):
        s_out[j], l_out[j], extreme[j] = _logsum_row(w[j], lg[j])
    return extreme.any()


@kernel(parallel=True)
def _logsum_long(w, lg, s_out, l_out):  # type: ignore[no-untyped-def]
    """One long row, its blocks on threads: the shift, then the blocks' sums
    merged in block order (so the result does not depend on the threads)."""
    n = lg.shape[0]
    nb = (n + BLOCK - 1) // BLOCK
    ms = np.empty(nb)
    extreme = np.zeros(nb, dtype=np.bool_)
    for b in numba.prange(nb):
        i, j = b * BLOCK, min(b * BLOCK + BLOCK, n)
        ms[b], extreme[b] = _shift_of(w[i:j], lg[i:j], math.inf)
    m = ms.max()
    if m == -math.inf:
        m = 0.0
    parts = np.empty((nb, 4))
    flags = np.zeros((nb, 2), dtype=np.bool_)
    for b in numba.prange(nb):
        i, j = b * BLOCK, min(b * BLOCK + BLOCK, n)
        k, r, c, top_r, had_top, rest_left = _terms(w[i:j], lg[i:j], m, math.inf)
        parts[b, 0], parts[b, 1], parts[b, 2], parts[b, 3] = k, r, c, top_r
        flags[b, 0], flags[b, 1] = had_top, rest_left
    k, r, c, top_r = 0.0, 0.0, 0.0, 0.0
    for b in range(nb):  # Neumaier over the blocks' sums, in order
        k += parts[b, 0]
        top_r += parts[b, 3]
        term = parts[b, 1]
        c += parts[b, 2]
        t = r + term
        if math.isfinite(t):
            c += (r - t) + term if abs(r) >= abs(term) else (term - t) + r
        r = t
    if math.isfinite(r):
        r += c
    s_out[0], l_out[0] = finish(k, r, m)
    if k + top_r == 0 and flags[:, 0].any() and flags[:, 1].any():
        s_out[0], l_out[0], _ = _logsum_row(w, lg)  # the top terms cancel: the rounds
    return extreme.any()


def signed_logsum(w: Any, lg: Any, s_out: Any, l_out: Any) -> bool:
    """Each row's ``sum(w e**lg)`` into the outputs; False where a weight was
    beyond ``2**+-500`` (the caller then takes the exact portable path)."""
    rows, n = lg.shape
    if rows * n < PARALLEL_MIN:
        return not _logsum_rows(w, lg, s_out, l_out)
    if rows == 1:
        return not _logsum_long(w[0], lg[0], s_out, l_out)
    return not _logsum_rows_parallel(w, lg, s_out, l_out)
