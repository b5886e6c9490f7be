"""Products, leave-one-out products and the gradient of a product.

Every algorithm here is written once against a number class
(:mod:`logreal._numclass`): real floats, LogReal, or any associative ``op``.
The class is chosen once, at the boundary (:func:`_plan`).

A position ``i`` of a sequence ``x_0 ... x_{n-1}`` has the prefix
``P_i = x_0 ... x_{i-1}`` (none for ``i = 0``) and the suffix
``S_i = x_{i+1} ... x_{n-1}`` (none for ``i = n - 1``).  Leave-one-out is
``P_i S_i``; the gradient of a product is ``sum_i P_i df_i S_i``.  Each method
computes the prefixes and suffixes its own way and hands them to
:func:`_sandwich`, which multiplies what exists, in order.

Methods (see ``docs/products.md`` for costs and the choice of ``"auto"``):

``naive``     every P_i and S_i from scratch, O(n^2): the reference (a block
              of positions per vectorised reduction, so n^2 sets its time).
``division``  one total product over the regular (finite nonzero) factors,
              divided by each, zeros / infinities / nans by counting.
``log``       ``division`` through LogReal.
``dp``        prefixes written into the output block by block, then one
              backward sweep with a running suffix; O(n) time, O(block) memory.
``scan``      prefixes and suffixes by a Hillis-Steele scan, O(log n) depth.

For NumPy floats and LogReal without ``op``, compiled kernels
(:mod:`logreal._products_fast`, through :func:`logreal._numba.kernel`) override
the dp leave-one-out products, cumprod and the dp gradient; the code here is
the truth they are tested against, and runs where they do not apply.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from . import _dask_scan, _products_fast
from ._backend import as_float, namespace, normalize_axis, scalar_out, wide
from ._exact import frexp
from ._logreal import LogReal
from ._numclass import Field, Log, NumberClass, Op, Real
from ._reduce import stack as _lr_stack
from ._reduce import sum as _lr_sum

__all__ = ["cumprod", "leave_one_out", "prod_grad"]

Emit = Callable[[int, int, Any], None]
Middle = Callable[[int, int], Any] | None

METHODS = ("auto", "naive", "division", "log", "dp", "scan")
# A block of the naive method holds this many ordinary blocks (2^16 numbers):
# large enough that its n^2 multiplications, not Python, set its time from
# n ~ 500 on, small enough that its stacks stay in cache.
NAIVE_SCALE = 8


# ---------------------------------------------------------------------------
# Planning: pick the number class, move the sequence axis to the front.


class _Plan(NamedTuple):
    cls: NumberClass
    src: Any  # the sequence, its axis first
    n: int
    restore: Callable[[Any], Any]  # undoes the axis move on a result
    user: Any  # the input in its own layout (floats or LogReal; None with op)
    axis: int  # the sequence axis of ``user``


def _plan(x: Any, axis: int | None, op: Any, identity: Any, *, real_io: bool = False) -> _Plan:
    """The number class, the sequence with its axis first, n, and how to undo the move."""
    if op is not None:
        if axis is None or normalize_axis(axis, max(getattr(x, "ndim", 1), 1)) != (0,):
            raise ValueError(f"with op the sequence runs along axis 0 (got axis={axis!r})")
        stack = x if isinstance(x, LogReal) else namespace(x).asarray(x)
        if stack.ndim == 0:
            raise ValueError("with op, x must be a stack of elements (at least 1-d)")
        return _Plan(Op(op, identity, stack), stack, int(stack.shape[0]), lambda r: r, None, 0)
    src: Any
    if isinstance(x, LogReal):
        src = x.reshape(-1) if axis is None else x
        xp = src._xp
    else:
        xp = namespace(x)
        src = as_float(x, xp)
        if axis is None:
            src = xp.reshape(src, (-1,))
    if src.ndim == 0:
        raise ValueError("a product along an axis needs an array with at least one dimension")
    (ax,) = normalize_axis(0 if axis is None else axis, src.ndim)
    rest = tuple(int(d) for i, d in enumerate(src.shape) if i != ax)
    user = src
    if isinstance(src, LogReal):
        order = (ax, *(i for i in range(src.ndim) if i != ax))
        back = tuple(order.index(i) for i in range(src.ndim))
        src = src.transpose(*order) if ax else src
        return _Plan(
            Log(xp, src.dtype, rest),
            src,
            int(src.shape[0]),
            (lambda r: r.transpose(*back)) if ax else (lambda r: r),
            user,
            ax,
        )
    moved = xp.moveaxis(src, ax, 0) if ax else src
    cls = Log(xp, src.dtype, rest, real_io=True) if real_io else Real(xp, src.dtype, rest)
    return _Plan(
        cls,
        moved,
        int(moved.shape[0]),
        (lambda r: xp.moveaxis(r, 0, ax)) if ax else (lambda r: r),
        user,
        ax,
    )


def _floats(x: Any, op: Any) -> Any:
    """Real input as floats (integers: the namespace's default float), read
    before a :func:`_wide` scope could make that float64 on JAX."""
    return x if op is not None or isinstance(x, LogReal) else as_float(x, namespace(x))


def _wide(x: Any) -> Any:
    """The scope for float64 working precision of float32 products
    (:func:`logreal._backend.wide`: JAX without x64 holds no float64 outside it)."""
    return wide(x._xp if isinstance(x, LogReal) else namespace(x))


def _compiled(plan: _Plan, mode: int, reverse: bool = False) -> Any:
    """The compiled dp leave-one-out (``mode=LOO``) or cumprod of NumPy floats
    or LogReal without op (:mod:`logreal._products_fast`), or None where no
    kernel applies: the portable algorithm then runs."""
    cls = plan.cls
    if isinstance(cls, Real):
        return _products_fast.real(cls.xp, plan.user, plan.axis, mode, reverse)
    if isinstance(cls, Log) and not cls.real_io:
        x = plan.user
        out = _products_fast.log(cls.xp, x._sign, x.logabs, plan.axis, mode, reverse, cls.rows)
        return None if out is None else LogReal._new(*out)
    return None


def _method(method: str, op: Any) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if op is not None and method in ("division", "log"):
        raise ValueError(
            f"method {method!r} needs commutative, invertible multiplication; with op "
            f"use 'dp', 'scan' or 'naive'"
        )
    if method == "auto":
        return "dp" if op is not None else "division"
    return method


class _Blocks:
    """The blocks [a, b) of ``rows`` positions covering [0, n), computed on
    demand (a list of them would grow with n)."""

    def __init__(self, n: int, rows: int) -> None:
        self.n, self.rows, self.count = n, rows, -(-n // rows)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, t: int) -> tuple[int, int]:
        a = t * self.rows
        return a, min(a + self.rows, self.n)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return (self[t] for t in range(self.count))

    def __reversed__(self) -> Iterator[tuple[int, int]]:
        return (self[t] for t in range(self.count - 1, -1, -1))


def _blocks(n: int, rows: int) -> _Blocks:
    return _Blocks(n, rows)


# ---------------------------------------------------------------------------
# The algorithms, written once against the number class ``cls``.
# Each one calls ``emit(i, j, stack)`` with out[i:j] (P_i [M_i] S_i) for every
# position, in blocks; ``middle(i, j)`` (prod_grad's df) sits between the
# prefix and the suffix, whose stacks are expanded by ``k`` axes to meet it.


def _cuts(a: int, b: int, n: int) -> Iterator[tuple[int, int]]:
    """[a, b) cut where a position's prefix or suffix starts or stops existing."""
    cuts = sorted({a, b, *(c for c in (1, n - 1) if a < c < b)})
    return itertools.pairwise(cuts)


def _sandwich(
    cls: NumberClass,
    a: int,
    b: int,
    n: int,
    pre: Any,
    suf: Any,
    emit: Emit,
    middle: Middle,
    k: int,
) -> None:
    """Emit ``P_i [M_i] S_i`` for i in [a, b), leaving out the empty P_0 and S_{n-1}.

    ``pre[t]`` is ``P_{max(a, 1) + t}`` and ``suf[t]`` is ``S_{a + t}``.
    """
    lo = max(a, 1)
    for i, j in _cuts(a, b, n):
        parts = []
        if i >= 1:
            parts.append(_expand(cls, cls.take(pre, i - lo, j - lo), k))
        if middle is not None:
            parts.append(middle(i, j))
        if i <= n - 2:
            parts.append(_expand(cls, cls.take(suf, i - a, j - a), k))
        if not parts:  # leave-one-out of a single element: the empty product
            one = cls.one()
            if one is None:
                raise ValueError(
                    "leaving out the only element leaves the empty product, which needs "
                    "op's identity; with op, leave_one_out needs at least 2 elements"
                )
            parts = [one]
        st = parts[0]
        for p in parts[1:]:
            st = cls.mul(st, p)
        emit(i, j, st)


def _expand(cls: NumberClass, st: Any, k: int) -> Any:
    return cls.expand(st, k) if k else st


def _naive(
    cls: NumberClass, src: Any, n: int, emit: Emit, buf: Any, middle: Middle = None, k: int = 0
) -> None:
    """Every prefix and suffix from scratch: O(n^2) time, the reference.

    With an identity the positions go in blocks of B: the prefixes of a block
    are one reduction of B copies of the sequence in which copy r has every
    factor from position r on replaced by the identity, and the suffixes
    likewise, so the n^2 multiplications run in vectorised reductions of
    NAIVE_SCALE blocks' worth of numbers, not in n Python iterations.
    Multiplying by the identity is exact (for an op, on finite entries), so
    each P_i and S_i is the plain product of its factors.  Without an
    identity (an op without one) each position is reduced on its own.
    """
    one = cls.one()
    if one is None:
        for i in range(n):
            pre = cls.reduce(cls.lift(src, 0, i)) if i >= 1 else None
            suf = cls.reduce(cls.lift(src, i + 1, n)) if i <= n - 2 else None
            _sandwich(cls, i, i + 1, n, pre, suf, emit, middle, k)
        return
    # At most n/8 positions a block: the identities a block reduces besides
    # the factors (a triangle, about n B / 2 of them per sweep) stay within an
    # eighth of the n^2 work, so its time grows as n^2 from small n on.
    rows = max(1, min(-(-n // 8), cls.rows * NAIVE_SCALE // max(n, 1)))
    for a, b in _blocks(n, rows):
        lo, hi = max(a, 1), min(b, n - 1)
        pre = _masked(cls, src, one, 0, b - 1, lo, b, prefix=True) if lo < b else None
        suf = _masked(cls, src, one, a + 1, n, a, hi, prefix=False) if a < hi else None
        _sandwich(cls, a, b, n, pre, suf, emit, middle, k)


def _masked(
    cls: NumberClass, src: Any, one: Any, p: int, q: int, i: int, j: int, *, prefix: bool
) -> Any:
    """``P_i ... P_{j-1}`` (``prefix``) or ``S_i ... S_{j-1}``, each reduced
    from scratch over the factors ``x_p ... x_{q-1}``, the others replaced by
    the identity ``one``: one reduction of a (q - p, j - i) stack of elements."""
    xp = cls.xp
    pos = xp.arange(p, q)[:, None]
    at = xp.arange(i, j)[None, :]
    keep = pos < at if prefix else pos > at
    keep = xp.reshape(keep, (q - p, j - i, *(1,) * len(cls.rest)))
    st = cls.where(keep, cls.expand(cls.lift(src, p, q), 1), cls.expand(one, 1))
    return cls.squeeze(cls.reduce(st))


def _hillis_steele(cls: NumberClass, st: Any, reverse: bool = False) -> Any:
    """Inclusive products in ceil(log2 n) vectorised steps (reverse: suffixes)."""
    n = cls.length(st)
    step = 1
    while step < n:
        prod = cls.mul(cls.take(st, 0, n - step), cls.take(st, step, n))
        if reverse:  # S_i <- x_i ... x_{i+step-1} * S_{i+step}
            st = cls.concat([prod, cls.take(st, n - step, n)])
        else:  # P_i <- P_{i-step} * x_{i-step+1} ... x_i
            st = cls.concat([cls.take(st, 0, step), prod])
        step *= 2
    return st


def _scan(
    cls: NumberClass, src: Any, n: int, emit: Emit, buf: Any, middle: Middle = None, k: int = 0
) -> None:
    """Prefixes and suffixes by parallel associative scans: O(log n) depth."""
    pre = _hillis_steele(cls, cls.lift(src, 0, n - 1)) if n > 1 else None
    suf = _hillis_steele(cls, cls.lift(src, 1, n), reverse=True) if n > 1 else None
    _sandwich(cls, 0, n, n, pre, suf, emit, middle, k)


def _dp(
    cls: NumberClass, src: Any, n: int, emit: Emit, buf: Any, middle: Middle = None, k: int = 0
) -> None:
    """Forward-backward in blocks: prefixes into ``buf``, then one backward sweep.

    The forward sweep scans each block seeded by the product of everything
    before it and writes the prefixes into ``buf`` (the output, for
    leave-one-out).  The backward sweep scans each block in reverse seeded by
    the running suffix, reads the block's prefixes back and emits the
    products.  A class may find that a block's prefixes do not survive being
    stored (floats whose partial products leave the float range); the block's
    seed (one element) is then stashed in the block's own first slots, which
    the backward sweep overwrites anyway, and its prefixes are recomputed from
    it.  So the memory beyond ``buf`` is O(block) and one byte per block.
    """
    blocks = _blocks(n, cls.rows)
    redo = bytearray(len(blocks))  # blocks whose prefixes are recomputed from a seed
    kept: dict[int, Any] = {}  # seeds that could not be stashed in their block
    carry = None
    for t, (a, b) in enumerate(blocks):
        inc = cls.scan(cls.lift(src, a, b), seed=carry)  # P_{a+1} ... P_b
        pieces = [(a, a + 1, carry)] if a else []
        if b - a > 1:
            pieces.append((a + 1, b, cls.take(inc, 0, b - a - 1)))
        stored = [cls.store(buf, i, j, p, check=True) for i, j, p in pieces]
        if not all(stored):
            redo[t] = 1
            if carry is not None and not cls.stash(buf, a, b, carry):
                kept[a] = cls.concat([carry])  # a copy, not a view of the block
        carry = cls.take(inc, b - a - 1, b - a)
    carry = None
    for t in range(len(blocks) - 1, -1, -1):
        a, b = blocks[t]
        stop = min(b + 1, n)
        suf = None  # S_a ... S_{stop-2}
        if stop > a + 1:
            suf = cls.scan(cls.lift(src, a + 1, stop), reverse=True, seed=carry)
        pre = None  # P_{max(a,1)} ... P_{b-1}
        if redo[t]:
            seed = None if a == 0 else kept.pop(a) if a in kept else cls.unstash(buf, a)
            pre = _prefixes(cls, src, a, b, seed)
        elif max(a, 1) < b:
            pre = cls.load(buf, max(a, 1), b)
        _sandwich(cls, a, b, n, pre, suf, emit, middle, k)
        if suf is not None:
            carry = cls.take(suf, 0, 1)


def _prefixes(cls: NumberClass, src: Any, a: int, b: int, seed: Any) -> Any:
    """P_{max(a,1)} ... P_{b-1} recomputed from the block's seed P_a."""
    if a == 0:
        return cls.scan(cls.lift(src, 0, b - 1))
    if b - 1 == a:
        return seed
    return cls.concat([seed, cls.scan(cls.lift(src, a, b - 1), seed=seed)])


def _division(
    cls: Field, src: Any, n: int, emit: Emit, buf: Any, middle: Middle = None, k: int = 0
) -> None:
    """The total over the regular factors divided by each one, in two sweeps.

    Zeros, infinities and nans are counted instead of divided by: the product
    of the others is that of the other regular factors times the other
    special ones, which is nan if one is nan or if a zero meets an infinity,
    else 0 if one is zero, else +-inf if one is infinite.  With no special
    factor this is ``p / x_i``; with exactly one zero, only that entry is
    nonzero; with two or more, all are zero.
    """
    xp = cls.xp
    blocks = _blocks(n, cls.rows)
    one = cls.one()
    total: Any = None
    counts: list[Any] | None = None  # zeros, infinities, nans, negative specials
    for a, b in blocks:
        st = cls.lift(src, a, b)
        if cls.regular(st):
            part = cls.reduce(st)
        else:
            zero, inf, nan, neg = cls.kinds(st)
            regular = ~(zero | inf | nan)
            part = cls.reduce(cls.where(regular, st, one))
            here = [_count(m, xp) for m in (zero, inf, nan, neg & (zero | inf))]
            counts = here if counts is None else [c + h for c, h in zip(counts, here, strict=True)]
        total = part if total is None else cls.mul(total, part)
    if counts is None and n and not cls.regular(total):
        # Only a LogReal total can leave its range (a sum of logs beyond
        # 1.8e308); the leave-one-out products may not: no division then.
        _dp(cls, src, n, emit, cls.empty(n) if buf is None else buf, middle, k)
        return
    for a, b in blocks:
        st = cls.lift(src, a, b)
        if counts is None:  # no special factor anywhere: p / x_i
            loo = cls.divide(total, st)
        else:
            zero, inf, nan, neg = cls.kinds(st)
            regular = ~(zero | inf | nan)
            base = cls.divide(total, cls.where(regular, st, one))
            zeros, infs, nans, negs = (
                c - xp.astype(m, xp.int64)
                for c, m in zip(counts, (zero, inf, nan, neg & (zero | inf)), strict=True)
            )
            loo = cls.assemble(
                base,
                nan=(nans > 0) | ((zeros > 0) & (infs > 0)),
                zero=zeros > 0,
                inf=infs > 0,
                flip=(negs % 2) == 1,
            )
        if middle is not None:
            loo = cls.mul(_expand(cls, loo, k), middle(a, b))
        emit(a, b, loo)


def _count(mask: Any, xp: Any) -> Any:
    return xp.sum(xp.astype(mask, xp.int64), axis=0)


_ALGORITHMS: dict[str, Callable[..., None]] = {
    "naive": _naive,
    "division": _division,
    "log": _division,  # run on the LogReal class
    "dp": _dp,
    "scan": _scan,
}


# ---------------------------------------------------------------------------
# Public functions.


def cumprod(
    x: Any,
    axis: int | None = 0,
    *,
    exclusive: bool = False,
    reverse: bool = False,
    op: Callable[[Any, Any], Any] | None = None,
    identity: Any = None,
) -> Any:
    """Running products ``x[0] ... x[i]`` along `axis`, in the input's number class.

    Parameters
    ----------
    x : array_like or LogReal
        Real values or a LogReal array; with `op`, a stack of elements along
        axis 0 (matrices, batches of matrices, ...).
    axis : int or None, optional
        The axis of the sequence (default 0); ``None`` flattens first, as
        NumPy does.  With `op` it must be 0.
    exclusive : bool, optional
        Leave ``x[i]`` out: ``out[i] = x[0] ... x[i-1]``, starting at one
        (with `op`, at `identity`, which is then required).
    reverse : bool, optional
        Products from the end (suffix products ``x[i] ... x[n-1]``); the
        factors keep their order.
    op : callable, optional
        An associative product of two stacks of elements, applied elementwise
        along their leading axes with NumPy broadcasting (``np.matmul``,
        ``lr.matmul``, a ufunc).  It need not commute.
    identity : array_like, optional
        The neutral element of `op` (one element); only `exclusive` needs it.

    Returns
    -------
    LogReal or array
        The same shape as `x` (flattened for ``axis=None``): LogReal for
        LogReal input, real floats for real input.

    Notes
    -----
    Real products are formed in scaled form (mantissa and exponent, see
    :mod:`logreal._numclass`), so each entry is the exact product rounded
    once: a partial product that under- or overflows on the way does not
    spoil the later ones.  A LogReal entry's logabs is a compensated running
    sum of the logs, within about an ulp.

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> lr.cumprod([2.0, 3.0, 4.0])
    array([ 2.,  6., 24.])
    >>> lr.cumprod([2.0, 3.0, 4.0], exclusive=True, reverse=True)
    array([12.,  4.,  1.])
    >>> lr.cumprod([1e-300, 1e-300, 1e300])       # np.cumprod: [1e-300, 0, 0]
    array([1.e-300, 0.e+000, 1.e-300])
    >>> a = np.array([[[1, 1], [0, 1]], [[1, 0], [1, 1]]])
    >>> lr.cumprod(a, op=np.matmul)[-1]           # a[0] @ a[1]
    array([[2, 1],
           [1, 1]])
    """
    if op is not None and exclusive and identity is None:
        raise ValueError("an exclusive cumprod with op starts at op's identity: pass identity=")
    if op is None and _dask_scan.wants(x):  # lazily, chunk by chunk
        return _dask_scan.cumprod(x, axis, exclusive, reverse)
    x = _floats(x, op)
    with _wide(x):
        plan = _plan(x, axis, op, identity)
        fast = _compiled(
            plan, _products_fast.EXCLUSIVE if exclusive else _products_fast.INCLUSIVE, reverse
        )
        if fast is not None:
            return fast
        cls, src, n, restore = plan[:4]
        return restore(cls.result(_cumprod(cls, src, n, exclusive, reverse)))


def _cumprod(cls: NumberClass, src: Any, n: int, exclusive: bool, reverse: bool) -> Any:
    out = cls.empty(n)
    blocks = _blocks(n, cls.rows)
    carry = None
    for a, b in reversed(blocks) if reverse else blocks:
        inc = cls.scan(cls.lift(src, a, b), reverse=reverse, seed=carry)
        if not exclusive:
            cls.store(out, a, b, inc)
        elif reverse:  # inc[t] = x_{a+t} ... x_{n-1} belongs at a + t - 1
            skip = 1 if a == 0 else 0
            if b - a > skip:
                cls.store(out, a - 1 + skip, b - 1, cls.take(inc, skip, b - a))
        else:  # inc[t] = x_0 ... x_{a+t} belongs at a + t + 1
            stop = min(b + 1, n)
            if stop > a + 1:
                cls.store(out, a + 1, stop, cls.take(inc, 0, stop - a - 1))
        carry = cls.take(inc, 0, 1) if reverse else cls.take(inc, b - a - 1, b - a)
    if exclusive and n:
        i = n - 1 if reverse else 0
        cls.store(out, i, i + 1, cls.one())
    return out


def leave_one_out(
    x: Any,
    axis: int | None = 0,
    *,
    op: Callable[[Any, Any], Any] | None = None,
    method: str = "auto",
) -> Any:
    """Leave-one-out products ``out[i] = x[0] ... x[i-1] x[i+1] ... x[n-1]``.

    Parameters
    ----------
    x : array_like or LogReal
        Real values or a LogReal array; with `op`, a stack of elements along
        axis 0.
    axis : int or None, optional
        The axis of the sequence (default 0); every other axis is a batch.
        ``None`` flattens first.  With `op` it must be 0.
    op : callable, optional
        An associative product of stacks of elements (see :func:`cumprod`);
        the factors keep their order.  Leaving out the only element of a
        one-element stack needs an identity, so with `op` n must not be 1.
    method : {"auto", "naive", "division", "log", "dp", "scan"}, optional
        ``"naive"`` O(n^2); ``"division"`` the total divided by each factor,
        zeros counted; ``"log"`` the same through LogReal; ``"dp"`` prefix
        times suffix, O(n) time and O(1) memory beyond the output; ``"scan"``
        a parallel scan, O(log n) depth.  ``"auto"`` is ``"division"``
        without `op` and ``"dp"`` with it.  ``"division"`` and ``"log"``
        with `op` raise ValueError.

    Returns
    -------
    LogReal or array
        The shape of `x`, in its number class (LogReal in, LogReal out).

    Notes
    -----
    Zeros, infinities and nans follow IEEE multiplication of the other
    factors (0 * inf = nan).  Real results are exact products rounded once,
    whatever the range of the partial products.  See ``docs/products.md``.

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> lr.leave_one_out([2.0, 3.0, 4.0])
    array([12.,  8.,  6.])
    >>> lr.leave_one_out([2.0, 0.0, 4.0], method="division")   # one zero
    array([0., 8., 0.])
    >>> lr.leave_one_out([1e-300, 1e-300, 1e300, 1e300], method="dp")
    array([1.e+300, 1.e+300, 1.e-300, 1.e-300])
    >>> p = lr.LogReal(np.full(100_000, 0.5))
    >>> float(lr.leave_one_out(p)[0].logabs)                    # log 2**-99999
    -69314.02490881397
    """
    method = _method(method, op)
    if op is None and _dask_scan.wants(x):  # lazily, chunk by chunk
        return _dask_scan.leave_one_out(x, axis, method)
    x = _floats(x, op)
    with _wide(x):
        plan = _plan(x, axis, op, None, real_io=method == "log")
        if method == "dp" and (fast := _compiled(plan, _products_fast.LOO)) is not None:
            return fast
        cls, src, n, restore = plan[:4]
        out = cls.empty(n)
        _ALGORITHMS[method](cls, src, n, lambda i, j, st: cls.store(out, i, j, st), out)
        return restore(cls.result(out))


def scaled_leave_one_out(x: Any, scale: Any) -> Any | None:
    """``scale * leave_one_out(x)`` of a 1-d real float array, each entry the
    exact product ``scale * x_0 ... x_{i-1} x_{i+1} ... x_{n-1}`` rounded once:
    finite wherever that is, even where the leave-one-out product alone
    overflows.  The gradient of ``prod`` with the adjoint ``scale``.

    ``dp`` with ``scale`` between each prefix and suffix (the compiled kernel
    seeds its running suffix with it instead).  None where the product
    would change dtype (a float64 scale of float32 factors), or for input that
    is not a 1-d float array with a scalar float ``scale``: the caller then
    multiplies.
    """
    if isinstance(x, LogReal) or getattr(x, "ndim", None) != 1 or _dask_scan.wants(x):
        return None  # (Dask: the caller's lazy leave-one-out)
    xp = namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        return None
    if type(scale) is not float:  # a weak Python float keeps x's dtype
        kinds = (np.generic, np.ndarray) if isinstance(x, np.ndarray) else (type(x),)
        if not isinstance(scale, kinds) or scale.ndim != 0 or scale.dtype != x.dtype:
            return None
    g = float(scale)
    fast = _products_fast.real(xp, x, 0, _products_fast.LOO, scale=g)
    if fast is not None:
        return fast
    with _wide(x):
        cls, src, n, restore = _plan(x, 0, None, None)[:4]
        assert isinstance(cls, Real)
        seed = frexp(xp.asarray([g], dtype=cls.f64), xp)
        out = cls.empty(n)

        def emit(i: int, j: int, st: Any) -> None:
            cls.store(out, i, j, st)

        _dp(cls, src, n, emit, out, lambda i, j: seed)
        return restore(cls.result(out))


def prod_grad(
    f: Any,
    df: Any,
    *,
    op: Callable[[Any, Any], Any] | None = None,
    method: str = "auto",
) -> Any:
    """The gradient of ``p = f_1 ... f_n``: ``sum_i (f_1 ... f_{i-1}) df_i (f_{i+1} ... f_n)``.

    Parameters
    ----------
    f : array_like or LogReal, shape (n, *E)
        The factors; ``E = f.shape[1:]`` is the element shape (``()`` for
        numbers, ``(k, k)`` for matrices with ``op=np.matmul``).
    df : array_like or LogReal, shape (n, *P, *E)
        The derivative of each factor with respect to a parameter of shape P.
    op : callable, optional
        An associative product of stacks of elements (see :func:`cumprod`);
        it must broadcast an element against a stack of shape (*P, *E).
    method : {"auto", "naive", "division", "log", "dp", "scan"}, optional
        As in :func:`leave_one_out`.

    Returns
    -------
    LogReal or array, shape (*P, *E)
        LogReal if `f` or `df` is one (or real for the ``"log"`` method on
        real input).  For n = 0 (p = 1, a constant) the gradient is zero.

    Raises
    ------
    ValueError
        If `df` does not have the shape (n, *P, *E) that `f` asks for; for
        ``"division"`` or ``"log"`` with `op`; for an unknown method.

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> f = np.array([2.0, 3.0, 4.0])         # p(t) = (2 + t)(3 + t)(4 + t) at t = 0
    >>> lr.prod_grad(f, np.ones(3))
    np.float64(26.0)
    >>> g = lr.prod_grad(lr.LogReal(np.full(100_000, 0.5)), np.ones(100_000))
    >>> float(g.logabs)                        # log(1e5 * 2**-99999); floats give 0.0
    -69302.511983349
    """
    method = _method(method, op)
    if op is None and _dask_scan.wants(f, df):  # lazily, chunk by chunk
        return _dask_scan.prod_grad(f, df, method)
    if op is None and (isinstance(f, LogReal) or isinstance(df, LogReal)):
        f, df = LogReal(f), LogReal(df)
    elif op is None:
        xp = namespace(f, df)
        f, df = as_float(f, xp), as_float(df, xp)
        dtype = xp.result_type(f, df)
        f, df = xp.astype(f, dtype), xp.astype(df, dtype)
    elif not isinstance(df, LogReal):
        df = namespace(df).asarray(df)
    fshape, dshape = tuple(np.shape(f)), tuple(np.shape(df))
    elem = fshape[1:]
    fits = (
        len(fshape) >= 1
        and len(dshape) >= len(fshape)
        and dshape[:1] == fshape[:1]
        and dshape[len(dshape) - len(elem) :] == elem
    )
    if not fits:
        raise ValueError(
            f"prod_grad: df of shape {dshape} does not fit f of shape {fshape}; "
            f"df must have shape (n, *P, *E) with n = f.shape[0] and E = f.shape[1:]"
        )
    with _wide(f):  # float32 scaled products in float64 (JAX: a scope that has it)
        return _gradient(f, df, op, method, fshape, dshape)


def _gradient(
    f: Any, df: Any, op: Any, method: str, fshape: tuple[int, ...], dshape: tuple[int, ...]
) -> Any:
    """``sum_i P_i df_i S_i`` for checked shapes (:func:`prod_grad`)."""
    k = len(dshape) - len(fshape)
    plan = _plan(f, 0, op, None, real_io=method == "log")
    cls, src, n = plan[:3]
    if n == 0:
        zero = cls.zeros(dshape[1:])
        return zero if isinstance(zero, LogReal) else scalar_out(zero, namespace(zero))
    # The compiled leave-one-out products, where they hold the working
    # precision (float64 or LogReal), make the gradient sum_i loo_i df_i; not
    # where a float loo_i is 0, inf, nan or subnormal (its rounding, unlike
    # the exact product P_i df_i S_i, would lose what df_i brings back).
    loo = None
    if method == "dp" and not (isinstance(cls, Real) and cls.dtype != cls.f64):
        loo = _compiled(plan, _products_fast.LOO)
        if isinstance(cls, Real) and loo is not None and not cls.regular((loo, None)):
            loo = None
    # A block also holds df's elements, which may be larger than f's.
    cls.rows = max(1, cls.rows * max(1, math.prod(fshape[1:])) // max(1, math.prod(dshape[1:])))
    partials: list[Any] = []
    if loo is not None:
        for a, b in _blocks(n, cls.rows):
            st = cls.mul(_expand(cls, cls.lift(loo, a, b), k), cls.lift(df, a, b))
            partials.append(cls.sum0(st))
    else:
        _ALGORITHMS[method](
            cls,
            src,
            n,
            lambda i, j, st: partials.append(cls.sum0(st)),
            cls.empty(n) if method == "dp" else None,
            lambda i, j: cls.lift(df, i, j),
            k,
        )
    return _lr_sum(_lr_stack(partials), axis=0)
