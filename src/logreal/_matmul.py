"""LogReal matrix products at BLAS speed, each entry still an exact log-space sum.

Algorithm
---------
For ``C = A @ B`` with ``A = sa e**la`` (m x k) and ``B = sb e**lb`` (k x n),
shift every row of ``A`` by its largest log ``r_i`` and every column of ``B``
by its largest log ``c_j``::

    C_ij = e**(r_i + c_j) * S_ij,   S_ij = sum_k A'_ik B'_kj,
    A'_ik = sa_ik e**(la_ik - r_i),  B'_kj = sb_kj e**(lb_kj - c_j).

``|A'|, |B'| <= 1``, so ``S = A' @ B'`` is one float matrix product (BLAS on
NumPy) that cannot overflow.  The difference ``la - r`` is carried exactly as
``d + d_lo`` (TwoSum) and ``e**(d + d_lo)`` is taken as ``e**d (1 + d_lo)``,
so every factor is within about 2u of its exact value (u the unit roundoff).
``log|S|`` is split as ``e ln 2 + log(m)`` with ``|S| = m 2**e`` exactly, and
``r_i + c_j + e ln 2`` is added exactly on a grid fine enough for all three
(:func:`_grid`), the pieces off the grid added once at the end: neither the
shift nor a large ``log|S|`` that cancels against it costs ulps.

Error bound and exact recomputation
-----------------------------------
By Higham's bound for a dot product in any summation order, plus the factors'
own rounding, the computed ``S_ij`` is within

    E_ij = (k + 10) u P_ij + 2**-1000 N_ij,    P = |A'| @ |B'|,

of the exact shifted sum, where ``N_ij`` counts the products with two nonzero
factors, each of which loses at most a few units of 2**-1074 when a factor or
the product underflows (``P`` and, where some factors are zero, ``N`` are
further matrix products).  An entry is kept when ``E_ij <= 2**-24 |S_ij|``:
its logabs is then within ``E_ij / |S_ij|`` plus an ulp or so of the exact
one -- a few ulp plus ``(k + 10) u`` times the cancellation ratio
``P_ij / |S_ij|``.  The others -- entries whose terms cancel (``|S_ij|`` tiny
beside ``P_ij``, or zero), entries so far below their shift that their
factors underflow, and every entry in a row or column holding an infinity or
nan -- are recomputed by the per-entry shifted sum of their k products
(:func:`logreal._special.signed_logsum`), which shifts each entry by its own
largest term, keeps exactly cancelling top terms from hiding the rest, and
follows IEEE for special values.  On random matrices no entry is recomputed.

float32 input is computed in float64 and rounded once at the end.  The
elementwise work runs in row blocks of the result, in place where it can:
at these sizes fresh memory pages cost more than the arithmetic.
"""

from __future__ import annotations

import math

import numpy as np

from ._backend import Array, Namespace, unwrap, wide, writable
from ._exact import frexp
from ._logreal import LogReal, _broadcast_shape
from ._special import signed_logsum

__all__ = ["exact_entries", "scaled_matmul"]

U = 2.0**-53
# An entry is kept when its error bound is at most TOL times |S|.
TOL = 2.0**-24
# Bounds the absolute error of one product of factors of magnitude <= 1 from
# underflow (a subnormal factor, a subnormal product, the sum's subnormal
# roundings: a few units of 2**-1074); generous, so that the bound itself is
# a normal number and entries that far below their shift are recomputed.
TINY = 2.0**-1000
# ln 2 as a double-double.
LN2_A = 0.6931471805599453
LN2_B = 2.3190468138462996e-17


# Result entries per row block: each block's temporaries stay in cache and
# are small enough for the allocator to reuse (fresh pages cost more than the
# arithmetic on them).
_BLOCK_ENTRIES = 1 << 14


def scaled_matmul(a: LogReal, b: LogReal) -> LogReal:
    """``a @ b`` for LogReals of ndim >= 2 with aligned, broadcastable shapes."""
    with wide(a._xp):  # float32 works in float64 (JAX without x64: in a scope that has it)
        return _scaled_matmul(a, b)


