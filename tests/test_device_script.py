"""scripts/device_train.sh, the one-call training run for a lent GPU machine, works here on CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stemrestore.models.checkpoint import load_checkpoint
from stemrestore.restore import Restorer

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_the_device_script_trains_and_leaves_a_loadable_export_and_average(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "OUT": str(out), "WORK": str(tmp_path / "work"), "PYTHON": sys.executable,
           "SONGS": "4", "BENCHMARK": "0", "CONFIG": "configs/tiny.yaml"}
    overrides = ["schedule.max_steps=6", "schedule.stage2_step=null", "checkpoint.every=2",
                 "checkpoint.keep_last=5", "data.segment_seconds=0.5", "data.batch_size=2", "runtime.threads=1"]
    done = subprocess.run(["bash", str(ROOT / "scripts" / "device_train.sh"), "5", *overrides],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"final.safetensors", "final.json", "average.safetensors", "average.json", "train.log",
            "device.txt"} <= {p.name for p in out.iterdir()}
    assert "synth: 4 songs" in (out / "device.txt").read_text()
    final, average = load_checkpoint(out / "final"), load_checkpoint(out / "average")
    assert final.meta["training"]["steps"] == 6
    # The average of steps 2, 4 and 6 differs from step 6 alone.
    weights = [dict(m.state_dict()) for m in (final, average)]
    assert any(not np.allclose(weights[0][k].numpy(), weights[1][k].numpy()) for k in weights[0])
    audio = np.random.default_rng(0).standard_normal((2, 8000)).astype(np.float32) * 0.1
    restored = Restorer(average, chunk_seconds=0.5).restore(audio, 44100)
    assert restored.shape == audio.shape and np.isfinite(restored).all()
