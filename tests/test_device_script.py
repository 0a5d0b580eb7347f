"""scripts/device_train.sh, the one-call training run for a lent GPU machine, works here on CPU."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stemrestore.models.checkpoint import load_checkpoint
from stemrestore.restore import Restorer

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_the_device_script_sizes_trains_and_leaves_a_loadable_export_and_average(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "OUT": str(out), "WORK": str(tmp_path / "work"), "PYTHON": sys.executable,
           "SONGS": "4", "BENCH_ITEMS": "8", "CONFIG": "configs/tiny.yaml"}
    # No schedule.max_steps: the script times this very run and sizes it to 0.3 min.
    overrides = ["schedule.stage2_step=null", "data.segment_seconds=0.5", "data.batch_size=2", "runtime.threads=1"]
    done = subprocess.run(["bash", str(ROOT / "scripts" / "device_train.sh"), "0.3", *overrides],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"final.safetensors", "final.json", "average.safetensors", "average.json", "train.log",
            "device.txt", "benchmark.txt", "benchmark.json"} <= {p.name for p in out.iterdir()}
    figures = json.loads((out / "benchmark.json").read_text())
    rate = min(figures["steps_per_s"]["1"], figures["dataset_items_per_s"] / figures["batch"]["1"])
    assert figures["batch"]["1"] == 2 and figures["segment_seconds"] == 0.5 and list(figures["steps_per_s"]) == ["1"]
    device = (out / "device.txt").read_text()
    assert "synth: 4 songs" in device
    sized = int(re.search(r"sized: (\d+) steps", device).group(1))
    assert sized == max(int(0.9 * 60 * 0.3 * rate), 1)
    final, average = load_checkpoint(out / "final"), load_checkpoint(out / "average")
    # The run ends at the sized step, or earlier at the time limit.
    assert 2 <= final.meta["training"]["steps"] <= sized
    weights = [dict(m.state_dict()) for m in (final, average)]
    assert any(not np.allclose(weights[0][k].numpy(), weights[1][k].numpy()) for k in weights[0])
    audio = np.random.default_rng(0).standard_normal((2, 8000)).astype(np.float32) * 0.1
    restored = Restorer(average, chunk_seconds=0.5).restore(audio, 44100)
    assert restored.shape == audio.shape and np.isfinite(restored).all()
