"""Products along an axis of Dask arrays, lazily: chunk scans joined by exact carries.

``lr.cumprod``, ``lr.leave_one_out`` and ``lr.prod_grad`` (without ``op``) of a
Dask array never compute while the graph is built.  The sequence axis is cut
into the array's chunks; every data-dependent decision (a partial product
leaving the float range, zeros, infinities) is made inside the chunk
functions, which run the number classes of :mod:`logreal._numclass` on NumPy
blocks (the same code as the portable NumPy path):

1. each chunk's product along the axis, as the class's exact *state* (a real
   product as a mantissa and an integer exponent ``m 2**e``; a LogReal one as
   its sign and a compensated log ``la + lo``): one small block per chunk;
2. the exclusive scans of these totals (the product of the chunks before a
   chunk, and of those after it), in one task along the axis: the *carries*;
3. each chunk's own scan seeded by its carry (``cumprod``), or its exclusive
   prefixes seeded by the forward carry times its exclusive suffixes seeded by
   the backward carry (``leave_one_out``: prefix times suffix, so zeros need no
   division and no counting; ``prod_grad`` multiplies in ``df`` before the
   sum).

A state is never rounded to the output dtype between chunks, so a prefix whose
float value under- or overflows on the way does not spoil the later ones: a
result is rounded once, when written, as on NumPy.  States travel between
tasks as structured arrays; a LogReal travels as one complex array
(``logabs + i sign``, both stored exactly).

Accuracy (as the NumPy path): a real product of n factors is within about
``(n + 4) u`` of the exact one (one rounding a multiplication while in range,
the carries adding a few more per chunk); a LogReal product's logabs is a
compensated sum of the logs, within about an ulp of the larger partial sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from ._backend import normalize_axis
from ._dask import _pack
from ._logreal import LogReal
from ._numclass import Log, Real, frexp

__all__ = ["cumprod", "leave_one_out", "prod_grad", "wants"]


def wants(*xs: Any) -> bool:
    """Whether any argument is a Dask array or a LogReal of Dask arrays."""
    for x in xs:
        parts = (x._sign, x.logabs) if isinstance(x, LogReal) else (x,)
        if any(array_api_compat.is_dask_array(p) for p in parts):
            return True
    return False


# ---------------------------------------------------------------------------
# The number class a chunk function rebuilds, and how blocks travel.


@dataclass(frozen=True)
class _Kind:
    """What a chunk function needs to rebuild the number class of a block (a
    plain object: Dask reads tuples in a graph as tasks)."""

    log: bool  # the Log class (else Real)
    packed: bool  # blocks are LogReal packed as complex ``logabs + i sign``
    dtype: Any  # the user's float dtype (the class works in it or rounds to it)

    def cls(self, rest: tuple[int, ...]) -> Any:
        if self.log:
            return Log(np, self.dtype, rest, real_io=not self.packed)
        return Real(np, self.dtype, rest)

    def source(self, block: np.ndarray, axis: int) -> Any:
        """A block with its sequence axis first, as the class lifts it."""
        block = np.moveaxis(block, axis, 0)
        if self.packed:
            return LogReal._new(block.imag, block.real)
        return block

    def state_dtype(self) -> np.dtype:
        if self.log:
            return np.dtype([("s", np.float64), ("la", np.float64), ("lo", np.float64)])
        return np.dtype([("m", np.float64), ("e", np.int64)])


def _pack_state(kind: _Kind, st: Any, axis: int) -> np.ndarray:
    """A stack (the sequence first) as a structured array, the sequence at ``axis``."""
    fields: tuple[Any, ...]
    if kind.log:
        s, la, lo = st
        fields = (s, la, np.zeros_like(la) if lo is None else lo)
    else:
        m, e = st
        m, k = frexp(m, np)  # normalised, so every exponent is an int64 of its own
        fields = (m, k if e is None else k + np.broadcast_to(e, m.shape))
    out = np.empty(fields[0].shape, dtype=kind.state_dtype())
    for name, v in zip(out.dtype.names or (), fields, strict=True):
        out[name] = v
    return np.moveaxis(out, 0, axis)


def _unpack_state(kind: _Kind, z: np.ndarray, axis: int) -> Any:
    z = np.moveaxis(z, axis, 0)
    if kind.log:
        return tuple(np.astype(z[f], kind.dtype) for f in ("s", "la", "lo"))
    return np.ascontiguousarray(z["m"]), np.ascontiguousarray(z["e"])


def _out(kind: _Kind, cls: Any, st: Any, axis: int) -> np.ndarray:
    """A stack written in the user's type (one rounding), the sequence at ``axis``."""
    n = cls.length(st)
    buf = cls.empty(n)
    if n:
        cls.store(buf, 0, n, st)
    res = cls.result(buf)
    if isinstance(res, LogReal):
        res = _pack(np.asarray(res.logabs), np.asarray(res.sign))
    return np.moveaxis(res, 0, axis)


