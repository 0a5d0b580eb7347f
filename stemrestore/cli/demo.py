"""``stemrestore demo``: synthesize, degrade, restore and score one song; write a report folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from stemrestore.cli.restore import add_window_arguments, window_options

NAME = "demo"
HELP = "restore a stem of a synthetic (or your own) song and write a report with scores and spectrograms"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo_out"), metavar="DIR",
                        help="report folder (default ./demo_out)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the song and its degradations (default 0)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the synthetic song (default 8)")
    parser.add_argument("--checkpoint", metavar="CK",
                        help="checkpoint to restore with "
                        "(default: the demo checkpoint shipped with stemrestore)")
    parser.add_argument("--input", metavar="FILE", help="restore this recording instead of a synthetic song")
    parser.add_argument("--reference", metavar="FILE",
                        help="clean recording of the target stem for --input, to score the result against")
    parser.add_argument("--renderer", default="soundfont", choices=("soundfont", "procedural"),
                        help="how the synthetic song is rendered (default soundfont)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    add_window_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from stemrestore.demo import run_demo

    report = run_demo(
        args.out,
        seed=args.seed,
        seconds=args.seconds,
        checkpoint=args.checkpoint,
        input_file=args.input,
        reference_file=args.reference,
        device=args.device,
        renderer=args.renderer,
        progress=not args.quiet,
        restorer_options=window_options(args),
    )
    print(report.summary())
    return 0
