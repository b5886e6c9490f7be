"""Dask scaling of logreal's lazy reductions on a ``dask.distributed`` LocalCluster.

For every worker count and chunk size, a 10^8-element float64 array is
generated lazily (``da.random.default_rng(seed)``, never held by the client)
and reduced by ``lr.logsumexp``, ``lr.norm`` and a LogReal ``lr.sum``.  Each
line gives the wall time of ``compute()`` (graph building included, the best of
``--repeat`` runs) and the largest growth of any worker's resident memory over
its level before the run, sampled every 2 ms in the worker: a reduction that
never holds the whole array in one worker stays far below its size
(800 MB at 10^8).

Run from the repository root::

    PYTHONPATH=src python benchmarks/dask_scaling.py            # the full table
    PYTHONPATH=src python benchmarks/dask_scaling.py --n 1e7 --workers 1 --chunks 1e6

Each worker runs one thread, so the worker count is the number of cores used.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any


def _start_sampler(dask_worker: Any) -> None:
    """Sample this worker's resident memory every 2 ms in a thread."""
    import threading

    import psutil

    proc = psutil.Process()
    state = {"base": proc.memory_info().rss, "peak": 0, "stop": False}

    def loop() -> None:
        while not state["stop"]:
            state["peak"] = max(state["peak"], proc.memory_info().rss)
            time.sleep(0.002)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    dask_worker.logreal_sampler = (state, thread)


def _stop_sampler(dask_worker: Any) -> int:
    """The peak growth of resident memory since :func:`_start_sampler`, in bytes."""
    state, thread = dask_worker.logreal_sampler
    state["stop"] = True
    thread.join()
    return max(0, int(state["peak"]) - int(state["base"]))


def cases() -> dict[str, Callable[[Any], Any]]:
    import logreal as lr

    return {
        "logsumexp": lambda x: lr.logsumexp(x),
        "norm": lambda x: lr.norm(x),
        "LogReal sum": lambda x: lr.sum(lr.LogReal.from_log(x)).logabs,
    }


def measure(
    client: Any, n: int, chunk: int, build: Callable[[Any], Any], seed: int
) -> tuple[float, int]:
    """(seconds, peak worker memory growth in bytes) of one lazy reduction."""
    import dask.array as da

    client.run(_start_sampler)
    start = time.perf_counter()
    x = da.random.default_rng(seed).standard_normal(n, chunks=chunk)
    client.compute(build(x), sync=True)
    seconds = time.perf_counter() - start
    peak = max(client.run(_stop_sampler).values())
    return seconds, peak


def main(argv: list[str] | None = None) -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, default=1e8, help="elements (default 1e8)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunks", type=float, nargs="+", default=[1e5, 1e6, 1e7])
    parser.add_argument("--repeat", type=int, default=1, help="runs per line; the best is shown")
    args = parser.parse_args(argv)
    n = int(args.n)
    print(f"n = {n:.0e} float64 elements ({8 * n / 1e6:.0f} MB), generated lazily")
    print("| workers | chunk | function | time (s) | peak worker memory growth (MB) |")
    print("|---|---|---|---|---|")
    for workers in args.workers:
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            for build in cases().values():  # warm-up: imports and kernels in the workers
                measure(client, 10_000, 1_000, build, 0)
            for chunk in (int(c) for c in args.chunks):
                for name, build in cases().items():
                    runs = [measure(client, n, chunk, build, 20261207) for _ in range(args.repeat)]
                    seconds = min(r[0] for r in runs)
                    peak = max(r[1] for r in runs)
                    print(
                        f"| {workers} | {chunk:.0e} | {name} | {seconds:.2f} | {peak / 1e6:.0f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
