"""stemrestore split: per-class train/test song lists in the paper's released format (§4.3)."""

from __future__ import annotations

import argparse

NAME = "split"
HELP = "write <class>_train.txt / <class>_test.txt song lists (test: max(10 songs, a tenth) per class)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="RawStems root (the folder holding RawStems/, or RawStems/ itself)")
    p.add_argument("--out", required=True, help="folder for the split files")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--min-test", type=int, default=10, help="fewest test songs per class (default: 10)")
    p.add_argument(
        "--test-fraction", type=float, default=0.1, help="test share of a class's songs (default: 0.1)"
    )


def run(args: argparse.Namespace) -> int:
    from stemrestore.data.rawstems import make_split, scan, write_splits

    splits = make_split(scan(args.root), args.seed, min_test=args.min_test, test_fraction=args.test_fraction)
    write_splits(splits, args.out)
    print(f"{'class':<10} {'train':>6} {'test':>6}")
    for cls, (train, test) in splits.items():
        print(f"{cls:<10} {len(train):>6} {len(test):>6}")
    print(f"wrote {2 * len(splits)} split files to {args.out}")
    return 0
