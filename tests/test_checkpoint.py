"""Checkpoints: the paper's released .pth layout, stemrestore's own format, conversion, errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from test_uformer import (
    FIXTURES,
    load_fixture_module,
    needs_fixtures,
    oracle_forward,
    rel_error,
    released_layout,
    tiny_model,
)

from stemrestore.cli import main
from stemrestore.errors import CheckpointError, ConfigError
from stemrestore.models import (
    RELEASE_TARGETS,
    UFormer,
    UFormerConfig,
    convert_checkpoint,
    default_checkpoint,
    load_checkpoint,
    save_checkpoint,
    target_from_filename,
)
from stemrestore.models.checkpoint import ASSETS_DIR, init_weights


def released_state_dict(seed: int = 11) -> dict[str, torch.Tensor]:
    """Deterministic weights with exactly the released keys, shapes and dtypes (rope tables included)."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in released_layout():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000, dtype=torch.int64)
        elif key.endswith("_rope"):
            angles = torch.arange(shape[0])[:, None] * 10000.0 ** (-torch.arange(0, 32, 2) / 32)
            state[key] = torch.stack([angles.cos(), angles.sin()], -1).float()
        elif key.endswith("running_var"):
            state[key] = 1.0 + 0.5 * torch.rand(shape, generator=gen)
        elif key.endswith(("running_mean", "bias")):
            state[key] = 0.05 * torch.randn(shape, generator=gen)
        elif key.endswith("scale") or ".bn" in key:
            state[key] = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        else:
            state[key] = torch.randn(shape, generator=gen) / math.sqrt(math.prod(shape[1:]))
    return state


def short_input(seconds: float = 0.3, sr: int = 44100, seed: int = 3) -> torch.Tensor:
    return torch.from_numpy(
        np.random.default_rng(seed).standard_normal((1, 2, int(seconds * sr))).astype(np.float32) * 0.2
    )


@pytest.fixture(scope="module")
def release_pth(tmp_path_factory):
    path = tmp_path_factory.mktemp("release") / "electric_guitar.pth"
    state = released_state_dict()
    torch.save(state, path)
    return path, state


def test_release_pth_loads_and_matches_independent_computation(release_pth):
    path, state = release_pth
    model = load_checkpoint(path)
    assert not model.training
    assert model.meta["target"] == "Gtr_EG" and model.meta["sample_rate"] == 44100
    wave = short_input()
    with torch.inference_mode():
        out = model(wave)
    assert out.shape == wave.shape
    assert rel_error(out, oracle_forward(state, UFormerConfig(), wave)) < 1e-4


@needs_fixtures
def test_release_pth_of_the_shared_fixture_reproduces_the_papers_output(tmp_path):
    fixture = load_fixture_module()
    weights = fixture.weights(fixture.layout(FIXTURES / fixture.LAYOUT), seed=7)
    weights["t_rope"], weights["f_rope"] = fixture.rope(128, 32), fixture.rope(2000, 32)
    torch.save({k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()}, tmp_path / "vocals.pth")
    data = np.load(FIXTURES / "uformer_reference.npz")
    with torch.inference_mode():
        out = load_checkpoint(tmp_path / "vocals.pth")(torch.from_numpy(data["input"]))
    assert rel_error(out, data["output"]) < 1e-4


def test_convert_cli_round_trip(release_pth, tmp_path, capsys):
    path, _ = release_pth
    assert main(["convert", str(path), str(tmp_path / "gtr")]) == 0
    assert "Gtr_EG" in capsys.readouterr().out
    meta = json.loads((tmp_path / "gtr.json").read_text())
    assert meta["format_version"] == 1 and meta["architecture"] == "uformer" and meta["target"] == "Gtr_EG"
    assert meta["config"]["channels"] == [16, 64, 256, 256] and meta["sample_rate"] == 44100
    wave = short_input(0.2)
    original, converted = load_checkpoint(path), load_checkpoint(tmp_path / "gtr")
    with torch.inference_mode():
        assert torch.equal(converted(wave), original(wave))
    for name in ("gtr.safetensors", "gtr.json", "."):  # every way of naming the pair loads the same weights
        state = load_checkpoint(tmp_path / name).state_dict()
        assert all(torch.equal(state[k], v) for k, v in converted.state_dict().items())
    # existing output is kept unless --overwrite
    assert main(["convert", str(path), str(tmp_path / "gtr")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["convert", str(path), str(tmp_path / "gtr"), "--overwrite", "--target", "Gtr"]) == 0
    assert load_checkpoint(tmp_path / "gtr").meta["target"] == "Gtr"


def test_own_format_round_trip_keeps_weights_and_metadata(tmp_path):
    model = tiny_model(seed=3)
    path = save_checkpoint(
        model, tmp_path / "ck", target="Voc_LV", training={"steps": np.int64(120), "loss": 0.5}
    )
    assert path.name == "ck.safetensors" and (tmp_path / "ck.json").is_file()
    assert not list(tmp_path.glob("*.tmp"))
    loaded = load_checkpoint(path)
    assert loaded.meta["target"] == "Voc_LV" and loaded.meta["training"] == {"steps": 120, "loss": 0.5}
    assert loaded.meta["sample_rate"] == 8000 and loaded.config == model.config
    wave = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 2, 3000)).astype(np.float32))
    with torch.inference_mode():
        assert torch.equal(loaded(wave), model(wave))


