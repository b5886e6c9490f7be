"""The kernel switch: compiled Numba twins of the portable algorithms.

The portable array-API code is the truth; a kernel here fuses one of its
algorithms into a single pass over NumPy float32/float64 data and is tested
against it.  This module does not import Numba: :func:`kernel` imports the
kernel's module (and with it Numba) on first use, and answers None, so the
caller takes the portable path, when

* the input is not a NumPy float32/float64 array (the last array passed is the
  data; the others share its dtype or are float32, as a LogReal's signs are),
* ``LOGREAL_KERNELS=portable`` is set, or the code runs inside :func:`portable`,
* the input has fewer than :data:`MIN_SIZE` elements (``LOGREAL_KERNEL_MIN_SIZE``
  overrides it): below that the portable code costs at most about 0.2 ms more
  per call, and a process that only meets small arrays never pays Numba's start-up
  (about a second: importing it, initialising its target, tearing it down),
* Numba is missing, or installed but fails to import (then once, a warning
  naming the cause and how to silence it).

Every kernel is listed in :data:`KERNELS` with its module and the adapter that
shapes data for it (the adapters are plain NumPy: broadcasting, moving the
reduced axis last, allocating the outputs).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._backend import SIGN_DTYPE, Array, Namespace, is_numpy

__all__ = ["KERNELS", "MIN_SIZE", "available", "enabled", "kernel", "portable"]

# name -> (module of logreal._numba, function, adapter)
KERNELS: dict[str, tuple[str, str, str]] = {
    "signed_add": ("special", "signed_add", "elementwise"),
    "signed_subtract": ("special", "signed_subtract", "elementwise"),
    "multiply": ("special", "multiply", "elementwise"),
    "divide": ("special", "divide", "elementwise"),
    "signed_cumsum": ("sums", "signed_cumsum", "scan"),
    "signed_logsum": ("sums", "signed_logsum", "raw"),
    "logsum_split": ("sums", "logsum_split", "raw"),
    "compensated_sum": ("sums", "compensated_sum", "reduce"),
    "products_real": ("products", "products_real", "raw"),
    "products_log": ("products", "products_log", "raw"),
    "norm_p1": ("norms", "p1", "raw"),
    "norm_p2": ("norms", "p2", "raw"),
    "norm_power": ("norms", "power", "raw"),
    "norm_extreme": ("norms", "extreme", "raw"),
    "norm_count": ("norms", "count", "raw"),
}

#: Inputs with fewer elements than this take the portable path.
MIN_SIZE = 4096


def _min_size() -> int:
    value = os.environ.get("LOGREAL_KERNEL_MIN_SIZE", "")
    try:
        return max(int(value), 0) if value else MIN_SIZE
    except ValueError:
        raise ValueError(
            f"LOGREAL_KERNEL_MIN_SIZE must be a whole number of elements, not {value!r}"
        ) from None


_state: dict[str, Any] = {
    "enabled": os.environ.get("LOGREAL_KERNELS") != "portable",
    "min_size": _min_size(),
}


@contextlib.contextmanager
def portable() -> Iterator[None]:
    """Within the block, use only the portable array-API code."""
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before


def enabled() -> bool:
    """Whether kernels are switched on (they may still be unavailable)."""
    return bool(_state["enabled"])


def available() -> bool:
    """Whether compiled kernels run: switched on, and Numba imports."""
    return enabled() and _numba_imports()


def _numba_imports() -> bool:
    if "numba" not in _state:
        try:
            importlib.import_module(f"{__name__}._jit")
        except Exception as exc:  # an installed Numba that cannot load, any cause
            _state["numba"] = False
            if importlib.util.find_spec("numba") is not None:
                warnings.warn(
                    f"logreal: Numba is installed but cannot be imported ({exc!r}); using "
                    "the portable path, which is slower. Set LOGREAL_KERNELS=portable "
                    "to silence this warning.",
                    RuntimeWarning,
                    stacklevel=4,
                )
        else:
            _state["numba"] = True
    return bool(_state["numba"])


def kernel(name: str, xp: Namespace, *arrays: Array) -> Callable[..., Any] | None:
    """The compiled kernel ``name`` if it applies to these arrays, else None."""
    if not _state["enabled"] or not is_numpy(xp):
        return None
    dtype = arrays[-1].dtype
    if dtype.kind != "f" or dtype.itemsize not in (4, 8) or not dtype.isnative:
        return None
    if any(a.dtype != dtype and a.dtype != SIGN_DTYPE for a in arrays):
        return None
    module, function, adapter = KERNELS[name]
    if _work(adapter, arrays) < _state["min_size"]:
        return None
    if not _numba_imports():
        return None
    fn = getattr(importlib.import_module(f"{__name__}.{module}"), function)
    return fn if adapter == "raw" else _ADAPTERS[adapter](fn)


def _work(adapter: str, arrays: tuple[Array, ...]) -> int:
    """Elements a kernel would touch: the broadcast output for elementwise ones."""
    if adapter == "elementwise":
        return math.prod(np.broadcast_shapes(*(a.shape for a in arrays)))
    return max(a.size for a in arrays)


def _flat(a: np.ndarray) -> np.ndarray:
    """``a`` as a 1-d view when its memory allows one (a broadcast scalar,
    a contiguous array), else a contiguous copy."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    if all(s == 0 for s in a.strides):  # one value broadcast: read it again and again
        return np.broadcast_to(np.reshape(a[(0,) * a.ndim], (1,)), (a.size,))
    return np.ascontiguousarray(a).reshape(-1)


def _elementwise(fn: Callable[..., None]) -> Callable[..., tuple[Array, Array]]:
    """(sign, logabs) of the broadcast shape from one pass over flat views of
    (sign, logabs, sign, logabs)."""

    def run(*arrays: Array) -> tuple[Array, Array]:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        flat = [_flat(np.broadcast_to(a, shape)) for a in arrays]
        out = (np.empty(shape, SIGN_DTYPE), np.empty(shape, arrays[-1].dtype))
        fn(*flat, out[0].reshape(-1), out[1].reshape(-1))
        return out

    return run


def _rows(a: Array) -> np.ndarray:
    """``(..., n)`` as C-contiguous ``(rows, n)``."""
    return np.ascontiguousarray(a).reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _reduce(fn: Callable[..., None]) -> Callable[..., Any]:
    """Reductions of the last axis: one output per row."""

    def run(a: Array) -> Any:
        rows = _rows(a)
        out = np.empty(rows.shape[0], a.dtype)
        fn(rows, out)
        return out.reshape(a.shape[:-1])

    return run


def _scan(fn: Callable[..., None]) -> Callable[..., tuple[Array, Array]]:
    """Scans of (sign, logabs) along the last axis: (sign, logabs) of the
    input's shape."""

    def run(*arrays: Array) -> tuple[Array, Array]:
        rows = [_rows(a) for a in arrays]
        out = (np.empty(rows[-1].shape, SIGN_DTYPE), np.empty_like(rows[-1]))
        fn(*rows, *out)
        return out[0].reshape(arrays[0].shape), out[1].reshape(arrays[0].shape)

    return run


_ADAPTERS = {"elementwise": _elementwise, "reduce": _reduce, "scan": _scan}
