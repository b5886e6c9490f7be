"""Compiled elementwise kernels for NumPy inputs (the ``fast`` extra installs Numba).

The portable array-API kernels in :mod:`logreal._special` and
:mod:`logreal._logreal` are the truth; each kernel here fuses one of them into a
single pass over the data, with the same branches in the same order, and is
tested against it.  They are used only for NumPy float32/float64 arrays, when
Numba is importable and ``LOGREAL_KERNELS`` is not ``portable``.  Kernels are
compiled on first use, once per process (about a second).  Numba's disk cache
is not used: cached closures went stale across edits of this module.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import math
import os
from collections.abc import Callable, Iterator
from typing import Any

from ._backend import Array, Namespace, is_numpy, quiet

__all__ = ["builder", "kernel", "portable"]

_state = {"enabled": importlib.util.find_spec("numba") is not None}
if os.environ.get("LOGREAL_KERNELS") == "portable":
    _state["enabled"] = False

LN2 = math.log(2.0)


@contextlib.contextmanager
def portable() -> Iterator[None]:
    """Within the block, use only the portable array-API kernels."""
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before


def kernel(name: str, xp: Namespace, *arrays: Array) -> Callable[..., Any] | None:
    """The compiled kernel ``name`` if it applies to these arrays, else None."""
    if not _state["enabled"] or not is_numpy(xp):
        return None
    dtype = arrays[0].dtype
    if dtype.kind != "f" or dtype.itemsize not in (4, 8):
        return None
    if any(a.dtype != dtype for a in arrays):
        return None
    return functools.partial(_quietly, _build(name))


_BUILDERS: dict[str, Callable[[], Callable[..., Any]]] = {}


def builder(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register a zero-argument function that compiles the kernel ``name``.

    Topic modules keep their kernels beside them this way; the builder imports
    Numba itself and runs only on first use.
    """

    def register(build: Callable[[], Any]) -> Callable[[], Any]:
        _BUILDERS[name] = build
        return build

    return register


@functools.cache
def _build(name: str) -> Callable[..., Any]:
    if name in _BUILDERS:
        return _BUILDERS[name]()
    return _compiled()[name]


def _quietly(fn: Callable[..., Any], *args: Array) -> Any:
    with quiet():  # log(0) = -inf and inf - inf = nan are the intended IEEE answers
        return fn(*args)


def _signatures(n_in: int, n_out: int) -> list[str]:
    sigs = []
    for t in ("float32", "float64"):
        args = ", ".join([t] * n_in + [f"{t}[:]"] * n_out)
        sigs.append(f"void({args})")
    return sigs


