"""The differentiable public functions and their adjoint rules (one table).

Each public function of sections 1-4 is wrapped once by
:func:`logreal._autodiff.primitive` and given a rule per argument in the form
``(ans, *args, **kwargs) -> (g -> contribution)``.  Rules use only the number
class's own operations (``*``, ``+``, reductions), so one rule serves real and
LogReal adjoints alike; contributions are summed back over broadcast axes.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from . import _norms, _products, _reduce, _special
from ._autodiff import defvjp, primitive
from ._backend import namespace, normalize_axis
from ._logreal import LogReal
from ._logreal import exp as _exp
from ._logreal import log as _log
from ._logreal import sqrt as _sqrt

# -- helpers on either number class ------------------------------------------


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(getattr(x, "shape", ()))


def _xp(x: Any) -> Any:
    return x._xp if isinstance(x, LogReal) else namespace(x)


def _reshape(x: Any, shape: tuple[int, ...]) -> Any:
    if _shape(x) == shape:
        return x
    return x.reshape(shape) if isinstance(x, LogReal) else _xp(x).reshape(x, shape)


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    if isinstance(x, LogReal):
        xp = x._xp
        return LogReal._new(xp.broadcast_to(x.sign, shape), xp.broadcast_to(x.logabs, shape))
    xp = _xp(x)
    return xp.broadcast_to(xp.asarray(x), shape)


def _unbroadcast(c: Any, shape: tuple[int, ...]) -> Any:
    """Sum a contribution over the axes along which its argument was broadcast."""
    cshape = _shape(c)
    if cshape == shape:
        return c
    lead = len(cshape) - len(shape)
    if lead:
        c = _reduce.sum(c, axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and _shape(c)[i] != 1)
    if ones:
        c = _reduce.sum(c, axis=ones, keepdims=True)
    return _reshape(c, shape)


def _sign(x: Any) -> Any:
    return x.sign if isinstance(x, LogReal) else _xp(x).sign(x)


def _zeros_like(g: Any, shape: tuple[int, ...]) -> Any:
    raw = g.logabs if isinstance(g, LogReal) else g
    zeros = _xp(raw).zeros(shape, dtype=raw.dtype)
    return LogReal(zeros) if isinstance(g, LogReal) else zeros


def _expand(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """A reduction's adjoint broadcast back to the reduced input's shape."""
    axes = normalize_axis(axis, len(shape))
    if not keepdims:
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        g = _reshape(g, kept)
    return _broadcast_to(g, shape)


def _flip(x: Any, axis: int) -> Any:
    index = [slice(None)] * len(_shape(x))
    index[axis] = slice(None, None, -1)
    return x[tuple(index)]


def _rule2(fa: Any, fb: Any) -> tuple[Any, Any]:
    """Rules of a broadcasting binary operation from ``g -> (da, db)`` factors."""

    def left(ans: Any, a: Any, b: Any) -> Any:
        return lambda g: _unbroadcast(fa(g, ans, a, b), _shape(a))

    def right(ans: Any, a: Any, b: Any) -> Any:
        return lambda g: _unbroadcast(fb(g, ans, a, b), _shape(b))

    return left, right


# -- operators ---------------------------------------------------------------------

add = primitive(operator.add)
subtract = primitive(operator.sub)
multiply = primitive(operator.mul)
divide = primitive(operator.truediv)
power = primitive(operator.pow)
negative = primitive(operator.neg)
absolute = primitive(operator.abs)
getitem = primitive(operator.getitem)
matmul_op = primitive(operator.matmul)

defvjp(add, *_rule2(lambda g, *_: g, lambda g, *_: g))
defvjp(subtract, *_rule2(lambda g, *_: g, lambda g, *_: -g))
defvjp(multiply, *_rule2(lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a))
defvjp(divide, *_rule2(lambda g, ans, a, b: g / b, lambda g, ans, a, b: -(g * ans) / b))
defvjp(power, _rule2(lambda g, ans, a, p: g * p * a ** (p - 1), None)[0])
defvjp(negative, lambda ans, a: lambda g: -g)
defvjp(absolute, lambda ans, a: lambda g: g * _sign(a))


def _scatter(g: Any, shape: tuple[int, ...], index: Any) -> Any:
    xp_index = index if isinstance(index, tuple) else (index,)
    for part in xp_index:
        if hasattr(part, "dtype") and not getattr(part.dtype, "kind", "b") == "b":
            flat = namespace(part).reshape(part, (-1,))
            if len(set(flat.tolist())) != flat.shape[0]:
                raise TypeError("logreal.grad: indexing with repeated indices has no adjoint rule")
    out = _zeros_like(g, shape)
    out[index] = g
    return out


defvjp(getitem, lambda ans, a, index: lambda g: _scatter(g, _shape(a), index))


def _reshape_raw(x: Any, shape: tuple[int, ...]) -> Any:
    return _reshape(x, shape)


def _transpose_raw(x: Any, axes: tuple[int, ...]) -> Any:
    return x.transpose(*axes) if isinstance(x, LogReal) else _xp(x).permute_dims(x, axes)


def _inverse(axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted(range(len(axes)), key=lambda i: axes[i]))


reshape = primitive(_reshape_raw)
transpose = primitive(_transpose_raw)
defvjp(reshape, lambda ans, a, shape: lambda g: _reshape(g, _shape(a)))
defvjp(transpose, lambda ans, a, axes: lambda g: _transpose_raw(g, _inverse(axes)))


def _to_real_raw(x: Any) -> Any:
    return x.to_real() if isinstance(x, LogReal) else x


def _to_logreal_raw(x: Any) -> Any:
    return LogReal(x)


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

# -- elementwise functions -------------------------------------------------------------

exp = primitive(_exp)
log = primitive(_log)
sqrt = primitive(_sqrt)
defvjp(exp, lambda ans, z: lambda g: g * ans)
defvjp(log, lambda ans, x: lambda g: g / x)
defvjp(sqrt, lambda ans, x: lambda g: g * 0.5 / ans)


# The weights below are written through differences of the inputs, not through
# the rounded answer: e**(a - ans) would carry ans's rounding (an ulp of a
# large ans) into every weight.


def _sigmoid(t: Any) -> Any:
    """1 / (1 + e**-t) = e**-log1pexp(-t), accurate for every t."""
    return _xp(t).exp(-_special.log1pexp(-t))


logaddexp = primitive(_special.logaddexp)
logsubexp = primitive(_special.logsubexp)
log1pexp = primitive(_special.log1pexp)
log1mexp = primitive(_special.log1mexp)
defvjp(
    logaddexp,
    *_rule2(lambda g, ans, a, b: g * _sigmoid(a - b), lambda g, ans, a, b: g * _sigmoid(b - a)),
)


def _logsubexp_left(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return g * _xp(a).exp(-_special.log1mexp(b - a))  # 1 / (1 - e**(b - a))


def _logsubexp_right(g: Any, ans: Any, a: Any, b: Any) -> Any:
    d = b - a
    return -(g * _xp(a).exp(d - _special.log1mexp(d)))  # -e**d / (1 - e**d)


defvjp(logsubexp, *_rule2(_logsubexp_left, _logsubexp_right))
defvjp(log1pexp, lambda ans, x: lambda g: g * _sigmoid(x))
defvjp(log1mexp, lambda ans, x: lambda g: -(g * _xp(x).exp(x - ans)))

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


def _others(x: Any, axis: Any) -> Any:
    """Leave-one-out products of ``x`` along ``axis`` (an int, a tuple or None)."""
    shape = _shape(x)
    axes = normalize_axis(axis, len(shape))
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    order = axes + rest
    moved = _transpose_raw(x, order) if order != tuple(range(len(shape))) else x
    n = math.prod(shape[i] for i in axes)
    flat = _reshape(moved, (n, *(shape[i] for i in rest)))
    loo = _products.leave_one_out(flat, axis=0, method="dp")
    loo = _reshape(loo, _shape(moved))
    return _transpose_raw(loo, _inverse(order)) if moved is not x else loo


# The gradient of a product is the leave-one-out product: O(n), exact with zeros.
defvjp(
    prod,
    lambda ans, x, axis=None, keepdims=False: (
        lambda g: _expand(g, _shape(x), axis, keepdims) * _others(x, axis)
    ),
)


def _cumsum_rule(ans: Any, x: Any, axis: int | None = 0) -> Any:
    if axis is None:
        return lambda g: _reshape(_flip(_reduce.cumsum(_flip(g, 0), axis=0), 0), _shape(x))
    (ax,) = normalize_axis(axis, len(_shape(x)))
    return lambda g: _flip(_reduce.cumsum(_flip(g, ax), axis=ax), ax)


defvjp(cumsum, _cumsum_rule)


def _logsumexp_rule(
    ans: Any, a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, **kw: Any
) -> Any:
    if kw.get("return_sign"):
        raise TypeError("logreal.grad: logsumexp with return_sign has no adjoint rule")
    # Softmax weights e**(a - m - logsumexp(a - m)), m the largest finite a:
    # the shifted log-sum is near log(n), so its rounding stays small.
    xp = _xp(a)
    axes = normalize_axis(axis, len(_shape(a)))
    m = xp.max(xp.where(xp.isfinite(a), a, -math.inf), axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    shifted = a - m
    lse = _special.logsumexp(shifted, axis=axes, b=b, keepdims=True)
    weight = xp.exp(shifted - lse)
    if b is not None:
        weight = weight * b
    return lambda g: _expand(g, _shape(a), axis, keepdims) * weight


logsumexp = primitive(_special.logsumexp)
defvjp(logsumexp, _logsumexp_rule)


def _logcumsumexp_rule(ans: Any, a: Any, axis: int = 0) -> Any:
    (ax,) = normalize_axis(axis, len(_shape(a)))

    def rule(g: Any) -> Any:
        # d/da_j = e**a_j * sum_{i >= j} g_i e**-ans_i, summed in log space.
        tail = _flip(_reduce.cumsum(_flip(_exp(-ans) * g, ax), axis=ax), ax)
        out = _exp(a) * tail
        return out if isinstance(g, LogReal) else out.to_real()

    return rule


logcumsumexp = primitive(_special.logcumsumexp)
defvjp(logcumsumexp, _logcumsumexp_rule)

# -- contractions and assembly ---------------------------------------------------------------


def _swap_last(x: Any) -> Any:
    n = len(_shape(x))
    return _transpose_raw(x, (*range(n - 2), n - 1, n - 2))


def _matmul_rules() -> tuple[Any, Any]:
    def promote(a: Any, b: Any, g: Any) -> tuple[Any, Any, Any]:
        """NumPy's 1-d promotion: a vector is a 1-row / 1-column matrix."""
        a2 = _reshape(a, (1, _shape(a)[0])) if len(_shape(a)) == 1 else a
        b2 = _reshape(b, (_shape(b)[0], 1)) if len(_shape(b)) == 1 else b
        gshape = list(_shape(g))
        if len(_shape(b)) == 1:
            gshape.append(1)
        if len(_shape(a)) == 1:
            gshape.insert(len(gshape) - 1, 1)
        return a2, b2, _reshape(g, tuple(gshape))

    def left(ans: Any, a: Any, b: Any) -> Any:
        def rule(g: Any) -> Any:
            a2, b2, g2 = promote(a, b, g)
            return _unbroadcast_matrix(_reduce.matmul(g2, _swap_last(b2)), a2, a)

        return rule

    def right(ans: Any, a: Any, b: Any) -> Any:
        def rule(g: Any) -> Any:
            a2, b2, g2 = promote(a, b, g)
            return _unbroadcast_matrix(_reduce.matmul(_swap_last(a2), g2), b2, b)

        return rule

    return left, right


