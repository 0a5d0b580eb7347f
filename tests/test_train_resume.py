"""Resuming is exact: 10 steps straight equal 5 steps, a new process-like Trainer, 5 more."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest
import torch

from stemrestore.errors import ConfigError
from stemrestore.train import Trainer, load_config
from stemrestore.train import trainer as trainer_module
from stemrestore.train.checkpointing import load_latest, load_state, step_checkpoints
from stemrestore.train.data import SyntheticPairs

TINY = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"
# Stage 2 from step 3 (batch 2 -> 1, so the data loader is rebuilt there): the runs cover the
# stage switch, the discriminator, both optimisers, both warm-ups and an epoch boundary.
SETTINGS = [
    "data.segment_seconds=0.1", "data.batch_size=2", "data.stage2_batch_size=1", "data.num_workers=0",
    "schedule.stage2_step=3", "schedule.warmup_steps=4", "checkpoint.every=5",
    "gan.discriminator.periods=[2,3]", "gan.discriminator.fft_sizes=[128]",
    "logging.progress=false", "logging.tensorboard=false", "runtime.threads=1",
]


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def synthetic(cfg):
    # 12 items: the run crosses an epoch boundary (and reshuffles) mid-way.
    return SyntheticPairs(12, cfg.data.segment_seconds, cfg.model.sample_rate, cfg.seed)


def run(run_dir: Path, max_steps: int, resume: bool = False) -> Trainer:
    cfg = load_config(TINY, SETTINGS + [f"schedule.max_steps={max_steps}"])
    trainer = Trainer(cfg, run_dir, resume=resume, dataset_factory=synthetic)
    trainer.train()
    return trainer


def test_five_plus_resume_plus_five_equals_ten_straight(tmp_path):
    straight = run(tmp_path / "straight", 10)
    run(tmp_path / "split", 5)
    resumed = run(tmp_path / "split", 10, resume=True)
    assert resumed.step == straight.step == 10
    for name in ("generator", "discriminator"):
        a, b = getattr(straight, name).state_dict(), getattr(resumed, name).state_dict()
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), f"{name}.{key} differs after resume"
    for opt in ("opt_g", "opt_d"):
        sa, sb = (getattr(t.learner, opt).state_dict()["state"] for t in (straight, resumed))
        assert all(torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) for i in sa)
    assert straight.position == resumed.position
    # The weights did move: equality is not the trivial "nothing trained".
    fresh = Trainer(straight.config, tmp_path / "fresh", dataset_factory=synthetic).generator.state_dict()
    assert any(not torch.equal(fresh[k], v) for k, v in straight.generator.state_dict().items())


class _Clock:
    """``time`` for the trainer with a ``monotonic`` that advances one second per reading."""

    perf_counter = staticmethod(time.perf_counter)

    def __init__(self) -> None:
        self.now = -1.0

    def monotonic(self) -> float:
        self.now += 1.0
        return self.now


def test_a_time_limit_stops_checkpointed_and_resume_goes_on_exactly(tmp_path, monkeypatch):
    straight = run(tmp_path / "straight", 10)
    # The deadline is read at 0 s and each finished step reads the clock once more (1 s, 2 s, ...),
    # so a limit of 3 s ends the run after step 3.
    monkeypatch.setattr(trainer_module, "time", _Clock())
    cfg = load_config(TINY, SETTINGS + ["schedule.max_steps=10", f"schedule.max_minutes={3 / 60}"])
    limited = Trainer(cfg, tmp_path / "split", dataset_factory=synthetic)
    result = limited.train()
    assert result.step == 3 and limited.stopped_early
    assert [step for step, _ in step_checkpoints(tmp_path / "split")] == [3]
    assert result.export is not None and result.export.with_suffix(".safetensors").is_file()
    assert "step 3: time limit of 0.05 min reached" in (tmp_path / "split" / "train.log").read_text()
    monkeypatch.undo()
    resumed = run(tmp_path / "split", 10, resume=True)
    assert resumed.step == 10 and not resumed.stopped_early
    for key, value in straight.generator.state_dict().items():
        assert torch.equal(value, resumed.generator.state_dict()[key]), f"generator.{key} differs"


def test_resume_with_another_model_is_refused(tmp_path):
    run(tmp_path, 2)
    cfg = load_config(TINY, SETTINGS + ["schedule.max_steps=4", "model.n_layer=2"])
    with pytest.raises(ConfigError, match="another model config"):
        Trainer(cfg, tmp_path, resume=True, dataset_factory=synthetic)


def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    cfg = load_config(TINY, SETTINGS + ["schedule.max_steps=4", "checkpoint.every=2", "schedule.stage2_step=null"])
    Trainer(cfg, tmp_path, dataset_factory=synthetic).train()
    newest = step_checkpoints(tmp_path)[-1][1]
    newest.write_bytes(newest.read_bytes()[:1000])  # e.g. a disk that lost the tail
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path, state = load_latest(tmp_path)
    assert path.name == "step_000002.pt" and state["step"] == 2
    assert any("step_000004.pt" in str(w.message) for w in caught)
    assert load_state(path)["position"] == {"epoch": 0, "offset": 4}


def test_resume_without_checkpoints_starts_fresh(tmp_path):
    trainer = run(tmp_path, 1, resume=True)
    assert trainer.step == 1
