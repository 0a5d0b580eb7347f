"""``stemrestore train``: train a restoration model (works under ``torchrun`` too)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "train"
HELP = "train a U-Former restoration model (stage 1: waveform L1; stage 2: + LSGAN)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="YAML",
        help="training config, e.g. configs/paper/vocals.yaml or configs/tiny.yaml "
        "(default: RUN_DIR/config.yaml with --resume, else the paper's settings)",
    )
    parser.add_argument("--data", metavar="ROOT", help="RawStems root (sets data.root)")
    parser.add_argument("--out", metavar="RUN_DIR", help="run folder (default: runs/<config name>)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in RUN_DIR")
    parser.add_argument("--max-steps", type=int, metavar="N", help="stop after step N (sets schedule.max_steps)")
    parser.add_argument(
        "--max-minutes",
        type=float,
        metavar="M",
        help="stop at the first step after M minutes of this process's training, checkpointed and "
        "exported; --resume goes on (sets schedule.max_minutes)",
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="change any config field, e.g. optim.lr=1e-3 data.batch_size=2 schedule.stage2_step=null",
    )


def _run_dir(args: argparse.Namespace) -> Path:
    if args.out:
        return Path(args.out)
    return Path("runs") / (Path(args.config).stem if args.config else "train")


def run(args: argparse.Namespace) -> int:
    from stemrestore.train import Trainer, load_config
    from stemrestore.train.trainer import CONFIG_FILE

    run_dir = _run_dir(args)
    config_path = args.config
    if config_path is None and args.resume and (run_dir / CONFIG_FILE).is_file():
        config_path = run_dir / CONFIG_FILE
    overrides = list(args.overrides)
    if args.max_steps is not None:
        overrides.append(f"schedule.max_steps={args.max_steps}")
    if args.max_minutes is not None:
        overrides.append(f"schedule.max_minutes={args.max_minutes}")
    config = load_config(config_path, overrides)
    if args.data:
        config.data.root = str(args.data)  # set directly: a path is not YAML to parse
    result = Trainer(config, run_dir, resume=args.resume).train()
    if result.export is not None:
        print(f"trained to step {result.step}; checkpoint {result.checkpoint}; model {result.export}")
    return 0
