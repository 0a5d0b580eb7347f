"""``stemrestore train`` end to end on a small RawStems tree, through the online protocol."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from stemrestore.audio import save_audio
from stemrestore.cli import main
from stemrestore.models import load_checkpoint
from stemrestore.train.checkpointing import load_state, step_checkpoints

TINY = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"
FAST = [
    "data.segment_seconds=0.25", "data.batch_size=2", "data.num_workers=1", "schedule.stage2_step=null",
    "checkpoint.every=1", "logging.every=1", "logging.progress=false", "logging.tensorboard=false",
    "runtime.threads=1",
]


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def rawstems(root: Path, songs: int = 2, sr: int = 44100) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(int(0.6 * sr)) / sr
    for s in range(songs):
        song = root / "RawStems" / f"Artist {s}|Song {s}"
        voice = 0.3 * np.sin(2 * np.pi * (220 + 20 * s) * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
        save_audio(song / "Voc" / "LV" / "Lead Vox.wav", voice[None].astype(np.float32), sr)
        bass = 0.3 * np.sign(np.sin(2 * np.pi * 55 * t))
        save_audio(song / "Bass" / "Bass DI.wav", bass[None].astype(np.float32), sr)
        guitar = 0.1 * rng.standard_normal((2, t.size))
        save_audio(song / "Gtr" / "EG" / "Gtr L.wav", guitar.astype(np.float32), sr)
    return root


def test_train_then_resume_from_the_command_line(tmp_path, capsys):
    data, run = rawstems(tmp_path / "data"), tmp_path / "run"
    args = ["--config", str(TINY), "--data", str(data), "--out", str(run), "--max-steps", "2"]
    code = main(["train", *args, *FAST])
    assert code == 0, capsys.readouterr().err
    assert [s for s, _ in step_checkpoints(run)] == [1, 2]
    saved = load_state(step_checkpoints(run)[-1][1])
    assert saved["config"]["data"]["root"] == str(data)
    # --resume without --config reads RUN_DIR/config.yaml; --max-steps extends the run.
    code = main(["train", "--out", str(run), "--resume", "--max-steps", "3"])
    assert code == 0, capsys.readouterr().err
    assert step_checkpoints(run)[-1][0] == 3
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]
    assert "resumed from" in (run / "train.log").read_text()
    model = load_checkpoint(run / "export" / "final" / "Voc.safetensors")
    assert model.meta["target"] == "Voc" and model.meta["training"]["steps"] == 3
    out = capsys.readouterr().out
    assert "trained to step 3" in out


def test_a_missing_data_root_is_a_one_line_error(tmp_path, capsys):
    code = main(["train", "--config", str(TINY), "--out", str(tmp_path / "run"), *FAST])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "data.root: no training data given" in err[0]
