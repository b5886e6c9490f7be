"""Sums over products in NumPy's ``einsum`` grammar, exact in signed log space.

Three steps, the first two pure and cached (they see only the subscripts and
the shapes):

1. **parse**: the subscripts in NumPy's grammar (explicit ``->`` or implicit
   output, ``...``, repeated labels) become one tuple of single-letter labels
   per operand and one for the output; the dimensions under ``...`` get
   letters of their own, right-aligned as in broadcasting.
2. **plan**: the pairwise contraction order is the one ``np.einsum_path``
   chooses for the same shapes (``optimize`` as there; a step of more than
   two operands is folded left to right).
3. **contract**: a repeated label within an operand takes the diagonal, a
   label no one else needs is summed at once, and every pairwise step is a
   batched matrix product ``(batch, M, K) @ (batch, K, N)`` through the one
   function :func:`logreal._reduce.matmul`.  Each entry of a LogReal product
   is the exact sum of its K terms rounded once (a shifted sum per entry, not
   a rescaled matrix product), so nothing underflows against a large
   neighbour; the error is a few ulp plus the cancellation term.

Real operands give a real result (the same steps with real matmuls and
sums); one LogReal operand makes the result LogReal.
"""

from __future__ import annotations

import functools
import math
import string
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _reduce
from ._backend import as_float, namespace
from ._logreal import LogReal

__all__ = ["AdjointPlan", "Plan", "adjoint_plan", "einsum", "parse", "plan"]

Labels = tuple[str, ...]
_LETTERS = string.ascii_letters


# -- parse ------------------------------------------------------------------------


def _split_operand(term: str, ndim: int, dots: Labels) -> Labels:
    """One operand's labels, ``...`` replaced by the last of ``dots``."""
    if "..." in term:
        head, _, tail = term.partition("...")
        if "." in head + tail:
            raise ValueError(f"einsum: invalid subscript {term!r} (a lone '.')")
        n = ndim - len(head) - len(tail)
        if n < 0:
            raise ValueError(f"einsum: operand {term!r} has {ndim} dimensions, too few")
        return (*head, *(dots[len(dots) - n :] if n else ()), *tail)
    if "." in term:
        raise ValueError(f"einsum: invalid subscript {term!r} (a lone '.')")
    if len(term) != ndim:
        raise ValueError(
            f"einsum: subscript {term!r} has {len(term)} labels for an operand of "
            f"{ndim} dimensions"
        )
    return tuple(term)


@functools.lru_cache(maxsize=512)
def parse(subscripts: str, ndims: tuple[int, ...]) -> tuple[tuple[Labels, ...], Labels]:
    """Labels per operand and of the output, ``...`` expanded to letters of its own.

    >>> parse("...ij,jk", (3, 2))
    ((('Z', 'i', 'j'), ('j', 'k')), ('Z', 'i', 'k'))
    """
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(ndims)} operands")
    for ch in spec.replace("...", "").replace(",", "").replace("->", ""):
        if ch not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript character {ch!r} in {subscripts!r}")
    used = set(spec)
    free = [c for c in _LETTERS[::-1] if c not in used]
    width = max(
        (n - len(t.replace("...", "")) for t, n in zip(terms, ndims, strict=True) if "..." in t),
        default=0,
    )
    if width > len(free):
        raise ValueError("einsum: too many dimensions under '...'")
    dots = tuple(reversed(free[:width]))
    inputs = tuple(_split_operand(t, n, dots) for t, n in zip(terms, ndims, strict=True))
    if arrow:
        if rhs.count("...") > 1 or rhs.replace("...", "").count(".") or "," in rhs:
            raise ValueError(f"einsum: invalid output subscript {rhs!r}")
        head, has_dots, tail = rhs.partition("...")
        output: Labels = (*head, *(dots if has_dots else ()), *tail)
        if len(set(output)) != len(output):
            raise ValueError(f"einsum: output subscript {rhs!r} repeats a label")
        known = {c for t in inputs for c in t}
        for c in output:
            if c not in known:
                raise ValueError(f"einsum: output label {c!r} appears in no operand")
    else:
        counts = Counter(c for t in terms for c in t.replace("...", ""))
        output = (*dots, *sorted(c for c, k in counts.items() if k == 1))
    return inputs, output


