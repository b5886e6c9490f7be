"""``logreal demo --dask``: the reductions on a Dask array that never exists in memory.

A local ``dask.distributed`` cluster (2 worker processes) reduces a 10^8-element
array generated lazily, 10^6 elements a chunk: ``lr.logsumexp``, ``lr.norm`` of
data whose squares overflow, and a LogReal sum.  Building each result computes
nothing; ``compute()`` runs the chunks on the workers.  The same functions on an
in-memory NumPy sample show the chunked results agree with NumPy's.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from .. import _rules as lr
from .report import Section, has, missing

__all__ = ["dask_section"]

N, CHUNK, SAMPLE = 10**8, 10**6, 10**6


def _data(da: Any, n: int, chunk: int) -> tuple[Any, Any]:
    """Exponents around 0 and values around 1e200 (their squares overflow), lazily."""
    rng = da.random.default_rng(20261206)
    a = rng.normal(0.0, 30.0, size=n, chunks=chunk)
    return a, 1e200 * rng.standard_normal(size=n, chunks=chunk)


def _row(sec: Section, case: str, lazy: Any, sample_lazy: Any, sample_np: Any) -> None:
    t0 = time.perf_counter()
    value = float(lazy.compute())
    seconds = time.perf_counter() - t0
    chunked, numpy = float(sample_lazy.compute()), float(sample_np)
    agree = "same" if chunked == numpy else f"{abs(chunked - numpy) / math.ulp(numpy):.1f} ulp"
    sec.add(case, "10^8 on the cluster", repr(value), "", seconds)
    sec.add("", "10^6 sample: chunked vs NumPy", f"{chunked!r} / {numpy!r}", agree, math.nan)


def dask_section(plot: str | None = None) -> Section:
    sec = Section("Dask: reductions of 10^8 elements that are never in memory at once")
    if not (has("dask") and has("distributed")):
        sec.add("every case", "dask.distributed", "-", missing("dask"), math.nan)
        return sec
    import dask.array as da
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=logging.ERROR
        ) as cluster,
        Client(cluster) as client,
    ):
        sec.notes.append(f"dashboard: {client.dashboard_link}")
        a, x = _data(da, N, CHUNK)
        a_s, x_s = _data(da, SAMPLE, CHUNK // 10)
        a_np, x_np = a_s.compute(), x_s.compute()
        signs = da.sign(x)
        _row(sec, "logsumexp(a)", lr.logsumexp(a), lr.logsumexp(a_s), lr.logsumexp(a_np))
        _row(sec, "norm(x), |x| ~ 1e200", lr.norm(x), lr.norm(x_s), lr.norm(x_np))
        total = lr.sum(lr.LogReal.from_log(a, signs))
        sample = lr.sum(lr.LogReal.from_log(a_s, da.sign(x_s)))
        exact = lr.sum(lr.LogReal.from_log(a_np, np.sign(x_np)))
        _row(sec, "LogReal sum, signed", total.logabs, sample.logabs, exact.logabs)
    sec.notes.append(
        "naive float64: norm(x) overflows to inf (the squares exceed 1e308); the chunked "
        "sample uses 10^5-element chunks, so its partial sums are merged as on the cluster"
    )
    return sec
