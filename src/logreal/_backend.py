"""The array boundary: which namespace an input lives in, and its float dtype.

Every public function resolves its namespace here, once, and then calls only
array-API functions on it.  NumPy-only speed-ups elsewhere test ``is_numpy(xp)``.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import sys
from typing import Any

import array_api_compat
import numpy as np

Array = Any
Namespace = Any

__all__ = [
    "Array",
    "Namespace",
    "Slots",
    "as_float",
    "default_float",
    "is_numpy",
    "namespace",
    "normalize_axis",
    "scalar_out",
    "unwrap",
    "wide",
    "writable",
]

# NumPy 2.1's own namespace is the array API: it needs no wrapper (and importing
# array_api_compat's costs a tenth of a second at start-up).
_NUMPY_XP = np


def is_python_scalar(x: Any) -> bool:
    """A Python bool, int or float that is not a NumPy scalar (a *weak* scalar)."""
    return type(x) in (bool, int, float)


def namespace(*xs: Any) -> Namespace:
    """The array-API namespace shared by the array arguments (NumPy by default).

    Python scalars, lists and ``None`` do not take part; NumPy scalars count as
    NumPy.
    """
    arrays = [x for x in xs if array_api_compat.is_array_api_obj(x)]
    if all(isinstance(x, (np.ndarray, np.generic)) for x in arrays):
        return _NUMPY_XP
    return array_api_compat.array_namespace(*arrays)


def is_numpy(xp: Namespace) -> bool:
    return array_api_compat.is_numpy_namespace(xp)


def _x64_off(xp: Namespace) -> bool:
    """Whether ``xp`` is JAX with 64-bit types switched off (its default)."""
    if not array_api_compat.is_jax_namespace(xp):
        return False
    return not sys.modules["jax"].config.jax_enable_x64


def default_float(xp: Namespace) -> Any:
    """``xp.float64``, or float32 where the namespace cannot hold float64.

    JAX keeps 64-bit types off unless ``jax_enable_x64`` is set (globally or
    in a ``jax.enable_x64()`` context); asking it for float64 then gives
    float32 with a warning.  So integers read as JAX arrays become float32
    there (SciPy's rule: the namespace's default float), and the float64
    working precision that float32 input gets elsewhere is float32 on JAX
    without x64 (see ``docs/backends.md``).
    """
    return xp.float32 if _x64_off(xp) else xp.float64


def wide(xp: Namespace) -> contextlib.AbstractContextManager[Any]:
    """A scope in which ``xp`` holds float64 (for float32 input's working precision).

    On JAX without x64 this is ``jax.enable_x64(True)``: a thread-local scope,
    nothing global, left when the function returns.  Whatever is computed in
    float64 inside must be rounded to the input's dtype before it leaves.
    Everywhere else it does nothing.
    """
    if _x64_off(xp):
        return sys.modules["jax"].enable_x64(True)  # type: ignore[no-any-return]
    return contextlib.nullcontext()


def as_float(x: Any, xp: Namespace | None = None, dtype: Any = None) -> Array:
    """``x`` as a real floating array of ``xp``: integers and bools become float64
    (the namespace's default float: float32 on JAX without x64).

    Complex, string and object input raise ``TypeError``; float32 stays float32.
    """
    if xp is None:
        xp = namespace(x)
    if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real):
        raise TypeError(f"logreal works on real numbers; got complex input {x!r}")
    if type(x) is int and not _INT64_MIN <= x <= _INT64_MAX:
        x = _int_to_float(x)  # beyond int64: the nearest float (+-inf beyond float range)
    try:
        a = xp.asarray(x) if dtype is None else xp.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot read {type(x).__name__} as a real array: {exc}") from None
    except OverflowError:  # a nested Python int beyond int64
        a = xp.asarray(np.asarray(x, dtype=object))
    if isinstance(a, np.ndarray) and a.dtype == np.dtype(object):
        a = _object_to_float(a)
    if xp.isdtype(a.dtype, "real floating"):
        return a
    if xp.isdtype(a.dtype, ("integral", "bool")):
        return xp.astype(a, default_float(xp))
    complex_ = xp.isdtype(a.dtype, "complex floating")
    kind = " (complex input is not supported)" if complex_ else ""
    raise TypeError(f"logreal works on real numbers; got dtype {a.dtype}{kind}")


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _int_to_float(v: int) -> float:
    """A Python int as the nearest float; +-inf beyond float range (IEEE overflow)."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _object_to_float(a: np.ndarray) -> np.ndarray:
    """An object array of Python reals (big ints, say) as float64; anything else raises."""
    out = []
    for v in a.reshape(-1):
        if not isinstance(v, numbers.Real):
            kind = " (complex input is not supported)" if isinstance(v, numbers.Complex) else ""
            raise TypeError(f"logreal works on real numbers; got {v!r}{kind}")
        out.append(_int_to_float(v) if isinstance(v, int) else float(v))
    return np.asarray(out, dtype=np.float64).reshape(a.shape)


def normalize_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    """Axes as a sorted tuple of non-negative ints; ``None`` means all axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, numbers.Integral):
            raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        i = int(a)
        if not -ndim <= i < ndim:
            raise np.exceptions.AxisError(i, ndim)
        out.append(i % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


def scalar_out(a: Array, xp: Namespace) -> Array:
    """NumPy returns scalars from full reductions; keep that habit for NumPy only."""
    if is_numpy(xp) and getattr(a, "ndim", 1) == 0:
        return a[()]
    return a


class Slots:
    """Output storage written slice by slice, on an immutable namespace (JAX).

    ``out[idx] = v`` replaces the array by ``out.at[idx].set(v)`` (a new
    array: JAX arrays cannot be written into); reading ``out[idx]`` reads the
    current array.  :func:`writable` hands mutable arrays back unwrapped, so
    NumPy, PyTorch and array-api-strict keep writing in place.  A write
    copies the array (XLA may reuse its buffer), so ``k`` block writes cost
    O(k n): the product algorithms write in blocks of thousands of elements.
    """

    def __init__(self, array: Array) -> None:
        self.array = array

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def dtype(self) -> Any:
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return int(self.array.ndim)

    def __getitem__(self, index: Any) -> Array:
        return self.array[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        self.array = self.array.at[index].set(value)


def writable(a: Array, xp: Namespace) -> Any:
    """``a`` itself where ``xp`` writes in place, else ``a`` in :class:`Slots`."""
    return Slots(a) if array_api_compat.is_jax_namespace(xp) else a


def unwrap(a: Any) -> Array:
    """The array of storage made by :func:`writable`."""
    return a.array if isinstance(a, Slots) else a