def _unbroadcast_matrix(c: Any, promoted: Any, original: Any) -> Any:
    return _reshape(_unbroadcast(c, _shape(promoted)), _shape(original))


matmul = primitive(_reduce.matmul)
dot = primitive(_reduce.dot)
defvjp(matmul, *_matmul_rules())
defvjp(matmul_op, *_matmul_rules())


def _dot_rules() -> tuple[Any, Any]:
    left, right = _matmul_rules()

    def guard(rule: Any) -> Any:
        def make(ans: Any, a: Any, b: Any) -> Any:
            if (
                len(_shape(a)) == 0
                or len(_shape(b)) == 0
                or max(len(_shape(a)), len(_shape(b))) > 2
            ):
                raise TypeError("logreal.grad: dot has adjoint rules for 1-d and 2-d operands")
            return rule(ans, a, b)

        return make

    return guard(left), guard(right)


defvjp(dot, *_dot_rules())


def _where_rules() -> tuple[None, Any, Any]:
    def pick(keep: bool) -> Any:
        def make(ans: Any, cond: Any, x: Any, y: Any) -> Any:
            arg = x if keep else y

            def rule(g: Any) -> Any:
                zero = _zeros_like(g, _shape(g))
                picked = _reduce.where(cond, g, zero) if keep else _reduce.where(cond, zero, g)
                return _unbroadcast(picked, _shape(arg))

            return rule

        return make

    return None, pick(True), pick(False)


