"""stemrestore make-testset: the offline test set of one class (paper §4.3)."""

from __future__ import annotations

import argparse

NAME = "make-testset"
HELP = "degrade test songs N times into a reproducible offline test set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="RawStems (or synthetic corpus) root folder")
    p.add_argument("--target", default="Voc", help="class id to restore, e.g. Voc, Gtr_EG (default: Voc)")
    p.add_argument("--n", type=int, default=1000, help="number of examples (default: 1000, as the paper)")
    p.add_argument("--split-file", help="<class>_test.txt listing the test songs (default: all songs)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--seconds", type=float, default=10.0, help="segment length in seconds (default: 10)")
    p.add_argument("--sr", type=int, default=44100, help="sample rate (default: 44100)")
    p.add_argument("--config", help="degradation protocol YAML (default: the paper's settings)")


def run(args: argparse.Namespace) -> int:
    from stemrestore.data.testset import make_testset
    from stemrestore.degrade import DegradationProtocol
    from stemrestore.errors import ConfigError

    if args.n < 1:
        raise ConfigError(f"--n must be at least 1, got {args.n}")
    protocol = DegradationProtocol.from_yaml(args.config) if args.config else None
    index = make_testset(
        args.root,
        args.out,
        target=args.target,
        n=args.n,
        split_file=args.split_file,
        seed=args.seed,
        segment_seconds=args.seconds,
        sr=args.sr,
        protocol=protocol,
    )
    print(f"wrote {args.n} examples; index: {index}")
    return 0
