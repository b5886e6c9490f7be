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
    "SIGN_DTYPE",
    "Array",
    "Namespace",
    "Slots",
    "as_float",
    "as_sign",
    "default_float",
    "floating",
    "is_numpy",
    "namespace",
    "normalize_axis",
    "scalar_out",
    "unwrap",
    "wide",
    "widened",
    "writable",
]

# NumPy 2.1's own namespace is the array API: it needs no wrapper (and importing
# array_api_compat's costs a tenth of a second at start-up).
_NUMPY_XP = np


#: The dtype a LogReal stores its signs in (in every namespace), whatever the
#: dtype of its logs: -1, 0, +1 and nan are exact in it, and a float64 LogReal
#: then takes 12 bytes per element instead of 16, which every pass over one
#: reads (and every result writes).
SIGN_DTYPE = np.dtype(np.float32)


def as_sign(s: Array) -> Array:
    """Signs (-1, 0, +1 or nan, in any real dtype) as stored: float32, exactly."""
    if isinstance(s, np.ndarray | np.generic):
        return s if s.dtype == SIGN_DTYPE else s.astype(SIGN_DTYPE)
    xp = namespace(s)
    return s if s.dtype == xp.float32 else xp.astype(s, xp.float32)


def widened(sign: Array, logabs: Array, xp: Namespace) -> Array:
    """Signs in the dtype of ``logabs``, for code that uses them as numbers
    (weights in a sum, factors of a real value)."""
    return sign if sign.dtype == logabs.dtype else xp.astype(sign, logabs.dtype)


def is_python_scalar(x: Any) -> bool:
    """A Python bool, int or float that is not a NumPy scalar (a *weak* scalar)."""
    return type(x) in (bool, int, float)


def namespace(*xs: Any) -> Namespace:
    """The array-API namespace shared by the array arguments (NumPy by default).

    Python scalars, lists and ``None`` do not take part; NumPy scalars count as
    NumPy unless another backend's arrays are present (then they are scalars).
    Arrays of two libraries raise ``TypeError`` naming both.
    """
    arrays = [x for x in xs if array_api_compat.is_array_api_obj(x)]
    if all(isinstance(x, (np.ndarray, np.generic)) for x in arrays):
        return _NUMPY_XP
    # Beside another backend's arrays a NumPy scalar is a scalar, as a Python one.
    arrays = [x for x in arrays if not isinstance(x, np.generic)]
    try:
        xp = array_api_compat.array_namespace(*arrays)
    except TypeError:
        names = sorted({_library(x) for x in arrays})
        if len(names) < 2:
            raise
        raise TypeError(
            f"cannot mix arrays of {' and '.join(names)} in one call: convert them to "
            f"one library first (logreal keeps results in the input's namespace)"
        ) from None
    if array_api_compat.is_jax_namespace(xp):
        _untraced(arrays)
    return _ADAPTED.get(xp.__name__, xp)


def _untraced(arrays: list[Any]) -> None:
    """Refuse JAX tracers: logreal decides in Python from values (eager only)."""
    tracer = sys.modules["jax"].core.Tracer
    if any(isinstance(x, tracer) for x in arrays):
        raise TypeError(
            "logreal's functions run eagerly on JAX arrays and cannot be traced by "
            "jax.jit, jax.vmap or jax.grad: they make data-dependent decisions in Python "
            "(a re-sum where top terms cancel, a product's range check); call them "
            "outside the transformation (lr.grad differentiates them)"
        )


class _Adapted:
    """A namespace with a few functions replaced: only the differences."""

    def __init__(self, base: Namespace, **overrides: Any) -> None:
        self._base = base
        self.__name__ = base.__name__  # array_api_compat recognises it by name
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def _jax_log1p(x: Array) -> Array:
    """log(1 + x) from an accurate log (Goldberg 1991, Theorem 4).

    XLA's CPU ``log1p`` is off by up to ~100 ulp in float64 (against NumPy's,
    on [-0.99, 3]); ``log(u) * x / (u - 1)`` with ``u = fl(1 + x)`` is within
    a few ulp wherever ``log`` is.
    """
    jnp = sys.modules["jax.numpy"]
    u = 1.0 + x
    d = u - 1.0
    exact = (d == 0) | (x == math.inf)  # 1 + x rounds to 1 (log1p(x) = x), or +inf
    return jnp.where(exact, x, jnp.log(u) * (x / jnp.where(exact, 1.0, d)))


class _AdaptedTable(dict[str, Any]):
    """Adapted namespaces by module name, built on first use (no import here)."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        if name == "jax.numpy":
            if name not in self:
                self[name] = _Adapted(sys.modules[name], log1p=_jax_log1p)
            return self[name]
        return default


_ADAPTED = _AdaptedTable()


def _library(x: Any) -> str:
    """The library an array comes from, for error messages (``torch``, ``jax``...)."""
    for name in ("numpy", "torch", "jax", "cupy", "dask"):
        if getattr(array_api_compat, f"is_{name}_array")(x):
            return name
    return type(x).__module__.split(".")[0]


def _is_array(x: Any) -> bool:
    return array_api_compat.is_array_api_obj(x)  # type: ignore[no-any-return]


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
        if dtype is None and not isinstance(x, np.generic) and _is_array(x):
            a = x  # already an array (torch.asarray would warn about requires_grad)
        else:
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


def floating(*args: Any) -> tuple[Namespace, list[Array]]:
    """The arguments as float arrays of one namespace and dtype, integers weak.

    The dtype is that of the floating arguments together; integer and bool
    arrays (and lists of them) take it instead of widening it, as Python
    scalars do: float32 ``a`` with integer ``b`` stays float32 on every
    backend (API.md section 6, SciPy's rule on array-api-strict, PyTorch and
    JAX; NumPy's own promotion would give float64).  With no floating
    argument the dtype is the namespace's default float.
    """
    xp = namespace(*args)
    arrays = [as_float(a, xp) for a in args if not is_python_scalar(a)]
    floats = [
        f
        for a, f in zip((a for a in args if not is_python_scalar(a)), arrays, strict=True)
        if not _integral(a, xp)
    ]
    dtype = xp.result_type(*floats) if floats else default_float(xp)
    return xp, [
        xp.asarray(a, dtype=dtype) if is_python_scalar(a) else xp.astype(as_float(a, xp), dtype)
        for a in args
    ]


def _integral(x: Any, xp: Namespace) -> bool:
    """Whether ``x`` holds integers or bools (an array, or a list read as one)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and not isinstance(x, np.ndarray | np.generic):
        return bool(xp.isdtype(dtype, ("integral", "bool")))
    try:
        return np.asarray(x).dtype.kind in "iub" if dtype is None else dtype.kind in "iub"
    except (TypeError, ValueError, OverflowError):
        return False


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
