"""The differentiable public functions and their adjoint rules (one table).

Each public function of sections 1-4 is wrapped once by
:func:`logreal._autodiff.primitive` and given a rule per argument in the form
``(ans, *args, **kwargs) -> (g -> contribution)``.  Rules use only the number
class's own operations and the *traced* functions of this module, never the
raw kernels, so the backward pass is itself differentiable (higher order).
Values read for masks (where a factor is zero, which entry is largest) are
constants: their derivative is zero almost everywhere.

Every rule costs a small constant times its forward operation: the product
rule is two exclusive cumulative products, the cumulative product's rule one
reverse cumulative sum and a division by the factors (a second pass only on
slices holding a zero), indexing adds ``(index, g)`` pieces that are
scattered once.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _einsum, _norms, _products, _reduce, _special
from ._autodiff import Box, NoRule, Sparse, defvjp, defvjp_all, primitive, raw
from ._backend import as_float, is_numpy, namespace, normalize_axis
from ._dask import is_dask
from ._exact import frexp, ldexp
from ._logreal import LogReal
from ._logreal import exp as _exp
from ._logreal import log as _log
from ._logreal import sqrt as _sqrt

# -- helpers on either number class (values, never Boxes) -----------------------------


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(getattr(raw(x), "shape", ()))


def _xp(x: Any) -> Any:
    x = raw(x)
    return x._xp if isinstance(x, LogReal) else namespace(x)


def _zeros_like(g: Any, shape: tuple[int, ...]) -> Any:
    """A constant zero of ``g``'s number class and dtype."""
    r = raw(g)
    base = r.logabs if isinstance(r, LogReal) else r
    dtype = getattr(base, "dtype", np.float64)
    zeros = _xp(base).zeros(shape, dtype=dtype)
    return LogReal(zeros) if isinstance(r, LogReal) else zeros


def _inverse(axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted(range(len(axes)), key=lambda i: axes[i]))


# -- shape primitives (the helpers rules are written with) ------------------------------


def _reshape_raw(x: Any, shape: tuple[int, ...]) -> Any:
    if _shape(x) == tuple(shape):
        return x
    return x.reshape(shape) if isinstance(x, LogReal) else _xp(x).reshape(x, shape)


def _transpose_raw(x: Any, axes: tuple[int, ...]) -> Any:
    if tuple(axes) == tuple(range(len(axes))):
        return x
    return x.transpose(*axes) if isinstance(x, LogReal) else _xp(x).permute_dims(x, axes)


def _broadcast_raw(x: Any, shape: tuple[int, ...]) -> Any:
    if isinstance(x, LogReal):
        xp = x._xp
        return LogReal._new(xp.broadcast_to(x._sign, shape), xp.broadcast_to(x.logabs, shape))
    xp = _xp(x)
    return xp.broadcast_to(xp.asarray(x), shape)


def _flip_raw(x: Any, axis: int) -> Any:
    index = [slice(None)] * len(_shape(x))
    index[axis] = slice(None, None, -1)
    return x[tuple(index)]


reshape = primitive(_reshape_raw)
transpose = primitive(_transpose_raw)
broadcast_to = primitive(_broadcast_raw)
flip = primitive(_flip_raw)


def _unbroadcast(c: Any, shape: tuple[int, ...]) -> Any:
    """Sum a contribution over the axes along which its argument was broadcast."""
    cshape = _shape(c)
    if cshape == shape:
        return c
    lead = len(cshape) - len(shape)
    if lead:
        c = sum(c, axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and _shape(c)[i] != 1)
    if ones:
        c = sum(c, axis=ones, keepdims=True)
    return reshape(c, shape)


