"""stemrestore evaluate: score models and baselines on an offline test set (paper §4.4)."""

from __future__ import annotations

import argparse
from pathlib import Path

from stemrestore.cli.restore import add_window_arguments, window_options

NAME = "evaluate"
HELP = "score checkpoints and baselines on a test set: per-example CSV, summary, table, plots"

BASELINES = ("identity",)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--testset",
        required=True,
        help="make-testset folder (with index.jsonl), or a .csv/.jsonl manifest of mixture,target[,id,class]",
    )
    p.add_argument("--checkpoint", action="append", default=[], metavar="CK",
                   help="model checkpoint to score; repeat for one table row per checkpoint")
    p.add_argument("--baseline", action="append", default=[], choices=BASELINES,
                   help="baseline to score: 'identity' scores the mixture itself as the estimate")
    p.add_argument("--out", default="evaluation", help="output folder (default: ./evaluation)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                   help="torch device for models (default: auto = cuda, then mps, then cpu)")
    add_window_arguments(p)
    p.add_argument("--segment-seconds", type=float, default=10.0,
                   help="score segments of this length; shorter pairs are scored whole (default: 10, as the paper)")
    p.add_argument("--silence-db", type=float, default=-60.0,
                   help="skip segments whose target RMS is below this dBFS level (default: -60)")
    p.add_argument("--rank-metric", default="mel_ssim", choices=("mel_ssim", "si_sdr", "multi_mel_snr"),
                   help="metric that picks the best/median/worst examples for plots (default: mel_ssim)")
    p.add_argument("--paired-against", metavar="NAME",
                   help="table row the others are compared with per segment (default: identity when "
                        "scored, else the first row)")
    p.add_argument("--erased-below-db", type=float, default=-10.0, metavar="DB",
                   help="with --baseline identity, also summarise apart the segments where the identity "
                        "scores below this SI-SDR (near-erased targets; default: -10)")
    p.add_argument("--no-by-effect", action="store_true",
                   help="no per-degradation-effect summary (made when the test set records its effects)")
    p.add_argument("--limit", type=int, help="score only the first N pairs")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")


def _unique_name(checkpoint: str, taken: set[str]) -> str:
    """Checkpoint file stem; folder/stem (then a counter) when that name is taken."""
    path = Path(checkpoint)
    candidates = [path.stem, f"{path.parent.name}/{path.stem}"]
    name = next((c for c in candidates if c not in taken), None)
    count = 2
    while name is None or name in taken:
        name, count = f"{candidates[1]}-{count}", count + 1
    taken.add(name)
    return name


def run(args: argparse.Namespace) -> int:
    from stemrestore.errors import ConfigError
    from stemrestore.evaluate import EvalConfig, evaluate, identity, load_pairs, restorer_estimator, table_markdown

    if not args.checkpoint and not args.baseline:
        raise ConfigError("give at least one --checkpoint or --baseline identity")
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {args.limit}")
    config = EvalConfig(
        segment_seconds=args.segment_seconds,
        silence_db=args.silence_db,
        rank_metric=args.rank_metric,
        plots=not args.no_plots,
        paired_against=args.paired_against,
        erased_below_db=args.erased_below_db,
        by_effect=not args.no_by_effect,
    )
    pairs = load_pairs(args.testset)[: args.limit]
    estimators = [identity() for _ in dict.fromkeys(args.baseline)]
    taken = {e.name for e in estimators}
    for checkpoint in args.checkpoint:
        name = _unique_name(checkpoint, taken)
        estimators.append(restorer_estimator(checkpoint, device=args.device, name=name, **window_options(args)))
    summary = evaluate(pairs, estimators, args.out, config)
    print(table_markdown(summary), end="")
    written = "per_example.csv, summary.json, table.md" + ("" if args.no_plots else ", plots/")
    print(f"wrote {written} to {args.out}")
    return 0
