"""The training loop on a tiny U-Former: loss falls, GAN stage, NaN guard, validation, export."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from stemrestore.audio import save_audio
from stemrestore.errors import ConfigError
from stemrestore.metrics import si_sdr
from stemrestore.models import UFormer, load_checkpoint
from stemrestore.models.checkpoint import describe_origin, origin_of
from stemrestore.train import Trainer, TrainingError, load_config
from stemrestore.train.checkpointing import BEST, checkpoint_dir, load_state, step_checkpoints
from stemrestore.train.data import SyntheticPairs
from stemrestore.train.trainer import _name_list

TINY = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"
FAST = [
    "data.segment_seconds=0.25",
    "logging.every=1",
    "logging.progress=false",
    "logging.tensorboard=false",
    "runtime.threads=1",
    "gan.discriminator.periods=[2,3]",
    "gan.discriminator.fft_sizes=[256,128]",
]


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def config(*overrides: str):
    return load_config(TINY, FAST + list(overrides))


def synthetic(cfg):
    return SyntheticPairs(32, cfg.data.segment_seconds, cfg.model.sample_rate, cfg.seed)


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_twenty_steps_lower_the_loss_and_export_a_loadable_model(tmp_path):
    cfg = config("schedule.max_steps=20", "schedule.stage2_step=null", "checkpoint.every=20", "data.batch_size=2")
    result = Trainer(cfg, tmp_path, dataset_factory=synthetic).train()
    losses = [r["loss/l1"] for r in records(tmp_path) if "loss/l1" in r]
    assert len(losses) == 20
    assert np.mean(losses[-3:]) < 0.6 * np.mean(losses[:3])
    # The exported model is the trained generator, in the inference format.
    assert result.export.suffix == ".safetensors" and result.export.with_suffix(".json").is_file()
    model = load_checkpoint(result.export)
    assert model.meta["target"] == "Voc"
    trained = UFormer(cfg.model)
    trained.load_state_dict(load_state(result.checkpoint)["generator"])
    trained.eval()
    x = synthetic(cfg)[0][0][None]
    with torch.inference_mode():
        assert torch.allclose(model(x), trained(x), atol=1e-6)


@pytest.mark.parametrize("precision, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_cpu_precision_sets_the_compute_dtype_and_the_run_still_learns(tmp_path, precision, dtype):
    cfg = config(
        f"runtime.cpu_precision={precision}", "schedule.max_steps=20", "schedule.stage2_step=null",
        "checkpoint.every=20", "data.batch_size=2",
    )
    trainer = Trainer(cfg, tmp_path, dataset_factory=synthetic)
    seen: set[torch.dtype] = set()
    linears = [m for m in trainer.generator.modules() if isinstance(m, torch.nn.Linear)]
    assert linears
    for layer in linears:
        layer.register_forward_hook(lambda module, args, out: seen.add(out.dtype))
    result = trainer.train()
    assert seen == {dtype}
    losses = [r["loss/l1"] for r in records(tmp_path) if "loss/l1" in r]
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.6 * np.mean(losses[:3])
    # Autocast changes the compute, never the stored weights.
    assert {p.dtype for p in load_checkpoint(result.export).parameters()} == {torch.float32}


def test_stage_two_trains_the_discriminator_with_the_smaller_batch(tmp_path):
    cfg = config("schedule.max_steps=4", "schedule.stage2_step=2", "checkpoint.every=2")
    trainer = Trainer(cfg, tmp_path, dataset_factory=synthetic)
    before = {k: v.clone() for k, v in trainer.discriminator.state_dict().items()}
    trainer.train()
    rows = {r["step"]: r for r in records(tmp_path)}
    assert "loss/discriminator" not in rows[2] and "loss/discriminator" in rows[3]
    # total = L1 + 0.001 L_gen + 0.01 L_feat, as logged
    r = rows[4]
    expected = r["loss/l1"] + 0.001 * r["loss/adversarial"] + 0.01 * r["loss/feature"]
    assert r["loss/total"] == pytest.approx(expected, rel=1e-5)
    after = trainer.discriminator.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if k.endswith("original"))
    # 2 steps of 4 examples, then 2 of 2: the data position moved by 12 (32 items, one epoch).
    assert (trainer.position.epoch, trainer.position.offset) == (0, 12)
    assert rows[4]["perf/examples_per_second"] == pytest.approx(2 * rows[4]["perf/steps_per_second"])


class Poisoned(torch.utils.data.Dataset):
    """Synthetic pairs whose mixtures are NaN for the items in ``bad`` (or all items)."""

    def __init__(self, base, bad=None):
        self.base, self.bad = base, bad

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        mixture, target = self.base[i]
        if self.bad is None or i in self.bad:
            mixture = torch.full_like(mixture, float("nan"))
        return mixture, target


def test_a_non_finite_step_is_skipped_and_logged(tmp_path):
    cfg = config("schedule.max_steps=3", "schedule.stage2_step=null", "data.batch_size=2")
    first_batch = set(np.random.default_rng([cfg.seed, 0]).permutation(32)[:2].tolist())
    trainer = Trainer(cfg, tmp_path, dataset_factory=lambda c: Poisoned(synthetic(c), first_batch))
    initial = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    result = trainer.train()
    assert result.step == 3
    log = (tmp_path / "train.log").read_text()
    assert "step 1: non-finite loss or gradient, step skipped" in log
    assert "step 2: non-finite" not in log
    rows = records(tmp_path)
    assert [r["step"] for r in rows if r.get("train/skipped_step")] == [1]
    # NaN input must not leak into BatchNorm statistics either.
    assert all(torch.isfinite(v).all() for v in trainer.generator.state_dict().values())
    assert any(not torch.equal(initial[k], v) for k, v in trainer.generator.state_dict().items())


def test_repeated_non_finite_steps_stop_naming_the_last_good_checkpoint(tmp_path):
    cfg = config("schedule.max_steps=2", "schedule.stage2_step=null", "checkpoint.every=2")
    Trainer(cfg, tmp_path, dataset_factory=synthetic).train()
    more = config("schedule.max_steps=10", "schedule.stage2_step=null", "optim.max_nonfinite=3")
    trainer = Trainer(more, tmp_path, resume=True, dataset_factory=lambda c: Poisoned(synthetic(c)))
    with pytest.raises(TrainingError) as info:
        trainer.train()
    message = str(info.value)
    assert "stopped at step 5" in message and "steps 3-5" in message
    assert str(checkpoint_dir(tmp_path) / "step_000002.pt") in message


def make_testset(folder: Path, cfg, n: int = 2) -> Path:
    data = SyntheticPairs(n, 0.5, cfg.model.sample_rate, seed=99)
    lines = []
    for i in range(n):
        mixture, target = (t.numpy() for t in data[i])
        save_audio(folder / f"{i}" / "mixture.wav", mixture, cfg.model.sample_rate)
        save_audio(folder / f"{i}" / "target.wav", target, cfg.model.sample_rate)
        lines.append(json.dumps({"id": f"ex{i}", "mixture": f"{i}/mixture.wav", "target": f"{i}/target.wav"}))
    (folder / "index.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_validation_scores_keeps_the_best_and_logs_examples(tmp_path):
    testset = make_testset(tmp_path / "val", load_config(TINY))
    cfg = config(
        "schedule.max_steps=4", "schedule.stage2_step=null", "checkpoint.every=2", "data.batch_size=2",
        "validation.every=2", f"validation.testset={testset}", "validation.audio_examples=1",
        "logging.tensorboard=true",
    )
    result = Trainer(cfg, tmp_path / "run", dataset_factory=synthetic).train()
    rows = [r for r in records(tmp_path / "run") if "val/si_sdr" in r]
    assert [r["step"] for r in rows] == [2, 4]
    best_row = max(rows, key=lambda r: r["val/si_sdr"])
    assert result.best == {"metric": "si_sdr", "value": best_row["val/si_sdr"], "step": best_row["step"]}
    # best.pt really is the model that scored that: re-score it independently.
    state = load_state(checkpoint_dir(tmp_path / "run") / BEST)
    assert state["step"] == best_row["step"]
    model = load_checkpoint(tmp_path / "run" / "export" / "best" / "Voc.safetensors")
    data = SyntheticPairs(2, 0.5, cfg.model.sample_rate, seed=99)
    scores = []
    for i in range(2):
        mixture, target = data[i]
        with torch.inference_mode():
            restored = model(mixture[None])[0].numpy()
        scores.append(si_sdr(restored, target.numpy()))
    assert np.mean(scores) == pytest.approx(best_row["val/si_sdr"], abs=1e-3)
    assert len(list((tmp_path / "run" / "samples").glob("step_000002_ex0.png"))) == 1
    assert list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))


def test_keeps_the_last_k_checkpoints_and_refuses_to_overwrite_a_run(tmp_path):
    cfg = config(
        "schedule.max_steps=5", "schedule.stage2_step=null", "checkpoint.every=1", "checkpoint.keep_last=2"
    )
    Trainer(cfg, tmp_path, dataset_factory=synthetic).train()
    assert [s for s, _ in step_checkpoints(tmp_path)] == [4, 5]
    state = torch.load(step_checkpoints(tmp_path)[-1][1], weights_only=True)
    assert {"generator", "discriminator", "optim_g", "optim_d", "sched_g", "sched_d", "rng", "config",
            "step", "position"} <= set(state)
    with pytest.raises(ConfigError, match="already holds checkpoints; pass --resume"):
        Trainer(cfg, tmp_path, dataset_factory=synthetic)


def test_the_origin_of_a_run_names_the_weights_file_it_read(tmp_path):
    exported = Trainer(config("schedule.max_steps=1", "schedule.stage2_step=null"), tmp_path,
                       dataset_factory=synthetic).train().export
    digest = hashlib.sha256(exported.read_bytes()).hexdigest()
    for given in (exported, exported.with_suffix(".json"), exported.with_suffix(""), exported.parent):
        assert describe_origin(given) == {"path": str(given), "sha256": digest}
    # a training state written before the hash was recorded names only the path
    assert origin_of({"config": {"checkpoint": {"init_from": "a.pt"}}}) == {"path": "a.pt"}
    assert origin_of({"config": {"checkpoint": {"init_from": None}}}) is None


def test_the_log_names_at_most_eight_fresh_tensors():
    names = [f"block{i}.weight" for i in range(11)]
    assert _name_list(names[:2]) == "block0.weight, block1.weight"
    assert _name_list(names) == ", ".join(names[:8]) + " and 3 more"


def test_a_new_run_starts_from_the_weights_of_init_from(tmp_path):
    first = Trainer(config("schedule.max_steps=2", "schedule.stage2_step=null"), tmp_path / "a",
                    dataset_factory=synthetic).train()
    source = load_checkpoint(first.export).state_dict()
    grown_cfg = config("schedule.max_steps=2", "schedule.stage2_step=null", "model.head=mask_map",
                       f"checkpoint.init_from={first.export}")
    grown = Trainer(grown_cfg, tmp_path / "b", dataset_factory=synthetic)
    state = grown.generator.state_dict()
    assert all(torch.equal(state[name], tensor) for name, tensor in source.items())
    assert not state["mask_fc.weight"].any()
    assert "new or widened: mask_fc.bias, mask_fc.weight" in (tmp_path / "b" / "train.log").read_text()
    result = grown.train()
    origin = {"path": str(first.export), "sha256": hashlib.sha256(first.export.read_bytes()).hexdigest()}
    for loaded in (load_checkpoint(result.export), load_checkpoint(result.checkpoint)):
        assert loaded.meta["training"]["init_from"] == origin
    # overwriting the source in place leaves the record naming the weights the run started from
    first.export.write_bytes(first.export.read_bytes()[:-1] + b" ")
    again = Trainer(grown_cfg, tmp_path / "b", resume=True, dataset_factory=synthetic)
    assert again.origin == origin
    # resuming takes the run's own weights: init_from is not read again
    moved = torch.load(step_checkpoints(tmp_path / "b")[-1][1], weights_only=True)["generator"]
    again = again.generator.state_dict()
    assert all(torch.equal(again[name], tensor) for name, tensor in moved.items())
    assert not torch.equal(again["post_fc.weight"], source["post_fc.weight"])