def _expand(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """A reduction's adjoint broadcast back to the reduced input's shape."""
    axes = normalize_axis(axis, len(shape))
    if not keepdims:
        g = reshape(g, tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return broadcast_to(g, shape)


defvjp(reshape, lambda ans, a, shape: lambda g: reshape(g, _shape(a)))
defvjp(transpose, lambda ans, a, axes: lambda g: transpose(g, _inverse(axes)))
defvjp(broadcast_to, lambda ans, a, shape: lambda g: _unbroadcast(g, _shape(a)))
defvjp(flip, lambda ans, a, axis: lambda g: flip(g, axis))


def _in_class(c: Any, g: Any) -> Any:
    """``c`` in the number class of the adjoint ``g``."""
    if isinstance(raw(g), LogReal):
        return c if isinstance(raw(c), LogReal) else to_logreal(c)
    return to_real(c) if isinstance(raw(c), LogReal) else c


def _rule2(fa: Any, fb: Any) -> tuple[Any, Any]:
    """Rules of a broadcasting binary operation from ``g -> (da, db)`` factors."""

    def left(ans: Any, a: Any, b: Any) -> Any:
        return lambda g: _unbroadcast(fa(g, ans, a, b), _shape(a))

    def right(ans: Any, a: Any, b: Any) -> Any:
        return lambda g: _unbroadcast(fb(g, ans, a, b), _shape(b))

    return left, right


# -- conversions ----------------------------------------------------------------------


def _to_real_raw(x: Any) -> Any:
    return x.to_real() if isinstance(x, LogReal) else x


def _to_logreal_raw(x: Any) -> Any:
    return x if isinstance(x, LogReal) else LogReal(x)


def _logabs_raw(x: Any) -> Any:
    return x.logabs


def _from_log_raw(logabs: Any, sign: Any = 1) -> Any:
    return LogReal.from_log(logabs, sign)


to_real = primitive(_to_real_raw)
to_logreal = primitive(_to_logreal_raw)
logabs = primitive(_logabs_raw)
from_log = primitive(_from_log_raw)
defvjp(to_real, lambda ans, x: lambda g: g)
defvjp(to_logreal, lambda ans, x: lambda g: g)
defvjp(logabs, lambda ans, x: lambda g: g / x)  # d log|x| / dx = 1 / x
defvjp(from_log, lambda ans, la, sign=1: lambda g: _unbroadcast(g * ans, _shape(la)), None)

# -- operators ---------------------------------------------------------------------

add = primitive(operator.add)
subtract = primitive(operator.sub)
multiply = primitive(operator.mul)
divide = primitive(operator.truediv)
power = primitive(operator.pow)
negative = primitive(operator.neg)
absolute = primitive(operator.abs)
matmul_op = primitive(operator.matmul)


def _sign(x: Any) -> Any:
    x = raw(x)
    if isinstance(x, LogReal):
        return x.sign
    return _xp(x).sign(_xp(x).asarray(x))


def _log_base(a: Any) -> Any:
    """log a where a > 0, 0 where a == 0 (there a ** p is flat in p), nan where a < 0."""
    r = raw(a)
    if isinstance(r, int | float):
        return math.log(r) if r > 0 else (0.0 if r == 0 else math.nan)
    s = _sign(r)
    positive = s > 0
    safe = where(positive, a, 1.0)
    la = logabs(safe if isinstance(r, LogReal) else to_logreal(safe))
    return where(positive, la, where(s == 0, 0.0, math.nan))


defvjp(add, *_rule2(lambda g, *_: g, lambda g, *_: g))
defvjp(subtract, *_rule2(lambda g, *_: g, lambda g, *_: -g))
defvjp(multiply, *_rule2(lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a))
defvjp(divide, *_rule2(lambda g, ans, a, b: g / b, lambda g, ans, a, b: -(g * ans) / b))
defvjp(
    power,
    *_rule2(
        lambda g, ans, a, p: g * (p * a ** (p - 1)),
        lambda g, ans, a, p: g * (ans * _log_base(a)),
    ),
)
defvjp(negative, lambda ans, a: lambda g: -g)
defvjp(absolute, lambda ans, a: lambda g: g * _sign(a))

# -- indexing: contributions accumulate (np.add.at semantics) ------------------------------


def _getitem_raw(x: Any, index: Any) -> Any:
    return x[index]


getitem = primitive(_getitem_raw)
defvjp(getitem, lambda ans, a, index: lambda g: Sparse(_shape(a), [(index, g)]))


def _basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, int | slice | type(None)) or p is Ellipsis for p in parts)


def _positions(shape: tuple[int, ...], indices: list[Any]) -> Any:
    """The flat positions each index reads, concatenated (NumPy indexing rules)."""
    flat = np.arange(math.prod(shape)).reshape(shape)
    return np.concatenate([np.reshape(flat[i], (-1,)) for i in indices])


def _segment_logsum(sign: Any, la: Any, pos: Any, size: int) -> tuple[Any, Any]:
    """Signed log-space sums of the terms at each flat position (shifted by each maximum)."""
    top = np.full(size, -math.inf)
    with np.errstate(invalid="ignore", divide="ignore"):  # inf - inf, log 0: intended
        np.maximum.at(top, pos, np.where(sign == 0, -math.inf, la))
        shift = np.where(np.isfinite(top), top, 0.0)
        terms = np.where(sign == 0, 0.0, sign * np.exp(la - shift[pos]))
        acc = np.zeros(size)
        np.add.at(acc, pos, terms)
        return np.sign(acc), np.where(acc == 0, -math.inf, shift + np.log(np.abs(acc)))