@functools.cache
def _compiled() -> dict[str, Callable[..., Any]]:
    import numba

    def gufunc(n_in: int, n_out: int) -> Callable[..., Any]:
        layout = ",".join(["()"] * n_in) + "->" + ",".join(["()"] * n_out)
        return numba.guvectorize(_signatures(n_in, n_out), layout, nopython=True)

    @numba.njit(nogil=True)
    def settle(sign, logabs):  # _logreal._settle: logabs decides zero and nan
        if logabs == -math.inf:
            return 0.0
        if logabs != logabs:
            return math.nan
        return sign

    @numba.njit(nogil=True)
    def difference(a, b):  # _special._difference
        d = a - b
        back = d - a
        d_lo = (a - (d - back)) + (-b - back)
        return d, (d_lo if math.isfinite(d_lo) else 0.0)

    @gufunc(4, 2)
    def signed_add(sa, la, sb, lb, s_out, l_out):
        # _special.signed_add, one element at a time.
        if la < lb:
            hi, lo, s_hi = lb, la, sb
        else:
            hi, lo, s_hi = la, lb, sa
        d, d_lo = difference(lo, hi)
        if hi == lo:
            d = 0.0
        e = math.exp(d)
        if sa * sb < 0:
            e = -e
            if d > -LN2:
                denom = -math.expm1(d)
                corr = math.log(denom)
            else:
                denom = 1.0 + e
                corr = math.log1p(e)
        else:
            denom = 1.0 + e
            corr = math.log1p(e)
        if d_lo != 0:
            corr += d_lo * (e / denom)
        logabs = hi + corr
        l_out[0] = logabs
        s_out[0] = settle(s_hi, logabs)

    @gufunc(4, 2)
    def multiply(sa, la, sb, lb, s_out, l_out):  # _logreal._multiply
        logabs = la + lb
        l_out[0] = logabs
        s_out[0] = settle(sa * sb, logabs)

    @gufunc(4, 2)
    def divide(sa, la, sb, lb, s_out, l_out):  # _logreal._divide
        logabs = la - lb
        l_out[0] = logabs
        s_out[0] = settle(sa * (1.0 if sb == 0 else sb), logabs)

    @numba.njit(nogil=True)
    def rescale(ms, k, r, m):  # _special._rescale
        delta, delta_lo = difference(m, ms)
        if ms == m:
            delta = 0.0
        shrink = math.exp(-delta)
        fix = shrink * delta_lo
        kept = k * (math.expm1(-delta) - fix) + r * (shrink - fix)
        if abs(kept) < 0.5 * abs(k):
            return k, kept
        return 0.0, (k + r) * (shrink - fix)

    @numba.njit(nogil=True)
    def finish(k, r, m):  # _special._finish and canonical
        total = k + r
        if k != 0 and abs(r / k) < 0.5:
            logabs = m + (math.log(abs(k)) + math.log1p(r / k))
        else:
            logabs = m + math.log(abs(total))
        if logabs != logabs:
            return math.nan, math.nan
        if logabs == -math.inf or total == 0:
            return 0.0, -math.inf
        return (1.0 if total > 0 else -1.0), logabs

    @numba.guvectorize(
        [f"void({t}[:], {t}[:], {t}[:], {t}[:])" for t in ("float32", "float64")],
        "(n),(n)->(n),(n)",
        nopython=True,
    )
    def signed_cumsum(sign, logabs, s_out, l_out):
        # _special.signed_cumsum as one running merge of states (m, k, r).
        m, k, r = -math.inf, 0.0, 0.0
        for i in range(logabs.shape[0]):
            li = logabs[i]
            mi = li if li >= m or li != li else m
            if m != m:
                mi = m
            k1, r1 = rescale(m, k, r, mi)
            k2, r2 = rescale(li, sign[i], 0.0, mi)
            m, k, r = mi, k1 + k2, r1 + r2
            s_out[i], l_out[i] = finish(k, r, m)

    @numba.guvectorize(
        [f"void({t}[:], {t}[:])" for t in ("float32", "float64")], "(n)->()", nopython=True
    )
    def compensated_sum(a, out):
        # _reduce._compensated_sum as one Neumaier (Kahan-Babuska) pass.
        s, c = 0.0, 0.0
        for i in range(a.shape[0]):
            v = a[i]
            t = s + v
            if math.isfinite(t):
                c += (s - t) + v if abs(s) >= abs(v) else (v - t) + s
            s = t
        out[0] = s + c if math.isfinite(s) else s

    @numba.guvectorize(
        [f"void({t}[:], {t}[:], {t}[:], {t}[:])" for t in ("float32", "float64")],
        "(n),(n)->(),()",
        nopython=True,
    )
    def signed_logsum(w, lg, s_out, l_out):
        # _special.signed_logsum in two passes: the shift, then K and a
        # compensated (Neumaier) R.
        # Terms close to an earlier shift whose values cancelled exactly are
        # left out (_special._shifted_sum); ceiling is that earlier shift.
        ceiling = math.inf
        for _ in range(64):
            m = -math.inf
            for i in range(lg.shape[0]):
                li = lg[i]
                if w[i] != 0 and math.isfinite(li) and li > m and li - ceiling <= -LN2:
                    m = li
            if m == -math.inf:
                m = 0.0
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
            if math.isfinite(r):
                r += c
            s_out[0], l_out[0] = finish(k, r, m)
            if not (k + top_r == 0 and had_top and rest_left):
                break
            ceiling = m

    return {
        "signed_logsum": signed_logsum,
        "compensated_sum": compensated_sum,
        "signed_add": signed_add,
        "multiply": multiply,
        "divide": divide,
        "signed_cumsum": signed_cumsum,
    }
