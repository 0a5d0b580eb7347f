"""Online dataset and offline test set on a tiny RawStems tree made here."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from stemrestore.audio import load_audio, save_audio
from stemrestore.data.dataset import MSRDataset, read_window
from stemrestore.data.testset import make_testset
from stemrestore.degrade import DegradationProtocol, ProtocolConfig
from stemrestore.config import from_dict
from stemrestore.errors import ConfigError

SR = 8000  # a low rate keeps the protocol fast; the dataset is rate-agnostic


def _tone(freq, seconds, sr=SR, channels=2, amp=0.3, start=0.0):
    t = np.arange(int(seconds * sr)) / sr
    x = amp * np.sin(2 * np.pi * freq * t) * (t >= start)
    return np.tile(x, (channels, 1)).astype(np.float32)


@pytest.fixture
def tree(tmp_path):
    """Two songs: song A with two vocal stems (one mono, one at 16 kHz), bass and drums;
    song B with a vocal that only starts at 2.5 s, and guitar."""
    root = tmp_path / "RawStems"
    a = root / "Artist A|Song A"
    save_audio(a / "Voc/LV/Lead Vox.wav", _tone(440, 3.0, channels=1), SR)
    save_audio(a / "Voc/BV/BV 1.wav", _tone(660, 3.0, sr=16000), 16000)
    save_audio(a / "Bass/Bass DI.wav", _tone(55, 3.0), SR)
    save_audio(a / "Rhy/DK/Kick In.flac", _tone(80, 3.0, channels=1), SR)
    b = root / "Artist B|Song B"
    save_audio(b / "Voc/LV/Vox.wav", _tone(550, 3.0, start=2.5), SR)
    save_audio(b / "Gtr/EG/Gtr.wav", _tone(330, 3.0), SR)
    return tmp_path


def _no_effects() -> DegradationProtocol:
    """Every probability zero and a fixed SNR: the example is a plain, measurable mix."""
    data = {
        "target": {"p_eq": 0.0, "p_resample": 0.0, "p_compressor": 0.0, "p_distortion": 0.0, "p_reverb": 0.0},
        "mixture": {"p_limiter": 0.0, "p_resample": 0.0, "p_mp3": 0.0},
        "p_noise": 0.0,
        "snr_db": [10.0, 10.0],
    }
    return DegradationProtocol(from_dict(ProtocolConfig, data))


def test_items_are_stereo_float32_of_the_segment_length(tree):
    ds = MSRDataset(tree, target="Voc", segment_seconds=1.0, sr=SR, seed=1)
    mixture, target = ds[0]
    assert mixture.dtype == target.dtype == torch.float32
    assert mixture.shape == target.shape == (2, SR)
    assert torch.isfinite(mixture).all() and mixture.abs().max() <= 1.0
    assert len(ds) == 2  # one item per song by default


def test_same_seed_epoch_index_gives_the_same_example(tree):
    ds = MSRDataset(tree, target="Voc", segment_seconds=1.0, sr=SR, seed=3)
    a = ds[1]
    b = MSRDataset(tree, target="Voc", segment_seconds=1.0, sr=SR, seed=3)[1]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    ds.set_epoch(1)
    c = ds[1]
    assert not torch.equal(a[0], c[0])


def test_target_and_background_come_from_one_song(tree):
    ds = MSRDataset(tree, target="Voc", segment_seconds=1.0, sr=SR, seed=0, protocol=_no_effects(),
                    items_per_epoch=20)
    for i in range(20):
        ex = ds.example(i)
        source = ex.params["source"]
        song = source["song"]
        assert song in ("RawStems/Artist A|Song A", "RawStems/Artist B|Song B")
        # Song B's only other stem is guitar, song A's are bass and drums: never crossed.
        names = " ".join(source["background_stems"])
        assert ("Gtr" in names) == song.endswith("Song B")
        assert all(p.startswith("Voc/") for p in source["target_stems"])
        # SNR fixed at 10 dB and no effects: the mixture is target + background at that ratio.
        background = ex.mixture - ex.target
        ratio = 10 * np.log10(np.sum(ex.target.astype(np.float64) ** 2) / np.sum(background.astype(np.float64) ** 2))
        assert abs(ratio - 10.0) < 0.1


def test_silent_windows_are_redrawn(tree):
    # Restricted to song B, whose vocal starts at 2.5 s.
    split = tree / "split.txt"
    split.write_text("RawStems/Artist B|Song B\n")
    ds = MSRDataset(tree, target="Voc_LV", split_file=split, segment_seconds=0.4, sr=SR, seed=0,
                    protocol=_no_effects(), items_per_epoch=10)
    starts = [ds.example(i).params["source"]["start_seconds"] for i in range(10)]
    # A 0.4-s window holds vocal only when it ends after 2.5 s.
    assert all(s + 0.4 > 2.5 for s in starts)
    ds_never = MSRDataset(tree, target="Voc_LV", split_file=split, segment_seconds=0.4, sr=SR, seed=0,
                          protocol=_no_effects(), max_redraws=0, items_per_epoch=10)
    early = [ds_never.example(i).params["source"]["start_seconds"] for i in range(10)]
    assert any(s + 0.4 <= 2.5 for s in early)  # without redraws, silent windows do occur


def test_group_and_code_targets(tree):
    assert len(MSRDataset(tree, target="Gtr", segment_seconds=0.5, sr=SR).songs) == 1
    assert len(MSRDataset(tree, target="Voc_BV", segment_seconds=0.5, sr=SR).songs) == 1
    with pytest.raises(ConfigError, match="no song"):
        MSRDataset(tree, target="Orch", segment_seconds=0.5, sr=SR)
    with pytest.raises(ConfigError):
        MSRDataset(tree, target="Kazoo", segment_seconds=0.5, sr=SR)


def test_read_window_pads_resamples_and_widens(tree):
    path = tree / "RawStems/Artist A|Song A/Voc/BV/BV 1.wav"
    window = read_window(path, 2.5, SR, SR)  # 1 s asked at 8 kHz from a 16 kHz file, 0.5 s left
    assert window.shape == (2, SR)
    assert np.abs(window[:, : SR // 2 - 50]).max() > 0.2 and not window[:, SR // 2 + 50 :].any()
    mono = read_window(tree / "RawStems/Artist A|Song A/Voc/LV/Lead Vox.wav", 0.0, 100, SR)
    assert np.array_equal(mono[0], mono[1])


def test_dataloader_workers_get_distinct_examples(tree):
    ds = MSRDataset(tree, target="Voc", segment_seconds=0.25, sr=SR, seed=0, items_per_epoch=4)
    loader = torch.utils.data.DataLoader(ds, batch_size=1, num_workers=2)
    batches = [m for m, _ in loader]
    serial = [ds[i][0][None] for i in range(4)]
    assert all(torch.equal(a, b) for a, b in zip(batches, serial))
    assert not torch.equal(batches[0], batches[1])


def test_make_testset_is_reproducible_and_complete(tree):
    out1, out2 = tree / "ts1", tree / "ts2"
    for out in (out1, out2):
        make_testset(tree, out, target="Voc", n=3, seed=5, segment_seconds=0.5, sr=SR, progress=False)
    lines = [json.loads(x) for x in (out1 / "index.jsonl").read_text().splitlines()]
    assert [x["id"] for x in lines] == ["000000", "000001", "000002"]
    for line in lines:
        for key in ("mixture", "target", "params"):
            assert (out1 / line[key]).read_bytes() == (out2 / line[key]).read_bytes()
        mixture, sr = load_audio(out1 / line["mixture"])
        assert sr == SR and mixture.shape == (2, SR // 2)
        params = json.loads((out1 / line["params"]).read_text())
        assert params["class"] == "Voc" and params["source"]["song"] == line["song"]


def test_testset_example_can_be_recreated_from_its_params(tree):
    out = tree / "ts"
    make_testset(tree, out, target="Voc", n=2, seed=9, segment_seconds=0.5, sr=SR, progress=False)
    params = json.loads((out / "000001" / "params.json").read_text())
    source = params["source"]
    song = tree / source["song"]
    n = SR // 2
    target = sum(read_window(song / p, source["start_seconds"], n, SR) for p in source["target_stems"])
    background = sum(
        (read_window(song / p, source["start_seconds"], n, SR) for p in source["background_stems"]),
        np.zeros((2, n), np.float32),
    )
    again = DegradationProtocol().replay(params["degradation"], target, background, sr=SR)
    stored, _ = load_audio(out / "000001" / "mixture.flac")
    assert np.max(np.abs(again.mixture - stored)) < 2.0 / 2**23  # FLAC is 24-bit


def test_studio_protocol_gets_the_target_class(tree):
    from pathlib import Path

    studio = DegradationProtocol.from_yaml(Path(__file__).resolve().parents[1] / "configs/degradation/studio.yaml")
    ds = MSRDataset(tree, target="Voc_LV", segment_seconds=0.5, sr=SR, protocol=studio, seed=0)
    params = ds.example(0).params
    assert params["target_class"] == "Voc_LV" and params["target_strip"]["strip"] == "Voc"