where = primitive(_reduce.where)
defvjp(where, *_where_rules())


def _concat_rule(ans: Any, xs: Any, axis: int = 0) -> Any:
    (ax,) = normalize_axis(axis, len(_shape(ans)))

    def rule(g: Any) -> list[Any]:
        parts, start = [], 0
        for x in xs:
            index = [slice(None)] * len(_shape(g))
            index[ax] = slice(start, start + _shape(x)[ax])
            parts.append(g[tuple(index)])
            start += _shape(x)[ax]
        return parts

    return rule


def _stack_rule(ans: Any, xs: Any, axis: int = 0) -> Any:
    (ax,) = normalize_axis(axis, len(_shape(ans)))

    def rule(g: Any) -> list[Any]:
        index = [slice(None)] * len(_shape(g))
        parts = []
        for i in range(len(xs)):
            index[ax] = i  # type: ignore[call-overload]
            parts.append(g[tuple(index)])
        return parts

    return rule


concat = primitive(_reduce.concat)
stack = primitive(_reduce.stack)
defvjp(concat, _concat_rule)
defvjp(stack, _stack_rule)

# -- norms ------------------------------------------------------------------------------------


def _norm_factor(x: Any, n: Any, p: float, axis: Any, keepdims: bool) -> Any:
    """d ||x||_p / dx as a LogReal: sign(x) (|x| / ||x||)**(p - 1), ties shared at +-inf."""
    lx = x if isinstance(x, LogReal) else LogReal(x)
    ln = n if isinstance(n, LogReal) else LogReal(n)
    full = _expand(ln, _shape(x), axis, keepdims)
    if math.isinf(p):
        hit = abs(lx) == full
        xp = lx._xp
        count = _expand(
            _reduce.sum(xp.astype(hit, lx.dtype), axis=axis, keepdims=keepdims),
            _shape(x),
            axis,
            keepdims,
        )
        return LogReal(xp.where(hit, lx.sign / count, 0.0))
    if p == 0:
        return LogReal(_xp(lx.logabs).zeros_like(lx.logabs))
    return (abs(lx) / full) ** (p - 1) * lx.sign