def _scaled_matmul(a: LogReal, b: LogReal) -> LogReal:
    xp = a._xp
    dtype = xp.result_type(a.dtype, b.dtype)
    work = xp.float64 if dtype == xp.float32 else dtype
    sa, la = xp.astype(a._sign, work, copy=False), xp.astype(a.logabs, work, copy=False)
    sb, lb = xp.astype(b._sign, work, copy=False), xp.astype(b.logabs, work, copy=False)
    k = a.shape[-1]
    shape = (*_broadcast_shape(a.shape[:-2], b.shape[:-2]), a.shape[-2], b.shape[-1])
    if k == 0 or math.prod(shape) == 0:  # the empty sum is zero; or no entries
        zero = xp.zeros(shape, dtype=dtype)
        return LogReal._new(zero, zero - math.inf)
    fa, r, live_a, row_special = _scaled(sa, la, -1, xp)
    fb, c, live_b, col_special = _scaled(sb, lb, -2, xp)
    s = xp.matmul(fa, fb)  # the two (or three) products of the whole matrices
    p = xp.matmul(xp.abs(fa), xp.abs(fb))
    n_live = None  # N counts the products of two nonzero factors; None: all k
    if not (bool(xp.all(live_a)) and bool(xp.all(live_b))):
        n_live = xp.matmul(xp.astype(live_a, work), xp.astype(live_b, work))
    special = (
        (row_special, col_special)
        if bool(xp.any(row_special)) or bool(xp.any(col_special))
        else None
    )
    m = shape[-2]
    rows = _BLOCK_ENTRIES // (math.prod(shape[:-2]) * shape[-1])
    if rows >= m or rows < 8:  # one block; or stacks of small matrices: no blocks
        sign, logabs, keep = _finish(s, p, n_live, r, c, special, k, xp)
    else:
        sign, logabs = (writable(xp.empty(shape, dtype=work), xp) for _ in "sl")
        keep = writable(xp.empty(shape, dtype=xp.bool), xp)
        for i in range(0, m, rows):
            j = min(i + rows, m)
            block = (..., slice(i, j), slice(None))
            sign[block], logabs[block], keep[block] = _finish(
                s[block],
                p[block],
                None if n_live is None else n_live[block],
                r[..., i:j, :],
                c,
                None if special is None else (special[0][..., i:j], special[1]),
                k,
                xp,
            )
    keep = unwrap(keep)
    if not bool(xp.all(keep)):
        redo = ~keep
        es, el = exact_entries(LogReal._new(sa, la), LogReal._new(sb, lb), redo)
        sign, logabs = writable(sign, xp), writable(logabs, xp)
        sign[redo], logabs[redo] = es, el
    sign, logabs = unwrap(sign), unwrap(logabs)
    return LogReal._new(xp.astype(sign, dtype, copy=False), xp.astype(logabs, dtype, copy=False))


def _finish(
    s: Array,
    p: Array,
    n_live: Array | None,
    r: Array,
    c: Array,
    special: tuple[Array, Array] | None,
    k: int,
    xp: Namespace,
) -> tuple[Array, Array, Array]:
    """Signs, logs and the entries kept (their bound holds) for a block of rows."""
    none = None  # where no product has two nonzero factors: the exact zero
    if n_live is None:
        bound = p * ((k + 10) * U / TOL)
        bound += k * TINY / TOL
        keep = bound <= xp.abs(s)
    else:
        none = n_live == 0
        keep = ((k + 10) * U * p + TINY * n_live <= TOL * xp.abs(s)) | none
    if special is not None:
        keep = keep & ~special[0][..., :, None] & ~special[1][..., None, :]
    sign, logabs = _shifted_log(s, r, c, xp)
    if none is not None:  # also where the shifts overflow
        logabs = xp.where(none, -math.inf, logabs)
    if float(xp.min(r)) + float(xp.min(c)) == -math.inf:  # e**(r + c) underflows
        sign = xp.where(logabs == -math.inf, 0.0, sign)
    return sign, logabs, keep


def _scaled(s: Array, lg: Array, axis: int, xp: Namespace) -> tuple[Array, Array, Array, Array]:
    """``s e**(lg - shift)`` with the shift the largest finite log along ``axis``.

    Returns the scaled factors, the shift (kept dims; 0 where nothing is
    finite), where the factors are nonzero and finite (before scaling, which
    may underflow), and a flag per row (``axis=-1``) or column (``axis=-2``)
    holding an infinity or nan, whose entries the caller recomputes.
    """
    # -inf - shift and its TwoSum error (nan), e**d far below the shift (0), a
    # difference beyond the float range (-inf, e**d = 0): meant
    with np.errstate(invalid="ignore", under="ignore", over="ignore"):
        ok = lg < math.inf  # False at +inf and nan
        special = ~xp.all(ok, axis=axis)
        lf = xp.where(ok, lg, -math.inf)
        live = lf > -math.inf
        shift = xp.max(lf, axis=axis, keepdims=True)
        shift = xp.where(shift > -math.inf, shift, 0.0)
        # d + d_lo = lf - shift exactly: _exact.two_sum_err's formula, written
        # in place here (temporaries of the full size are what this routine
        # spends its time on)
        d = lf - shift
        back = d - lf
        lf -= d - back
        back += shift
        lf -= back
        del back
        e = xp.exp(d)
        del d
        d_lo = xp.where(live & xp.isfinite(lf), lf, 0.0)  # nan where d overflowed
        del lf
        d_lo *= e
        e += d_lo  # e**(d + d_lo), to first order
    return xp.copysign(e, s), shift, live, special


