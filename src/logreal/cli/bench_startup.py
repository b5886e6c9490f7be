"""The cost of a new process: import logreal and make a first call of each kernel.

Kernels compile once per machine and are loaded from Numba's on-disk cache
afterwards, so a fresh process that imports logreal and calls add, multiply,
signed logsumexp, norm, cumprod and leave_one_out once should take well under a
second (target: < 1 s).  The case runs that script in a new interpreter (after
one run that fills the cache) beside a process that imports NumPy alone.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

from .report import Baselines, Case, Timed

__all__ = ["FIRST_CALLS", "startup_cases"]

FIRST_CALLS = (
    "import numpy as np, logreal as lr; x = lr.LogReal(np.linspace(0.5, 2, 10)); x + x * x; "
    "lr.logsumexp(np.ones(10), b=np.ones(10), return_sign=True); lr.norm(np.ones(10)); "
    "lr.cumprod(np.ones(10)); lr.leave_one_out(np.ones(10))"
)


def _process(code: str) -> Timed:
    return lambda: subprocess.run([sys.executable, "-c", code], check=True)


def startup_cases(quick: bool) -> Iterator[Case]:
    def prepare() -> tuple[Timed, Baselines]:
        return _process(FIRST_CALLS), {"python -c 'import numpy'": _process("import numpy")}

    yield Case("new process: import + first calls (target < 1 s)", 1, prepare)