def _in_class(value: LogReal, g: Any) -> Any:
    return value if isinstance(g, LogReal) else value.to_real()


def _norm_rule(ans: Any, x: Any, p: float = 2, axis: Any = None, keepdims: bool = False) -> Any:
    factor = _norm_factor(x, ans, p, axis, keepdims)
    return lambda g: _in_class(_expand(g, _shape(x), axis, keepdims) * factor, g)


def _lognorm_rule(ans: Any, x: Any, p: float = 2, axis: Any = None, keepdims: bool = False) -> Any:
    n = _exp(ans)  # the exact norm as a LogReal
    factor = _norm_factor(x, n, p, axis, keepdims) / _expand(n, _shape(x), axis, keepdims)
    return lambda g: _in_class(_expand(g, _shape(x), axis, keepdims) * factor, g)


norm = primitive(_norms.norm)
lognorm = primitive(_norms.lognorm)
defvjp(norm, _norm_rule)
defvjp(lognorm, _lognorm_rule)


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
    """Adjoint of running products without dividing by a factor.

    For ``y_i = x_0 ... x_i``: ``dL/dx_j = E_j T_j`` with ``E_j`` the exclusive
    prefix product and ``T_j = g_j + x_{j+1} T_{j+1}`` (``g_{j+1}`` in place
    of ``g_j`` when exclusive).  That affine recurrence is a suffix product of
    the 2x2 matrices ``[[x_{j+1}, g], [0, 1]]``: the same cumprod, with
    ``op=matmul``.  ``reverse`` runs the same rule on the flipped sequence.
    """
    if op is not None:
        raise TypeError("logreal.grad: cumprod with op has no adjoint rule")
    if axis is None:
        flat = _reshape(x, (-1,))
        inner = _cumprod_rule(ans, flat, 0, exclusive=exclusive, reverse=reverse)
        return lambda g: _reshape(inner(_reshape(g, (-1,))), _shape(x))
    (ax,) = normalize_axis(axis, len(_shape(x)))
    order = (ax, *(i for i in range(len(_shape(x))) if i != ax))

    def rule(g: Any) -> Any:
        xs, gs = _transpose_raw(x, order), _transpose_raw(g, order)
        if reverse:
            xs, gs = _flip(xs, 0), _flip(gs, 0)
        n = _shape(xs)[0]
        if n == 0:
            return g
        ones = _reshape(_reduce.prod(xs[:1], axis=0) ** 0, (1, *_shape(xs)[1:]))
        zeros = _zeros_like(gs, (1, *_shape(gs)[1:]))
        nxt = _reduce.concat([xs[1:], ones], axis=0)  # x_{j+1}, and 1 past the end
        weights = _reduce.concat([gs[1:], zeros], axis=0) if exclusive else gs
        zero_col, one_col = weights * 0.0, nxt**0
        m = _reduce.stack(
            [_reduce.stack([nxt, weights], axis=-1), _reduce.stack([zero_col, one_col], axis=-1)],
            axis=-2,
        )
        tails = _products.cumprod(m, reverse=True, op=_reduce.matmul)[..., 0, 1]
        out = _products.cumprod(xs, axis=0, exclusive=True) * tails
        if reverse:
            out = _flip(out, 0)
        return _transpose_raw(out, _inverse(order))

    return rule


cumprod = primitive(_products.cumprod)
defvjp(cumprod, _cumprod_rule)

# Leave-one-out products and prod_grad have no adjoint rules yet; met on the
# tape they raise a TypeError naming themselves.
leave_one_out = primitive(_products.leave_one_out)
prod_grad = primitive(_products.prod_grad)

# -- Boxes behave like the values they hold --------------------------------------------------

# The traced operators behind a Box's Python operators, by name (read by
# logreal._autodiff.Box at call time; the engine itself names no primitive).
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
}
