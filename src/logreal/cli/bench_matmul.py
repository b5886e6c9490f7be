"""Benchmark case for LogReal matrix products (listed in :data:`logreal.cli.bench.FACTORIES`).

LogReal ``a @ b`` on signed random logs against what torch-struct does for a
signed log-space matrix product: broadcast the k-term sums and reduce them
with ``scipy.special.logsumexp`` (signs passed as ``b=``).  Both are exact per
entry up to rounding; logreal multiplies scaled factors with BLAS and
recomputes only the entries whose error bound fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._logreal import LogReal
from .._reduce import matmul
from .report import Baselines, Case, Timed, has, missing

__all__ = ["matmul_cases"]

_RNG_SEED = 20261206


def _matmul_case(n: int) -> Case:
    def prepare() -> tuple[Timed, Baselines]:
        rng = np.random.default_rng(_RNG_SEED)
        la, lb = rng.normal(0.0, 10.0, (n, n)), rng.normal(0.0, 10.0, (n, n))
        sa, sb = rng.choice([-1.0, 1.0], (n, n)), rng.choice([-1.0, 1.0], (n, n))
        a, b = LogReal.from_log(la, sa), LogReal.from_log(lb, sb)

        if not has("scipy"):
            return (lambda: matmul(a, b)), {"broadcast + scipy logsumexp": missing("scipy")}
        import scipy.special

        def broadcast() -> Any:
            return scipy.special.logsumexp(
                la[:, :, None] + lb[None, :, :],
                axis=1,
                b=sa[:, :, None] * sb[None, :, :],
                return_sign=True,
            )

        return (lambda: matmul(a, b)), {"broadcast + scipy logsumexp": broadcast}

    target = " (target >= 50x faster)" if n == 256 else ""
    return Case(f"LogReal matmul {n}x{n}{target}", n, prepare)


def matmul_cases(quick: bool) -> Iterator[Case]:
    yield _matmul_case(64)
    yield _matmul_case(256)
    if not quick:
        yield _matmul_case(512)
