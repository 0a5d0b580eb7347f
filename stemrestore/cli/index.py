"""stemrestore index: a JSONL manifest of every stem of a RawStems tree (paper §3.3 activity)."""

from __future__ import annotations

import argparse
import os
import sys

NAME = "index"
HELP = "list every stem of a RawStems tree with its format and active seconds (JSONL)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="RawStems root (the folder holding RawStems/, or RawStems/ itself)")
    p.add_argument("--out", required=True, help="manifest file to write (JSONL)")
    p.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="parallel processes (default: number of CPUs)"
    )
    p.add_argument(
        "--threshold-db",
        type=float,
        default=-40.0,
        help="a 1-s segment is active when its RMS after peak normalisation exceeds this (default: -40)",
    )


def run(args: argparse.Namespace) -> int:
    from stemrestore.data.rawstems import index
    from stemrestore.errors import ConfigError

    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    report = index(args.root, args.out, args.workers, threshold_db=args.threshold_db)
    for problem in report.problems:
        print(f"skipped {problem.path}: {problem.reason}", file=sys.stderr)
    print(f"indexed {report.stems} stems of {report.songs} songs -> {report.out}; skipped {len(report.problems)}")
    return 0
