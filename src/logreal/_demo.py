"""``logreal demo``: every example of the method, naive beside stable.

Each topic module registers sections with :func:`section`; a section returns
rows of (case, method, value, error against a high-precision reference, time).
The reference is mpmath at 300 bits from the exact binary inputs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import mpmath

__all__ = ["Row", "Section", "log_ulps", "run", "section", "timed", "ulps"]

mpmath.mp.prec = 300


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


_SECTIONS: list[tuple[int, Callable[..., Section]]] = []


def section(order: int) -> Callable[[Callable[..., Section]], Callable[..., Section]]:
    """Register a demo section; lower ``order`` prints first."""

    def register(fn: Callable[..., Section]) -> Callable[..., Section]:
        _SECTIONS.append((order, fn))
        return fn

    return register


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[Any, float]:
    """``fn()`` and its best wall time over `repeat` runs, in seconds."""
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


def _table(rows: list[Row], out: TextIO) -> None:
    head = ("case", "method", "value", "error", "time")
    cells = [(r.case, r.method, r.value, r.error, _seconds(r.seconds)) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line, file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for c in cells:
        print("  ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)), file=out)


def _seconds(s: float) -> str:
    if math.isnan(s):
        return "-"
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def run(out: TextIO, plot: str | None = None) -> None:
    """Print every registered section (and write the plots a section offers)."""
    from . import _demo_autodiff, _demo_core, _demo_norms, _demo_products  # noqa: F401

    for _, make in sorted(_SECTIONS, key=lambda t: t[0]):
        sec = make(plot=plot)
        print(f"\n== {sec.title} ==\n", file=out)
        _table(sec.rows, out)
        for note in sec.notes:
            print(f"  {note}", file=out)
