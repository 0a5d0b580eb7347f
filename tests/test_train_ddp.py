"""DistributedDataParallel smoke test: 2 CPU processes with Gloo keep identical weights."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp

from stemrestore.train import Trainer, load_config
from stemrestore.train.checkpointing import step_checkpoints
from stemrestore.train.data import SyntheticPairs

TINY = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"
SETTINGS = [
    "data.segment_seconds=0.1", "data.batch_size=4", "data.stage2_batch_size=2",
    "schedule.max_steps=3", "schedule.stage2_step=1", "checkpoint.every=3",
    "gan.discriminator.periods=[2,3]", "gan.discriminator.fft_sizes=[128]",
    "logging.progress=false", "logging.tensorboard=false", "runtime.threads=1", "runtime.device=cpu",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, world: int, port: int, run_dir: str, out_dir: str) -> None:
    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )
    cfg = load_config(TINY, SETTINGS)
    factory = lambda c: SyntheticPairs(16, c.data.segment_seconds, c.model.sample_rate, c.seed)  # noqa: E731
    trainer = Trainer(cfg, run_dir, dataset_factory=factory)
    initial = {k: v.clone() for k, v in trainer.generator.named_parameters()}
    trainer.train()
    torch.save(
        {
            "initial": initial,
            "generator": dict(trainer.generator.named_parameters()),
            "discriminator": dict(trainer.discriminator.named_parameters()),
            "world": trainer.ctx.world_size,
        },
        Path(out_dir) / f"rank{rank}.pt",
    )


def test_two_gloo_ranks_keep_identical_weights(tmp_path):
    mp.spawn(worker, args=(2, free_port(), str(tmp_path / "run"), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    for net in ("generator", "discriminator"):
        assert r0[net].keys() == r1[net].keys()
        for key in r0[net]:
            assert torch.equal(r0[net][key], r1[net][key]), f"{net}.{key} differs between ranks"
    moved = [k for k in r0["initial"] if not torch.equal(r0["initial"][k], r0["generator"][k])]
    assert moved, "no generator weight changed: nothing was trained"
    # Only rank 0 writes: one checkpoint, no duplicates from rank 1.
    assert [s for s, _ in step_checkpoints(tmp_path / "run")] == [3]