# ---------------------------------------------------------------------------
# Chunk functions.


def _total(block: np.ndarray, axis: int, kind: _Kind) -> np.ndarray:
    """The chunk's product along ``axis`` (length 1 there), as a state."""
    src = kind.source(block, axis)
    cls = kind.cls(tuple(src.shape[1:]))
    return _pack_state(kind, cls.reduce(cls.lift(src, 0, int(src.shape[0]))), axis)


def _carries(totals: np.ndarray, axis: int, kind: _Kind, reverse: bool) -> np.ndarray:
    """The product of the chunk totals before each (``reverse``: after it); one
    for the first (last)."""
    cls = kind.cls(tuple(np.moveaxis(totals, axis, 0).shape[1:]))
    st = _unpack_state(kind, totals, axis)
    n = cls.length(st)
    inc = cls.scan(st, reverse=reverse)
    if n == 1:
        out = cls.one()
    elif reverse:
        out = cls.concat([cls.take(inc, 1, n), cls.one()])
    else:
        out = cls.concat([cls.one(), cls.take(inc, 0, n - 1)])
    return _pack_state(kind, out, axis)


def _prefixes(cls: Any, st: Any, seed: Any, exclusive: bool, reverse: bool) -> Any:
    """The chunk's running products seeded by its carry (``exclusive``: the
    carry first, the last product dropped; ``reverse``: from the end)."""
    n = cls.length(st)
    if not exclusive:
        return cls.scan(st, reverse=reverse, seed=seed)
    if n == 1:
        return seed
    if reverse:
        return cls.concat([cls.scan(cls.take(st, 1, n), reverse=True, seed=seed), seed])
    return cls.concat([seed, cls.scan(cls.take(st, 0, n - 1), seed=seed)])


def _cumprod_block(
    block: np.ndarray, carry: np.ndarray, axis: int, kind: _Kind, exclusive: bool, reverse: bool
) -> np.ndarray:
    src = kind.source(block, axis)
    cls = kind.cls(tuple(src.shape[1:]))
    n = int(src.shape[0])
    if n == 0:
        return np.moveaxis(np.asarray(src), 0, axis).copy()
    st = _prefixes(cls, cls.lift(src, 0, n), _unpack_state(kind, carry, axis), exclusive, reverse)
    return _out(kind, cls, st, axis)


def _loo_states(
    kind: _Kind, block: np.ndarray, fwd: np.ndarray, bwd: np.ndarray, axis: int
) -> tuple[Any, Any, Any]:
    """The class, the source and the leave-one-out products ``P_i S_i`` of a
    chunk as unrounded states (prefixes seeded by ``fwd``, suffixes by ``bwd``)."""
    src = kind.source(block, axis)
    cls = kind.cls(tuple(src.shape[1:]))
    st = cls.lift(src, 0, int(src.shape[0]))
    pre = _prefixes(cls, st, _unpack_state(kind, fwd, axis), True, False)
    suf = _prefixes(cls, st, _unpack_state(kind, bwd, axis), True, True)
    return cls, src, cls.mul(pre, suf)


