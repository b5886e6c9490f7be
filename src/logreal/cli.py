"""The ``logreal`` command: ``logreal demo`` and ``logreal bench``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="logreal", description="Numerics without underflow, overflow or false zeros."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="every example of the method, naive beside stable")
    demo.add_argument("--plot", metavar="FILE.png", help="also plot time against n")
    bench = sub.add_parser("bench", help="benchmarks against NumPy, SciPy (and PyTorch)")
    bench.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    bench.add_argument("--plot", metavar="FILE.png", help="also plot the ratios")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from . import _demo

        _demo.run(sys.stdout, plot=args.plot)
    else:
        from . import _bench

        _bench.run(sys.stdout, quick=args.quick, plot=args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
