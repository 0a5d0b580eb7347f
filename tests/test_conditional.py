"""The conditional U-Former: FiLM conditioning, checkpoints, restore/evaluate, multi-class data, training."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from test_uformer import TINY, tiny_model

from stemrestore.audio import save_audio
from stemrestore.cli import main
from stemrestore.data.multiclass import MultiClassDataset
from stemrestore.errors import CheckpointError, ConfigError
from stemrestore.metrics import si_sdr
from stemrestore.models import (
    ConditionalConfig,
    ConditionalUFormer,
    UFormer,
    UFormerConfig,
    load_checkpoint,
    save_checkpoint,
)
from stemrestore.models.conditional import GROUP_VOCAB
from stemrestore.restore import Restorer
from stemrestore.taxonomy import class_from_folder, class_ids, matches
from stemrestore.train import Trainer, load_config
from stemrestore.train.checkpointing import latest_checkpoint, load_state
from stemrestore.train.data import SyntheticPairs

SR = 8000
TINY_YAML = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"


def noise(channels: int, samples: int, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal((channels, samples))).astype(np.float32)


def conditional(seed: int = 0, film_seed: int | None = None, **overrides) -> ConditionalUFormer:
    """A tiny conditional model holding tiny_model(seed)'s U-Former weights; FiLM at identity
    unless ``film_seed`` draws every FiLM projection at random."""
    model = ConditionalUFormer(ConditionalConfig(**{**TINY, "embed_dim": 8, **overrides}))
    missing, unexpected = model.load_state_dict(tiny_model(seed).state_dict(), strict=False)
    assert not unexpected and all(k.startswith(("film_", "group_emb", "code_emb")) for k in missing)
    if film_seed is not None:
        gen = torch.Generator().manual_seed(film_seed)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.startswith("film_"):
                    p.copy_(0.1 * torch.randn(p.shape, generator=gen))
    return model.eval()


def run(model, x, cls=None):
    with torch.inference_mode():
        return model(x, cls)


# --- the model -------------------------------------------------------------------------------


def test_identity_film_equals_the_plain_uformer_with_the_same_weights():
    plain, cond = tiny_model(3), conditional(3)
    x = torch.from_numpy(noise(2, 3000, seed=1))[None]
    with torch.inference_mode():
        reference = plain(x)
    for cls in ("Voc", "Gtr_EG", "Bass", "MiscRoom"):
        assert torch.equal(run(cond, x, cls), reference)
    # Seed for seed, a fresh conditional model starts from the plain U-Former's weights.
    config = ConditionalConfig(**TINY, embed_dim=8)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        fresh_plain = UFormer(UFormerConfig(**TINY)).state_dict()
        torch.manual_seed(11)
        fresh_cond = ConditionalUFormer(config).state_dict()
    assert all(torch.equal(fresh_cond[k], v) for k, v in fresh_plain.items())


def test_classes_steer_the_output_once_film_is_trained_and_each_example_gets_its_own():
    model = conditional(3, film_seed=5)
    x = torch.from_numpy(np.stack([noise(2, 3000, seed=1), noise(2, 3000, seed=2)]))
    voc, bass = run(model, x[:1], "Voc"), run(model, x[:1], "Bass")
    assert (voc - bass).norm() > 0.05 * voc.norm()
    mixed = run(model, x, ["Voc", "Bass"])
    torch.testing.assert_close(mixed[0], voc[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(mixed[1], run(model, x[1:], "Bass")[0], atol=1e-5, rtol=1e-4)
    # Indices into taxonomy.class_ids() and aliases name the same classes.
    index = torch.tensor([class_ids().index("Voc"), class_ids().index("Bass")])
    torch.testing.assert_close(run(model, x, index), mixed, atol=1e-6, rtol=0)
    torch.testing.assert_close(run(model, x[:1], "vocals"), voc, atol=1e-6, rtol=0)


def test_the_class_vector_is_group_plus_code_and_a_group_request_works():
    model = conditional(film_seed=5)
    groups, codes = model.config.groups, model.config.codes
    g, c = model.group_embedding.weight, model.code_embedding.weight
    with torch.no_grad():
        torch.testing.assert_close(model.embed("Gtr_EG")[0], g[groups.index("Gtr")] + c[codes.index("EG")])
        torch.testing.assert_close(model.embed("Gtr")[0], g[groups.index("Gtr")] + c[codes.index("none")])
        torch.testing.assert_close(model.embed("Bass")[0], g[groups.index("Bass")] + c[codes.index("none")])
    x = torch.from_numpy(noise(2, 3000, seed=4))[None]
    group, electric, acoustic = run(model, x, "Gtr"), run(model, x, "Gtr_EG"), run(model, x, "Gtr_AG")
    assert torch.isfinite(group).all()
    assert (group - electric).norm() > 0.01 * group.norm() and (group - acoustic).norm() > 0.01 * group.norm()


def test_bad_requests_and_vocabularies_are_one_line_errors():
    model = conditional()
    x = torch.from_numpy(noise(2, 2000))[None]
    with pytest.raises(ConfigError, match="name the class to restore"):
        run(model, x)
    with pytest.raises(ConfigError, match="unknown stem class 'Kazoo'"):
        run(model, x, "Kazoo")
    with pytest.raises(ConfigError, match="2 classes for a batch of 1"):
        run(model, x, ["Voc", "Bass"])
    with pytest.raises(ConfigError, match="out of range"):
        run(model, x, torch.tensor([len(class_ids())]))
    no_orch = conditional(groups=tuple(g for g in GROUP_VOCAB if g != "Orch"))
    assert "Orch_STR" not in no_orch.classes and "Gtr_EG" in no_orch.classes
    with pytest.raises(ConfigError, match="cannot restore 'Orch_STR'"):
        run(no_orch, x, "Orch_STR")
    with pytest.raises(ConfigError, match="unknown entry 'Piano'"):
        ConditionalConfig(**TINY, groups=("Voc", "Piano"))
    with pytest.raises(ConfigError, match="must contain 'none'"):
        ConditionalConfig(**TINY, codes=("LV", "BV"))


# --- checkpoints, restore, evaluate ----------------------------------------------------------


def test_checkpoint_round_trip_stores_architecture_and_vocabulary(tmp_path):
    model = conditional(2, film_seed=6)
    path = save_checkpoint(model, tmp_path / "cond", target="Voc")
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["architecture"] == "uformer-conditional" and meta["target"] == "Voc"
    assert meta["config"]["groups"] == list(model.config.groups) and "none" in meta["config"]["codes"]
    loaded = load_checkpoint(path)
    assert isinstance(loaded, ConditionalUFormer) and loaded.meta["target"] == "Voc"
    x = torch.from_numpy(noise(2, 2500, seed=3))[None]
    assert torch.equal(run(loaded, x, "Gtr_EG"), run(model, x, "Gtr_EG"))
    assert torch.equal(run(loaded, x), run(model, x, "Voc"))  # the default class
    assert load_checkpoint(path, target="electric guitar").meta["target"] == "Gtr_EG"
    # The vocabulary is checked on loading: unknown entries, and tables of another size.
    text = path.with_suffix(".json").read_text()
    path.with_suffix(".json").write_text(text.replace('"WW"', '"XX"'))
    with pytest.raises(CheckpointError, match="unknown entry 'XX'"):
        load_checkpoint(path)
    path.with_suffix(".json").write_text(text.replace('"WW",', ""))
    with pytest.raises(CheckpointError, match="code_embedding.weight"):
        load_checkpoint(path)


def test_a_one_class_checkpoint_refuses_another_class(tmp_path):
    path = save_checkpoint(tiny_model(1), tmp_path / "voc", target="Voc")
    assert load_checkpoint(path, target="Voc").meta["target"] == "Voc"
    with pytest.raises(ConfigError, match="restores Voc only, not Bass"):
        load_checkpoint(path, target="Bass")
    with pytest.raises(ConfigError, match="restores Voc only, not Bass"):
        Restorer(load_checkpoint(path), target="Bass", device="cpu")


def test_restorer_target_and_with_target_share_the_model():
    model = conditional(4, film_seed=7)
    audio = noise(2, 5000, seed=8)
    x = torch.from_numpy(audio)[None]
    restorer = Restorer(model, chunk_seconds=1.0, device="cpu", target="Gtr_EG")
    np.testing.assert_allclose(restorer.restore(audio, SR), run(model, x, "Gtr_EG")[0].numpy(), atol=1e-6)
    bass = restorer.with_target("Bass")
    assert (bass.model is restorer.model) and (bass.target, restorer.target) == ("Bass", "Gtr_EG")
    np.testing.assert_allclose(bass.restore(audio, SR), run(model, x, "Bass")[0].numpy(), atol=1e-6)
    with pytest.raises(ConfigError, match="name one"):
        Restorer(model, device="cpu").restore(audio, SR)  # no default class


def test_restore_cli_target_selects_the_class(tmp_path, capsys):
    model = conditional(4, film_seed=7)
    ck = save_checkpoint(model, tmp_path / "ck" / "any", target="unknown")
    audio = noise(2, 2 * SR, seed=9)
    sf.write(tmp_path / "song.wav", audio.T, SR, subtype="FLOAT")
    out = tmp_path / "out"
    base = ["restore", str(tmp_path / "song.wav"), "--checkpoint", str(ck), "--out-dir", str(out)]
    assert main(base + ["--target", "Gtr_EG", "--chunk-seconds", "3"]) == 0
    restored, sr = sf.read(out / "song_Gtr_EG.wav", dtype="float32", always_2d=True)
    assert sr == SR
    expected = run(model, torch.from_numpy(audio)[None], "Gtr_EG")[0].numpy()
    np.testing.assert_allclose(restored.T, expected, atol=1e-6)
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "--target" in err and len(err.strip().splitlines()) == 1
    assert not (out / "song_unknown.wav").exists()


def test_evaluate_restores_each_pairs_class(tmp_path):
    model = conditional(5, film_seed=8)
    ck = save_checkpoint(model, tmp_path / "cond", target="Voc")
    mixture = noise(2, SR, seed=10)
    save_audio(tmp_path / "mix.wav", mixture, SR)
    records = []
    for i, cls in enumerate(("Voc", "Bass", "Gtr_EG", None)):
        save_audio(tmp_path / f"t{i}.wav", noise(2, SR, seed=20 + i), SR)
        records.append({"id": f"p{i}", "mixture": "mix.wav", "target": f"t{i}.wav", **({"class": cls} if cls else {})})
    (tmp_path / "set.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    args = ["evaluate", "--testset", str(tmp_path / "set.jsonl"), "--checkpoint", str(ck),
            "--out", str(tmp_path / "ev"), "--device", "cpu", "--no-plots"]
    assert main(args) == 0
    with open(tmp_path / "ev" / "per_example.csv") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    x = torch.from_numpy(mixture)[None]
    for i, record in enumerate(records):
        estimate = run(model, x, record.get("class", "Voc"))[0].numpy()  # no class: the default
        target = noise(2, SR, seed=20 + i)
        assert float(rows[f"p{i}"]["si_sdr"]) == pytest.approx(si_sdr(estimate, target), abs=2e-3)
        assert rows[f"p{i}"]["class"] == record.get("class", "")


# --- the multi-class dataset -----------------------------------------------------------------


def _tone(freq: float, seconds: float = 1.5, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return np.tile(0.2 * np.sin(2 * np.pi * freq * t), (channels, 1)).astype(np.float32)


@pytest.fixture
def tree(tmp_path):
    """Three songs: A (lead + backing vocal, bass, drums), B (lead vocal, electric and
    acoustic guitar), C (electric guitar, bass); each stem a tone of its own frequency."""
    root = tmp_path / "RawStems"
    stems = {
        "A|One": {"Voc/LV/lead.wav": 440, "Voc/BV/bv.wav": 660, "Bass/di.wav": 55, "Rhy/DK/kick.wav": 80},
        "B|Two": {"Voc/LV/vox.wav": 550, "Gtr/EG/eg.wav": 330, "Gtr/AG/ag.wav": 990},
        "C|Three": {"Gtr/EG/lead.wav": 1200, "Bass/bass.wav": 70},
    }
    for song, files in stems.items():
        for rel, freq in files.items():
            save_audio(root / song / rel, _tone(freq, channels=1 + len(rel) % 2), SR)
    return root


def no_effects_yaml(folder: Path) -> Path:
    data = {
        "target": {"p_eq": 0.0, "p_resample": 0.0, "p_compressor": 0.0, "p_distortion": 0.0, "p_reverb": 0.0},
        "mixture": {"p_limiter": 0.0, "p_resample": 0.0, "p_mp3": 0.0},
        "p_noise": 0.0,
        "snr_db": [5.0, 5.0],
    }
    (folder / "protocol.yaml").write_text(json.dumps(data))  # JSON is YAML
    return folder / "protocol.yaml"


def dataset(tree, **kwargs) -> MultiClassDataset:
    from stemrestore.degrade import DegradationProtocol

    protocol = DegradationProtocol.from_yaml(no_effects_yaml(tree.parent))
    return MultiClassDataset(tree, segment_seconds=0.5, sr=SR, protocol=protocol, **kwargs)


def test_default_classes_are_those_present_at_the_configured_levels(tree):
    assert dataset(tree).classes == ["Voc", "Voc_LV", "Voc_BV", "Rhy", "Rhy_DK", "Gtr", "Gtr_AG", "Gtr_EG", "Bass"]
    assert dataset(tree, levels=("code",)).classes == ["Voc_LV", "Voc_BV", "Rhy_DK", "Gtr_AG", "Gtr_EG"]
    ds = dataset(tree, levels=("group",))
    assert ds.classes == ["Voc", "Rhy", "Gtr", "Bass"] and len(ds) == 3
    assert ds.songs_of("Gtr") == ["RawStems/B|Two", "RawStems/C|Three"]


def test_items_restore_the_drawn_class_from_one_song_that_has_it(tree):
    ds = dataset(tree, seed=2, items_per_epoch=24)
    seen = set()
    for i in range(24):
        mixture, target, label = ds[i]
        example = ds.example(i)
        cls, source = example.params["class"], example.params["source"]
        seen.add(cls)
        assert label.dtype == torch.long and class_ids()[int(label)] == cls == ds.class_of(i)
        assert source["song"] in ds.songs_of(cls)
        folder = tree / source["song"].split("/", 1)[1]
        part = lambda rel: class_from_folder(Path(rel).parts[:-1])  # noqa: E731
        assert source["target_stems"] and all(matches(part(r), cls) for r in source["target_stems"])
        assert not any(matches(part(r), cls) for r in source["background_stems"])
        # The target is the chosen stems' window, scaled by the protocol's one shared gain.
        start = round(source["start_seconds"] * SR)
        clean = sum(np.atleast_2d(sf.read(folder / r, dtype="float32")[0].T)[:, start : start + SR // 2].mean(0)
                    for r in source["target_stems"])
        got = target.numpy().mean(0)[: clean.shape[0]]
        gain = float(got @ clean / (clean @ clean))
        assert gain > 0 and np.abs(got - gain * clean).max() < 1e-3 * np.abs(got).max()
    assert len(seen) >= 5
    again = dataset(tree, seed=2, items_per_epoch=24)[5]
    assert all(torch.equal(a, b) for a, b in zip(again, ds[5]))
    ds.set_epoch(1)
    assert not torch.equal(ds[5][0], again[0])


def test_class_weights_set_the_draw_frequencies(tree):
    ds = dataset(tree, classes=["Voc", "Bass", "Gtr"], weights={"Voc": 3, "Bass": 1}, items_per_epoch=4000)
    counts = {c: 0 for c in ds.classes}
    for i in range(4000):
        counts[ds.class_of(i)] += 1
    for cls, p in (("Voc", 0.6), ("Bass", 0.2), ("Gtr", 0.2)):  # Gtr is unlisted: weight 1
        assert abs(counts[cls] / 4000 - p) < 4 * math.sqrt(p * (1 - p) / 4000)
    assert "Gtr" not in dataset(tree, levels=("group",), weights={"Gtr": 0}).classes


def test_split_dir_limits_each_class_to_its_own_training_songs(tree, tmp_path):
    splits = tmp_path / "splits"
    splits.mkdir()
    (splits / "Voc_train.txt").write_text("RawStems/B|Two\n")
    (splits / "Bass_train.txt").write_text("C|Three\n")
    ds = dataset(tree, levels=("group",), split_dir=splits)
    assert ds.classes == ["Voc", "Bass"]  # no Gtr / Rhy list: no training songs
    assert ds.songs_of("Voc") == ["RawStems/B|Two"] and ds.songs_of("Bass") == ["RawStems/C|Three"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"classes": ["Orch"]}, "no (training) song has a stem of class Orch"),
        ({"classes": ["Voc"], "weights": {"Bass": 1}}, "class weight for 'Bass', which is not trained"),
        ({"weights": {"Voc": -1}}, "finite number >= 0"),
        ({"classes": ["Voc"], "weights": {"Voc": 0}}, "every class weight is zero"),
        ({"levels": ("leaf",)}, "class levels must be some of group, code"),
    ],
)
def test_bad_dataset_settings_are_one_line_errors(tree, kwargs, message):
    with pytest.raises(ConfigError) as info:
        dataset(tree, **kwargs)
    assert message in str(info.value)


# --- training --------------------------------------------------------------------------------


FAST = ["logging.every=1", "logging.progress=false", "logging.tensorboard=false", "runtime.threads=1",
        "schedule.stage2_step=null", "model.sample_rate=8000", "data.segment_seconds=0.25"]


def test_training_on_the_multiclass_data_lowers_the_loss_and_exports_a_conditional_model(tree, tmp_path):
    val = tmp_path / "val"
    for i, cls in enumerate(("Voc", "Bass")):
        save_audio(val / f"m{i}.wav", noise(2, SR, seed=30 + i), SR)
        save_audio(val / f"t{i}.wav", noise(2, SR, seed=40 + i), SR)
    (val / "index.jsonl").write_text("".join(
        json.dumps({"id": f"v{i}", "mixture": f"m{i}.wav", "target": f"t{i}.wav", "class": c}) + "\n"
        for i, c in enumerate(("Voc", "Bass"))))
    cfg = load_config(TINY_YAML, FAST + [
        "model.kind=conditional", "model.embed_dim=8", "schedule.max_steps=24", "checkpoint.every=24",
        "data.batch_size=2", "data.items_per_epoch=4", "data.class_levels=[group]", "data.target=Gtr",
        f"validation.testset={val}", "validation.every=24", "validation.audio_examples=0",
    ])
    cfg.data.root, cfg.data.protocol = str(tree), str(no_effects_yaml(tmp_path))
    result = Trainer(cfg, tmp_path / "run").train()
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss/l1"] for r in rows if "loss/l1" in r]
    assert len(losses) == 24 and np.mean(losses[-4:]) < 0.7 * np.mean(losses[:4])
    assert any("val/si_sdr" in r for r in rows)
    assert result.export.name == "conditional.safetensors"
    model = load_checkpoint(result.export)
    assert isinstance(model, ConditionalUFormer) and model.meta["target"] == "Gtr"  # data.target: the default
    assert "kind" not in json.loads(result.export.with_suffix(".json").read_text())["config"]
    assert any(p.abs().max() > 0 for n, p in model.named_parameters() if n.startswith("film_"))


def test_a_checkpoint_from_before_model_kind_existed_still_resumes(tmp_path):
    cfg = load_config(TINY_YAML, FAST + ["schedule.max_steps=1", "checkpoint.every=1", "data.batch_size=2"])
    make = lambda c: SyntheticPairs(4, 0.25, SR, c.seed)  # noqa: E731
    Trainer(cfg, tmp_path, dataset_factory=make).train()
    path = latest_checkpoint(tmp_path)
    state = load_state(path)
    for key in ("kind", "embed_dim"):
        del state["config"]["model"][key]
    torch.save(state, path)
    cfg.schedule.max_steps = 2
    assert Trainer(cfg, tmp_path, resume=True, dataset_factory=make).train().step == 2