def _loo_block(
    block: np.ndarray, fwd: np.ndarray, bwd: np.ndarray, axis: int, kind: _Kind
) -> np.ndarray:
    if block.shape[axis] == 0:
        return block.copy()
    cls, _, st = _loo_states(kind, block, fwd, bwd, axis)
    return _out(kind, cls, st, axis)


def _grad_block(
    block: np.ndarray, dblock: np.ndarray, fwd: np.ndarray, bwd: np.ndarray, kind: _Kind, k: int
) -> np.ndarray:
    """The chunk's ``sum_i P_i df_i S_i`` (length 1 on axis 0)."""
    cls, _, loo = _loo_states(kind, block, fwd, bwd, 0)
    dsrc = kind.source(dblock, 0)
    part = cls.sum0(cls.mul(cls.expand(loo, k), cls.lift(dsrc, 0, int(dsrc.shape[0]))))
    if isinstance(part, LogReal):
        part = _pack(np.asarray(part.logabs), np.asarray(part.sign))
    return np.asarray(part)[None, ...]


# ---------------------------------------------------------------------------
# Graph building.


def _known(x: Any, what: str) -> None:
    if any(math.isnan(c) for cs in x.chunks for c in cs):
        raise ValueError(
            f"{what} of a Dask array with unknown chunk sizes {x.chunks}: call "
            f"x.compute_chunk_sizes() (or give the chunks) first"
        )


def _prepare(x: Any, axis: int | None, what: str, log: bool = False) -> tuple[Any, int, _Kind]:
    """``x`` as one Dask array (a LogReal packed as complex), the axis, the kind."""
    import dask.array as da

    if isinstance(x, LogReal):
        if axis is None:
            x = x.reshape(-1)
        logabs, sign = da.asarray(x.logabs), da.asarray(x.sign)
        sign = sign.rechunk(logabs.chunks)
        dtype = logabs.dtype
        z = da.map_blocks(_pack, logabs, sign, dtype=np.result_type(dtype, np.complex64))
        kind = _Kind(True, True, dtype)
    else:
        z = da.asarray(x)
        if z.dtype.kind != "f":  # integers and bools become float64, as on NumPy
            z = z.astype(np.float64)
        if axis is None:
            z = z.reshape(-1)
        kind = _Kind(log, False, z.dtype)
    if z.ndim == 0:
        raise ValueError("a product along an axis needs an array with at least one dimension")
    _known(z, what)
    (ax,) = normalize_axis(0 if axis is None else axis, z.ndim)
    return z, ax, kind


def _carry_arrays(z: Any, axis: int, kind: _Kind, reverse: tuple[bool, ...]) -> list[Any]:
    """For each direction, one carry per chunk along ``axis`` (length 1 there)."""
    sdt = kind.state_dtype()
    ones = tuple((1,) * len(c) if i == axis else c for i, c in enumerate(z.chunks))
    meta = np.empty((0,) * z.ndim, dtype=sdt)
    totals = z.map_blocks(_total, axis, kind, chunks=ones, dtype=sdt, meta=meta)
    together = totals.rechunk({axis: -1})
    return [
        together.map_blocks(_carries, axis, kind, r, dtype=sdt, meta=meta).rechunk({axis: 1})
        for r in reverse
    ]


def _result(kind: _Kind, out: Any) -> Any:
    if kind.packed:
        return LogReal._new(out.imag, out.real)
    return out


def _blockwise(fn: Any, z: Any, carries: list[Any], out_dtype: Any, **kw: Any) -> Any:
    """``fn(block, *carries, **kw)`` per chunk: carry j goes with chunk j."""
    import dask.array as da

    index = tuple(range(z.ndim))
    pairs = [a for c in carries for a in (c, index)]
    return da.blockwise(
        fn,
        index,
        z,
        index,
        *pairs,
        dtype=out_dtype,
        align_arrays=False,
        meta=np.empty((0,) * z.ndim, dtype=out_dtype),
        **kw,
    )


