"""Demo section: reverse-mode gradients whose adjoints live in signed log space."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from .. import _rules as lr
from .._autodiff import grad
from .._logreal import LogReal
from .report import Section, log_ulps, timed, ulps


def _entry_row(
    sec: Section, label: str, method: str, fn: Callable[[], Any], i: int, ref: mpmath.mpf
) -> None:
    """A row for entry ``i`` of ``fn()``: its value, its ulps from ``ref``, its time."""
    out, t = timed(fn)
    sec.add(label, method, repr(float(out[i])), ulps(float(out[i]), ref), t)


def autodiff(plot: str | None = None) -> Section:
    sec = Section("lr.grad: backprop with log-space adjoints")
    n = 100_000
    p = np.full(n, 0.5)
    exact = (n - 1) * mpmath.log(mpmath.mpf(0.5))

    # Float adjoints: the forward product underflows, so every gradient entry is 0.
    g_float, t = timed(lambda: grad(lambda x: lr.prod(x))(p))
    sec.add(
        "d/dx_i of prod(10^5 halves)",
        "float64 adjoints",
        repr(float(g_float[0])),
        ulps(float(g_float[0]), mpmath.exp(exact)),
        t,
    )
    g_lr, t = timed(lambda: grad(lambda x: lr.prod(LogReal(x)))(p))
    worst = max(float(mpmath.mpf(v) - exact) for v in np.asarray(g_lr.logabs)[:: n // 101])
    sec.add(
        "",
        "LogReal adjoints (logabs)",
        repr(float(g_lr.logabs[0])),
        log_ulps(float(g_lr.logabs[0]), exact),
        t,
    )
    sec.notes.append(f"largest logabs error over sampled entries: {worst:.2g}")

    # The adjoint joins the exact product: g * loo_i is rounded once, so it is
    # finite where loo_i alone overflows.
    big = np.array([1e300, 1e300, 4.0, 0.5])
    ref = mpmath.mpf(1e-300) * mpmath.mpf(1e300) ** 2 * mpmath.mpf(0.5)
    label = "d/dx_2 of 1e-300 * prod(x), x=[1e300,1e300,4,0.5]"
    naive = np.errstate(over="ignore")(lambda: 1e-300 * lr.leave_one_out(big, method="dp"))
    _entry_row(sec, label, "g * leave_one_out(x)", naive, 2, ref)
    _entry_row(sec, "", "lr.grad", lambda: grad(lambda v: 1e-300 * lr.prod(v))(big), 2, ref)

    # Softmax through logsumexp: naive exp overflows.
    a = np.array([1000.0, 1000.0, 999.0])
    ref = mpmath.exp(a[0]) / mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in a)
    label = "d logsumexp / da_0, a=[1000,1000,999]"
    naive = np.errstate(over="ignore", invalid="ignore")(lambda: np.exp(a) / np.sum(np.exp(a)))
    _entry_row(sec, label, "naive exp(a)/sum", naive, 0, ref)
    _entry_row(sec, "", "lr.grad", lambda: grad(lambda x: lr.logsumexp(x))(a), 0, ref)

    # Forward cost against gradient cost.
    x = LogReal(np.random.default_rng(1).uniform(0.1, 1.0, size=n))
    _, t_fwd = timed(lambda: lr.prod(x))
    _, t_bwd = timed(lambda: grad(lambda v: lr.prod(v))(x))
    sec.add("cost of the gradient", "forward prod (LogReal, 1e5)", "", "", t_fwd)
    sec.add("", "grad of prod", f"{t_bwd / t_fwd:.1f}x forward", "", t_bwd)
    return sec