def _scatter_raw(values: list[Any], shape: tuple[int, ...], indices: list[Any]) -> Any:
    """Zeros of ``shape`` with each value added at its index (repeats add)."""
    if any(isinstance(v, LogReal) for v in values):  # pieces of both classes: LogReal
        values = [_to_logreal_raw(v) for v in values]
    out = _zeros_like(values[0], shape)
    if len(values) == 1 and _basic(indices[0]):
        out[indices[0]] = values[0]
        return out
    if not is_numpy(_xp(values[0])):
        for v, i in zip(values, indices, strict=True):
            out[i] = out[i] + v
        return out
    pos = _positions(shape, indices)
    vals = [
        _broadcast_raw(v, np.shape(np.arange(math.prod(shape)).reshape(shape)[i]))
        for v, i in zip(values, indices, strict=True)
    ]
    size = math.prod(shape)
    if isinstance(out, LogReal):
        sign = np.concatenate([np.reshape(v.sign, (-1,)) for v in vals])
        la = np.concatenate([np.reshape(v.logabs, (-1,)) for v in vals])
        s, lg = _segment_logsum(sign, la, pos, size)
        dtype = out.dtype
        return LogReal._new(
            np.reshape(s, shape).astype(dtype), np.reshape(lg, shape).astype(dtype)
        )
    flat = np.zeros(size, dtype=out.dtype)
    np.add.at(flat, pos, np.concatenate([np.reshape(v, (-1,)) for v in vals]))
    return np.reshape(flat, shape)


scatter = primitive(_scatter_raw)
defvjp(scatter, lambda ans, values, shape, indices: lambda g: [getitem(g, i) for i in indices])

# -- elementwise functions -------------------------------------------------------------

exp = primitive(_exp)
log = primitive(_log)
sqrt = primitive(_sqrt)
defvjp(exp, lambda ans, z: lambda g: _in_class(g * ans, g))
defvjp(log, lambda ans, x: lambda g: g / x)
defvjp(sqrt, lambda ans, x: lambda g: g * 0.5 / ans)


# The weights below are written through differences of the inputs, not through
# the rounded answer: e**(a - ans) would carry ans's rounding (an ulp of a
# large ans) into every weight.


def _real_exp(t: Any) -> Any:
    """e**t of a real array without an overflow warning: through LogReal
    where it is traced (so it has adjoints), else the namespace's exp (the
    same values, without LogReal's passes)."""
    if isinstance(t, Box):
        return to_real(exp(t))
    xp = _xp(t)
    with np.errstate(over="ignore"):
        return xp.exp(as_float(t, xp))


def _sigmoid(t: Any) -> Any:
    """1 / (1 + e**-t) = e**-log1pexp(-t), accurate for every t."""
    return _real_exp(-log1pexp(-t))


logaddexp = primitive(_special.logaddexp)
logsubexp = primitive(_special.logsubexp)
log1pexp = primitive(_special.log1pexp)
log1mexp = primitive(_special.log1mexp)
defvjp(
    logaddexp,
    *_rule2(lambda g, ans, a, b: g * _sigmoid(a - b), lambda g, ans, a, b: g * _sigmoid(b - a)),
)