def test_recommended_inference_settings_round_trip_and_are_checked(tmp_path):
    model = tiny_model(seed=3)
    save_checkpoint(model, tmp_path / "plain", target="Voc")
    assert "inference" not in json.loads((tmp_path / "plain.json").read_text())
    assert load_checkpoint(tmp_path / "plain").meta["inference"] == {}
    path = save_checkpoint(model, tmp_path / "ck", target="Voc", inference={"tta": True, "chunk_seconds": 4})
    loaded = load_checkpoint(path)
    assert loaded.meta["inference"] == {"tta": True, "chunk_seconds": 4}
    copy = convert_checkpoint(path, tmp_path / "copy")  # a re-saved checkpoint keeps its recommendation
    assert load_checkpoint(copy).meta["inference"] == {"tta": True, "chunk_seconds": 4}
    meta = json.loads((tmp_path / "ck.json").read_text())
    for inference, message in [
        ({"tta": True, "batch_size": 4}, "unknown inference setting 'batch_size'"),
        ({"shifts": True}, "inference setting 'shifts' has the wrong type"),
        ({"tta": 1}, "inference setting 'tta' has the wrong type"),
        ([True], "'inference' must be an object"),
    ]:
        (tmp_path / "ck.json").write_text(json.dumps({**meta, "inference": inference}))
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(path)
    with pytest.raises(CheckpointError, match="unknown inference setting 'half'"):
        save_checkpoint(model, tmp_path / "bad", target="Voc", inference={"half": True})
    assert not list(tmp_path.glob("bad*"))


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.pop("post_fc.bias"), "missing key 'post_fc.bias'"),
        (lambda s: s.update(extra_head=torch.zeros(3)), "unexpected key 'extra_head'"),
        (
            lambda s: s.update({"post_fc.weight": torch.zeros(4, 8, 1, 1)}),
            r"'post_fc.weight' has shape \(4, 8, 1, 1\)",
        ),
        (lambda s: s.update(t_rope=torch.zeros(128, 8, 2)), r"'t_rope' has shape \(128, 8, 2\)"),
        (lambda s: s.update({"post_fc.bias": [0.0] * 4}), "'post_fc.bias' is a list, not a tensor"),
    ],
)
def test_release_key_and_shape_errors_name_the_first_problem(tmp_path, edit, message):
    state = released_state_dict()
    edit(state)
    torch.save(state, tmp_path / "bass.pth")
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(tmp_path / "bass.pth")
    assert str(tmp_path / "bass.pth") in str(info.value) and "\n" not in str(info.value)


def test_release_without_rope_tables_is_accepted(tmp_path):
    state = {k: v for k, v in released_state_dict().items() if not k.endswith("_rope")}
    torch.save(state, tmp_path / "synth.pth")
    assert load_checkpoint(tmp_path / "synth.pth").meta["target"] == "Synth"


def test_truncated_and_unsafe_files_are_rejected(tmp_path, release_pth):
    path, _ = release_pth
    cut = tmp_path / "vocals.pth"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or not a PyTorch checkpoint"):
        load_checkpoint(cut)
    unsafe = tmp_path / "keyboards.pth"
    torch.save({"post_fc.bias": torch.zeros(4), "note": UFormerConfig()}, unsafe)
    with pytest.raises(CheckpointError, match="not a plain weights file"):
        load_checkpoint(unsafe)
    model = tiny_model()
    save_checkpoint(model, tmp_path / "own", target="Bass")
    weights = tmp_path / "own.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="own.safetensors: truncated"):
        load_checkpoint(weights)


def test_own_format_errors(tmp_path):
    model = tiny_model()
    save_checkpoint(model, tmp_path / "a" / "ck", target="Bass")
    meta_path = tmp_path / "a" / "ck.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "architecture": "bs_roformer"}))
    with pytest.raises(CheckpointError, match="architecture 'bs_roformer', not 'uformer'"):
        load_checkpoint(meta_path)
    meta_path.write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(CheckpointError, match="format version 99 is newer"):
        load_checkpoint(meta_path)
    meta_path.write_text(
        json.dumps({**meta, "config": {**meta["config"], "n_embd": 32, "channels": [4, 8, 16, 32]}})
    )
    with pytest.raises(CheckpointError, match="has shape"):
        load_checkpoint(meta_path)
    meta_path.unlink()
    with pytest.raises(CheckpointError, match="its metadata file ck.json is missing"):
        load_checkpoint(tmp_path / "a" / "ck.safetensors")
    save_checkpoint(model, tmp_path / "b" / "one", target="Bass")
    save_checkpoint(model, tmp_path / "b" / "two", target="Voc")
    with pytest.raises(CheckpointError, match="folder holds 2 checkpoint pairs"):
        load_checkpoint(tmp_path / "b")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nothing.safetensors")
    (tmp_path / "song.wav").write_bytes(b"RIFF")
    with pytest.raises(CheckpointError, match="song.wav: not a checkpoint"):
        load_checkpoint(tmp_path / "song.wav")
    bogus = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(bogus, str(tmp_path / "b" / "bare.safetensors"))
    with pytest.raises(CheckpointError, match="bare.json is missing"):
        load_checkpoint(tmp_path / "b" / "bare.safetensors")


