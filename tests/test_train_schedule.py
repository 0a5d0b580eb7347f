"""Recipe settings beyond the paper: cosine decay, rates set by the config on resume, the SI-SDR term."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from stemrestore.errors import ConfigError
from stemrestore.train import Trainer, load_config
from stemrestore.train.data import SyntheticPairs
from stemrestore.train.step import lr_factor

TINY = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"
SETTINGS = [
    "data.segment_seconds=0.1", "data.batch_size=2", "data.num_workers=0", "schedule.stage2_step=null",
    "schedule.warmup_steps=2", "checkpoint.every=5", "logging.progress=false",
    "logging.tensorboard=false", "runtime.threads=1",
]


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_constant_schedule_is_the_papers_linear_warmup():
    f = lr_factor(4, 100)
    assert [f(i) for i in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert f(10_000) == 1.0


def test_cosine_decays_from_one_to_the_floor_at_max_steps():
    f = lr_factor(10, 110, "cosine", 0.1)
    assert f(9) == 1.0 and f(10) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.55)  # half way: the mean of 1 and the floor
    assert f(35) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert f(110) == pytest.approx(0.1) and f(500) == pytest.approx(0.1)
    values = [f(i) for i in range(10, 111)]
    assert all(a >= b for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("override, field", [
    ("schedule.decay=linear", "schedule.decay"), ("schedule.min_lr_ratio=1.5", "schedule.min_lr_ratio"),
])
def test_bad_schedule_settings_are_named(override, field):
    with pytest.raises(ConfigError, match=field):
        load_config(TINY, [override])


def run(run_dir: Path, overrides: list[str], resume: bool = False) -> Trainer:
    cfg = load_config(TINY, SETTINGS + overrides)
    trainer = Trainer(cfg, run_dir, resume=resume,
                      dataset_factory=lambda c: SyntheticPairs(8, c.data.segment_seconds, c.model.sample_rate, c.seed))
    trainer.train()
    return trainer


def test_a_resumed_run_takes_the_learning_rate_of_its_config(tmp_path):
    run(tmp_path, ["schedule.max_steps=5", "optim.lr=1e-3"])
    resumed = run(tmp_path, ["schedule.max_steps=10", "optim.lr=1e-4", "schedule.decay=cosine",
                             "schedule.min_lr_ratio=0.5"], resume=True)
    assert resumed.step == 10
    opt, sched = resumed.learner.opt_g, resumed.learner.sched_g
    expected = 1e-4 * lr_factor(2, 10, "cosine", 0.5)(sched.last_epoch)
    assert opt.param_groups[0]["lr"] == pytest.approx(expected)
    assert sched.base_lrs == [pytest.approx(1e-4)]
    assert expected < 1e-4  # the cosine has decayed by the end


def test_the_optional_si_sdr_term_is_logged_and_added_to_l1(tmp_path):
    trainer = run(tmp_path, ["schedule.max_steps=3", "loss.si_sdr_weight=0.5", "logging.every=1"])
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    logged = [r for r in rows if "loss/si_sdr" in r]
    assert len(logged) == 3 and trainer.step == 3
    for r in logged:
        assert r["loss/total"] == pytest.approx(r["loss/l1"] + 0.5 * r["loss/si_sdr"], rel=1e-5)
