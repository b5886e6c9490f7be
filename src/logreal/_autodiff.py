"""Reverse-mode differentiation whose adjoints live in the output's number class.

The engine knows nothing about any primitive.  A primitive is a function
wrapped by :func:`primitive`; its adjoint rules are registered with
:func:`defvjp` in HIPS autograd's form ``(ans, *args, **kwargs) -> (g -> contribution)``
(see :mod:`logreal._rules`).  During a call of the function being
differentiated, values that depend on the argument are wrapped in a
:class:`Box`, which records each primitive applied to it.

Adjoints are accumulated with ``+`` of their own class, so when the function
returns a LogReal the seed is a LogReal one and every
``adjoint(u) += adjoint(v) * dv/du`` runs in signed log space.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ._logreal import LogReal

__all__ = ["Box", "defvjp", "grad", "primitive", "value_and_grad"]

VJPMaker = Callable[..., Callable[[Any], Any]]
_RULES: dict[Callable[..., Any], tuple[VJPMaker | None, ...]] = {}


def _operator(name: str) -> Callable[..., Any]:
    """The traced operator ``name``, from the explicit table of logreal._rules.

    The rules import this engine, so the table is read at call time; the
    engine itself names no primitive.
    """
    from ._rules import OPERATORS

    return OPERATORS[name]


def _forward(name: str) -> Callable[..., Any]:
    return lambda self, *args: _operator(name)(self, *args)


def _reflected(name: str) -> Callable[..., Any]:
    return lambda self, other: _operator(name)(other, self)


class Node:
    """One recorded primitive application (or the argument, with no parents)."""

    __slots__ = ("args", "fn", "kwargs", "parents", "value")

    def __init__(
        self,
        value: Any,
        fn: Callable[..., Any] | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        parents: list[tuple[Any, Node]],
    ) -> None:
        self.value, self.fn, self.args, self.kwargs, self.parents = (
            value,
            fn,
            args,
            kwargs,
            parents,
        )


class Box:
    """A value that depends on the argument being differentiated."""

    __slots__ = ("node", "value")
    __array_ufunc__ = None  # NumPy defers to the reflected operators below

    def __init__(self, value: Any, node: Node) -> None:
        self.value, self.node = value, node

    # Shape queries read the value; they are not differentiated.
    shape = property(lambda self: tuple(self.value.shape))
    ndim = property(lambda self: len(self.value.shape))
    size = property(lambda self: self.value.size)
    dtype = property(lambda self: self.value.dtype)
    sign = property(lambda self: self.value.sign)

    def __len__(self) -> int:
        return len(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        return f"Box({self.value!r})"

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    # Arithmetic, indexing and reshaping are recorded.
    __add__, __radd__ = _forward("add"), _reflected("add")
    __sub__, __rsub__ = _forward("sub"), _reflected("sub")
    __mul__, __rmul__ = _forward("mul"), _reflected("mul")
    __truediv__, __rtruediv__ = _forward("truediv"), _reflected("truediv")
    __pow__, __rpow__ = _forward("pow"), _reflected("pow")
    __matmul__, __rmatmul__ = _forward("matmul"), _reflected("matmul")
    __neg__, __abs__ = _forward("neg"), _forward("abs")
    __getitem__ = _forward("getitem")
    to_real = _forward("to_real")
    logabs = property(_forward("logabs"))

    def reshape(self, *shape: Any) -> Any:
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        return _operator("reshape")(self, shape)

    def transpose(self, *axes: int) -> Any:
        return _operator("transpose")(self, tuple(axes) or tuple(reversed(range(self.ndim))))

    @property
    def T(self) -> Any:
        return self.transpose()

    # Comparisons are not differentiable: they read the values.
    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return self.value == _raw(other)

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return self.value != _raw(other)

    def __lt__(self, other: Any) -> Any:
        return self.value < _raw(other)

    def __le__(self, other: Any) -> Any:
        return self.value <= _raw(other)

    def __gt__(self, other: Any) -> Any:
        return self.value > _raw(other)

    def __ge__(self, other: Any) -> Any:
        return self.value >= _raw(other)

    __hash__ = None  # type: ignore[assignment]


def _raw(x: Any) -> Any:
    return x.value if isinstance(x, Box) else x


def _unbox(x: Any) -> Any:
    """``x`` without Boxes (also inside a list or tuple of arrays)."""
    if isinstance(x, list | tuple):
        return type(x)(_raw(v) for v in x)
    return _raw(x)


def primitive(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``fn`` so that calls on Boxes are recorded for the backward pass.

    Positional arguments may be Boxes, or lists/tuples holding Boxes (as for
    ``concat``); keyword arguments are constants.
    """

    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        parents: list[tuple[Any, Node]] = []
        for i, a in enumerate(args):
            if isinstance(a, Box):
                parents.append((i, a.node))
            elif isinstance(a, list | tuple):
                parents += [((i, j), v.node) for j, v in enumerate(a) if isinstance(v, Box)]
        if not parents:
            return fn(*args, **kwargs)
        raw = tuple(_unbox(a) for a in args)
        ans = fn(*raw, **kwargs)
        return Box(ans, Node(ans, fn, raw, kwargs, parents))

    traced.raw = fn  # type: ignore[attr-defined]
    return traced


