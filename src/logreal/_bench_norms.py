"""Benchmark cases for the norms module (registered with :func:`logreal._bench.cases`).

``lr.norm`` on standard normal data (one long vector) beside
``np.linalg.norm`` (unscaled: it overflows at 1e155; p = 2 is one BLAS dot,
p = 0.5 a square root, other p ``abs(x)**p`` summed) and ``scipy.linalg.norm``
(scaled for p = 2 through BLAS nrm2).  Every function sees the same array;
the table's ratio column is logreal's time over each baseline's.  With Numba
installed ``lr.norm`` runs the fused kernels of :mod:`logreal._norms_fast`.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _norms
from ._bench import Case, Timed, cases

__all__ = ["norm_cases"]

ORDERS = (2, 1, 3, 0.5, math.inf)


def _prepare(n: int, p: float) -> Callable[[], tuple[Timed, dict[str, Timed]]]:
    def prepare() -> tuple[Timed, dict[str, Timed]]:
        x = np.random.default_rng(20261130).standard_normal(n)
        baselines: dict[str, Callable[[], Any]] = {
            "np.linalg.norm": lambda: np.linalg.norm(x, p),
        }
        if importlib.util.find_spec("scipy") is not None:
            import scipy.linalg

            baselines["scipy.linalg.norm"] = lambda: scipy.linalg.norm(x, p)
        return (lambda: _norms.norm(x, p)), baselines

    return prepare


@cases
def norm_cases(quick: bool) -> Iterator[Case]:
    """lr.norm for p = 2, 1, 3, 0.5, inf at n = 10**7 (10**5 with ``quick``)."""
    n = 10**5 if quick else 10**7
    for p in ORDERS:
        yield Case(f"norm p={p}", n, _prepare(n, p))
