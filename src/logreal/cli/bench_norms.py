"""Benchmark cases for the norms module .

``lr.norm`` on standard normal data (one long vector) beside
``np.linalg.norm`` (unscaled: it overflows at 1e155; p = 2 is one BLAS dot,
p = 0.5 a square root, other p ``abs(x)**p`` summed) and ``scipy.linalg.norm``
(scaled for p = 2 through BLAS nrm2).  Every function sees the same array;
the table's ratio column is logreal's time over each baseline's.  With Numba
installed ``lr.norm`` runs the fused kernels of :mod:`logreal._numba.norms`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import _norms
from .report import Baselines, Case, Timed, has, missing, torch_baselines

__all__ = ["norm_cases"]

ORDERS = (2, 1, 3, 0.5, math.inf)


def _prepare(n: int, p: float) -> Callable[[], tuple[Timed, Baselines]]:
    def prepare() -> tuple[Timed, Baselines]:
        x = np.random.default_rng(20261130).standard_normal(n)
        baselines: Baselines = {"np.linalg.norm": lambda: np.linalg.norm(x, p)}
        if has("scipy"):
            import scipy.linalg

            baselines["scipy.linalg.norm"] = lambda: scipy.linalg.norm(x, p)
        else:
            baselines["scipy.linalg.norm"] = missing("scipy")

        def torch_norm(torch: Any) -> Timed:
            t = torch.from_numpy(x)
            return lambda: torch.linalg.vector_norm(t, p)

        baselines.update(torch_baselines(**{"linalg.vector_norm": torch_norm}))
        return (lambda: _norms.norm(x, p)), baselines

    return prepare


def norm_cases(quick: bool) -> Iterator[Case]:
    """lr.norm for p = 2, 1, 3, 0.5, inf at n = 10**7 (10**5 with ``quick``)."""
    n = 10**5 if quick else 10**7
    for p in ORDERS:
        yield Case(f"norm p={p}", n, _prepare(n, p))
