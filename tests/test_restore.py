"""The restoration engine: chunking without seams, resampling, channels, streaming files, CLI."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F
from test_uformer import tiny_model
from torch import nn

from stemrestore.cli import main
from stemrestore.errors import AudioError, ConfigError
from stemrestore.models import load_checkpoint, save_checkpoint
from stemrestore.restore import Restorer

SR = 8000


class Pointwise(nn.Module):
    """Stand-in model whose output at a sample depends on that sample alone."""

    def __init__(self, sr: int = SR, gain: float = 0.5) -> None:
        super().__init__()
        self.meta = {"sample_rate": sr, "target": "Test"}
        self.gain = gain
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        return self.gain * torch.tanh(2 * x)


class LocalFilter(nn.Module):
    """Stand-in model with context: a 65-tap FIR filter then a soft clipper, per channel."""

    def __init__(self, sr: int = SR) -> None:
        super().__init__()
        self.meta = {"sample_rate": sr, "target": "Test"}
        taps = np.hanning(67)[1:-1] * np.cos(np.linspace(-4, 4, 65))
        self.register_buffer("taps", torch.tensor(taps / taps.sum(), dtype=torch.float32)[None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, n = x.shape
        return torch.tanh(F.conv1d(x.reshape(b * c, 1, n), self.taps, padding=32)).reshape(b, c, n)


def noise(channels: int, samples: int, seed: int = 0, level: float = 0.3) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal((channels, samples))).astype(np.float32)


@pytest.mark.parametrize("overlap", [0.0, 0.25, 0.5])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_cross_faded_chunks_sum_to_the_unchunked_result(overlap, batch_size):
    audio = noise(2, 7 * SR + 123)
    restorer = Restorer(Pointwise(), chunk_seconds=1.0, overlap=overlap, batch_size=batch_size, device="cpu")
    out = restorer.restore(audio, SR)
    assert out.shape == audio.shape
    np.testing.assert_allclose(out, 0.5 * np.tanh(2 * audio), atol=1e-6)
    batches = restorer.model.seen
    assert max(b.shape[0] for b in batches) == batch_size and max(b.shape[-1] for b in batches) == SR


def test_no_seams_with_a_model_that_uses_context():
    audio = noise(2, 12 * SR, seed=1)
    model = LocalFilter()
    with torch.inference_mode():
        whole = model(torch.from_numpy(audio)[None])[0].numpy()
    inner = slice(100, -100)  # the song's own edges are not seams
    chunked = Restorer(model, chunk_seconds=1.0, overlap=0.25, device="cpu").restore(audio, SR)
    assert np.abs(chunked - whole)[:, inner].max() < 1e-3
    # without cross-fades the chunk borders show: the comparison above can fail
    hard = Restorer(model, chunk_seconds=1.0, overlap=0.0, device="cpu").restore(audio, SR)
    assert np.abs(hard - whole)[:, inner].max() > 1e-2


def test_resamples_to_the_model_rate_and_back():
    sr = 16000
    t = np.arange(sr) / sr
    audio = (0.4 * np.sin(2 * np.pi * 440 * t) * np.hanning(sr))[None].astype(np.float32)
    model = Pointwise(sr=44100)
    model.forward = lambda x: (model.seen.append(x), 0.5 * x)[1]
    out = Restorer(model, chunk_seconds=0.25, overlap=0.25, device="cpu").restore(audio, sr)
    assert out.shape == audio.shape
    assert np.abs(out - 0.5 * audio).max() < 1e-3
    assert sum(x.shape[-1] for x in model.seen) > 2.7 * sr  # the model saw 44.1 kHz audio (plus overlaps)


def test_mono_runs_as_dual_mono_and_comes_back_mono():
    model = Pointwise()
    audio = noise(1, 3 * SR, seed=2)
    out = Restorer(model, chunk_seconds=1.0, device="cpu").restore(audio[0], SR)
    assert out.shape == audio[0].shape
    np.testing.assert_allclose(out, 0.5 * np.tanh(2 * audio[0]), atol=1e-6)
    assert all(x.shape[1] == 2 and torch.equal(x[:, 0], x[:, 1]) for x in model.seen)


def test_a_mono_model_restores_each_channel_on_its_own():
    model = tiny_model(seed=6, in_channels=1, out_channels=1)
    audio = noise(2, 3000, seed=3)
    out = Restorer(model, chunk_seconds=1.0, device="cpu").restore(audio, SR)
    with torch.inference_mode():
        left = model(torch.from_numpy(audio[:1])[None])[0].numpy()
    np.testing.assert_allclose(out[:1], left, atol=1e-5)


def test_more_than_two_channels_is_rejected():
    with pytest.raises(AudioError, match="has 6 channels"):
        Restorer(Pointwise(), device="cpu").restore(noise(6, 1000), SR)


def test_single_chunk_is_exactly_the_model_output():
    model = tiny_model(seed=7)
    audio = noise(2, 5000, seed=4)
    out = Restorer(model, chunk_seconds=1.0, device="cpu").restore(audio, SR)
    with torch.inference_mode():
        direct = model(torch.from_numpy(audio)[None])[0].numpy()
    np.testing.assert_allclose(out, direct, atol=1e-6)


@pytest.mark.parametrize("level", [0.0, 1e-7])
def test_silent_and_near_silent_input_stay_finite(level):
    audio = noise(2, 2 * SR + 77, seed=5, level=level)
    out = Restorer(tiny_model(seed=8), chunk_seconds=0.5, device="cpu").restore(audio, SR)
    assert out.shape == audio.shape and np.isfinite(out).all()


def test_restore_file_streams_to_the_same_result(tmp_path):
    audio = noise(2, 20 * SR + 5, seed=6)
    src = tmp_path / "mix.wav"
    sf.write(src, audio.T, SR, subtype="FLOAT")
    restorer = Restorer(LocalFilter(), chunk_seconds=1.0, device="cpu")
    calls: list[tuple[int, int]] = []
    out = restorer.restore_file(
        src, tmp_path / "out" / "mix_Test.wav", progress=lambda d, t: calls.append((d, t))
    )
    data, sr = sf.read(out, dtype="float32", always_2d=True)
    assert sr == SR and data.shape == audio.T.shape
    np.testing.assert_allclose(data.T, restorer.restore(audio, SR), atol=1e-6)
    assert calls[-1] == (audio.shape[1], audio.shape[1])
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(calls))
    assert sorted(p.name for p in out.parent.iterdir()) == ["mix_Test.wav"]  # no temporary file left
    with pytest.raises(AudioError, match="already exists"):
        restorer.restore_file(src, out)
    flac = restorer.restore_file(src, out.with_suffix(".flac"), overwrite=True)
    np.testing.assert_allclose(sf.read(flac, dtype="float32")[0], data, atol=1e-5)


def test_restore_file_memory_is_bounded_by_the_chunk_not_the_song(tmp_path):
    seconds = 300
    src = tmp_path / "long.wav"
    sf.write(src, noise(2, seconds * SR, seed=7).T, SR, subtype="FLOAT")
    decoded_bytes = seconds * SR * 2 * 4  # 19 MB as float32
    restorer = Restorer(Pointwise(), chunk_seconds=1.0, device="cpu")
    restorer.model.forward = lambda x: 0.5 * torch.tanh(2 * x)  # do not keep what the model saw
    tracemalloc.start()
    restorer.restore_file(src, tmp_path / "long_out.wav")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < decoded_bytes / 5
    assert sf.info(tmp_path / "long_out.wav").frames == seconds * SR


class PositionGain(nn.Module):
    """Stand-in model whose gain depends on where a sample sits in its input: x[t] * (t mod 7)."""

    def __init__(self, sr: int = SR) -> None:
        super().__init__()
        self.meta = {"sample_rate": sr, "target": "Test"}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (torch.arange(x.shape[-1]) % 7).to(x.dtype)


def test_shifts_average_time_aligned_passes():
    audio = noise(2, SR + 5, seed=3)
    t = np.arange(audio.shape[1])
    plain = Restorer(PositionGain(), chunk_seconds=2.0, device="cpu").restore(audio, SR)
    np.testing.assert_allclose(plain, audio * (t % 7), atol=1e-5)
    restorer = Restorer(PositionGain(), chunk_seconds=2.0, device="cpu", shifts=3, max_shift=0.01)
    assert restorer.offsets == [0, 27, 53]  # 0.01 s at 8 kHz = 80 samples, spread evenly
    expected = audio * np.mean([(t + o) % 7 for o in restorer.offsets], axis=0)
    np.testing.assert_allclose(restorer.restore(audio, SR), expected, atol=1e-5)
    # a model that ignores position gives the same result whatever the shifts
    steady = Restorer(Pointwise(), chunk_seconds=1.0, device="cpu", shifts=4).restore(audio, SR)
    np.testing.assert_allclose(steady, 0.5 * np.tanh(2 * audio), atol=1e-6)


class Lopsided(nn.Module):
    """Stand-in stereo model that treats its channels differently and is not odd in its input."""

    def __init__(self) -> None:
        super().__init__()
        self.meta = {"sample_rate": SR, "target": "Test"}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = x[:, :1], x[:, 1:]
        return torch.cat([2 * left + right**2, right], dim=1)


def test_tta_averages_the_swapped_and_inverted_views_mapped_back():
    audio = noise(2, SR + 5, seed=4)
    left, right = audio
    plain = Restorer(Lopsided(), chunk_seconds=1.0, device="cpu").restore(audio, SR)
    np.testing.assert_allclose(plain, np.stack([2 * left + right**2, right]), atol=1e-5)
    tta = Restorer(Lopsided(), chunk_seconds=1.0, device="cpu", tta=True).restore(audio, SR)
    # plain (2L + R², R); swapped and swapped back (L, 2R + L²); inverted and negated (2L - R², R)
    expected = np.stack([5 * left, 4 * right + left**2]) / 3
    np.testing.assert_allclose(tta, expected, atol=1e-5)
    # an odd model that treats the channels alike gives its plain output
    odd = Restorer(Pointwise(), chunk_seconds=1.0, device="cpu", tta=True, shifts=2).restore(audio, SR)
    np.testing.assert_allclose(odd, 0.5 * np.tanh(2 * audio), atol=1e-6)


def test_tta_on_a_mono_model_inverts_polarity_only():
    model = tiny_model(seed=6, in_channels=1, out_channels=1)
    restorer = Restorer(model, chunk_seconds=0.5, device="cpu", tta=True)
    assert len(restorer.views) == 2
    audio = noise(1, SR // 2, seed=5)
    x = torch.from_numpy(audio)[None]
    with torch.inference_mode():
        expected = 0.5 * (model(x) - model(-x))[0].numpy()
    np.testing.assert_allclose(restorer.restore(audio, SR), expected, atol=1e-5)


def test_settings_default_to_the_checkpoints_recommendation(tmp_path):
    model = Lopsided()
    assert Restorer(model, device="cpu").settings == {"chunk_seconds": 10.0, "overlap": 0.25, "shifts": 1, "tta": False}
    model.meta["inference"] = {"tta": True, "chunk_seconds": 0.5}
    recommended = Restorer(model, device="cpu")
    assert recommended.settings == {"chunk_seconds": 0.5, "overlap": 0.25, "shifts": 1, "tta": True}
    assert recommended.chunk == SR // 2 and len(recommended.views) == 3
    assert recommended.describe_settings() == "0.5 s chunks, overlap 0.25, no shifts, TTA on"
    overridden = Restorer(model, device="cpu", tta=False, chunk_seconds=1.0)
    assert overridden.settings["tta"] is False and overridden.chunk == SR and len(overridden.views) == 1
    # the CLI: no flag takes the recommendation, --no-tta turns it off
    ck = save_checkpoint(tiny_model(seed=9), tmp_path / "ck", target="Voc", inference={"tta": True})
    audio = noise(2, SR, seed=11)
    sf.write(tmp_path / "a.wav", audio.T, SR, subtype="FLOAT")
    for flags, tta in [([], True), (["--no-tta"], False)]:
        out = tmp_path / f"out_{tta}"
        assert main(["restore", str(tmp_path / "a.wav"), "--checkpoint", str(ck), "--out-dir", str(out)] + flags) == 0
        expected = Restorer(load_checkpoint(ck), tta=tta, device="cpu").restore(audio, SR)
        np.testing.assert_allclose(sf.read(out / "a_Voc.wav", dtype="float32")[0].T, expected, atol=1e-6)


def test_the_inference_settings_and_the_cli_flags_agree():
    """A key known to the checkpoint format but missing from the fallbacks or the CLI flags would be
    ignored without a word; the flags are defined apart from stemrestore.restore_settings."""
    from stemrestore.cli import build_parser
    from stemrestore.cli.restore import window_options
    from stemrestore.models.checkpoint import INFERENCE_KEYS
    from stemrestore.restore import DEFAULT_SETTINGS

    assert set(DEFAULT_SETTINGS) == set(INFERENCE_KEYS)
    for key, value in DEFAULT_SETTINGS.items():
        assert isinstance(value, INFERENCE_KEYS[key]), key
    flags = ["--chunk-seconds", "4", "--overlap", "0.1", "--shifts", "2", "--tta"]
    for command in (["restore", "a.wav", "--out-dir", "o"], ["evaluate", "--testset", "t"], ["demo"]):
        args = build_parser().parse_args(command + flags)
        assert window_options(args) == {"chunk_seconds": 4.0, "overlap": 0.1, "shifts": 2, "tta": True}
        assert set(window_options(args)) == set(INFERENCE_KEYS)


def test_half_on_the_cpu_runs_the_model_in_bfloat16_close_to_float32():
    model = tiny_model(seed=4)
    seen: set[torch.dtype] = set()
    for layer in (m for m in model.modules() if isinstance(m, nn.Linear)):
        layer.register_forward_hook(lambda module, args, out: seen.add(out.dtype))
    audio = noise(2, SR // 2, seed=5)
    full = Restorer(model, device="cpu").restore(audio, SR)
    assert seen == {torch.float32}
    seen.clear()
    half = Restorer(model, device="cpu", half=True).restore(audio, SR)
    assert seen == {torch.bfloat16}
    assert half.dtype == np.float32 and half.shape == full.shape
    # bfloat16 keeps 8 bits of mantissa: the output differs, but stays within about -30 dB of it.
    error_db = 10 * np.log10(np.sum((half - full) ** 2) / np.sum(full**2))
    assert -60 < error_db < -20


def test_settings_are_validated():
    for bad in (0, 1.5, True):
        with pytest.raises(ConfigError, match="shifts"):
            Restorer(Pointwise(), shifts=bad, device="cpu")
    with pytest.raises(ConfigError, match="max_shift"):
        Restorer(Pointwise(), shifts=2, max_shift=0.0, device="cpu")
    with pytest.raises(ConfigError, match="overlap"):
        Restorer(Pointwise(), overlap=0.7, device="cpu")
    with pytest.raises(ConfigError, match="chunk_seconds"):
        Restorer(tiny_model(), chunk_seconds=0.001, device="cpu")
    with pytest.raises(ConfigError, match="batch_size"):
        Restorer(Pointwise(), batch_size=0, device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            Restorer(Pointwise(), device="cuda")


def test_cli_window_flags_reach_the_restorer(tmp_path):
    ck = save_checkpoint(tiny_model(seed=9), tmp_path / "ck" / "tiny", target="Voc")
    audio = noise(2, SR, seed=10)
    sf.write(tmp_path / "a.wav", audio.T, SR, subtype="FLOAT")
    flags = ["--chunk-seconds", "0.5", "--overlap", "0.5", "--shifts", "2", "--tta"]
    assert main(["restore", str(tmp_path / "a.wav"), "--checkpoint", str(ck), "--out-dir", str(tmp_path)] + flags) == 0
    restored = sf.read(tmp_path / "a_Voc.wav", dtype="float32")[0].T
    expected = Restorer(load_checkpoint(ck), chunk_seconds=0.5, overlap=0.5, shifts=2, tta=True, device="cpu")
    np.testing.assert_allclose(restored, expected.restore(audio, SR), atol=1e-6)
    plain = Restorer(load_checkpoint(ck), chunk_seconds=0.5, overlap=0.5, shifts=2, device="cpu").restore(audio, SR)
    assert np.abs(restored - plain).max() > 1e-3


def test_cli_restores_files_and_folders(tmp_path, capsys):
    ck = save_checkpoint(tiny_model(seed=9), tmp_path / "ck" / "tiny", target="Voc")
    songs = tmp_path / "songs"
    songs.mkdir()
    sf.write(songs / "a.wav", noise(1, 3 * SR, seed=8)[0], SR, subtype="PCM_16")
    sf.write(songs / "b.flac", noise(2, 11025 + 3, seed=9).T, 11025)
    out_dir = tmp_path / "out"
    args = ["restore", str(songs), "--checkpoint", str(ck), "--out-dir", str(out_dir), "--chunk-seconds", "1"]
    assert main(args) == 0
    for name, (sr, frames, channels) in {
        "a_Voc.wav": (SR, 3 * SR, 1),
        "b_Voc.wav": (11025, 11028, 2),
    }.items():
        info = sf.info(out_dir / name)
        assert (info.samplerate, info.frames, info.channels) == (sr, frames, channels)
        assert np.isfinite(sf.read(out_dir / name)[0]).all()
    assert str(out_dir / "a_Voc.wav") in capsys.readouterr().out
    assert main(args) == 2 and "already exists" in capsys.readouterr().err
    assert main(args + ["--overwrite", "--format", "flac"]) == 0
    assert (out_dir / "b_Voc.flac").is_file()
    assert (
        main(
            [
                "restore",
                str(songs / "a.wav"),
                "--checkpoint",
                str(tmp_path / "none.pth"),
                "--out-dir",
                str(out_dir),
            ]
        )
        == 2
    )
    assert "no such checkpoint" in capsys.readouterr().err
