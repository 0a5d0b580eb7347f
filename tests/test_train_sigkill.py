"""A training process killed with SIGKILL leaves a loadable latest checkpoint.

The killed processes are real subprocesses: the first is stopped while it is
half-way through writing a checkpoint (its ``torch.save`` hangs after writing
half the bytes), the second, resuming the same run, at a random moment of a run
that checkpoints every step. Each time the newest checkpoint must load, and
training must go on from it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from stemrestore.train import Trainer, load_config
from stemrestore.train.checkpointing import (
    checkpoint_dir,
    latest_checkpoint,
    load_latest,
    load_state,
    step_checkpoints,
)
from stemrestore.train.data import SyntheticPairs

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "tiny.yaml"
SETTINGS = [
    "data.segment_seconds=0.1", "data.batch_size=2", "schedule.stage2_step=null",
    "checkpoint.every=1", "checkpoint.keep_last=2", "schedule.max_steps=100000",
    "logging.progress=false", "logging.tensorboard=false", "runtime.threads=1",
]

SCRIPT = textwrap.dedent(
    """
    import io, os, sys, time
    from pathlib import Path
    import torch
    from stemrestore.train import Trainer, load_config
    from stemrestore.train.data import SyntheticPairs

    run_dir, slow, config, settings = sys.argv[1], sys.argv[2] == "slow", sys.argv[3], sys.argv[4:]
    if slow:
        real_save, calls = torch.save, []

        def half_then_hang(obj, f, *args, **kwargs):
            calls.append(1)
            if len(calls) < 2:
                return real_save(obj, f, *args, **kwargs)
            buf = io.BytesIO()
            real_save(obj, buf, *args, **kwargs)
            data = buf.getvalue()
            f.write(data[: len(data) // 2])
            f.flush()
            os.fsync(f.fileno())
            Path(run_dir, "writing").touch()
            time.sleep(600)

        torch.save = half_then_hang
    cfg = load_config(config, settings)
    factory = lambda c: SyntheticPairs(16, c.data.segment_seconds, c.model.sample_rate, c.seed)
    Trainer(cfg, run_dir, resume=True, dataset_factory=factory).train()
    """
)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "kill_me.py"
    path.write_text(SCRIPT)
    return path


def start(script: Path, run_dir: Path, mode: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(script), str(run_dir), mode, str(TINY), *SETTINGS],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def wait_for(condition, proc: subprocess.Popen, timeout: float = 300.0) -> None:
    # Generous: a child starting torch on cores a training run holds took more than 90 s here once.
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"training process exited early: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("training process made no progress")
        time.sleep(0.02)


def newest_step(run_dir: Path) -> int:
    found = step_checkpoints(run_dir)
    return found[-1][0] if found else 0


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_mid_write_or_at_random_leaves_a_loadable_latest(tmp_path, script):
    run_dir = tmp_path / "run"
    folder = checkpoint_dir(run_dir)
    # 1. Killed half-way through writing its second checkpoint.
    proc = start(script, run_dir, "slow")
    wait_for(lambda: (run_dir / "writing").exists(), proc)
    kill(proc)
    partial = [p for p in folder.iterdir() if p.name.startswith(".step_000002.pt")]
    assert len(partial) == 1 and partial[0].stat().st_size > 0  # the half-written file is there...
    assert latest_checkpoint(run_dir).name == "step_000001.pt"  # ...but never taken for a checkpoint
    assert load_state(latest_checkpoint(run_dir))["step"] == 1
    # 2. A second process resumes (clearing the debris), checkpoints every step and is killed at
    #    a random moment after its own first checkpoint: mid-step, mid-write or mid-prune.
    proc = start(script, run_dir, "random")
    wait_for(lambda: newest_step(run_dir) > 1, proc)
    time.sleep(float(np.random.default_rng(3).uniform(0.0, 0.4)))
    kill(proc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unreadable newest checkpoint would warn and be skipped
        path, state = load_latest(run_dir)
    assert path == latest_checkpoint(run_dir) and state["step"] > 1
    assert not partial[0].exists()  # the first process's half-written file was cleared
    # 3. And training goes on from it, in this process.
    cfg = load_config(TINY, SETTINGS + [f"schedule.max_steps={state['step'] + 1}"])
    threads = torch.get_num_threads()
    try:
        factory = lambda c: SyntheticPairs(16, c.data.segment_seconds, c.model.sample_rate, c.seed)  # noqa: E731
        assert Trainer(cfg, run_dir, resume=True, dataset_factory=factory).train().step == state["step"] + 1
    finally:
        torch.set_num_threads(threads)
