"""Benchmark cases for the products module .

- ``leave_one_out dp`` against ``np.cumprod`` (one pass of plain prefix
  products, no range care) and against the plain float forward-backward
  (two ``np.cumprod`` and a product, which under- and overflows): the price of
  exact range and of O(1) memory beyond the output.  Once on factors whose
  partial products stay in range (NumPy is right there), once on
  probabilities, whose partial products underflow (NumPy returns zeros, dp
  keeps the exact products in scaled form).
- every method at n = 10^3 ... 10^7 (naive at 10^3 ... 10^4), each against
  ``np.cumprod`` at the same n and against itself at n / r, r the step to
  the previous size: that ratio is r**slope, about r**2 for naive and r for
  the O(n) methods (scan: a little more, O(n log n) work).
- LogReal leave-one-out against a plain cumulative sum of the logs.
- the gradient of a chain of 3x3 matrices against a Python loop of ``np.matmul``.

Apart from the probabilities, the inputs keep every partial product inside
the float range (factors ``exp(N(0, 1e-3))``), so NumPy's answers are right
and the comparison is fair.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._autodiff import grad
from .._logreal import LogReal
from .._products import leave_one_out, prod_grad
from .._rules import prod
from .report import Baselines, Case, Timed, torch_baselines

__all__ = ["product_cases"]

_RNG_SEED = 20261130


def _factors(n: int) -> np.ndarray:
    return np.exp(np.random.default_rng(_RNG_SEED).normal(0.0, 1e-3, n))


def _plain_forward_backward(x: np.ndarray) -> np.ndarray:
    """Float prefix times suffix with NumPy alone (no range care, 3 arrays)."""
    out = np.empty_like(x)
    out[0] = 1.0
    np.cumprod(x[:-1], out=out[1:])
    suffix = np.empty_like(x)
    suffix[-1] = 1.0
    np.cumprod(x[:0:-1], out=suffix[-2::-1])
    out *= suffix
    return out


def _dp_case(n: int, probabilities: bool = False) -> Case:
    def prepare() -> tuple[Timed, Baselines]:
        x = _probabilities(n) if probabilities else _factors(n)

        def torch_cumprod(torch: Any) -> Timed:
            t = torch.from_numpy(x)
            return lambda: torch.cumprod(t, 0)

        baselines: Baselines = {
            "np.cumprod": lambda: np.cumprod(x),
            "numpy forward-backward": lambda: _plain_forward_backward(x),
            **torch_baselines(cumprod=torch_cumprod),
        }
        return (lambda: leave_one_out(x, method="dp")), baselines

    kind = "probabilities: prefixes underflow" if probabilities else "float64"
    return Case(f"leave_one_out dp ({kind})", n, prepare)


def _probabilities(n: int) -> np.ndarray:
    return np.random.default_rng(_RNG_SEED).uniform(0.0, 1.0, n)


def _method_case(method: str, n: int, step: int) -> Case:
    """``method`` at n against np.cumprod, and against itself at n / step."""

    def prepare() -> tuple[Timed, Baselines]:
        x = _factors(n)
        baselines: Baselines = {"np.cumprod": lambda: np.cumprod(x)}
        if step > 1:
            small = x[: n // step]
            baselines[f"{method} at n/{step}"] = lambda: leave_one_out(small, method=method)
        return (lambda: leave_one_out(x, method=method), baselines)

    return Case(f"leave_one_out {method}", n, prepare)


def _logreal_case(n: int) -> Case:
    def prepare() -> tuple[Timed, Baselines]:
        x = LogReal(_factors(n))
        logs = np.asarray(x.logabs)
        return (
            lambda: leave_one_out(x, method="dp"),
            {"np.cumsum of logs": lambda: np.cumsum(logs)},
        )

    return Case("leave_one_out dp (LogReal)", n, prepare)


def _matrix_case(n: int) -> Case:
    def prepare() -> tuple[Timed, Baselines]:
        rng = np.random.default_rng(_RNG_SEED)
        f = np.eye(3) + rng.normal(0.0, 0.1, (n, 3, 3))
        df = rng.normal(0.0, 1.0, (n, 3, 3))

        def loop() -> np.ndarray:
            pre = [np.eye(3)]
            for m in f[:-1]:
                pre.append(pre[-1] @ m)
            total, suf = np.zeros((3, 3)), np.eye(3)
            for i in range(n - 1, -1, -1):
                total += pre[i] @ df[i] @ suf
                suf = f[i] @ suf
            return total

        return (
            lambda: prod_grad(f, df, op=np.matmul, method="dp"),
            {"python loop of np.matmul": loop},
        )

    return Case("prod_grad dp (3x3 matrices)", n, prepare)


def _grad_case(n: int) -> Case:
    """``lr.grad`` of ``lr.prod`` (O(n), no division) against its own forward pass
    and against PyTorch's backward of ``torch.prod``."""

    def prepare() -> tuple[Timed, Baselines]:
        x = _factors(n)
        backward = grad(prod)

        def torch_backward(torch: Any) -> Timed:
            def run() -> Any:
                t = torch.from_numpy(x).requires_grad_()
                torch.prod(t).backward()
                return t.grad

            return run

        baselines: Baselines = {
            "lr.prod forward": lambda: prod(x),
            **torch_baselines(**{"prod backward": torch_backward}),
        }
        return (lambda: backward(x)), baselines

    return Case("lr.grad of lr.prod (target <= 5 forward)", n, prepare)


def product_cases(quick: bool) -> Iterator[Case]:
    top = 5 if quick else 7
    yield _dp_case(10**top)
    yield _dp_case(10**top, probabilities=True)
    sizes = {m: [10**e for e in range(3, top + 1)] for m in ("division", "log", "dp", "scan")}
    # naive where its n^2 multiplications, not the Python around them, set the time
    sizes = {"naive": [1000, 3000] if quick else [1000, 3000, 10_000], **sizes}
    for method, ns in sizes.items():
        for i, n in enumerate(ns):
            yield _method_case(method, n, round(n / ns[i - 1]) if i else 1)
    yield _logreal_case(10 ** (top - 1))
    yield _matrix_case(10**3 if quick else 10**4)
    yield _grad_case(10**top)
