"""Benchmark cases for the norms module (registered with :func:`logreal._bench.cases`).

``lr.norm`` on standard normal data (one long vector) beside
``np.linalg.norm`` (unscaled: it overflows at 1e155) and ``scipy.linalg.norm``
(scaled for p = 2 through BLAS nrm2).  Every function sees the same array.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _norms
from ._bench import Case, Timed, cases

__all__ = ["norm_cases"]

ORDERS = (2, 1, 3)


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
    """lr.norm for p = 2, 1, 3 at n = 10**7 (10**5 with ``quick``)."""
    n = 10**5 if quick else 10**7
    for p in ORDERS:
        yield Case(f"norm p={p}", n, _prepare(n, p))