def _logsubexp_left(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return g * _real_exp(-log1mexp(b - a))  # 1 / (1 - e**(b - a))


def _logsubexp_right(g: Any, ans: Any, a: Any, b: Any) -> Any:
    d = b - a
    return -(g * _real_exp(d - log1mexp(d)))  # -e**d / (1 - e**d)


defvjp(logsubexp, *_rule2(_logsubexp_left, _logsubexp_right))
defvjp(log1pexp, lambda ans, x: lambda g: g * _sigmoid(x))
defvjp(log1mexp, lambda ans, x: lambda g: -(g * _real_exp(x - ans)))

# -- reductions ----------------------------------------------------------------------------

sum = primitive(_reduce.sum)
mean = primitive(_reduce.mean)
prod = primitive(_reduce.prod)
cumsum = primitive(_reduce.cumsum)
defvjp(
    sum, lambda ans, x, axis=None, keepdims=False: lambda g: _expand(g, _shape(x), axis, keepdims)
)


def _mean_rule(ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    count = math.prod(_shape(x)[i] for i in normalize_axis(axis, len(_shape(x))))
    return lambda g: _expand(g, _shape(x), axis, keepdims) / float(count)


defvjp(mean, _mean_rule)


def _along_first(x: Any, axis: Any) -> tuple[Any, Any]:
    """``x`` with the axes of ``axis`` moved first and merged into one, and the inverse map."""
    shape = _shape(x)
    axes = normalize_axis(axis, len(shape))
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    order = axes + rest
    moved = transpose(x, order)
    n = math.prod(shape[i] for i in axes)
    flat = reshape(moved, (n, *(shape[i] for i in rest)))
    return flat, lambda y: transpose(reshape(y, _shape(moved)), _inverse(order))


def _others(x: Any, axis: Any) -> Any:
    """Leave-one-out products along ``axis``: exclusive prefix times exclusive suffix.

    Written with the traced ``cumprod``, so the second derivative (the
    leave-two-out products) is exact with zeros too.
    """
    flat, back = _along_first(x, axis)
    if not isinstance(flat, Box):  # not differentiated again: the fused dp kernel
        return back(_products.leave_one_out(flat, axis=0, method="dp"))
    before = cumprod(flat, axis=0, exclusive=True)
    after = cumprod(flat, axis=0, exclusive=True, reverse=True)
    return back(before * after)


def _prod_rule(ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The gradient of a product is the leave-one-out product: O(n), exact
    with zeros.  A scalar adjoint of a whole 1-d product goes into the
    compiled kernel's suffixes (one pass, one rounding); otherwise it is
    broadcast and multiplied."""

    def vjp(g: Any) -> Any:
        whole = axis is None or normalize_axis(axis, len(_shape(x))) == (0,)
        if whole and not isinstance(x, Box) and not isinstance(g, Box):
            fused = _products.scaled_leave_one_out(x, g)
            if fused is not None:
                return fused
        return _expand(g, _shape(x), axis, keepdims) * _others(x, axis)

    return vjp


defvjp(prod, _prod_rule)


def _reverse_cumsum(v: Any, axis: int = 0) -> Any:
    return flip(cumsum(flip(v, axis), axis=axis), axis)


def _cumsum_rule(ans: Any, x: Any, axis: int | None = 0) -> Any:
    if axis is None:
        return lambda g: reshape(_reverse_cumsum(g), _shape(x))
    (ax,) = normalize_axis(axis, len(_shape(x)))
    return lambda g: _reverse_cumsum(g, ax)


defvjp(cumsum, _cumsum_rule)


def _logsumexp_rule(
    ans: Any, a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, **kw: Any
) -> Any:
    if kw.get("return_sign"):
        raise NoRule("logreal.grad: logsumexp with return_sign=True has no adjoint rule")
    # Softmax weights e**(a - m - logsumexp(a - m)), m the largest finite a
    # (a constant: the weights do not depend on it): the shifted log-sum is
    # near log(n), so its rounding stays small.
    xp = _xp(a)
    axes = normalize_axis(axis, len(_shape(a)))
    ra = xp.asarray(raw(a))
    m = xp.max(ra, axis=axes, keepdims=True) if math.prod(_shape(ra)) else ra
    # an inf or nan: the largest finite a (always for Dask: asking would compute)
    if is_dask(ra) or not bool(xp.all(xp.isfinite(m))):
        m = xp.max(xp.where(xp.isfinite(ra), ra, -math.inf), axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0.0)
    # IEEE: a - m may overflow to -inf (weight 0); an inf a, or every a -inf, gives nan
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = a - m
        weight = _real_exp(shifted - logsumexp(shifted, axis=axes, b=b, keepdims=True))
    if b is not None:
        weight = weight * b
    return lambda g: _expand(g, _shape(a), axis, keepdims) * weight


logsumexp = primitive(_special.logsumexp)
defvjp(logsumexp, _logsumexp_rule)


def _logcumsumexp_rule(ans: Any, a: Any, axis: int = 0) -> Any:
    (ax,) = normalize_axis(axis, len(_shape(a)))

    def rule(g: Any) -> Any:
        # d/da_j = e**a_j * sum_{i >= j} g_i e**-ans_i, summed in log space.
        tail = _reverse_cumsum(exp(-ans) * g, ax)
        return _in_class(exp(a) * tail, g)

    return rule


logcumsumexp = primitive(_special.logcumsumexp)
defvjp(logcumsumexp, _logcumsumexp_rule)

# -- cumulative and leave-one-out products -------------------------------------------


def _inclusive_vjp(x: Any, y: Any, g: Any) -> Any:
    """Adjoint of ``y = cumprod(x, axis=0)`` without dividing by a zero.

    ``dL/dx_j = sum_{i>=j} g_i prod_{k<=i, k!=j} x_k``.  Before a slice's first
    zero that is ``S_j / x_j`` with ``S`` the reverse cumulative sum of
    ``g * y``; at the first zero it is the same sum formed with that zero
    replaced by one; after it, zero.  All in the number class of the input.
    """
    s = _reverse_cumsum(g * y)
    zero = raw(x) == 0
    if not bool(np.any(np.asarray(zero))):
        return s / x
    xp = _xp(zero)
    seen = xp.cumulative_sum(xp.astype(zero, xp.int64), axis=0)
    before, first = seen == 0, zero & (seen == 1)
    part = s / where(before, x, 1.0)
    lifted = cumprod(where(first, 1.0, x), axis=0)
    at_zero = _reverse_cumsum(g * lifted)
    return where(before, part, where(first, at_zero, 0.0 * part))


def _scan_vjp(x: Any, g: Any) -> Any:
    """The same adjoint as ``E_j T_j`` with ``T_j = g_j + x_{j+1} T_{j+1}``, for traced x.

    ``E`` is the exclusive cumprod; ``T`` is a log-depth (Hillis-Steele) scan
    of the affine maps ``t -> g_j + x_{j+1} t``, written with traced
    operations and no mask read from x, so its own derivative is right
    where x has zeros (O(n log n): used only under an outer gradient).
    """
    n = _shape(x)[0]
    a = concat([x[1:], _zeros_like(x, (1, *_shape(x)[1:])) + 1.0], axis=0)
    b, d = g, 1
    while d < n:
        b = concat([b[: n - d] + a[: n - d] * b[d:], b[n - d :]], axis=0)
        a = concat([a[: n - d] * a[d:], a[n - d :]], axis=0)
        d *= 2
    return cumprod(x, axis=0, exclusive=True) * b


def _cumprod_vjp(x: Any, g: Any, exclusive: bool, reverse: bool) -> Any:
    """Adjoint of a cumprod along axis 0 in any of its four modes."""
    if reverse:
        x, g = flip(x, 0), flip(g, 0)
    if exclusive:  # y_excl[i] = y[i - 1]: the adjoint of y[j] is g[j + 1]
        g = concat([g[1:], _zeros_like(g, (1, *_shape(g)[1:]))], axis=0)
    if isinstance(x, Box):  # differentiated again: no value-dependent masks
        out = _scan_vjp(x, g)
    else:
        out = _inclusive_vjp(x, cumprod(x, axis=0), g)
    return flip(out, 0) if reverse else out


def _cumprod_rule(
    ans: Any,
    x: Any,
    axis: int | None = 0,
    *,
    exclusive: bool = False,
    reverse: bool = False,
    op: Any = None,
    identity: Any = None,
) -> Any:
    if op is not None:
        raise NoRule("logreal.grad: cumprod with op has no adjoint rule")
    if math.prod(_shape(x)) == 0:
        return lambda g: g
    if axis is None:
        flat = reshape(x, (-1,))
        return lambda g: reshape(_cumprod_vjp(flat, g, exclusive, reverse), _shape(x))
    (ax,) = normalize_axis(axis, len(_shape(x)))
    order = (ax, *(i for i in range(len(_shape(x))) if i != ax))
    xs = transpose(x, order)

    def rule(g: Any) -> Any:
        out = _cumprod_vjp(xs, transpose(g, order), exclusive, reverse)
        return transpose(out, _inverse(order))

    return rule


cumprod = primitive(_products.cumprod)
defvjp(cumprod, _cumprod_rule)


def _leave_one_out_rule(
    ans: Any, x: Any, axis: int = 0, *, op: Any = None, method: str = "auto"
) -> Any:
    if op is not None:
        raise NoRule("logreal.grad: leave_one_out with op has no adjoint rule")
    flat, back = _along_first(x, axis)

    def rule(g: Any) -> Any:
        gf, _ = _along_first(g, axis)
        before = cumprod(flat, axis=0, exclusive=True)
        after = cumprod(flat, axis=0, exclusive=True, reverse=True)
        c = _cumprod_vjp(flat, gf * after, True, False)
        c = c + _cumprod_vjp(flat, gf * before, True, True)
        return back(c)

    return rule


leave_one_out = primitive(_products.leave_one_out)
defvjp(leave_one_out, _leave_one_out_rule)


def _prod_grad_rules() -> tuple[Any, Any]:
    """``sum_i loo_i(f) df_i`` for scalar factors: rules through leave_one_out's."""

    def check(f: Any, op: Any) -> None:
        if op is not None or len(_shape(f)) != 1:
            raise NoRule("logreal.grad: prod_grad has adjoint rules for 1-d f without op")

    def weights(f: Any, df: Any) -> Any:
        return reshape(leave_one_out(f), (_shape(f)[0], *([1] * (len(_shape(df)) - 1))))

    def left(ans: Any, f: Any, df: Any, *, op: Any = None, method: str = "auto") -> Any:
        check(f, op)
        lead = (_shape(f)[0], *([1] * (len(_shape(df)) - 1)))
        return lambda g: _leave_one_out_rule(None, f)(
            reshape(sum(df * reshape(g, (1, *_shape(g))), axis=tuple(range(1, len(lead)))), (-1,))
        )

    def right(ans: Any, f: Any, df: Any, *, op: Any = None, method: str = "auto") -> Any:
        check(f, op)
        return lambda g: broadcast_to(reshape(g, (1, *_shape(g))), _shape(df)) * weights(f, df)

    return left, right


prod_grad = primitive(_products.prod_grad)
defvjp(prod_grad, *_prod_grad_rules())

# -- contractions --------------------------------------------------------------------


def _swap_last(x: Any) -> Any:
    n = len(_shape(x))
    return transpose(x, (*range(n - 2), n - 1, n - 2))


def _matmul_rules() -> tuple[Any, Any]:
    def promote(a: Any, b: Any, g: Any) -> tuple[Any, Any, Any]:
        """NumPy's 1-d promotion: a vector is a 1-row / 1-column matrix."""
        a2 = reshape(a, (1, _shape(a)[0])) if len(_shape(a)) == 1 else a
        b2 = reshape(b, (_shape(b)[0], 1)) if len(_shape(b)) == 1 else b
        gshape = list(_shape(g))
        if len(_shape(b)) == 1:
            gshape.append(1)
        if len(_shape(a)) == 1:
            gshape.insert(len(gshape) - 1, 1)
        return a2, b2, reshape(g, tuple(gshape))

    def left(ans: Any, a: Any, b: Any) -> Any:
        def rule(g: Any) -> Any:
            a2, b2, g2 = promote(a, b, g)
            return reshape(_unbroadcast(matmul(g2, _swap_last(b2)), _shape(a2)), _shape(a))

        return rule

    def right(ans: Any, a: Any, b: Any) -> Any:
        def rule(g: Any) -> Any:
            a2, b2, g2 = promote(a, b, g)
            return reshape(_unbroadcast(matmul(_swap_last(a2), g2), _shape(b2)), _shape(b))

        return rule

    return left, right


matmul = primitive(_reduce.matmul)
dot = primitive(_reduce.dot)
defvjp(matmul, *_matmul_rules())
defvjp(matmul_op, *_matmul_rules())


def _dot_spec(na: int, nb: int) -> str:
    """NumPy's ``dot`` as einsum subscripts: the last axis of a with b's second-to-last."""
    a = "abcdefghij"[:na]
    if na == 0 or nb == 0:
        b = "klmnopqrst"[:nb]
        return f"{a},{b}->{a}{b}"
    b = "klmnopqrs"[: max(nb - 2, 0)] + a[-1] + ("z" if nb > 1 else "")
    out = a[:-1] + b.replace(a[-1], "")
    return f"{a},{b}->{out}"


def _dot_rules() -> tuple[Any, Any]:
    """``dot`` differentiated as the einsum it is (matmul's promotion for 1-d and 2-d)."""

    def make(position: int) -> Any:
        def maker(ans: Any, a: Any, b: Any) -> Any:
            spec = _dot_spec(len(_shape(a)), len(_shape(b)))
            return _einsum_rule(position + 1, ans, spec, a, b)

        return maker

    return make(0), make(1)


defvjp(dot, *_dot_rules())


def _einsum_rule(position: int, ans: Any, subscripts: Any, *operands: Any, **kw: Any) -> Any:
    """The adjoint of operand k is an einsum of ``g`` with the other operands.

    :func:`logreal._einsum.adjoint_plan` writes its subscripts; labels of
    operand k that appear nowhere else are broadcast back, repeated labels
    (a diagonal) are scattered back onto the diagonal, size-1 broadcast axes
    are summed.
    """
    if position == 0:
        return None
    k = position - 1
    plan = _einsum.adjoint_plan(subscripts, tuple(_shape(o) for o in operands), k)

    def rule(g: Any) -> Any:
        others = [o for i, o in enumerate(operands) if i != k]
        c = einsum(plan.subscripts, g, *others, optimize=kw.get("optimize", "auto"))
        if _shape(c) != plan.full:
            c = broadcast_to(reshape(c, plan.expand_shape(_shape(c))), plan.full)
        if plan.diagonal is not None:
            c = scatter([c], plan.diagonal[0], [plan.diagonal[1]])
        return _unbroadcast(c, _shape(operands[k]))

    return rule


einsum = primitive(_einsum.einsum)
defvjp_all(einsum, _einsum_rule)

# -- assembly ------------------------------------------------------------------------------


def _where_rules() -> tuple[None, Any, Any]:
    def pick(keep: bool) -> Any:
        def make(ans: Any, cond: Any, x: Any, y: Any) -> Any:
            arg = x if keep else y

            def rule(g: Any) -> Any:
                zero = _zeros_like(g, _shape(g))
                picked = where(cond, g, zero) if keep else where(cond, zero, g)
                return _unbroadcast(picked, _shape(arg))

            return rule

        return make

    return None, pick(True), pick(False)


where = primitive(_reduce.where)
defvjp(where, *_where_rules())


def _concat_rule(ans: Any, xs: Any, axis: int = 0) -> Any:
    (ax,) = normalize_axis(axis, len(_shape(ans)))
    bounds, start = [], 0
    for x in xs:
        bounds.append((start, start + _shape(x)[ax]))
        start += _shape(x)[ax]

    def rule(g: Any) -> list[Any]:
        head = (slice(None),) * ax
        return [g[(*head, slice(a, b))] for a, b in bounds]

    return rule


def _stack_rule(ans: Any, xs: Any, axis: int = 0) -> Any:
    (ax,) = normalize_axis(axis, len(_shape(ans)))
    head = (slice(None),) * ax
    return lambda g: [g[(*head, i)] for i in range(len(xs))]


concat = primitive(_reduce.concat)
stack = primitive(_reduce.stack)
defvjp(concat, _concat_rule)
defvjp(stack, _stack_rule)

# -- norms ------------------------------------------------------------------------------------


def _ratio(x: Any, n: Any, axis: Any, keepdims: bool) -> Any:
    """|x| / n for a real NumPy x and a finite positive norm n, rounded once.

    Mantissas are divided and the exponents subtracted (frexp/ldexp), so the
    ratio is correct at any magnitude (3e300 / 5e300 is 0.6 to the ulp).
    """
    full = np.broadcast_to(np.reshape(n, _kept(np.shape(x), axis, keepdims)), np.shape(x))
    mx, ex = frexp(np.abs(x), np)
    mn, en = frexp(full, np)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero or inf norm
        return ldexp(mx / mn, ex - en, np)


def _kept(shape: tuple[int, ...], axis: Any, keepdims: bool) -> tuple[int, ...]:
    axes = normalize_axis(axis, len(shape))
    return tuple(1 if i in axes else m for i, m in enumerate(shape))


def _accurate(x: Any, n: Any, p: float) -> bool:
    if isinstance(x, Box | LogReal) or math.isinf(p) or p == 0:
        return False
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        return False
    n = np.asarray(n)
    return bool(np.all(np.isfinite(n) & (n > 0)))


def _traced_factor(x: Any, n: Any, p: float, axis: Any, keepdims: bool) -> Any:
    """d ||x||_p / dx as a LogReal: sign(x) (|x| / ||x||)**(p - 1), ties shared at +-inf.

    The ratio is formed from x scaled by e**-M (M its largest log-magnitude, a
    constant) and the norm of that, so neither log is large and the ratio
    keeps full precision at e**5000 too.
    """
    lx = to_logreal(x)
    rx = raw(lx)
    xp = rx._xp
    axes = normalize_axis(axis, len(_shape(x)))
    if p == 0:
        return LogReal(xp.zeros(_shape(x)))
    if math.isinf(p):
        rn = _to_logreal_raw(raw(n))
        full = _broadcast_raw(_reshape_raw(rn, _kept(_shape(x), axis, keepdims)), _shape(x))
        hit = abs(rx) == full
        count = xp.reshape(
            xp.sum(xp.astype(hit, rx.dtype), axis=axes), _kept(_shape(x), axis, keepdims)
        )
        with np.errstate(divide="ignore", invalid="ignore"):  # count 0: selected below
            w = xp.where(hit, rx.sign / count, 0.0)
        return LogReal(xp.where(count == 0, math.nan, w))  # no entry attains a nan norm
    la = xp.where(xp.isfinite(rx.logabs), rx.logabs, -math.inf)
    top = xp.max(la, axis=axes, keepdims=True) if math.prod(_shape(x)) else 0.0
    top = xp.where(xp.isfinite(top), top, 0.0)
    scaled = lx * LogReal.from_log(-top)
    ns = norm(scaled, p, axes, True)
    return (abs(scaled) / broadcast_to(ns, _shape(x))) ** (p - 1) * _sign(x)


def _norm_rule(ans: Any, x: Any, p: float = 2, axis: Any = None, keepdims: bool = False) -> Any:
    p = 2.0 if p is None else float(p)
    if _accurate(x, ans, p):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # 0 ** -q = inf
            real = np.sign(x) * _ratio(x, ans, axis, keepdims) ** (p - 1)
        return lambda g: _expand(g, _shape(x), axis, keepdims) * real
    factor = _traced_factor(x, ans, p, axis, keepdims)
    return lambda g: _in_class(_expand(g, _shape(x), axis, keepdims) * factor, g)


def _lognorm_rule(ans: Any, x: Any, p: float = 2, axis: Any = None, keepdims: bool = False) -> Any:
    p = 2.0 if p is None else float(p)
    if not isinstance(ans, Box):
        n = _norms.norm(raw(x), p, axis, keepdims)
        if _accurate(x, n, p):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # 0 ** -q
                real = np.sign(x) * _ratio(x, n, axis, keepdims) ** (p - 1)
                real = real / np.reshape(n, _kept(np.shape(x), axis, keepdims))
            return lambda g: _expand(g, _shape(x), axis, keepdims) * real
    n = exp(ans)  # the exact norm as a LogReal
    factor = _traced_factor(x, n, p, axis, keepdims) / _expand(n, _shape(x), axis, keepdims)
    return lambda g: _in_class(_expand(g, _shape(x), axis, keepdims) * factor, g)


norm = primitive(_norms.norm)
lognorm = primitive(_norms.lognorm)
defvjp(norm, _norm_rule)
defvjp(lognorm, _lognorm_rule)

# -- Boxes behave like the values they hold --------------------------------------------------

# The traced operators behind a Box's Python operators, by name, and the scatter
# that turns Sparse adjoints dense (read by logreal._autodiff at call time; the
# engine itself names no primitive).
OPERATORS: dict[str, Callable[..., Any]] = {
    "add": add,
    "sub": subtract,
    "mul": multiply,
    "truediv": divide,
    "pow": power,
    "matmul": matmul_op,
    "neg": negative,
    "abs": absolute,
    "getitem": getitem,
    "reshape": reshape,
    "transpose": transpose,
    "to_real": to_real,
    "logabs": logabs,
    "scatter": scatter,
}


def _numpy_reduction(fn: Any, name: str) -> Any:
    def call(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, **kw: Any) -> Any:
        extra = {k: v for k, v in kw.items() if k != "keepdims"}
        if dtype is not None or out is not None or extra:
            raise TypeError(f"numpy.{name} on a traced value takes only axis (and keepdims)")
        if name in ("cumsum", "cumprod"):
            return fn(a, axis=axis)
        return fn(a, axis=axis, keepdims=kw.get("keepdims", False))

    return call


# NumPy functions called on a traced value, and their traced twins (read by
# logreal._autodiff.Box.__array_function__ at call time).
NUMPY_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _numpy_reduction(sum, "sum"),
    np.prod: _numpy_reduction(prod, "prod"),
    np.mean: _numpy_reduction(mean, "mean"),
    np.cumsum: _numpy_reduction(cumsum, "cumsum"),
    np.cumprod: _numpy_reduction(cumprod, "cumprod"),
    np.dot: lambda a, b: dot(a, b),
    np.einsum: lambda spec, *ops, optimize=False: einsum(spec, *ops, optimize=optimize),
    np.concatenate: lambda arrays, axis=0: concat(list(arrays), axis=axis),
    np.stack: lambda arrays, axis=0: stack(list(arrays), axis=axis),
    np.where: lambda cond, x, y: where(cond, x, y),
    np.reshape: lambda a, shape: reshape(a, tuple(np.atleast_1d(shape).tolist())),
    np.transpose: lambda a, axes=None: (
        transpose(a, tuple(reversed(range(len(_shape(a))))))
        if axes is None
        else transpose(a, tuple(axes))
    ),
}