def _sizes(inputs: tuple[Labels, ...], shapes: tuple[tuple[int, ...], ...]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for labels, shape in zip(inputs, shapes, strict=True):
        for c, n in zip(labels, shape, strict=True):
            m = sizes.get(c, 1)
            if n != m and n != 1 and m != 1:
                raise ValueError(
                    f"einsum: label {c!r} has sizes {m} and {n} (shapes {list(shapes)})"
                )
            sizes[c] = max(m, n)
    return sizes


# -- plan -------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    inputs: tuple[Labels, ...]
    output: Labels
    sizes: tuple[tuple[str, int], ...]
    path: tuple[tuple[int, ...], ...]


def _canonical(inputs: tuple[Labels, ...], output: Labels) -> str:
    return ",".join("".join(t) for t in inputs) + "->" + "".join(output)


@functools.lru_cache(maxsize=512)
def plan(subscripts: str, shapes: tuple[tuple[int, ...], ...], optimize: Any = "auto") -> Plan:
    """Labels, label sizes and the pairwise order of an einsum (pure, cached)."""
    inputs, output = parse(subscripts, tuple(len(s) for s in shapes))
    sizes = _sizes(inputs, shapes)
    if optimize in ("auto", True):
        optimize = "greedy"
    elif isinstance(optimize, tuple):
        optimize = list(optimize)
    dummies = [np.broadcast_to(np.empty(()), s) for s in shapes]
    path = np.einsum_path(_canonical(inputs, output), *dummies, optimize=optimize)[0][1:]
    return Plan(inputs, output, tuple(sizes.items()), tuple(tuple(p) for p in path))


# -- contract ---------------------------------------------------------------------


def _diagonal(x: Any, labels: Labels) -> tuple[Any, Labels]:
    """Take the diagonal over every label repeated within one operand.

    The two axes are moved first and merged, and every (n + 1)-th row is the
    diagonal: slicing only, so it runs on any array-API namespace.
    """
    while len(set(labels)) != len(labels):
        c = next(c for c in labels if labels.count(c) > 1)
        first = labels.index(c)
        second = labels.index(c, first + 1)
        rest = [i for i in range(len(labels)) if i not in (first, second)]
        x = _transpose(x, (first, second, *rest))
        n, tail = x.shape[0], tuple(x.shape[2:])
        x = _reshape(x, (n * n, *tail))[:: n + 1, ...]
        labels = (c, *(labels[i] for i in rest))
    return x, labels


def _xp(x: Any) -> Any:
    return x._xp if isinstance(x, LogReal) else namespace(x)


def _transpose(x: Any, axes: tuple[int, ...]) -> Any:
    if tuple(axes) == tuple(range(len(axes))):
        return x
    return x.transpose(*axes) if isinstance(x, LogReal) else _xp(x).permute_dims(x, axes)


def _reshape(x: Any, shape: tuple[int, ...]) -> Any:
    if tuple(x.shape) == tuple(shape):
        return x
    return x.reshape(shape) if isinstance(x, LogReal) else _xp(x).reshape(x, shape)


def _broadcast(x: Any, shape: tuple[int, ...]) -> Any:
    if tuple(x.shape) == tuple(shape):
        return x
    xp = _xp(x)
    if isinstance(x, LogReal):
        return LogReal._new(xp.broadcast_to(x._sign, shape), xp.broadcast_to(x.logabs, shape))
    return xp.broadcast_to(x, shape)


def _sum_out(x: Any, labels: Labels, keep: set[str]) -> tuple[Any, Labels]:
    axes = tuple(i for i, c in enumerate(labels) if c not in keep)
    if not axes:
        return x, labels
    return _reduce.sum(x, axis=axes), tuple(c for c in labels if c in keep)


def _pair(a: Any, la: Labels, b: Any, lb: Labels, keep: set[str], sizes: dict[str, int]) -> Any:
    """One pairwise step as a batched matmul (batch, M, K) @ (batch, K, N)."""
    a, la = _sum_out(a, la, keep | set(lb))
    b, lb = _sum_out(b, lb, keep | set(la))
    batch = tuple(c for c in la if c in lb and c in keep)
    inner = tuple(c for c in la if c in lb and c not in keep)
    left = tuple(c for c in la if c not in lb)
    right = tuple(c for c in lb if c not in la)

    def arrange(x: Any, labels: Labels, order: Labels, shape: tuple[int, ...]) -> Any:
        x = _transpose(x, tuple(labels.index(c) for c in order))
        x = _broadcast(x, tuple(sizes[c] for c in order))
        return _reshape(x, shape)

    nb, nk = math.prod(sizes[c] for c in batch), math.prod(sizes[c] for c in inner)
    nm, nn = math.prod(sizes[c] for c in left), math.prod(sizes[c] for c in right)
    a3 = arrange(a, la, batch + left + inner, (nb, nm, nk))
    b3 = arrange(b, lb, batch + inner + right, (nb, nk, nn))
    out = _reduce.matmul(a3, b3)
    labels = batch + left + right
    return _reshape(out, tuple(sizes[c] for c in labels)), labels


def _as_class(operands: tuple[Any, ...]) -> list[Any]:
    if any(isinstance(o, LogReal) for o in operands):
        return [o if isinstance(o, LogReal) else LogReal(o) for o in operands]
    return [as_float(o) for o in operands]


def einsum(subscripts: str, *operands: Any, optimize: Any = "auto") -> Any:
    """Sums over products in NumPy's ``einsum`` grammar, exact in signed log space.

    Parameters
    ----------
    subscripts : str
        NumPy's grammar: comma-separated labels per operand, an optional
        ``->`` and output labels (implicit output: the labels seen once, in
        alphabetical order), ``...`` for broadcast dimensions, a label
        repeated within an operand for its diagonal (or trace).
    *operands : array_like or LogReal
        Real arrays or LogReals, mixed; one LogReal makes the result LogReal.
    optimize : {"auto", "greedy", "optimal", True, False} or list, optional
        The pairwise contraction order, chosen as ``np.einsum_path`` does
        (``"auto"`` and ``True`` mean ``"greedy"``; ``False`` left to right).

    Returns
    -------
    LogReal or array
        Each entry the exact sum of its products rounded once (a few ulp plus
        the cancellation term), LogReal if any operand is.

    Examples
    --------
    >>> import numpy as np
    >>> import logreal as lr
    >>> a = lr.exp([[0.0, -800.0]])
    >>> b = lr.exp([[-800.0], [0.0]])
    >>> float(lr.einsum("ij,jk->ik", a, b).logabs[0, 0])   # 2 e**-800, floats give 0
    -799.3068528194401
    >>> lr.einsum("ii", np.eye(3))                          # a trace, real in, real out
    np.float64(3.0)
    """
    if not isinstance(subscripts, str):
        raise TypeError("einsum: subscripts must be a string (the sublist form is not supported)")
    xs = _as_class(operands)
    p = plan(subscripts, tuple(tuple(x.shape) for x in xs), optimize)
    sizes = dict(p.sizes)
    items = [_diagonal(x, labels) for x, labels in zip(xs, p.inputs, strict=True)]
    for step in p.path:
        picked = [items[i] for i in step]
        items = [it for i, it in enumerate(items) if i not in step]
        rest = {c for _, labels in items for c in labels} | set(p.output)
        x, labels = picked[0]
        if len(picked) == 1:
            x, labels = _sum_out(x, labels, rest)
        for j in range(1, len(picked)):
            later = rest | {c for _, lz in picked[j + 1 :] for c in lz}
            x, labels = _pair(x, labels, *picked[j], later, sizes)
        items.append((x, labels))
    ((x, labels),) = items
    x, labels = _sum_out(x, labels, set(p.output))
    x = _transpose(x, tuple(labels.index(c) for c in p.output))
    return _broadcast(x, tuple(sizes[c] for c in p.output))


# -- the adjoint's subscripts -------------------------------------------------------


@dataclass(frozen=True)
class AdjointPlan:
    subscripts: str
    distinct: Labels
    produced: Labels
    full: tuple[int, ...]
    diagonal: tuple[tuple[int, ...], tuple[Any, ...]] | None

    def expand_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The einsum's result reshaped over every distinct label (1 where absent)."""
        return tuple(
            shape[self.produced.index(c)] if c in self.produced else 1 for c in self.distinct
        )


@functools.lru_cache(maxsize=512)
def adjoint_plan(subscripts: str, shapes: tuple[tuple[int, ...], ...], k: int) -> AdjointPlan:
    """How the adjoint of operand ``k`` is formed from ``g`` and the other operands.

    ``einsum(subscripts, g, *others)`` gives it over the distinct labels of
    operand k that ``g`` or another operand carries (``produced``); it is
    then broadcast over all of them (``full``: labels no one else has, and
    size-1 dimensions of the others), and ``diagonal`` scatters it onto the
    diagonal of a label repeated within operand k.
    """
    inputs, output = parse(subscripts, tuple(len(s) for s in shapes))
    sizes = _sizes(inputs, shapes)
    mine = inputs[k]
    distinct = tuple(dict.fromkeys(mine))
    seen = set(output) | {c for i, t in enumerate(inputs) if i != k for c in t}
    produced = tuple(c for c in distinct if c in seen)
    terms = ["".join(output)] + ["".join(t) for i, t in enumerate(inputs) if i != k]
    spec = ",".join(terms) + "->" + "".join(produced)
    diagonal = None
    if distinct != mine:
        grids = {
            c: np.arange(sizes[c]).reshape([sizes[c] if d == c else 1 for d in distinct])
            for c in distinct
        }
        diagonal = (tuple(sizes[c] for c in mine), tuple(grids[c] for c in mine))
    return AdjointPlan(spec, distinct, produced, tuple(sizes[c] for c in distinct), diagonal)