def _shifted_log(s: Array, r: Array, c: Array, xp: Namespace) -> tuple[Array, Array]:
    """(sign, logabs) of ``e**(r + c) * s``, the shift and ``log|s|`` added exactly.

    With ``|s| = m 2**e`` (``m`` in [1/2, 1)), ``r + c + e ln 2`` is summed
    exactly on a grid of step ``g`` (:func:`_grid`), and the small parts -- the
    shifts' remainders off the grid, ``e`` times ln 2's remainder, ``log m`` --
    are added once.
    """
    g = _grid(r, c, xp)
    r_hi, c_hi = xp.trunc(r / g) * g, xp.trunc(c / g) * g  # |r_hi| <= |r|: no overflow
    ln2_hi = math.trunc(LN2_A / g) * g
    ln2_lo = (LN2_A - ln2_hi) + LN2_B
    m, e = frexp(xp.abs(s), xp)  # |s| = m 2**e, m in [1/2, 1); (0, 0) at 0
    e = xp.astype(e, s.dtype)
    # log 0 = -inf for the exact zeros; r + c may overflow to inf
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        lo = xp.log(m)
        del m
        hi = e * ln2_hi  # in place from here: fewer temporaries of the full size
        hi += r_hi
        hi += c_hi
        e *= ln2_lo
        lo += e
        del e
        lo += r - r_hi
        lo += c - c_hi
        hi += lo
    return xp.sign(s), hi


def _grid(r: Array, c: Array, xp: Namespace) -> float:
    """A power of two ``g`` such that multiples of ``g`` below ``|r| + |c| +
    1100 ln 2`` in magnitude, and their sums, are exact.

    With ``2**(E - 2)`` above ``|r|``, ``|c|`` and 800, every such sum is below
    ``2**E`` and needs at most 52 bits on the grid ``g = 2**(E - 52)``.
    """
    top = max(float(xp.max(xp.abs(r))), float(xp.max(xp.abs(c))), 800.0)
    return 2.0 ** (math.frexp(top)[1] + 2 - 52)


# Products a recomputation materialises at once.
_BLOCK = 1 << 22


def exact_entries(a: LogReal, b: LogReal, mask: Array) -> tuple[Array, Array]:
    """Signs and logs of the entries of ``a @ b`` under ``mask``, in row-major order.

    Each is the per-entry shifted sum of its k products (the accuracy of
    :func:`logreal.sum`).  ``mask`` has the full broadcast shape of the result.
    """
    xp = a._xp
    *batch, m, n = mask.shape
    k = a.shape[-1]
    rows_s, rows_l = (_flat_rows(x, (*batch, m, k), xp) for x in (a.sign, a.logabs))
    cols_s, cols_l = (_flat_rows(_swap(x, xp), (*batch, n, k), xp) for x in (b.sign, b.logabs))
    (where,) = xp.nonzero(xp.reshape(mask, (-1,)))
    row = where // n
    col = (where // (m * n)) * n + where % n
    signs, logs = [], []
    step = max(1, _BLOCK // max(k, 1))
    total = where.shape[0]
    for start in range(0, total, step):
        stop = min(start + step, total)
        i, j = row[start:stop], col[start:stop]
        x = LogReal._new(xp.take(rows_s, i, axis=0), xp.take(rows_l, i, axis=0))
        y = LogReal._new(xp.take(cols_s, j, axis=0), xp.take(cols_l, j, axis=0))
        t = x * y
        s, lg = signed_logsum(t.sign, t.logabs, (1,), False, xp)
        signs.append(s)
        logs.append(lg)
    if len(signs) == 1:
        return signs[0], logs[0]
    return xp.concat(signs), xp.concat(logs)


def _swap(x: Array, xp: Namespace) -> Array:
    n = x.ndim
    return xp.permute_dims(x, (*range(n - 2), n - 1, n - 2))


def _flat_rows(x: Array, shape: tuple[int, ...], xp: Namespace) -> Array:
    return xp.reshape(xp.broadcast_to(x, shape), (-1, shape[-1]))
