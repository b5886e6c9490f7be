"""The cost of a new process: import logreal and make a first call of each kernel.

A fresh process that imports logreal and calls add, multiply, signed
logsumexp, norm, cumprod and leave_one_out once on small arrays should take
well under a second (target: < 1 s): inputs under ``logreal._numba.MIN_SIZE``
elements take the portable path, so such a process never imports Numba.  The
second case makes the same calls on arrays large enough for the compiled
kernels, which are loaded from Numba's on-disk cache (filled by a first run);
its time is dominated by Numba's own fixed start-up cost.  Both run the script
in a new interpreter beside a process that imports NumPy alone.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

from .report import Baselines, Case, Timed

__all__ = ["FIRST_CALLS", "first_calls", "startup_cases"]


def first_calls(n: int) -> str:
    """A script: import logreal, then one call of each kernel on ``n`` elements."""
    return (
        f"import numpy as np, logreal as lr; x = lr.LogReal(np.linspace(0.5, 2, {n})); "
        f"x + x * x; lr.logsumexp(np.ones({n}), b=np.ones({n}), return_sign=True); "
        f"lr.norm(np.ones({n})); lr.cumprod(np.ones({n})); lr.leave_one_out(np.ones({n}))"
    )


FIRST_CALLS = first_calls(10)


def _process(code: str) -> Timed:
    return lambda: subprocess.run([sys.executable, "-c", code], check=True)


def startup_cases(quick: bool) -> Iterator[Case]:
    for n, label in ((10, "small arrays (target < 1 s)"), (10**5, "compiled kernels, warm cache")):

        def prepare(n: int = n) -> tuple[Timed, Baselines]:
            return _process(first_calls(n)), {"python -c 'import numpy'": _process("import numpy")}

        yield Case(f"new process: import + first calls, {label}", n, prepare)
