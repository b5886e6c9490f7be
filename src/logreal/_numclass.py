"""Number classes: the few operations the product algorithms need.

The algorithms of :mod:`logreal._products` see a sequence as a *stack*: its
elements lie along axis 0 and each may itself be an array (the other axes).  A
number class (the :class:`NumberClass` protocol)

- lifts a slice ``src[a:b]`` of the user's array to a stack (``lift``),
- multiplies two stacks elementwise, in order (``mul``; a stack of one
  broadcasts),
- reduces and scans a stack along axis 0 (``reduce``, ``scan``), where ``scan``
  takes a *seed*: the product of everything before the stack (after it, for a
  reverse scan), folded in as the first factor,
- takes, joins and expands stacks (``take``, ``concat``, ``expand``), and
  turns a stack of one batch back into a stack (``squeeze``),
- picks elements of two stacks by a mask (``where``; the naive method replaces
  factors by ``one`` this way),
- writes stacks into the output and reads them back (``store``, ``load``,
  ``stash``, ``unstash``, ``result``).

Commutative classes with division add ``regular``, ``kinds``, ``where``,
``divide`` and ``assemble`` for the division method (:class:`Field`).  The
representation of a stack belongs to its class; the algorithms never look
inside.

``Real``
    Real floats.  A stack is ``(m, e)``, the exact values ``m * 2**e``: plain
    floats (``e`` is None) while every product stays a normal float, and
    mantissas renormalised by ``frexp`` with integer exponents where a partial
    product would leave the range.  Each result is rounded once, when stored.
``Log``
    LogReal (sign, logabs).  A stack is ``(s, la, lo)``: ``lo`` holds the low
    part of a compensated sum of logs (or ``None``), so a product of 10^5
    factors is within an ulp of the exact log-magnitude.  With ``real_io`` it
    reads and writes real floats (the ``"log"`` method).
``Op``
    Any associative ``op`` acting elementwise on stacks with NumPy
    broadcasting (``np.matmul``, ``lr.matmul``, ufuncs).  A stack is the
    user's array itself (NumPy or LogReal).

Special values (0 * inf, log 0) are intended where they arise; the operations
that make them silence NumPy's warnings with ``np.errstate``, one at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ._backend import (
    Array,
    Namespace,
    Slots,
    as_sign,
    default_float,
    namespace,
    unwrap,
    widened,
    writable,
)
from ._exact import frexp, ldexp, two_sum_err
from ._logreal import LogReal
from ._special import canonical, signed_logsum

__all__ = ["BLOCK", "Field", "Log", "NumberClass", "Op", "Real", "block_rows"]

# Elements a block holds: the algorithms sweep in blocks of this many numbers,
# so their temporaries stay O(BLOCK) whatever n is.
BLOCK = 8192
# Mantissas multiplied in one row before renormalising: 2**-ROW stays normal.
ROW = 256
# Real floats sweep in blocks of REAL_BLOCK elements, and their exact (frexp)
# path handles CHUNK at once: about ten NumPy calls a chunk, whose Python, not
# their arithmetic, set the cost at 2048 (10^6 probabilities: 156 ms, now 80 ms,
# for 2.5 MiB of temporaries instead of 0.85).  CHUNK / ROW row totals in
# [1/2, 1) times a row's product stay above 2**-(CHUNK / ROW + ROW), normal.
REAL_BLOCK = 1 << 14
CHUNK = 1 << 14


def block_rows(rest: tuple[int, ...]) -> int:
    """Elements of the sequence per block when each element holds ``rest``."""
    return max(1, BLOCK // max(1, math.prod(rest)))


class NumberClass(Protocol):
    """What every product algorithm may ask of a number class (stacks are opaque)."""

    rows: int  # sequence elements per block
    xp: Namespace  # the array namespace of the stacks' arrays (masks are built in it)
    rest: tuple[int, ...]  # the shape of one element

    def lift(self, src: Any, a: int, b: int) -> Any: ...  # src[a:b] as a stack
    def length(self, st: Any) -> int: ...
    def take(self, st: Any, i: int, j: int) -> Any: ...
    def concat(self, sts: list[Any]) -> Any: ...
    def expand(self, st: Any, k: int) -> Any: ...  # k length-1 axes after axis 0
    def squeeze(self, st: Any) -> Any: ...  # a stack of one batch (1, B, *rest) as (B, *rest)
    def where(self, mask: Array, st: Any, other: Any) -> Any: ...  # broadcasting
    def one(self) -> Any: ...  # a stack of one, or None (an op without identity)
    def mul(self, p: Any, q: Any) -> Any: ...  # p * q elementwise, in this order
    def reduce(self, st: Any) -> Any: ...  # the product along axis 0, a stack of one
    def scan(self, st: Any, reverse: bool = False, seed: Any = None) -> Any: ...
    def empty(self, n: int) -> Any: ...  # output storage for n elements
    def store(self, out: Any, i: int, j: int, st: Any, check: bool = False) -> bool: ...
    def load(self, out: Any, i: int, j: int) -> Any: ...
    def stash(self, out: Any, i: int, j: int, seed: Any) -> bool: ...  # seed into out[i:j]
    def unstash(self, out: Any, i: int) -> Any: ...
    def sum0(self, st: Any) -> Any: ...  # the sum along axis 0, as the user's type
    def result(self, out: Any) -> Any: ...  # output storage as the user's type
    def zeros(self, shape: tuple[int, ...]) -> Any: ...


class Field(NumberClass, Protocol):
    """A commutative class with division: what the division method needs."""

    def regular(self, st: Any) -> bool: ...  # every element finite and nonzero
    def kinds(self, st: Any) -> tuple[Array, Array, Array, Array]: ...  # 0, inf, nan, < 0
    def divide(self, p: Any, q: Any) -> Any: ...
    def assemble(self, base: Any, nan: Array, zero: Array, inf: Array, flip: Array) -> Any: ...


def _rows(a: Array, fill: float, xp: Namespace) -> Array:
    """``a`` of shape (L, *rest) padded with ``fill`` to whole rows of at most
    ROW elements, reshaped to (R, r, *rest)."""
    length = a.shape[0]
    r = min(ROW, length)
    count = -(-length // r)
    pad = count * r - length
    if pad:
        a = xp.concat([a, xp.full((pad, *a.shape[1:]), fill, dtype=a.dtype)], axis=0)
    return xp.reshape(a, (count, r, *a.shape[1:]))


def _expand(a: Array, k: int, xp: Namespace) -> Array:
    """Insert ``k`` length-1 axes after axis 0."""
    return xp.reshape(a, (a.shape[0], *(1,) * k, *a.shape[1:]))


def _count(mask: Array, xp: Namespace) -> Array:
    return xp.sum(xp.astype(mask, xp.int64), axis=0)


# ---------------------------------------------------------------------------
# Real floats as exact-range scaled pairs.

Scaled = tuple[Array, Array]


class Real:
    """Real floats, each the exact ``m * 2**e`` (see the module notes).

    ``e`` is ``None`` (every exponent 0: plain floats), one exponent per
    stack (shape (1, *rest)) or one per element.  A product is first formed
    in plain floats; when every result is a normal float (checked by a min
    and a max) it carries no error beyond its own rounding and is kept.
    Otherwise (a partial product under- or overflows, or a factor is 0, inf
    or nan) it is redone with mantissas renormalised by ``frexp`` at every
    step, which no range can break.
    """

    commutative = True

    def __init__(self, xp: Namespace, dtype: Any, rest: tuple[int, ...]) -> None:
        self.xp = xp
        self.dtype = dtype
        self.rest = rest
        self.rows = max(1, REAL_BLOCK // max(1, math.prod(rest)))
        self.f64 = default_float(xp)  # float32 on JAX without x64
        fi = xp.finfo(self.f64)
        self.tiny, self.huge = float(fi.smallest_normal), float(fi.max)

    # -- helpers ---------------------------------------------------------------

    def _fits(self, r: Array) -> bool:
        """Every value a normal float: no rounding into subnormals, no
        overflow, no 0, inf or nan (two reductions when all are positive)."""
        xp = self.xp
        if r.size == 0:
            return True
        if float(xp.min(r)) >= self.tiny and float(xp.max(r)) <= self.huge:
            return True
        a = xp.abs(r)
        return float(xp.min(a)) >= self.tiny and float(xp.max(a)) <= self.huge

    @staticmethod
    def _uniform(st: Scaled) -> bool:
        return st[1] is None or int(st[1].shape[0]) == 1

    def _full(self, st: Scaled) -> Array:
        m, e = st
        if e is None:
            return self.xp.zeros(m.shape, dtype=self.xp.int64)
        return self.xp.broadcast_to(e, m.shape)

    def _normal(self, st: Scaled) -> Scaled:
        """Mantissas in [1/2, 1) and one exponent per element."""
        m, k = frexp(st[0], self.xp)
        return m, _add_e(k, st[1])

    def _seed(self, seed: Scaled) -> Scaled:
        """A seed as a plain float when it lies well inside the range (so the
        block's products need no exponent), else renormalised."""
        if self._uniform(seed):
            v = self.finish_f64(seed)
            a = self.xp.abs(v)
            if bool(self.xp.all((a >= 2.0**-400) & (a <= 2.0**400))):
                return v, None
        return self._normal(seed)

    # -- stacks --------------------------------------------------------------

    def lift(self, src: Array, a: int, b: int) -> Scaled:
        return self.xp.astype(src[a:b, ...], self.f64, copy=False), None

    def length(self, st: Scaled) -> int:
        return int(st[0].shape[0])

    def take(self, st: Scaled, i: int, j: int) -> Scaled:
        m, e = st
        return m[i:j, ...], e if self._uniform(st) else e[i:j, ...]

    def concat(self, sts: list[Scaled]) -> Scaled:
        xp = self.xp
        m = xp.concat([s[0] for s in sts], axis=0)
        if all(s[1] is None for s in sts):
            return m, None
        first = sts[0][1]
        if first is not None and all(
            self._uniform(s) and s[1] is not None and bool(xp.all(s[1] == first)) for s in sts
        ):
            return m, xp.concat([first], axis=0)  # a copy: never pin a bigger array
        return m, xp.concat([self._full(s) for s in sts], axis=0)

    def expand(self, st: Scaled, k: int) -> Scaled:
        e = st[1]
        return _expand(st[0], k, self.xp), None if e is None else _expand(e, k, self.xp)

    def squeeze(self, st: Scaled) -> Scaled:
        m, e = st
        return m[0, ...], None if e is None else self.xp.broadcast_to(e, m.shape)[0, ...]

    def one(self) -> Scaled:
        return self.xp.ones((1, *self.rest), dtype=self.f64), None

    # -- arithmetic ------------------------------------------------------------

    def mul(self, p: Scaled, q: Scaled) -> Scaled:
        with np.errstate(over="ignore", invalid="ignore"):  # intended IEEE inf/nan
            r = p[0] * q[0]
        if self._fits(r):
            return r, _add_e(p[1], q[1])
        (pm, pe), (qm, qe) = self._normal(p), self._normal(q)
        with np.errstate(invalid="ignore"):  # IEEE: inf - inf, 0 * inf give nan
            m, k = frexp(pm * qm, self.xp)
        return m, pe + qe + k

    def divide(self, p: Scaled, q: Scaled) -> Scaled:
        with np.errstate(over="ignore"):  # IEEE: overflow gives inf
            r = p[0] / q[0]
        if self._fits(r):
            return r, _add_e(p[1], q[1], -1)
        (pm, pe), (qm, qe) = self._normal(p), self._normal(q)
        m, k = frexp(pm / qm, self.xp)
        return m, pe - qe + k

    def reduce(self, st: Scaled) -> Scaled:
        """The product along axis 0, as a stack of one."""
        xp = self.xp
        length = self.length(st)
        if length == 0:
            return self.one()
        if self._uniform(st):
            with np.errstate(over="ignore", invalid="ignore"):  # caught by _fits below
                c = xp.cumulative_prod(st[0], axis=0)  # every partial product is checked
            if self._fits(c):
                return c[-1:, ...], None if st[1] is None else st[1] * length
        m, e = self._normal(st)
        out = None
        for a in range(0, length, BLOCK):
            b = min(a + BLOCK, length)
            with np.errstate(invalid="ignore"):  # 0 * inf = nan among special factors
                tm, te = frexp(xp.prod(_rows(m[a:b, ...], 1.0, xp), axis=1), xp)
            pm, pe = frexp(xp.prod(tm, axis=0, keepdims=True), xp)
            total = xp.sum(e[a:b, ...], axis=0, keepdims=True)
            part = (pm, pe + total + xp.sum(te, axis=0, keepdims=True))
            out = part if out is None else self.mul(out, part)
        assert out is not None
        return out

    def scan(self, st: Scaled, reverse: bool = False, seed: Scaled | None = None) -> Scaled:
        """Inclusive products along axis 0 (a block: at most BLOCK rows).

        Plain floats first: one ``cumprod`` and a range check.  If a partial
        product left the normal range, the exact path redoes the block.
        """
        xp = self.xp
        m, e = st
        if m.shape[0] == 0:
            return st
        if seed is not None:
            seed = self._seed(seed)
        if e is None:
            v = xp.flip(m, axis=0) if reverse else m
            with np.errstate(over="ignore", invalid="ignore"):  # caught by _fits below
                if seed is not None:  # a zero seed meets an infinity: the exact path
                    v = xp.concat([v[:1, ...] * seed[0], v[1:, ...]], axis=0)
                c = xp.cumulative_prod(v, axis=0)
            if self._fits(c):
                return (xp.flip(c, axis=0) if reverse else c), None if seed is None else seed[1]
        # The exact path, CHUNK elements at a time into preallocated results.
        if seed is not None:
            seed = self._normal(seed)
        per_element = not self._uniform(st)
        if reverse:
            m = xp.flip(m, axis=0)
            e = xp.flip(e, axis=0) if per_element else e
        out_m = writable(xp.empty(m.shape, dtype=self.f64), xp)
        out_e = writable(xp.empty(m.shape, dtype=xp.int64), xp)
        for a in range(0, m.shape[0], CHUNK):
            b = min(a + CHUNK, m.shape[0])
            cm, k = frexp(m[a:b, ...], xp)
            ce = _add_e(k, e[a:b, ...] if per_element else e)
            cm, ce = _scaled_scan(cm, xp.broadcast_to(ce, cm.shape), seed, xp)
            out_m[a:b, ...] = cm
            out_e[a:b, ...] = ce
            seed = (cm[-1:, ...], ce[-1:, ...])
        out_m, out_e = unwrap(out_m), unwrap(out_e)
        if reverse:
            return xp.flip(out_m, axis=0), xp.flip(out_e, axis=0)
        return out_m, out_e

    # -- the division method -------------------------------------------------

    def regular(self, st: Scaled) -> bool:
        """Whether every element is a normal float (the fast path of division)."""
        return self._fits(st[0])

    def kinds(self, st: Scaled) -> tuple[Array, Array, Array, Array]:
        """Masks: zero, infinite, nan, negative (sign bit set)."""
        xp = self.xp
        m = st[0]
        return m == 0, xp.isinf(m), xp.isnan(m), xp.signbit(m)

    def where(self, mask: Array, st: Scaled, other: Scaled) -> Scaled:
        xp = self.xp
        m = xp.where(mask, st[0], other[0])
        if st[1] is None and other[1] is None:
            return m, None
        return m, xp.where(mask, self._full(st), self._full(other))

    def assemble(self, base: Scaled, nan: Array, zero: Array, inf: Array, flip: Array) -> Scaled:
        """``base`` where no mask holds; else nan, or 0 / inf signed as
        ``base`` times (-1 where ``flip``)."""
        xp = self.xp
        m, e = base
        sign = 1.0 - 2.0 * xp.astype(xp.signbit(m) != flip, self.f64)  # -1 where negative
        m = xp.where(zero, xp.copysign(xp.zeros_like(m), sign), m)
        m = xp.where(inf & ~zero, xp.copysign(xp.full_like(m, math.inf), sign), m)
        m = xp.where(nan, xp.full_like(m, math.nan), m)
        return m, e

    # -- output ----------------------------------------------------------------

    def empty(self, n: int) -> Array:
        return writable(self.xp.empty((n, *self.rest), dtype=self.dtype), self.xp)

    def finish_f64(self, st: Scaled) -> Array:
        """The float64 values ``m * 2**e``, each rounded once."""
        xp = self.xp
        m, e = st
        if e is None:
            return m
        if self._uniform(st) and -1022 <= int(xp.min(e)) and int(xp.max(e)) <= 1023:
            with np.errstate(over="ignore"):  # IEEE: overflow gives inf
                return m * xp.pow(2.0, xp.astype(e, self.f64))  # 2**e is normal: one rounding
        return ldexp(m, xp.broadcast_to(e, m.shape), xp)

    def finish(self, st: Scaled) -> Array:
        """The values in the output dtype, each rounded once."""
        f64 = self.finish_f64(st)
        with np.errstate(over="ignore"):  # beyond float32's range: inf, as IEEE rounds
            return self.xp.astype(f64, self.dtype, copy=False)

    def store(self, out: Array, i: int, j: int, st: Scaled, check: bool = False) -> bool:
        """Write ``st`` into ``out[i:j]``; with ``check``, whether reading it
        back with :meth:`load` gives exactly ``st`` (every value normal)."""
        v = self.finish(st)
        out[i:j, ...] = v
        if not check or (st[1] is None and self.dtype == self.f64):
            return True  # plain float64 values read back as themselves
        return self.dtype == self.f64 and self._fits(v)

    def load(self, out: Array, i: int, j: int) -> Scaled:
        return self.lift(out, i, j)

    def stash(self, out: Array, i: int, j: int, seed: Scaled) -> bool:
        """Keep a seed that floats cannot hold in out[i] (mantissa) and
        out[i + 1] (exponent, exact as a float64 below 2**53)."""
        if j - i < 2 or self.dtype != self.f64:
            return False
        m, e = self._normal(seed)
        out[i : i + 1, ...] = m
        out[i + 1 : i + 2, ...] = self.xp.astype(e, self.f64)
        return True

    def unstash(self, out: Array, i: int) -> Scaled:
        xp = self.xp
        m = xp.astype(out[i : i + 1, ...], self.f64, copy=True)
        return m, xp.astype(out[i + 1 : i + 2, ...], xp.int64)

    def sum0(self, st: Scaled) -> Array:
        with np.errstate(over="ignore", invalid="ignore"):  # IEEE: +-inf, inf - inf = nan
            return self.xp.sum(self.finish(st), axis=0)

    def result(self, out: Array) -> Array:
        return unwrap(out)

    def zeros(self, shape: tuple[int, ...]) -> Array:
        return self.xp.zeros(shape, dtype=self.dtype)


def _add_e(a: Array | None, b: Array | None, sign: int = 1) -> Array | None:
    """Exponents added (``None`` is zero)."""
    if b is None:
        return a
    if a is None:
        return b if sign > 0 else -b
    return a + b if sign > 0 else a - b


def _scaled_scan(m: Array, e: Array, seed: Scaled | None, xp: Namespace) -> Scaled:
    """Inclusive products of normalised pairs along axis 0 (at most CHUNK rows).

    Mantissas are multiplied in rows of ROW (so a running product stays above
    2**-(ROW+2)), the row totals (at most CHUNK / ROW) are renormalised and
    scanned, and every result is renormalised: no step leaves the normal range.
    """
    length = m.shape[0]
    if seed is not None:
        with np.errstate(invalid="ignore"):  # IEEE: 0 * inf = nan
            m = xp.concat([m[:1, ...] * seed[0], m[1:, ...]], axis=0)
        e = xp.concat([e[:1, ...] + seed[1], e[1:, ...]], axis=0)
    with np.errstate(invalid="ignore"):  # 0 * inf = nan among special factors
        c = xp.cumulative_prod(_rows(m, 1.0, xp), axis=1)
    ce = xp.cumulative_sum(_rows(e, 0, xp), axis=1)
    tm, te = frexp(c[:, -1, ...], xp)
    te = te + ce[:, -1, ...]
    # Exclusive products of the row totals: each in [1/2, 1), at most
    # CHUNK / ROW of them, so no underflow.
    rm = xp.cumulative_prod(xp.concat([xp.ones_like(tm[:1, ...]), tm[:-1, ...]]), axis=0)
    re = xp.cumulative_sum(xp.concat([xp.zeros_like(te[:1, ...]), te[:-1, ...]]), axis=0)
    mm, k = frexp(_expand(rm, 1, xp) * c, xp)
    ee = _expand(re, 1, xp) + ce + k
    rest = tuple(m.shape[1:])
    return (
        xp.reshape(mm, (-1, *rest))[:length, ...],
        xp.reshape(ee, (-1, *rest))[:length, ...],
    )


# ---------------------------------------------------------------------------
# LogReal (sign, logabs) with compensated sums of logs.

Logs = tuple[Array, Array, Array | None]


def _compensated_cumsum(v: Array, lo: Array | None, xp: Namespace) -> tuple[Array, Array]:
    """Running sums of ``v (+ lo)`` along axis 0 as (hi, lo) pairs.

    ``s = cumsum(v)`` makes one rounding error per step; each is recovered
    exactly by TwoSum from ``s[i-1]``, ``v[i]`` and ``s[i]`` and the errors
    are summed on the side (Ogita, Rump & Oishi's cascaded sum, here as a
    prefix sum).  So every prefix is within about half an ulp, where the plain
    cumsum of 10^5 logs is thousands of ulps off.  Where a prefix is not
    finite (a zero, an infinity or a nan among the logs) it is the plain sum.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf, overflow: IEEE
        s = xp.cumulative_sum(v, axis=0)
    prev = xp.concat([xp.zeros_like(s[:1, ...]), s[:-1, ...]], axis=0)
    with np.errstate(over="ignore", invalid="ignore"):  # intended IEEE inf/nan
        h = prev + v  # equals s for a sequential cumsum; kept for any other backend
        d = (h - s) + two_sum_err(prev, v, h)
    del prev, h  # temporaries die early: the block's memory bound
    if lo is not None:
        d = d + lo
    corr = xp.cumulative_sum(d, axis=0)
    del d
    hi = s + corr
    low = corr - (hi - s)
    del corr
    finite = xp.isfinite(s)
    return xp.where(finite, hi, s), xp.where(finite, low, 0.0)


class Log:
    """LogReal numbers (sign, logabs); see the module notes."""

    commutative = True

    def __init__(
        self, xp: Namespace, dtype: Any, rest: tuple[int, ...], real_io: bool = False
    ) -> None:
        self.xp = xp
        self.dtype = dtype
        self.rest = rest
        self.rows = max(1, block_rows(rest) // 2)  # three arrays per number: half blocks
        self.real_io = real_io

    # -- stacks --------------------------------------------------------------

    def lift(self, src: Any, a: int, b: int) -> Logs:
        if isinstance(src, LogReal):
            la = src.logabs[a:b, ...]
            return widened(src._sign[a:b, ...], la, self.xp), la, None
        xp = self.xp
        v = xp.astype(src[a:b, ...], self.dtype, copy=False)
        with np.errstate(divide="ignore"):  # IEEE: log 0 = -inf, x / 0 = inf
            s, la = canonical(xp.sign(v), xp.log(xp.abs(v)), xp)
        return s, la, None

    def length(self, st: Logs) -> int:
        return int(st[0].shape[0])

    def take(self, st: Logs, i: int, j: int) -> Logs:
        lo = st[2]
        return st[0][i:j, ...], st[1][i:j, ...], None if lo is None else lo[i:j, ...]

    def concat(self, sts: list[Logs]) -> Logs:
        xp = self.xp
        lo = None
        if any(s[2] is not None for s in sts):
            lo = xp.concat([xp.zeros_like(s[1]) if s[2] is None else s[2] for s in sts], axis=0)
        return (
            xp.concat([s[0] for s in sts], axis=0),
            xp.concat([s[1] for s in sts], axis=0),
            lo,
        )

    def expand(self, st: Logs, k: int) -> Logs:
        xp = self.xp
        lo = st[2]
        return (
            _expand(st[0], k, xp),
            _expand(st[1], k, xp),
            None if lo is None else _expand(lo, k, xp),
        )

    def squeeze(self, st: Logs) -> Logs:
        lo = st[2]
        return st[0][0, ...], st[1][0, ...], None if lo is None else lo[0, ...]

    def one(self) -> Logs:
        xp = self.xp
        shape = (1, *self.rest)
        return xp.ones(shape, dtype=self.dtype), xp.zeros(shape, dtype=self.dtype), None

    # -- arithmetic ------------------------------------------------------------

    def _add_logs(self, p: Logs, q: Logs, sign: float) -> tuple[Array, Array]:
        """``p.la + sign * q.la`` as (hi, lo): the rounding error of the sum is
        kept (TwoSum), so chains of products stay compensated."""
        a, b = p[1], sign * q[1]
        with np.errstate(over="ignore", invalid="ignore"):  # intended IEEE inf/nan
            h = a + b
        lo = two_sum_err(a, b, h)
        if p[2] is not None:
            lo = lo + p[2]
        if q[2] is not None:
            lo = lo + sign * q[2]
        return h, self.xp.where(self.xp.isfinite(h), lo, 0.0)

    def mul(self, p: Logs, q: Logs) -> Logs:
        h, lo = self._add_logs(p, q, 1.0)
        return p[0] * q[0], h, lo

    def divide(self, p: Logs, q: Logs) -> Logs:
        h, lo = self._add_logs(p, q, -1.0)
        return p[0] * q[0], h, lo  # q's signs are +-1 here: dividing is multiplying

    def reduce(self, st: Logs) -> Logs:
        xp = self.xp
        s, la, lo = st
        if s.shape[0] == 0:
            return self.one()
        hi, low = _compensated_cumsum(la, lo, xp)
        sign = xp.prod(s, axis=0, keepdims=True)
        return sign, hi[-1:, ...], low[-1:, ...]

    def scan(self, st: Logs, reverse: bool = False, seed: Logs | None = None) -> Logs:
        xp = self.xp
        s, la, lo = st
        if s.shape[0] == 0:
            return st
        if reverse:
            s, la = xp.flip(s, axis=0), xp.flip(la, axis=0)
            lo = None if lo is None else xp.flip(lo, axis=0)
        if seed is not None:
            s = xp.concat([s[:1, ...] * seed[0], s[1:, ...]], axis=0)
            # The seed joins as an extra first term so that its rounding is
            # compensated like every other step.
            la = xp.concat([seed[1], la], axis=0)
            lows = [xp.zeros_like(seed[1]) if seed[2] is None else seed[2]]
            lo = xp.concat([*lows, xp.zeros_like(la[1:, ...]) if lo is None else lo], axis=0)
        sign = xp.cumulative_prod(s, axis=0)
        hi, low = _compensated_cumsum(la, lo, xp)
        if seed is not None:
            hi, low = hi[1:, ...], low[1:, ...]
        if reverse:
            sign, hi, low = xp.flip(sign, axis=0), xp.flip(hi, axis=0), xp.flip(low, axis=0)
        return sign, hi, low

    # -- the division method -------------------------------------------------

    def regular(self, st: Logs) -> bool:
        """Whether every element is finite and nonzero."""
        return bool(self.xp.all(self.xp.isfinite(st[1])))

    def kinds(self, st: Logs) -> tuple[Array, Array, Array, Array]:
        xp = self.xp
        s, la, _ = st
        return s == 0, la == math.inf, xp.isnan(la), s < 0

    def where(self, mask: Array, st: Logs, other: Logs) -> Logs:
        xp = self.xp
        lo = None
        if st[2] is not None or other[2] is not None:
            lo = xp.where(
                mask,
                0.0 if st[2] is None else st[2],
                0.0 if other[2] is None else other[2],
            )
        return xp.where(mask, st[0], other[0]), xp.where(mask, st[1], other[1]), lo

    def assemble(self, base: Logs, nan: Array, zero: Array, inf: Array, flip: Array) -> Logs:
        xp = self.xp
        s, la, lo = base
        s = xp.where(flip, -s, s)
        s = xp.where(zero, 0.0, s)
        la = xp.where(zero, -math.inf, xp.where(inf, math.inf, la))
        s = xp.where(nan, math.nan, s)
        la = xp.where(nan, math.nan, la)
        special = nan | zero | inf
        return s, la, None if lo is None else xp.where(special, 0.0, lo)

    # -- output ----------------------------------------------------------------

    def _finish(self, st: Logs) -> tuple[Array, Array]:
        """Canonical (sign, logabs).  Inputs are canonical and every low part
        is 0 where its log is not finite, so two repairs remain: a zero times
        an infinity, (0, nan), is the nan (nan, nan), and a sum of logs that
        overflows to -inf is the zero (0, -inf)."""
        xp = self.xp
        s, la, lo = st
        if lo is not None:
            la = la + lo
        s = xp.where(la == -math.inf, 0.0, s)
        return xp.where(xp.isnan(la), math.nan, s), la

    def empty(self, n: int) -> Any:
        xp = self.xp
        shape = (n, *self.rest)
        if self.real_io:
            return writable(xp.empty(shape, dtype=self.dtype), xp)
        # The signs as a LogReal stores them (float32), the logs in the dtype.
        return tuple(writable(xp.empty(shape, dtype=t), xp) for t in (xp.float32, self.dtype))

    def store(self, out: Any, i: int, j: int, st: Logs, check: bool = False) -> bool:
        s, la = self._finish(st)
        if self.real_io:
            with np.errstate(over="ignore"):  # IEEE: overflow gives inf
                out[i:j, ...] = s * self.xp.exp(la)
            return not check
        out[0][i:j, ...] = as_sign(s)
        out[1][i:j, ...] = la
        return True

    def load(self, out: Any, i: int, j: int) -> Logs:
        la = out[1][i:j, ...]
        return widened(out[0][i:j, ...], la, self.xp), la, None

    def stash(self, out: Any, i: int, j: int, seed: Any) -> bool:
        return False  # every store is exact: nothing to keep

    def unstash(self, out: Any, i: int) -> Any:
        raise AssertionError("nothing is stashed by this class")

    def sum0(self, st: Logs) -> Any:
        s, la = self._finish(st)
        total = LogReal._new(*signed_logsum(s, la, (0,), False, self.xp))
        return total.to_real() if self.real_io else total

    def result(self, out: Any) -> Any:
        return unwrap(out) if self.real_io else LogReal._new(unwrap(out[0]), unwrap(out[1]))

    def zeros(self, shape: tuple[int, ...]) -> Any:
        xp = self.xp
        if self.real_io:
            return xp.zeros(shape, dtype=self.dtype)
        return LogReal._new(
            xp.zeros(shape, dtype=self.dtype), xp.full(shape, -math.inf, dtype=self.dtype)
        )


# ---------------------------------------------------------------------------
# Any associative operation.


def _join(parts: list[Any], axis: int = 0) -> Any:
    if isinstance(parts[0], LogReal):
        from ._reduce import concat

        return concat(parts, axis=axis)
    return namespace(*parts).concat(parts, axis=axis)


class Op:
    """Any associative ``op`` on stacks of elements (matrices, batches of them).

    ``op(p, q)`` must multiply two stacks elementwise along their leading axes
    with NumPy broadcasting, as ufuncs, ``np.matmul`` and ``lr.matmul`` do; it
    need not commute.  ``identity`` (one element) is optional.
    """

    commutative = False

    def __init__(self, op: Callable[[Any, Any], Any], identity: Any, src: Any) -> None:
        self.op = op
        self.src = src
        self.elem = tuple(src.shape[1:])
        self.rest = self.elem
        self.xp = src._xp if isinstance(src, LogReal) else namespace(src)
        self.rows = block_rows(self.elem)
        n = src.shape[0]
        self.proto = None
        if n:
            self.proto = self._checked(src[0:1, ...], src[0:1, ...], (1,))
            if n > 1:
                self._checked(src[0:1, ...], src[0:2, ...], (2,))
        self.identity = None
        if identity is not None:
            if isinstance(src, LogReal):
                ident = LogReal(identity) if not isinstance(identity, LogReal) else identity
                ident = ident.reshape(1, *ident.shape)
                ident = ident * LogReal(np.ones((1, *self.elem)))
            else:
                xp = namespace(src)
                ident = xp.asarray(identity)
                ident = xp.reshape(ident, (1, *ident.shape))
                ident = xp.broadcast_to(ident, (1, *self.elem))
            if tuple(ident.shape[1:]) != self.elem:
                raise ValueError(
                    f"identity of shape {tuple(ident.shape[1:])} does not fit elements "
                    f"of shape {self.elem}"
                )
            self.identity = ident

    def _checked(self, p: Any, q: Any, lead: tuple[int, ...]) -> Any:
        r = self.op(p, q)
        want = (*lead, *self.elem)
        if tuple(getattr(r, "shape", ())) != want:
            raise ValueError(
                f"op must multiply stacks of elements elementwise with broadcasting: "
                f"op on stacks of shapes {tuple(p.shape)} and {tuple(q.shape)} gave shape "
                f"{tuple(getattr(r, 'shape', ()))}, expected {want}"
            )
        return r

    # -- stacks --------------------------------------------------------------

    def lift(self, src: Any, a: int, b: int) -> Any:
        return src[a:b, ...]

    def length(self, st: Any) -> int:
        return int(st.shape[0])

    def take(self, st: Any, i: int, j: int) -> Any:
        return st[i:j, ...]

    def concat(self, sts: list[Any]) -> Any:
        return _join(sts)

    def expand(self, st: Any, k: int) -> Any:
        return st.reshape(st.shape[0], *(1,) * k, *st.shape[1:]) if k else st

    def squeeze(self, st: Any) -> Any:
        return st[0, ...]

    def where(self, mask: Array, st: Any, other: Any) -> Any:
        if isinstance(st, LogReal) or isinstance(other, LogReal):
            from ._reduce import where

            return where(mask, st, other)
        return self.xp.where(mask, st, other)

    def one(self) -> Any:
        return self.identity

    # -- arithmetic ------------------------------------------------------------

    def mul(self, p: Any, q: Any) -> Any:
        return self.op(p, q)

    def reduce(self, st: Any) -> Any:
        """A balanced tree of products of neighbours: log-depth, order kept."""
        while st.shape[0] > 1:
            k = st.shape[0] // 2 * 2
            pairs = self.op(st[0:k:2, ...], st[1:k:2, ...])
            st = pairs if k == st.shape[0] else _join([pairs, st[k:, ...]])
        return st

    def scan(self, st: Any, reverse: bool = False, seed: Any = None) -> Any:
        """Inclusive products in about 3 sqrt(L) calls of ``op`` and O(L) work.

        The stack is cut into R rows of r elements: a sweep over the r
        columns scans every row at once, the row totals are scanned one by
        one, and one call multiplies each row by the product of the rows
        before it.  A reverse scan runs on the flipped stack with the
        operands swapped, so the factors always keep their order.
        """
        op = (lambda p, q: self.op(q, p)) if reverse else self.op
        y = _flip(st) if reverse else st
        length = y.shape[0]
        if length == 0:
            return st
        if seed is not None:
            y = _join([op(seed, y[0:1, ...]), y[1:, ...]])
        r = max(1, math.isqrt(length))
        count = length // r
        main = count * r
        elem = tuple(y.shape[1:])
        rows = _reshape(y[:main, ...], (count, r, *elem))
        cols = [rows[:, 0, ...]]
        for j in range(1, r):
            cols.append(op(cols[-1], rows[:, j, ...]))
        acc = _stack(cols, axis=1)
        if count > 1:
            totals = cols[-1]
            carries = [totals[0:1, ...]]
            for k in range(1, count - 1):
                carries.append(op(carries[-1], totals[k : k + 1, ...]))
            carry = _reshape(_join(carries), (count - 1, 1, *elem))
            acc = _join([acc[0:1, ...], op(carry, acc[1:, ...])])
        parts = [_reshape(acc, (main, *elem))]
        last = parts[0][main - 1 : main, ...]
        for j in range(main, length):
            last = op(last, y[j : j + 1, ...])
            parts.append(last)
        out = _join(parts) if len(parts) > 1 else parts[0]
        return _flip(out) if reverse else out

    # -- output ----------------------------------------------------------------

    def empty(self, n: int) -> Any:
        proto = self.proto if self.proto is not None else self.src
        shape = (n, *tuple(proto.shape[1:]))
        if isinstance(proto, LogReal):
            xp = proto._xp
            s, la = (writable(xp.empty(shape, dtype=t), xp) for t in (xp.float32, proto.dtype))
            # On an immutable namespace the two components are kept apart.
            return (s, la) if isinstance(s, Slots) else LogReal._new(s, la)
        xp = namespace(proto)
        return writable(xp.empty(shape, dtype=proto.dtype), xp)

    def store(self, out: Any, i: int, j: int, st: Any, check: bool = False) -> bool:
        if isinstance(out, tuple):
            st = LogReal(st)
            out[0][i:j, ...] = st._sign
            out[1][i:j, ...] = st.logabs
        else:
            out[i:j, ...] = st
        return True

    def load(self, out: Any, i: int, j: int) -> Any:
        if isinstance(out, tuple):
            return LogReal._new(out[0][i:j, ...], out[1][i:j, ...])
        return out[i:j, ...]

    def stash(self, out: Any, i: int, j: int, seed: Any) -> bool:
        return False  # every store is exact: nothing to keep

    def unstash(self, out: Any, i: int) -> Any:
        raise AssertionError("nothing is stashed by this class")

    def sum0(self, st: Any) -> Any:
        from ._reduce import sum as lr_sum

        return lr_sum(st, axis=0)

    def result(self, out: Any) -> Any:
        if isinstance(out, tuple):
            return LogReal._new(unwrap(out[0]), unwrap(out[1]))
        return unwrap(out)

    def zeros(self, shape: tuple[int, ...]) -> Any:
        proto = self.proto if self.proto is not None else self.src
        if isinstance(proto, LogReal):
            xp = proto._xp
            return LogReal._new(
                xp.zeros(shape, dtype=proto.dtype), xp.full(shape, -math.inf, dtype=proto.dtype)
            )
        return namespace(proto).zeros(shape, dtype=proto.dtype)


def _flip(a: Any) -> Any:
    """``a`` reversed along axis 0 (PyTorch takes no negative slice step)."""
    if isinstance(a, LogReal):
        xp = a._xp
        return LogReal._new(xp.flip(a._sign, axis=0), xp.flip(a.logabs, axis=0))
    return namespace(a).flip(a, axis=0)


def _reshape(a: Any, shape: tuple[int, ...]) -> Any:
    """``a`` reshaped (array-api-strict arrays have no ``reshape`` method)."""
    return a.reshape(*shape) if isinstance(a, LogReal) else namespace(a).reshape(a, shape)


def _stack(parts: list[Any], axis: int) -> Any:
    if isinstance(parts[0], LogReal):
        from ._reduce import stack

        return stack(parts, axis=axis)
    return namespace(*parts).stack(parts, axis=axis)
