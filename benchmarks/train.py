"""Training throughput: model steps/s and examples/s, and the online dataset's items/s.

    python benchmarks/train.py                       # tiny config on this CPU
    python benchmarks/train.py --data /path/RawStems # measure the real online dataset
    python benchmarks/train.py --steps 20 --threads 2
    python benchmarks/train.py --config configs/demo/vocals.yaml model.n_layer=6 --json rates.json

The model is timed on one fixed in-memory batch (no data cost), for stage 1
(L1) and, when the config trains one, stage 2 (L1 + GAN) separately; with a
GPU the paper config is timed too. KEY=VALUE overrides change ``--config``
(as ``stemrestore train`` takes them), so the exact run to be made can be
timed. The dataset is timed through a DataLoader with the configured workers
(default: a small synthetic RawStems corpus made on the fly). If examples/s
of the model exceeds the dataset's items/s, data loading is the bottleneck:
raise ``data.num_workers``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from itertools import islice
from pathlib import Path

import torch

from stemrestore.train import Trainer, load_config
from stemrestore.train.config import TrainConfig
from stemrestore.train.data import Position, SyntheticPairs, make_loader, msr_dataset
from stemrestore.train.distributed import Context, pick_device

REPO = Path(__file__).resolve().parents[1]


def time_model(config: TrainConfig, stage: int, steps: int, warmup: int, run_dir: Path) -> tuple[float, int]:
    """Steps/s of ``stage`` on one fixed batch of the stage's batch size."""
    config.schedule.stage2_step = 0 if stage == 2 else None
    config.logging.progress = config.logging.tensorboard = False
    batch = config.batch_size(0)
    data = SyntheticPairs(batch, config.data.segment_seconds, config.model.sample_rate, config.seed)
    trainer = Trainer(config, run_dir / f"stage{stage}", dataset_factory=lambda c: data)
    mixture = torch.stack([data[i][0] for i in range(batch)])
    target = torch.stack([data[i][1] for i in range(batch)])
    for _ in range(warmup):
        trainer.train_step(mixture, target)
    sync = torch.cuda.synchronize if trainer.ctx.device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(mixture, target)
    sync()
    return steps / (time.perf_counter() - start), batch


def synthetic_corpus(root: Path, seconds: float, target: str) -> Path:
    """A few synthetic songs that all contain ``target`` (via the project's generator)."""
    from stemrestore.data.synth import generate_corpus

    classes = {"Voc": "Voc_LV", "Gtr": "Gtr_EG", "Kbs": "Kbs_PN", "Rhy": "Rhy_DK", "Orch": "Orch_STR"}
    pool = (classes.get(target, target), "Bass", "Rhy_DK", "Gtr_AG", "Kbs_EP")
    generate_corpus(root, n_songs=4, seconds=seconds, seed=0, classes=tuple(dict.fromkeys(pool)), progress=False)
    return root


def time_dataset(config: TrainConfig, items: int) -> float:
    """Items/s of the online dataset through a DataLoader with ``data.num_workers`` workers."""
    dataset = msr_dataset(config)
    ctx = Context(0, 1, 0, torch.device("cpu"))
    batch = 1
    loader = iter(make_loader(dataset, config, ctx, Position(), batch))
    next(loader)  # worker start-up is not throughput
    start = time.perf_counter()
    n = sum(1 for _ in islice(loader, items))
    return n * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(REPO / "configs" / "tiny.yaml"))
    parser.add_argument("--paper-config", default=str(REPO / "configs" / "paper" / "vocals.yaml"))
    parser.add_argument("--steps", type=int, default=10, help="timed steps per stage")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--data", help="RawStems root for the dataset timing (default: synthetic corpus)")
    parser.add_argument("--workers", type=int, help="DataLoader workers (default: the config's)")
    parser.add_argument("--items", type=int, default=16, help="dataset items timed")
    parser.add_argument("--json", metavar="FILE", help="also write --config's figures to FILE as JSON")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="changes to --config's fields")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    workers = [f"data.num_workers={args.workers}"] if args.workers is not None else []
    mine = workers + args.overrides
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {pick_device('auto')}")
    figures: dict[str, object] = {"config": args.config, "overrides": args.overrides, "steps_per_s": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # The last field marks the run whose figures --json writes.
        runs = [(Path(args.config).stem, args.config, mine, True)]
        if torch.cuda.is_available():
            runs.append(("paper", args.paper_config, workers, False))
        width = max(len(run[0]) for run in runs)
        for name, path, overrides, recorded in runs:
            stages = (1, 2) if load_config(path, overrides).schedule.stage2_step is not None else (1,)
            for stage in stages:
                config = load_config(path, overrides)
                rate, batch = time_model(config, stage, args.steps, args.warmup, tmp / name)
                seg = config.data.segment_seconds
                print(
                    f"{name:{width}s} stage {stage}: {rate:7.2f} steps/s, {rate * batch:7.2f} examples/s "
                    f"(batch {batch} x {seg:g} s)"
                )
                if recorded:
                    figures["steps_per_s"][str(stage)] = rate
                    figures.setdefault("batch", {})[str(stage)] = batch
        config = load_config(args.config, mine)
        root = args.data or synthetic_corpus(tmp / "corpus", config.data.segment_seconds + 2.0, config.data.target)
        config.data.root = str(root)
        rate = time_dataset(config, args.items)
        source = "RawStems at " + str(args.data) if args.data else "synthetic corpus"
        print(
            f"dataset ({source}): {rate:.2f} items/s of {config.data.segment_seconds:g} s "
            f"with {config.data.num_workers} workers"
        )
        figures.update(dataset_items_per_s=rate, segment_seconds=config.data.segment_seconds,
                       workers=config.data.num_workers)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