def cumprod(x: Any, axis: int | None, exclusive: bool, reverse: bool) -> Any:
    """``lr.cumprod`` of a Dask array (real or LogReal), lazily."""
    z, ax, kind = _prepare(x, axis, "cumprod")
    if z.shape[ax] == 0:
        return _result(kind, z)
    (carry,) = _carry_arrays(z, ax, kind, (reverse,))
    out = _blockwise(
        _cumprod_block,
        z,
        [carry],
        z.dtype,
        axis=ax,
        kind=kind,
        exclusive=exclusive,
        reverse=reverse,
    )
    return _result(kind, out)


def leave_one_out(x: Any, axis: int | None, method: str) -> Any:
    """``lr.leave_one_out`` of a Dask array, lazily: prefix times suffix.

    Every method gives the exact products rounded once (``"log"`` through
    LogReal, as on NumPy), so the method only picks the number class.
    """
    z, ax, kind = _prepare(x, axis, "leave_one_out", log=method == "log")
    if z.shape[ax] == 0:
        return _result(kind, z)
    fwd, bwd = _carry_arrays(z, ax, kind, (False, True))
    return _result(kind, _blockwise(_loo_block, z, [fwd, bwd], z.dtype, axis=ax, kind=kind))


def prod_grad(f: Any, df: Any, method: str) -> Any:
    """``lr.prod_grad`` with Dask ``f`` or ``df``, lazily: a chunk's
    ``sum_i P_i df_i S_i`` from its carries, then the lazy sum of the chunks'."""
    import dask.array as da

    from ._reduce import sum as lr_sum

    f_leads = wants(f)  # whose chunks the other follows
    if isinstance(f, LogReal) or isinstance(df, LogReal):
        f, df = LogReal(f), LogReal(df)
        dtype = np.result_type(f.dtype, df.dtype)
        f = LogReal._new(*(da.asarray(v).astype(dtype) for v in (f.sign, f.logabs)))
        df = LogReal._new(*(da.asarray(v).astype(dtype) for v in (df.sign, df.logabs)))
    else:
        f, df = (da.asarray(v) for v in (f, df))
        # integers and bools become float64 first, as on NumPy
        dtype = np.result_type(*(v.dtype if v.dtype.kind == "f" else np.float64 for v in (f, df)))
        f, df = f.astype(dtype), df.astype(dtype)
    z, _, kind = _prepare(f, 0, "prod_grad", log=method == "log")
    dz, _, _ = _prepare(df, 0, "prod_grad")
    fshape, dshape = tuple(z.shape), tuple(dz.shape)
    elem = fshape[1:]
    if (
        len(dshape) < len(fshape)
        or dshape[:1] != fshape[:1]
        or dshape[len(dshape) - len(elem) :] != elem
    ):
        raise ValueError(
            f"prod_grad: df of shape {dshape} does not fit f of shape {fshape}; "
            f"df must have shape (n, *P, *E) with n = f.shape[0] and E = f.shape[1:]"
        )
    k = len(dshape) - len(fshape)
    out_dtype = dz.dtype if kind.packed else kind.dtype
    if fshape[0] == 0:
        zero = da.zeros(dshape[1:], dtype=kind.dtype)
        return LogReal._new(zero, zero - math.inf) if kind.packed else zero
    # one chunking of the sequence and element axes, from the Dask operand (f if both)
    if f_leads:
        dz = dz.rechunk({0: z.chunks[0], **{k + i: c for i, c in enumerate(z.chunks) if i}})
    else:
        z = z.rechunk({i: dz.chunks[k + i if i else 0] for i in range(z.ndim)})
    fwd, bwd = _carry_arrays(z, 0, kind, (False, True))
    f_index = (0, *range(k + 1, k + len(fshape)))
    d_index = tuple(range(len(dshape)))
    parts = da.blockwise(
        _grad_block,
        d_index,
        z,
        f_index,
        dz,
        d_index,
        fwd,
        f_index,
        bwd,
        f_index,
        kind=kind,
        k=k,
        dtype=out_dtype,
        align_arrays=False,
        adjust_chunks={0: 1},
        meta=np.empty((0,) * len(dshape), dtype=out_dtype),
    )
    return lr_sum(_result(kind, parts), axis=0)
