"""Training configs: the paper's values, the tiny config, strict fields, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemrestore.cli import main
from stemrestore.degrade import DegradationProtocol
from stemrestore.errors import ConfigError
from stemrestore.models import UFormer, count_parameters
from stemrestore.train import build_config, load_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PAPER = {
    "vocals": "Voc", "keyboards": "Kbs", "synth": "Synth", "guitars": "Gtr", "rhythm": "Rhy",
    "bass": "Bass", "orchestra": "Orch", "acoustic_guitar": "Gtr_AG", "electric_guitar": "Gtr_EG",
}


def test_there_is_one_paper_config_per_model_of_the_paper():
    assert sorted(p.stem for p in (CONFIGS / "paper").glob("*.yaml")) == sorted(PAPER)


@pytest.mark.parametrize("name", sorted(PAPER))
def test_paper_configs_hold_the_papers_recipe(name):
    cfg = load_config(CONFIGS / "paper" / f"{name}.yaml")
    assert cfg.data.target == PAPER[name]
    assert (cfg.optim.lr, cfg.gan.lr, cfg.optim.grad_clip) == (5e-4, 5e-5, 2.0)
    assert (cfg.data.batch_size, cfg.data.stage2_batch_size, cfg.data.segment_seconds) == (16, 4, 10.0)
    assert (cfg.schedule.stage2_step, cfg.schedule.max_steps, cfg.schedule.warmup_steps) == (50_000, 85_000, 1000)
    assert (cfg.gan.lambda_gen, cfg.gan.lambda_feat) == (0.001, 0.01)
    assert cfg.model.channels == (16, 64, 256, 256) and (cfg.model.n_layer, cfg.model.n_head) == (6, 8)
    assert (cfg.model.n_fft, cfg.model.hop) == (2048, 441)
    assert cfg.gan.discriminator.periods == (2, 3, 5, 7, 11)
    assert cfg.gan.discriminator.fft_sizes == (2048, 1024, 512)
    # Every value in the file is also the built-in default: the defaults ARE the paper.
    defaults = build_config({"data": {"target": PAPER[name], "num_workers": 8}})
    assert cfg == defaults


def test_stage_switch_and_batch_size_follow_the_step():
    cfg = build_config()
    assert [cfg.stage(s) for s in (0, 49_999, 50_000, 84_999)] == [1, 1, 2, 2]
    assert cfg.batch_size(49_999) == 16 and cfg.batch_size(50_000) == 4
    only_l1 = build_config(overrides=["schedule.stage2_step=null"])
    assert only_l1.stage(84_999) == 1 and not only_l1.uses_gan
    assert build_config(overrides=["schedule.stage2_step=0"]).stage(0) == 2


def test_tiny_config_is_small_enough_for_a_cpu():
    cfg = load_config(CONFIGS / "tiny.yaml")
    assert count_parameters(UFormer(cfg.model)) < 200_000
    assert cfg.data.segment_seconds <= 2.0 and cfg.data.batch_size <= 4
    assert cfg.schedule.stage2_step < cfg.schedule.max_steps


def test_the_demo_recipe_configs_load_as_documented():
    cfg = load_config(CONFIGS / "demo" / "vocals.yaml", ["model.head=mask_map"])  # phase 6's model
    assert cfg.model.head == "mask_map" and cfg.validation.testset == "data/valset_voc"
    protocol = DegradationProtocol.from_yaml(CONFIGS / "demo" / "train_protocol.yaml")
    assert protocol.config.target.max_attenuation_db == 20.0
    assert protocol.config.snr_db == DegradationProtocol().config.snr_db  # everything else the paper's


@pytest.mark.parametrize(
    "data, message",
    [
        ({"optimm": {}}, "TrainConfig: unknown field 'optimm'"),
        ({"optim": {"lrr": 1.0}}, "TrainConfig.optim: unknown field 'lrr'"),
        ({"gan": {"discriminator": {"period": [2]}}}, "TrainConfig.gan.discriminator: unknown field 'period'"),
        ({"model": {"layers": 2}}, "TrainConfig.model: unknown field 'layers'"),
    ],
)
def test_unknown_fields_are_rejected_with_their_name(data, message):
    with pytest.raises(ConfigError) as info:
        build_config(data)
    assert message in str(info.value)


def test_unknown_field_in_a_yaml_file_and_on_the_command_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data:\n  batch_sise: 4\n")
    with pytest.raises(ConfigError, match="TrainConfig.data: unknown field 'batch_sise'"):
        load_config(bad)
    code = main(["train", "--config", str(CONFIGS / "tiny.yaml"), "--out", str(tmp_path / "r"), "optim.lrr=1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("stemrestore train: error:") and "unknown field 'lrr'" in err[0]
    assert not (tmp_path / "r").exists()


def test_overrides_read_numbers_the_way_a_user_writes_them():
    cfg = build_config(overrides=[
        "optim.lr=1e-3", "schedule.max_steps=1e5", "data.batch_size=2", "schedule.stage2_step=null",
        "gan.discriminator.kinds=[mpd,msd]",
    ])
    assert cfg.optim.lr == 0.001 and isinstance(cfg.optim.lr, float)
    assert cfg.schedule.max_steps == 100_000 and isinstance(cfg.schedule.max_steps, int)
    assert cfg.data.batch_size == 2 and cfg.schedule.stage2_step is None
    assert cfg.gan.discriminator.kinds == ("mpd", "msd")


@pytest.mark.parametrize(
    "override, message",
    [
        ("data.batch_size=0", "data.batch_size: must be an integer > 0"),
        ("data.batch_size=2.5", "data.batch_size: must be an integer > 0"),
        ("optim.lr=fast", "optim.lr: must be a number > 0, got 'fast'"),
        ("runtime.precision=fp8", "runtime.precision: 'fp8' is not one of"),
        ("runtime.cpu_precision=fp16", "runtime.cpu_precision: 'fp16' is not one of fp32, bf16"),
        ("checkpoint.best_metric=loss", "checkpoint.best_metric: 'loss'"),
        ("seed=-1", "seed: must be an integer >= 0"),
        ("gan.discriminator.kinds=[mpd,wave]", "unknown kind 'wave'"),
        ("schedule.max_minutes=0", "schedule.max_minutes: must be a number > 0"),
        ("schedule.max_minutes=-5", "schedule.max_minutes: must be a number > 0"),
    ],
)
def test_bad_values_are_named(override, message):
    with pytest.raises(ConfigError, match=message):
        build_config(overrides=[override])
