"""The ``logreal`` command: ``logreal demo`` and ``logreal bench``.

The demo sections and the benchmark cases are listed in :mod:`.demo` and
:mod:`.bench`; output files named on the command line are checked before any
work starts, so a typo fails at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .report import has, missing

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logreal", description="Numerics without underflow, overflow or false zeros."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="every example of the method, naive beside stable")
    demo.add_argument("--plot", metavar="FILE.png", help="also plot time against n")
    demo.add_argument(
        "--dask", action="store_true", help="only the Dask section: 10^8 elements on a cluster"
    )
    bench = sub.add_parser("bench", help="benchmarks against NumPy, SciPy (and PyTorch)")
    bench.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    bench.add_argument("--plot", metavar="FILE.png", help="also plot the ratios")
    bench.add_argument("--json", metavar="FILE", help="also write every row as JSON")
    return parser


def _check_output(parser: argparse.ArgumentParser, option: str, path: str | None) -> None:
    """Fail now, not after the run, when ``path`` cannot be written."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        parser.error(f"{option} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        parser.error(f"{option} {path}: the folder {folder} is not writable")
    if option == "--plot" and not has("matplotlib"):
        parser.error(f"--plot needs matplotlib: {missing('matplotlib')}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check_output(parser, "--plot", args.plot)
    _check_output(parser, "--json", getattr(args, "json", None))
    if args.command == "demo":
        from . import demo

        demo.run(sys.stdout, plot=args.plot, dask=args.dask)
    else:
        from . import bench

        bench.run(sys.stdout, quick=args.quick, plot=args.plot, json_path=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
