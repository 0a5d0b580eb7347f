"""stemrestore analyze: the paper's §3.3 corpus analyses as PNG plots and a JSON summary."""

from __future__ import annotations

import argparse
import os
import sys

NAME = "analyze"
HELP = "corpus analyses of a RawStems tree: activity, stems per song, co-occurrence, t-SNE"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="RawStems root (the folder holding RawStems/, or RawStems/ itself)")
    p.add_argument("--out", required=True, help="folder for the plots and summary.json")
    p.add_argument("--manifest", help="manifest from `stemrestore index` (default: index now into OUT)")
    p.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for indexing (default: number of CPUs)"
    )
    p.add_argument("--clap-checkpoint", help="local LAION-CLAP checkpoint (.pt); default: built-in log-mel embedding")
    p.add_argument(
        "--clap-model", default="HTSAT-tiny", help="CLAP audio model of the checkpoint (default: HTSAT-tiny)"
    )
    p.add_argument("--excerpt", type=float, default=10.0, help="seconds embedded per track and mixture (default: 10)")
    p.add_argument("--max-tracks", type=int, default=2000, help="most track embeddings in the t-SNE (default: 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed for sub-sampling and t-SNE (default: 0)")
    p.add_argument("--threshold-db", type=float, default=-40.0, help="activity threshold in dB (default: -40)")


def run(args: argparse.Namespace) -> int:
    from stemrestore.data.analysis import analyze
    from stemrestore.data.embeddings import make_embedder
    from stemrestore.errors import ConfigError

    if args.excerpt <= 0 or args.max_tracks < 0 or args.workers < 1:
        raise ConfigError("--excerpt must be positive, --max-tracks >= 0 and --workers >= 1")
    summary = analyze(
        args.root,
        args.out,
        manifest=args.manifest,
        workers=args.workers,
        embedder=make_embedder(args.clap_checkpoint, args.clap_model),
        seed=args.seed,
        excerpt_s=args.excerpt,
        max_tracks=args.max_tracks,
        threshold_db=args.threshold_db,
    )
    for problem in summary["problems"]:
        print(f"skipped {problem['path']}: {problem['reason']}", file=sys.stderr)
    print(
        f"{summary['songs']} songs, {summary['stems']} stems, {summary['active_hours']:.2f} active hours; "
        f"{100 * summary['share_first_level_4_6']:.1f} % of songs have 4-6 first-level stems (paper 78.9 %), "
        f"{100 * summary['share_second_level_4_9']:.1f} % have 4-9 second-level (paper 86.2 %)"
    )
    print(f"wrote {', '.join(summary['plots'])} and summary.json to {args.out}")
    return 0
