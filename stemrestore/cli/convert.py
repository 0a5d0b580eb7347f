"""``stemrestore convert``: turn a paper-release ``.pth`` or a training checkpoint into stemrestore's format."""

from __future__ import annotations

import argparse

NAME = "convert"
HELP = "convert a released U-Former .pth or a training checkpoint into a .safetensors + .json checkpoint"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", metavar="IN", help="checkpoint to convert: a paper .pth such as vocals.pth, or RUN_DIR/checkpoints/step_N.pt"
    )
    parser.add_argument(
        "out", metavar="OUT", help="output NAME (writes NAME.safetensors + NAME.json) or folder"
    )
    parser.add_argument(
        "--target", help="class id to store (default: from the file name, e.g. vocals -> Voc; else 'unknown')"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")


def run(args: argparse.Namespace) -> int:
    from stemrestore.models import convert_checkpoint, read_checkpoint_meta

    path = convert_checkpoint(args.source, args.out, target=args.target, overwrite=args.overwrite)
    meta = read_checkpoint_meta(path)
    print(f"{path} (target {meta['target']}, {meta['sample_rate']} Hz)")
    return 0
