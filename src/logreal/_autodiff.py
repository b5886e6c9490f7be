"""Reverse-mode differentiation whose adjoints live in the output's number class.

The engine knows nothing about any primitive.  A primitive is a function
wrapped by :func:`primitive`; its adjoint rules are registered with
:func:`defvjp` in HIPS autograd's form ``(ans, *args, **kwargs) -> (g -> contribution)``
(see :mod:`logreal._rules`).  During a call of the function being
differentiated, values that depend on the argument are wrapped in a
:class:`Box`, which records each primitive applied to it.

Three properties of the design:

- **Rules are staged when a node is recorded**, once per argument position
  (autograd's VJPNode): the backward pass only calls the staged closures, so
  a node with k parents (a concat of k parts) costs one rule call, not k.
- **Trace levels.**  Every call of :func:`value_and_grad` opens a new trace;
  a Box belongs to one trace, and a primitive records only on its innermost
  trace, calling itself again on the values beneath (which may be Boxes of an
  outer trace).  The rules are written with the traced primitives, so the
  backward pass of an inner gradient is itself recorded by an outer one:
  ``grad(grad(f))``, Hessian-vector products and closures over an outer
  argument are correct.
- **Adjoints carry their own arithmetic** (autograd's VSpace): they are
  accumulated with ``+`` of their class, so a LogReal seed makes every
  ``adjoint(u) += adjoint(v) * dv/du`` run in signed log space.  Indexing
  contributes :class:`Sparse` adjoints, collected and scattered once
  (``np.add.at`` semantics), so a loop over the rows of a traced array costs
  O(rows), not O(rows^2).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._logreal import LogReal

__all__ = [
    "Box",
    "NoRule",
    "Sparse",
    "defvjp",
    "defvjp_all",
    "grad",
    "primitive",
    "value_and_grad",
]

VJPMaker = Callable[..., Callable[[Any], Any]]
# raw function -> position -> maker (None: no rule for that position)
_RULES: dict[Callable[..., Any], Callable[[int], VJPMaker | None]] = {}
_TRACES = itertools.count(1)


class NoRule(TypeError):
    """Raised when a traced value meets an operation without an adjoint rule."""


def _operator(name: str) -> Callable[..., Any]:
    """The traced operator ``name``, from the explicit table of logreal._rules.

    The rules import this engine, so the table is read at call time; the
    engine itself names no primitive.
    """
    from ._rules import OPERATORS

    return OPERATORS[name]


def _numpy_function(func: Callable[..., Any]) -> Callable[..., Any] | None:
    """The traced twin of a NumPy function called on a Box (logreal._rules' table)."""
    from ._rules import NUMPY_FUNCTIONS

    return NUMPY_FUNCTIONS.get(func)


def _forward(name: str) -> Callable[..., Any]:
    return lambda self, *args: _operator(name)(self, *args)


def _reflected(name: str) -> Callable[..., Any]:
    return lambda self, other: _operator(name)(other, self)


class Node:
    """One recorded primitive application (or the argument, with no parents).

    ``parents`` lists ``(position, element, node)``: ``element`` is None for a
    plain argument and the index inside a list argument otherwise.  ``vjps``
    maps each position to its staged ``g -> contribution``.
    """

    __slots__ = ("parents", "vjps")

    def __init__(
        self,
        parents: list[tuple[int, int | None, Node]],
        vjps: dict[int, Callable[[Any], Any]],
    ) -> None:
        self.parents, self.vjps = parents, vjps


class Box:
    """A value that depends on the argument of the gradient with trace ``trace``."""

    __slots__ = ("node", "trace", "value")
    __array_ufunc__ = None  # NumPy defers to the reflected operators below

    def __init__(self, value: Any, node: Node, trace: int) -> None:
        self.value, self.node, self.trace = value, node, trace

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
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        return _operator("transpose")(self, tuple(axes) or tuple(reversed(range(self.ndim))))

    @property
    def T(self) -> Any:
        return self.transpose()

    # Comparisons are not differentiable: they read the values.
    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return self.value == raw(other)

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return self.value != raw(other)

    def __lt__(self, other: Any) -> Any:
        return self.value < raw(other)

    def __le__(self, other: Any) -> Any:
        return self.value <= raw(other)

    def __gt__(self, other: Any) -> Any:
        return self.value > raw(other)

    def __ge__(self, other: Any) -> Any:
        return self.value >= raw(other)

    __hash__ = None  # type: ignore[assignment]

    # NumPy functions on a traced value: the traced lr function, or TypeError
    # (never a silent object array).
    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        fn = _numpy_function(func)
        if fn is None:
            name = getattr(func, "__name__", repr(func))
            raise TypeError(f"numpy.{name} is not supported on a value traced by logreal.grad")
        return fn(*args, **kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise TypeError(
            "a value traced by logreal.grad cannot become a NumPy array; "
            "use the lr functions (or float() to read a scalar without differentiating)"
        )


def raw(x: Any) -> Any:
    """The value under every Box around ``x``."""
    while isinstance(x, Box):
        x = x.value
    return x


class Sparse:
    """An adjoint that is zero except at indexed places: ``(index, g)`` pieces.

    Pieces are collected as they arrive and scattered once, with ``np.add.at``
    semantics (repeated places add), by the ``scatter`` operator.
    """

    __slots__ = ("pieces", "shape")

    def __init__(self, shape: tuple[int, ...], pieces: list[tuple[Any, Any]]) -> None:
        self.shape, self.pieces = shape, pieces

    def dense(self) -> Any:
        return _operator("scatter")(
            [g for _, g in self.pieces], self.shape, [i for i, _ in self.pieces]
        )


def _accumulate(prev: Any, c: Any) -> Any:
    if prev is None:
        return c
    if isinstance(prev, Sparse) and isinstance(c, Sparse):
        return Sparse(prev.shape, prev.pieces + c.pieces)
    if isinstance(prev, Sparse):
        prev, c = c, prev
    if isinstance(c, Sparse):
        c = c.dense()
    return prev + c


def _dense(g: Any) -> Any:
    return g.dense() if isinstance(g, Sparse) else g


# -- recording ---------------------------------------------------------------------


def _top_trace(args: tuple[Any, ...]) -> int:
    top = 0
    for a in args:
        if isinstance(a, Box):
            top = max(top, a.trace)
        elif isinstance(a, list | tuple):
            for v in a:
                if isinstance(v, Box):
                    top = max(top, v.trace)
    return top


def _strip(a: Any, top: int, parents: list[Any], position: int) -> Any:
    """``a`` with its Boxes of trace ``top`` opened; their nodes go to ``parents``."""
    if isinstance(a, Box):
        if a.trace != top:
            return a
        parents.append((position, None, a.node))
        return a.value
    if isinstance(a, list | tuple) and any(isinstance(v, Box) for v in a):
        out = []
        for j, v in enumerate(a):
            if isinstance(v, Box) and v.trace == top:
                parents.append((position, j, v.node))
                out.append(v.value)
            else:
                out.append(v)
        return type(a)(out)
    return a


def _stage(fn: Callable[..., Any], position: int, ans: Any, args: Any, kwargs: Any) -> Any:
    name = getattr(fn, "__name__", repr(fn))
    table = _RULES.get(fn)
    maker = None if table is None else table(position)
    if maker is None:
        raise NoRule(f"logreal.grad: no adjoint rule for argument {position} of {name}")
    return maker(ans, *args, **kwargs)


def primitive(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``fn`` so that calls on Boxes are recorded for the backward pass.

    Positional arguments may be Boxes, or lists/tuples holding Boxes (as for
    ``concat``); keyword arguments are constants.  Only the Boxes of the
    innermost trace are opened; ``fn`` is called again through the wrapper on
    what is beneath, so outer traces record too.
    """

    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        for key, value in kwargs.items():
            if isinstance(value, Box):
                raise NoRule(
                    f"logreal.grad: keyword argument {key}= of {fn.__name__} is traced "
                    "and has no adjoint rule (keywords are constants)"
                )
        top = _top_trace(args)
        if not top:
            return fn(*args, **kwargs)
        parents: list[tuple[int, int | None, Node]] = []
        opened = tuple(_strip(a, top, parents, i) for i, a in enumerate(args))
        ans = traced(*opened, **kwargs)
        positions = dict.fromkeys(p for p, _, _ in parents)
        vjps = {p: _stage(fn, p, ans, opened, kwargs) for p in positions}
        return Box(ans, Node(parents, vjps), top)

    traced.raw = fn  # type: ignore[attr-defined]
    return traced


def defvjp(traced: Callable[..., Any], *makers: VJPMaker | None) -> None:
    """Register adjoint rules, one per positional argument (``None``: constant).

    ``maker(ans, *args, **kwargs)`` returns ``g -> contribution to that argument``.
    For a list argument the contribution is a list, one entry per element.
    """
    _RULES[traced.raw] = lambda p: makers[p] if p < len(makers) else None  # type: ignore[attr-defined]


def defvjp_all(traced: Callable[..., Any], maker: Callable[..., Any]) -> None:
    """Register one rule for every argument: ``maker(position, ans, *args, **kwargs)``."""
    _RULES[traced.raw] = lambda p: functools.partial(maker, p)  # type: ignore[attr-defined]


# -- the backward pass -------------------------------------------------------------


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
        stack.extend((p, False) for _, _, p in node.parents)
    return order[::-1]


def _one_like(value: Any) -> Any:
    value = raw(value)
    if isinstance(value, LogReal):
        xp = value._xp
        return LogReal._new(xp.ones_like(value.logabs), xp.zeros_like(value.logabs))
    from ._backend import namespace

    return namespace(value).ones_like(value)


def _backward(out: Box, start: Node) -> Any:
    # An adjoint at an infinity, a zero divisor or a nan is the IEEE answer
    # of its rule (inf, nan), as documented: no NumPy warning about it.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _sweep(out, start)


def _sweep(out: Box, start: Node) -> Any:
    adjoints: dict[int, Any] = {id(out.node): _one_like(out.value)}
    for node in _topological(out.node):
        g = adjoints.pop(id(node), None)
        if g is None:
            continue
        g = _dense(g)
        if node is start:
            return g
        done: dict[int, Any] = {}
        for position, element, parent in node.parents:
            if position not in done:
                done[position] = node.vjps[position](g)
            c = done[position] if element is None else done[position][element]
            adjoints[id(parent)] = _accumulate(adjoints.get(id(parent)), c)
    return None


# -- the public functions ----------------------------------------------------------


def _argument(x: Any) -> Any:
    """A list or Python number argument read as a float array."""
    if isinstance(x, list | tuple):
        if any(isinstance(v, LogReal) for v in x):
            return LogReal(x)
        return np.asarray(x, dtype=float)
    if isinstance(x, int | float) and not isinstance(x, bool):
        return np.asarray(float(x))
    return x


def _zero_like(x: Any, like: Any) -> Any:
    from ._backend import namespace

    base = raw(x)
    base = base.logabs if isinstance(base, LogReal) else base
    zero = namespace(base).zeros(tuple(base.shape), dtype=base.dtype)
    return LogReal(zero) if isinstance(raw(like), LogReal) else zero


def _finish(g: Any, x: Any, value: Any) -> Any:
    """The gradient in the value's number class, the argument's shape, writable."""
    if isinstance(raw(value), LogReal):
        if not isinstance(raw(g), LogReal):
            g = LogReal(g)
    elif isinstance(raw(g), LogReal):
        g = g.to_real()
    shape = tuple(raw(x).shape)
    if tuple(raw(g).shape) != shape:
        g = g.reshape(shape)
    if isinstance(g, LogReal):
        return LogReal._new(_writable(g._sign), _writable(g.logabs))
    return _writable(g)


def _writable(a: Any) -> Any:
    if isinstance(a, np.ndarray) and not (a.flags.writeable and a.flags.owndata):
        return np.array(a)
    if isinstance(a, np.generic):
        return np.asarray(a)
    return a


def _check_output(out: Any) -> None:
    if isinstance(out, tuple | list):
        raise ValueError(
            f"logreal.grad needs a function with a scalar output; got a {type(out).__name__}"
        )
    size = math.prod(getattr(raw(out), "shape", ()))  # (torch's size is a method)
    if size != 1:
        raise ValueError(
            f"logreal.grad needs a function with a scalar output; got shape {raw(out).shape}"
        )


def value_and_grad(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., tuple[Any, Any]]:
    """A function returning ``(fun(*args), d fun / d args[argnum])``.

    Parameters
    ----------
    fun : callable
        Takes real or LogReal arrays and returns a scalar (size 1), built from
        Python operators, indexing, the ``lr`` functions, and ``lr.grad``
        itself (higher derivatives).
    argnum : int, optional
        Which positional argument to differentiate with respect to.  A list
        or Python number is read as a float array.

    Returns
    -------
    callable
        ``(*args, **kwargs) -> (value, gradient)``; the gradient has the shape of
        ``args[argnum]``, is a fresh writable array, and has the number class
        of the value: LogReal when `fun` returns a LogReal (every adjoint is
        then accumulated in signed log space), real otherwise.

    Raises
    ------
    ValueError
        If `fun` returns a tuple, a list or a value of size other than 1.
    TypeError
        If the backward pass meets an operation without an adjoint rule.

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
        x = _argument(args[argnum])
        trace = next(_TRACES)
        start = Node([], {})
        boxed = list(args)
        boxed[argnum] = Box(x, start, trace)
        out = fun(*boxed, **kwargs)
        _check_output(out)
        if not (isinstance(out, Box) and out.trace == trace):
            return out, _zero_like(x, out)  # the output does not depend on the argument
        value = out.value
        g = _backward(out, start)
        if g is None:
            return value, _zero_like(x, value)
        return value, _finish(g, x, value)

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
    >>> d2 = lr.grad(lr.grad(lambda x: x**3))   # second derivative: 6 x
    >>> float(d2(2.0))
    12.0
    """
    both = value_and_grad(fun, argnum)

    @functools.wraps(fun)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        return both(*args, **kwargs)[1]

    return gradient
