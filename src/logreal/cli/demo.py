"""``logreal demo``: every example of the method, naive beside stable.

A section returns rows of (case, method, value, error against a high-precision
reference, time); the reference is mpmath at 300 bits from the exact binary
inputs.  The sections, in the order they print, are listed in
:data:`SECTIONS`.  Timings are the best of a few runs after every kernel has
run once (:func:`~logreal.cli.report.warm_up`), so they exclude first-use
compilation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TextIO

import mpmath

from . import demo_autodiff, demo_core, demo_dask, demo_norms, demo_products, demo_sums
from .report import Section, kernel_path, table, warm_up

__all__ = ["SECTIONS", "run"]

mpmath.mp.prec = 300

SECTIONS: tuple[Callable[..., Section], ...] = (
    demo_core.log_reals,
    demo_products.products,
    demo_norms.norms_section,
    demo_autodiff.autodiff,
    demo_sums.sums,
)


def _seconds(s: float) -> str:
    if math.isnan(s):
        return "-"
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def run(out: TextIO, plot: str | None = None, dask: bool = False) -> None:
    """Print every section (and write the plots a section offers); with ``dask``,
    only the Dask section."""
    print(f"logreal demo: NumPy input runs on {kernel_path()}", file=out)
    warm_up()
    for make in (demo_dask.dask_section,) if dask else SECTIONS:
        sec = make(plot=plot)
        print(f"\n== {sec.title} ==\n", file=out)
        cells = [(r.case, r.method, r.value, r.error, _seconds(r.seconds)) for r in sec.rows]
        for line in table(("case", "method", "value", "error", "time"), cells):
            print(line, file=out)
        for note in sec.notes:
            print(f"  {note}", file=out)
