"""The array boundary: which namespace an input lives in, and its float dtype.

Every public function resolves its namespace here, once, and then calls only
array-API functions on it.  NumPy-only speed-ups elsewhere test ``is_numpy(xp)``.
"""

from __future__ import annotations

import contextlib
import numbers
from typing import Any

import array_api_compat
import numpy as np

Array = Any
Namespace = Any

__all__ = [
    "Array",
    "Namespace",
    "as_float",
    "is_numpy",
    "namespace",
    "normalize_axis",
    "quiet",
    "scalar_out",
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


def as_float(x: Any, xp: Namespace | None = None, dtype: Any = None) -> Array:
    """``x`` as a real floating array of ``xp``: integers and bools become float64.

    Complex, string and object input raise ``TypeError``; float32 stays float32.
    """
    if xp is None:
        xp = namespace(x)
    if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real):
        raise TypeError(f"logreal works on real numbers; got complex input {x!r}")
    try:
        a = xp.asarray(x) if dtype is None else xp.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot read {type(x).__name__} as a real array: {exc}") from None
    if xp.isdtype(a.dtype, "real floating"):
        return a
    if xp.isdtype(a.dtype, ("integral", "bool")):
        return xp.astype(a, xp.float64)
    raise TypeError(
        f"logreal works on real floating arrays; got dtype {a.dtype} "
        f"(complex input is not supported)"
    )


def quiet() -> contextlib.AbstractContextManager[Any]:
    """Silence NumPy's floating-point warnings inside a stable routine.

    The routines that use it produce the IEEE answer on purpose (log 0 = -inf,
    inf - inf = nan), so the warnings would only be noise.
    """
    return np.errstate(all="ignore")


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
            raise ValueError(f"axis {i} is out of bounds for an array of dimension {ndim}")
        out.append(i % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


def scalar_out(a: Array, xp: Namespace) -> Array:
    """NumPy returns scalars from full reductions; keep that habit for NumPy only."""
    if is_numpy(xp) and getattr(a, "ndim", 1) == 0:
        return a[()]
    return a
