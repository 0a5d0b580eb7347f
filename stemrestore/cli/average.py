"""``stemrestore average``: one checkpoint whose weights are the mean of several of one run's."""

from __future__ import annotations

import argparse

NAME = "average"
HELP = "average the weights of several checkpoints of one run (e.g. its last few steps) into one checkpoint"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources", metavar="CK", nargs="+",
        help="checkpoints to average: RUN_DIR/checkpoints/step_N.pt files or .safetensors pairs of one model",
    )
    parser.add_argument("--out", required=True, help="output NAME (writes NAME.safetensors + NAME.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")


def run(args: argparse.Namespace) -> int:
    from stemrestore.models import average_checkpoints

    path = average_checkpoints(args.sources, args.out, overwrite=args.overwrite)
    print(f"{path} (the mean of {len(args.sources)} checkpoints)")
    return 0