def test_target_names_of_the_nine_released_files():
    assert {name: target_from_filename(f"/x/{name}.pth") for name in RELEASE_TARGETS} == RELEASE_TARGETS
    assert target_from_filename("acoustic_guitar_v2.pth") == "Gtr_AG"
    assert target_from_filename("guitars.pth") == "Gtr"
    assert target_from_filename("model_final.pth") == "unknown"


def test_default_checkpoint_until_one_is_shipped():
    if ASSETS_DIR.is_dir() and any(ASSETS_DIR.glob("*.safetensors")):
        assert load_checkpoint(default_checkpoint()).meta["target"] != ""
    else:
        with pytest.raises(CheckpointError, match="no checkpoint is shipped.*--checkpoint"):
            default_checkpoint()


def test_a_training_checkpoint_loads_and_converts(tmp_path):
    from stemrestore.models import convert_checkpoint, load_checkpoint
    from stemrestore.train import Trainer, load_config
    from stemrestore.train.data import SyntheticPairs

    tiny = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"
    cfg = load_config(tiny, ["data.segment_seconds=0.1", "data.batch_size=2", "data.num_workers=0",
                             "schedule.stage2_step=null", "schedule.max_steps=2", "logging.progress=false",
                             "logging.tensorboard=false", "data.target=Bass", "runtime.threads=1"])
    trainer = Trainer(cfg, tmp_path / "run", dataset_factory=lambda c: SyntheticPairs(4, 0.1, 44100, 0))
    trainer.train()
    step_file = tmp_path / "run" / "checkpoints" / "step_000002.pt"
    model = load_checkpoint(step_file)
    assert model.meta["target"] == "Bass" and model.meta["training"]["steps"] == 2
    for key, value in trainer.generator.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)
    out = convert_checkpoint(step_file, tmp_path / "exported")
    again = load_checkpoint(out)
    x = torch.randn(1, 2, 4096)
    with torch.no_grad():
        assert torch.equal(again(x), model(x))
    with pytest.raises(ConfigError, match="Voc"):
        load_checkpoint(step_file, target="Voc")  # a one-class checkpoint refuses another class


def test_init_weights_grows_a_model_and_names_what_stays_fresh(tmp_path):
    plain = tiny_model(seed=3)
    save_checkpoint(plain, tmp_path / "plain", target="Voc")
    grown = UFormer(UFormerConfig(**{**plain.config.to_dict(), "head": "mask_map"}))
    assert init_weights(grown, tmp_path / "plain.safetensors") == ["mask_fc.bias", "mask_fc.weight"]
    for name, tensor in plain.state_dict().items():
        assert torch.equal(grown.state_dict()[name], tensor), name
    assert not grown.mask_fc.weight.detach().any()  # kept its own (zero) initialization
    # the other way round the checkpoint has a weight the model lacks; another channel count is a shape
    # error (wider conv widths are growth: test_growth.py)
    save_checkpoint(grown, tmp_path / "grown", target="Voc")
    with pytest.raises(CheckpointError, match="unexpected key 'mask_fc.weight' .not part of this U-Former."):
        init_weights(tiny_model(), tmp_path / "grown.safetensors")
    with pytest.raises(CheckpointError, match=r"'encoder_block1\.\S+' has shape \(4,\), the model expects \(2,\)"):
        init_weights(tiny_model(in_channels=1, out_channels=1), tmp_path / "plain.safetensors")


def test_init_weights_grows_a_deeper_model_that_starts_out_computing_the_same(tmp_path):
    shallow = tiny_model(seed=4)
    save_checkpoint(shallow, tmp_path / "shallow", target="Voc")
    deeper = tiny_model(seed=5, n_layer=shallow.config.n_layer + 1).eval()
    fresh = init_weights(deeper, tmp_path / "shallow.safetensors")
    new = shallow.config.n_layer
    assert fresh and all(name.startswith((f"t_blocks.{new}.", f"f_blocks.{new}.")) for name in fresh)
    for blocks in (deeper.t_blocks, deeper.f_blocks):
        assert not blocks[new].att.c_proj.weight.any() and not blocks[new].mlp.c_proj.weight.any()
        assert blocks[new].att.c_attn.weight.std() > 0  # the rest keeps its random start, to learn from
    x = torch.randn(1, 2, 4096, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(deeper(x), shallow(x), rtol=0, atol=1e-6)
    # the new block's zeroed output layer still gets a gradient, so training moves it off zero
    deeper.train()
    deeper(x).pow(2).mean().backward()
    assert deeper.t_blocks[new].mlp.c_proj.weight.grad.abs().max() > 0