def defvjp(traced: Callable[..., Any], *makers: VJPMaker | None) -> None:
    """Register adjoint rules, one per positional argument (``None``: constant).

    ``maker(ans, *args, **kwargs)`` returns ``g -> contribution to that argument``.
    For a list argument the contribution is a list, one entry per element.
    """
    _RULES[traced.raw] = makers  # type: ignore[attr-defined]


def _topological(out: Node) -> list[Node]:
    """Nodes reachable from ``out``, each after all nodes that consume it."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(out, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for _, p in node.parents)
    return order[::-1]


def _one_like(value: Any) -> Any:
    if isinstance(value, LogReal):
        xp = value._xp
        return LogReal._new(xp.ones_like(value.logabs), xp.zeros_like(value.logabs))
    from ._backend import namespace

    return namespace(value).ones_like(value)


def _contribution(node: Node, index: Any, g: Any) -> Any:
    makers = _RULES.get(node.fn)  # type: ignore[arg-type]
    position = index[0] if isinstance(index, tuple) else index
    maker = None if makers is None or position >= len(makers) else makers[position]
    if maker is None:
        name = getattr(node.fn, "__name__", repr(node.fn))
        raise TypeError(f"logreal.grad: no adjoint rule for argument {position} of {name}")
    out = maker(node.value, *node.args, **node.kwargs)(g)
    return out[index[1]] if isinstance(index, tuple) else out


def _backward(out: Box, start: Node) -> Any:
    adjoints: dict[int, Any] = {id(out.node): _one_like(out.value)}
    for node in _topological(out.node):
        g = adjoints.pop(id(node), None)
        if node is start:
            return g
        if g is None:
            continue
        for index, parent in node.parents:
            c = _contribution(node, index, g)
            prev = adjoints.get(id(parent))
            adjoints[id(parent)] = c if prev is None else prev + c
    return None


def _as_class_of(value: Any, like: Any) -> Any:
    """``value`` in the number class of ``like`` (LogReal or real)."""
    if isinstance(like, LogReal):
        return value if isinstance(value, LogReal) else LogReal(value)
    return value.to_real() if isinstance(value, LogReal) else value


def _zero_like(x: Any, like: Any) -> Any:
    from ._backend import namespace

    raw = x.logabs if isinstance(x, LogReal) else x
    zero = namespace(raw).zeros_like(raw) if hasattr(raw, "shape") else 0.0 * raw
    return LogReal(zero) if isinstance(like, LogReal) else zero


def value_and_grad(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., tuple[Any, Any]]:
    """A function returning ``(fun(*args), d fun / d args[argnum])``.

    Parameters
    ----------
    fun : callable
        Takes real or LogReal arrays and returns a scalar (size 1), built from
        Python operators, indexing and the ``lr`` functions.
    argnum : int, optional
        Which positional argument to differentiate with respect to.

    Returns
    -------
    callable
        ``(*args, **kwargs) -> (value, gradient)``; the gradient has the shape of
        ``args[argnum]`` and the number class of the value: LogReal when `fun`
        returns a LogReal (every adjoint is then accumulated in signed log
        space), real otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> f = lambda x: lr.prod(lr.LogReal(x))
    >>> value, g = lr.value_and_grad(f)(np.full(100_000, 0.5))
    >>> float(value.logabs), float(g.logabs[0])   # floats: 0.0 and an all-zero gradient
    (-69314.718056, -69314.024909)
    """

    @functools.wraps(fun)
    def both(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        x = args[argnum]
        start = Node(x, None, (), {}, [])
        boxed = list(args)
        boxed[argnum] = Box(x, start)
        out = fun(*boxed, **kwargs)
        if not isinstance(out, Box):  # the output does not depend on the argument
            return out, _zero_like(x, out)
        value = out.value
        if getattr(value, "size", 1) != 1:
            raise ValueError(
                f"logreal.grad needs a function with a scalar output; got shape {value.shape}"
            )
        g = _backward(out, start)
        if g is None:
            return value, _zero_like(x, value)
        return value, _as_class_of(g, value)

    return both


def grad(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """A function returning ``d fun / d args[argnum]`` (see :func:`value_and_grad`).

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> g = lr.grad(lambda x: lr.logsumexp(x))(np.array([1000.0, 1000.0]))
    >>> g                                   # the softmax, without overflow
    array([0.5, 0.5])
    """
    both = value_and_grad(fun, argnum)

    @functools.wraps(fun)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        return both(*args, **kwargs)[1]

    return gradient
