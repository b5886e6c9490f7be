"""``logreal bench``: logreal against NumPy, SciPy (and PyTorch when installed).

Every case runs logreal and its baselines side by side in one process, after
one warm-up call each (first-use compilation excluded); the table reports
medians and the ratio of logreal's time to each baseline's.  The case
factories, in the order they run, are listed in :data:`FACTORIES`.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TextIO

from .. import _numba
from . import (
    bench_autodiff,
    bench_core,
    bench_matmul,
    bench_norms,
    bench_products,
    bench_startup,
)
from .report import Case, Timed, kernel_path, table, warm_up

__all__ = ["FACTORIES", "Result", "format_table", "run", "run_case"]

FACTORIES: tuple[Callable[[bool], Iterable[Case]], ...] = (
    bench_core.core_cases,
    bench_matmul.matmul_cases,
    bench_norms.norm_cases,
    bench_products.product_cases,
    bench_autodiff.autodiff_cases,
    bench_startup.startup_cases,
)


@dataclass
class Result:
    group: str
    n: int
    path: str
    ours: float
    baselines: dict[str, float | str]
    """Median seconds by baseline, or the note why it could not run."""


def _median_time(fn: Timed, repeat: int) -> float:
    fn()  # warm-up (compilation or cache load, lazy imports)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_case(case: Case, repeat: int) -> Result:
    ours, baselines = case.prepare()
    portable = case.path == "portable"
    with _numba.portable() if portable else contextlib.nullcontext():
        mine = _median_time(ours, repeat)
    path = "portable" if portable or not _numba.available() else "compiled"
    base = {  # a string is a comparison that cannot run: the note says why
        name: fn if isinstance(fn, str) else _median_time(fn, repeat)
        for name, fn in baselines.items()
    }
    return Result(case.group, case.n, path, mine, base)


def _progress(done: int, total: int, label: str, err: TextIO) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "." * (width - filled)
    err.write(f"\r[{bar}] {done}/{total} {label[:40]:<40}")
    if done == total:
        err.write("\n")
    err.flush()


def all_cases(quick: bool) -> list[Case]:
    return [c for factory in FACTORIES for c in factory(quick)]


def run(
    out: TextIO,
    quick: bool = False,
    plot: str | None = None,
    json_path: str | None = None,
    err: TextIO = sys.stderr,
) -> list[Result]:
    """Run every case, print the table; optionally write a plot and a JSON file."""
    print(f"logreal bench: NumPy input runs on {kernel_path()}", file=out)
    warm_up()
    todo = all_cases(quick)
    repeat = 3 if quick else 7
    results = []
    for i, case in enumerate(todo):
        _progress(i, len(todo), case.group, err)
        results.append(run_case(case, repeat))
    _progress(len(todo), len(todo), "done", err)
    print(format_table(results), file=out)
    if json_path:
        with open(json_path, "w") as f:
            json.dump([asdict(r) for r in rows(results)], f, indent=1)
        print(f"\nrows written to {json_path}", file=out)
    if plot:
        _plot(results, plot)
        print(f"\nplot written to {plot}", file=out)
    return results


@dataclass
class JsonRow:
    operation: str
    size: int
    logreal_seconds: float
    baseline: str
    baseline_seconds: float | None
    ratio: float | None
    path: str
    note: str = ""


def rows(results: list[Result]) -> Iterator[JsonRow]:
    """One row per (case, baseline); a case without baselines gives one row."""
    for r in results:
        for name, t in r.baselines.items() or {"-": ""}.items():
            if isinstance(t, str):
                yield JsonRow(r.group, r.n, r.ours, name, None, None, r.path, t)
            else:
                yield JsonRow(r.group, r.n, r.ours, name, t, r.ours / t, r.path)


def _ms(t: float | None) -> str:
    return "-" if t is None else f"{t * 1e3:.3g}"


def format_table(results: list[Result]) -> str:
    head = ("case", "n", "path", "logreal ms", "baseline", "baseline ms", "ratio")
    cells = [
        (
            r.operation,
            f"{r.size:.0e}",
            r.path,
            _ms(r.logreal_seconds),
            r.baseline,
            _ms(r.baseline_seconds),
            r.note or "-" if r.ratio is None else f"{r.ratio:.2f}",
        )
        for r in rows(results)
    ]
    lines = table(head, cells)
    lines.append("ratio = logreal time / baseline time (medians; below 1 is faster)")
    return "\n".join(lines)


def _plot(results: list[Result], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, ratios = [], []
    for r in rows(results):
        if r.ratio is not None:
            labels.append(f"{r.operation} vs {r.baseline} (n={r.size:.0e})")
            ratios.append(r.ratio)
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(labels) + 1.5))
    ax.barh(range(len(labels)), ratios)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("logreal time / baseline time")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
