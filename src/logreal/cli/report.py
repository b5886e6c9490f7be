"""What ``logreal demo`` and ``logreal bench`` share: rows, timing, errors in ulps,
the kernel path that ran, and the one-line note for a missing optional package."""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from .. import _numba

__all__ = [
    "Baselines",
    "Case",
    "Row",
    "Section",
    "Timed",
    "has",
    "kernel_path",
    "log_ulps",
    "missing",
    "table",
    "timed",
    "torch_baselines",
    "ulps",
    "warm_up",
]

Timed = Callable[[], Any]
Baselines = dict[str, "Timed | str"]
"""Baseline functions by name; a string is the note why one cannot run."""


@dataclass
class Row:
    case: str
    method: str
    value: str
    error: str
    seconds: float


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, case: str, method: str, value: str, error: str, seconds: float) -> None:
        self.rows.append(Row(case, method, value, error, seconds))


@dataclass
class Case:
    """A benchmark: ``prepare()`` builds the data and returns logreal's function
    and the baselines by name, data bound in (only one case's arrays are alive
    at a time)."""

    group: str
    n: int
    prepare: Callable[[], tuple[Timed, Baselines]]
    path: str = "default"
    """``"portable"`` runs logreal's side with the kernels switched off."""


# Optional packages a comparison needs, and the extra that brings them.
EXTRAS = {
    "scipy": "demo",
    "matplotlib": "demo",
    "hmmlearn": "demo",
    "torch": "torch",
    "dask": "dask",
    "distributed": "dask",
}


def has(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def missing(module: str) -> str:
    """One line saying that a comparison needs ``module`` and how to get it."""
    extra = EXTRAS.get(module)
    how = f"pip install 'logreal[{extra}]'" if extra else f"pip install {module}"
    return f"{module} is not installed; {how} adds this comparison"


def torch_baselines(**calls: Any) -> Baselines:
    """``{"torch.<name>": call}`` built from ``torch`` when it is installed.

    Each keyword maps a torch function name to a function of the ``torch``
    module returning the timed call; without torch, one missing-note row.
    """
    if not has("torch"):
        return {"torch": missing("torch")}
    import torch

    return {f"torch.{name}": make(torch) for name, make in calls.items()}


def kernel_path() -> str:
    """Which path answers NumPy input: the compiled kernels or the portable code."""
    if not _numba.enabled():
        return "portable array-API code (LOGREAL_KERNELS=portable)"
    if not _numba.available():
        return "portable array-API code (Numba could not be imported)"
    from .._numba import _jit

    cache = _jit.CACHE_DIR if _jit.CACHED else "off (cache directory not writable)"
    n = _min_size()
    sizes = f" from {n} elements, smaller input on the portable code" if n else " at every size"
    return f"compiled Numba kernels{sizes} (cache: {cache})"


def _min_size() -> int:
    return int(_numba._state["min_size"])


def warm_up() -> None:
    """Run every kernel once on inputs just large enough to take it, so timings
    exclude first-use compilation (or the load from the on-disk cache)."""
    from .. import _rules as lr

    for dtype in (np.float64, np.float32):
        a = np.linspace(0.5, 2.0, max(_min_size(), 8), dtype=dtype)
        x = lr.LogReal(a)
        _ = (x + x, x - x, x * x, x / x)
        lr.sum(x), lr.prod(x), lr.cumsum(x), lr.cumprod(x), lr.leave_one_out(x)
        lr.logsumexp(a), lr.logsumexp(a, b=a - 1, return_sign=True)
        lr.cumprod(a), lr.leave_one_out(a), lr.leave_one_out(a[:, None], axis=0)
        for p in (2, 1, 3, 0.5, math.inf, 0):
            lr.norm(a, p)


def timed(fn: Timed, repeat: int = 3) -> tuple[Any, float]:
    """``fn()`` and its best wall time over ``repeat`` runs, in seconds."""
    best = math.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def ulps(got: float, exact: mpmath.mpf) -> str:
    """Error of a float in units of the last place of the exact value."""
    if math.isnan(got):
        return "nan"
    if exact == 0:
        return "exact" if got == 0 else "wrong (true value is 0)"
    if got == 0 or math.isinf(got):
        return f"wrong ({got!r}; true value ~{mpmath.nstr(exact, 6)})"
    ref = float(exact)
    if ref == 0 or math.isinf(ref):
        return f"wrong (true value {mpmath.nstr(exact, 6)} is outside float range)"
    err = abs(mpmath.mpf(got) - exact) / math.ulp(ref)
    return f"{float(err):.2g} ulp"


def log_ulps(got_logabs: float, exact_logabs: mpmath.mpf) -> str:
    """Error of a log-magnitude in ulps of the exact log-magnitude."""
    return ulps(got_logabs, exact_logabs)


def table(head: tuple[str, ...], cells: Sequence[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns under a header and a rule."""
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(head)]

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return [line(head), "  ".join("-" * w for w in widths), *(line(c) for c in cells)]
