"""``logreal bench``: logreal against NumPy, SciPy (and PyTorch when installed).

Topic modules register case factories with :func:`cases`.  A factory takes
``quick`` and yields :class:`Case` objects; each case builds its data lazily in
``prepare`` so only one case's arrays are alive at a time.  Every function of a
case runs side by side in one process; the table reports medians and the ratio
of logreal's time to each baseline's.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["Case", "Result", "cases", "has_torch", "run", "run_case"]

Timed = Callable[[], Any]


@dataclass
class Case:
    group: str
    n: int
    prepare: Callable[[], tuple[Timed, dict[str, Timed]]]
    """Returns logreal's function and the baselines by name, data bound in."""


@dataclass
class Result:
    group: str
    n: int
    ours: float
    baselines: dict[str, float]


_FACTORIES: list[Callable[[bool], Iterable[Case]]] = []


def cases(factory: Callable[[bool], Iterable[Case]]) -> Callable[[bool], Iterable[Case]]:
    """Register a factory of benchmark cases (called with ``quick``)."""
    _FACTORIES.append(factory)
    return factory


def has_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


def _median_time(fn: Timed, repeat: int) -> float:
    fn()  # warm-up (caches, lazy imports)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_case(case: Case, repeat: int) -> Result:
    ours, baselines = case.prepare()
    return Result(
        case.group,
        case.n,
        _median_time(ours, repeat),
        {name: _median_time(fn, repeat) for name, fn in baselines.items()},
    )


def _progress(done: int, total: int, label: str, err: TextIO) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "." * (width - filled)
    err.write(f"\r[{bar}] {done}/{total} {label[:40]:<40}")
    if done == total:
        err.write("\n")
    err.flush()


def all_cases(quick: bool) -> list[Case]:
    from . import _bench_core, _bench_norms, _bench_products  # noqa: F401  (registration)

    return [c for factory in _FACTORIES for c in factory(quick)]


def run(
    out: TextIO, quick: bool = False, plot: str | None = None, err: TextIO = sys.stderr
) -> list[Result]:
    todo = all_cases(quick)
    repeat = 3 if quick else 7
    results = []
    for i, case in enumerate(todo):
        _progress(i, len(todo), case.group, err)
        results.append(run_case(case, repeat))
    _progress(len(todo), len(todo), "done", err)
    print(format_table(results), file=out)
    if plot:
        _plot(results, plot)
        print(f"\nplot written to {plot}", file=out)
    return results


def _rows(results: list[Result]) -> Iterator[tuple[str, ...]]:
    for r in results:
        for name, t in r.baselines.items() or {"-": float("nan")}.items():
            ratio = r.ours / t if t == t else float("nan")
            yield (
                r.group,
                f"{r.n:.0e}",
                f"{r.ours * 1e3:.3g}",
                name,
                f"{t * 1e3:.3g}",
                f"{ratio:.2f}",
            )


def format_table(results: list[Result]) -> str:
    head = ("case", "n", "logreal ms", "baseline", "baseline ms", "ratio")
    rows = list(_rows(results))
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append("ratio = logreal time / baseline time (medians; below 1 is faster)")
    return "\n".join(lines)


def _plot(results: list[Result], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, ratios = [], []
    for r in results:
        for name, t in r.baselines.items():
            labels.append(f"{r.group} vs {name} (n={r.n:.0e})")
            ratios.append(r.ours / t)
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
