"""Checkpoint averaging: the mean of several checkpoints' weights, its record and its errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from test_uformer import tiny_model

from stemrestore.cli import main
from stemrestore.errors import CheckpointError
from stemrestore.models import average_checkpoints, load_checkpoint, save_checkpoint


def saved(tmp_path: Path, name: str, seed: int, steps: int, **overrides) -> Path:
    model = tiny_model(seed=seed, **overrides)
    with torch.no_grad():  # a counter that differs between checkpoints, as BatchNorm's does in a run
        model.encoder_block1.conv_block.bn1.num_batches_tracked.fill_(steps)
    return save_checkpoint(model, tmp_path / name, target="Voc", training={"steps": steps})


def test_the_average_holds_the_mean_of_every_weight_and_the_last_counter(tmp_path):
    paths = [saved(tmp_path, f"step{s}", seed=s, steps=100 * s) for s in (1, 2, 3)]
    out = average_checkpoints(paths, tmp_path / "avg")
    states = [load_checkpoint(p).state_dict() for p in paths]
    averaged = load_checkpoint(out).state_dict()
    assert averaged.keys() == states[0].keys()
    n_float = 0
    for name, value in averaged.items():
        if value.is_floating_point():
            expected = (states[0][name].double() + states[1][name].double() + states[2][name].double()) / 3
            torch.testing.assert_close(value, expected.float(), rtol=0, atol=1e-7)
            assert value.dtype == states[0][name].dtype
            n_float += 1
        else:
            assert torch.equal(value, states[2][name]), name
    assert n_float > 10
    assert int(averaged["encoder_block1.conv_block.bn1.num_batches_tracked"]) == 300
    # the seeds differ, so the mean is really a new set of weights
    conv = "encoder_block1.conv_block.conv1.weight"
    assert not torch.equal(averaged[conv], states[0][conv])


def test_the_record_names_each_source_by_path_hash_and_step(tmp_path):
    paths = [saved(tmp_path, f"step{s}", seed=s, steps=s) for s in (4, 5)]
    out = average_checkpoints(paths, tmp_path / "avg.safetensors")
    assert out == tmp_path / "avg.safetensors"
    training = json.loads((tmp_path / "avg.json").read_text())["training"]
    assert training["steps"] == 5  # the last source's record
    assert [o["steps"] for o in training["averaged_from"]] == [4, 5]
    for origin, path in zip(training["averaged_from"], paths):
        assert origin["path"] == str(path)
        assert origin["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_averaging_copies_of_one_checkpoint_changes_nothing_it_computes(tmp_path):
    path = saved(tmp_path, "one", seed=7, steps=1)
    out = average_checkpoints([path, path, path], tmp_path / "avg")
    x = torch.randn(1, 2, 4096, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(load_checkpoint(out)(x), load_checkpoint(path)(x), rtol=0, atol=1e-6)


def test_an_average_does_not_inherit_its_sources_inference_recommendation(tmp_path):
    path = save_checkpoint(tiny_model(seed=4), tmp_path / "tta", target="Voc", inference={"tta": True})
    out = average_checkpoints([path, path], tmp_path / "avg")
    assert load_checkpoint(path).meta["inference"] == {"tta": True}
    assert load_checkpoint(out).meta["inference"] == {}  # a new model: its settings are not measured yet


def test_averaging_refuses_mismatched_models_too_few_sources_and_overwriting(tmp_path):
    a = saved(tmp_path, "a", seed=1, steps=1)
    wider = saved(tmp_path, "wider", seed=2, steps=1, n_embd=32, channels=(4, 8, 32, 32))
    with pytest.raises(CheckpointError, match=r"wider\.safetensors: another architecture, config or target"):
        average_checkpoints([a, wider], tmp_path / "avg")
    other_class = save_checkpoint(tiny_model(seed=3), tmp_path / "bass", target="Bass")
    with pytest.raises(CheckpointError, match="bass.safetensors: another architecture, config or target"):
        average_checkpoints([a, other_class], tmp_path / "avg")
    assert not list(tmp_path.glob("avg*"))  # nothing half-written
    with pytest.raises(CheckpointError, match="at least two checkpoints, got 1"):
        average_checkpoints([a], tmp_path / "avg")
    with pytest.raises(CheckpointError, match=r"a\.safetensors: already exists \(pass --overwrite"):
        average_checkpoints([a, a], tmp_path / "a")
    average_checkpoints([a, a], tmp_path / "a", overwrite=True)


def test_training_checkpoints_of_one_run_average_into_an_exported_model(tmp_path):
    from stemrestore.train import Trainer, load_config
    from stemrestore.train.data import SyntheticPairs

    tiny = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"
    cfg = load_config(tiny, ["data.segment_seconds=0.1", "data.batch_size=2", "data.num_workers=0",
                             "schedule.stage2_step=null", "schedule.max_steps=3", "checkpoint.every=1",
                             "checkpoint.keep_last=3", "logging.progress=false", "logging.tensorboard=false",
                             "runtime.threads=1"])
    Trainer(cfg, tmp_path / "run", dataset_factory=lambda c: SyntheticPairs(4, 0.1, 44100, 0)).train()
    steps = [tmp_path / "run" / "checkpoints" / f"step_{s:06d}.pt" for s in (2, 3)]
    assert main(["average", *map(str, steps), "--out", str(tmp_path / "avg")]) == 0
    model = load_checkpoint(tmp_path / "avg")
    assert model.meta["training"]["steps"] == 3
    assert [o["steps"] for o in model.meta["training"]["averaged_from"]] == [2, 3]
    first, last = (load_checkpoint(p).state_dict() for p in steps)
    name = "encoder_block1.conv_block.conv1.weight"
    torch.testing.assert_close(model.state_dict()[name], (first[name] + last[name]) / 2)


def test_the_cli_reports_a_bad_source_in_one_line(tmp_path, capsys):
    assert main(["average", str(tmp_path / "nope.pt"), str(tmp_path / "nope2.pt"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("stemrestore average: error:")
    assert err[0].endswith("nope.pt: no such checkpoint file")
    assert not list(tmp_path.glob("o*"))
