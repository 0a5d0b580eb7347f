"""Metrics against independent computations and on their defining properties; the score CLI."""

from __future__ import annotations

import json
import math

import librosa
import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity
from torchmetrics.functional.audio import scale_invariant_signal_distortion_ratio

from stemrestore.audio import resample, save_audio
from stemrestore.cli import main
from stemrestore.errors import AudioError
from stemrestore.metrics import MAX_RATIO, match_pair, mel_ssim, multi_mel_snr, score, si_sdr

SR = 22050
CEILING = 10 * math.log10(MAX_RATIO)  # +120 dB
FLOOR = 10 * math.log10(1e-8)  # -80 dB


def _music(rng: np.random.Generator, seconds: float = 1.0, sr: int = SR, channels: int = 2) -> np.ndarray:
    """Decaying harmonic notes plus a little noise: structured, like a stem."""
    t = np.arange(int(seconds * sr)) / sr
    out = np.zeros((channels, t.size))
    for c in range(channels):
        for f0 in rng.uniform(110, 880, size=3):
            onset = rng.uniform(0, seconds / 2)
            env = np.where(t >= onset, np.exp(-3 * (t - onset)), 0.0)
            out[c] += sum(env * np.sin(2 * np.pi * f0 * h * t) / h for h in (1, 2, 3))
        out[c] += 0.01 * rng.standard_normal(t.size)
    return (0.2 * out / np.abs(out).max()).astype(np.float32)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# ---------------------------------------------------------------- SI-SDR


@pytest.mark.parametrize("noise", [0.01, 0.1, 1.0])
@pytest.mark.parametrize("channels", [1, 2])
def test_si_sdr_matches_torchmetrics(rng, noise, channels):
    ref = _music(rng, channels=channels)
    est = 0.7 * ref + noise * 0.2 * rng.standard_normal(ref.shape).astype(np.float32)
    # The paper flattens channels into one vector; torchmetrics scores a flat vector the same way.
    expected = scale_invariant_signal_distortion_ratio(
        torch.from_numpy(est.astype(np.float64).ravel()), torch.from_numpy(ref.astype(np.float64).ravel()),
        zero_mean=False,
    ).item()
    # Only the reference code's "+1e-8 inside the log" differs: 10·log10(1 + 1e-8/ratio) < 1e-4 dB here.
    assert si_sdr(est, ref) == pytest.approx(expected, abs=1e-4)


def test_si_sdr_known_value_for_orthogonal_error(rng):
    ref = _music(rng).astype(np.float64)
    noise = rng.standard_normal(ref.shape)
    noise -= np.sum(noise * ref) / np.sum(ref * ref) * ref  # orthogonal to ref: alpha is exactly 1
    noise *= np.linalg.norm(ref) / np.linalg.norm(noise) * 10 ** (-12.5 / 20)  # 12.5 dB below ref
    assert si_sdr(ref + noise, ref) == pytest.approx(12.5, abs=1e-4)


@pytest.mark.parametrize("gain", [1e-3, 0.5, 7.0, -3.0])
def test_si_sdr_is_scale_invariant(rng, gain):
    ref = _music(rng)
    est = ref + 0.05 * rng.standard_normal(ref.shape).astype(np.float32)
    base = si_sdr(est, ref)
    assert si_sdr(gain * est, ref) == pytest.approx(base, abs=1e-4)
    # Scaling the reference is exact too while <ref, ref> dwarfs the 1e-8 in the gain's denominator.
    assert si_sdr(est, (abs(gain) + 0.5) * ref) == pytest.approx(base, abs=1e-4)


@pytest.mark.filterwarnings("error")
def test_si_sdr_degenerate_inputs_are_finite(rng):
    ref = _music(rng)
    silence = np.zeros_like(ref)
    assert si_sdr(ref, ref) == CEILING  # perfect: capped, not inf
    assert si_sdr(3 * ref, ref) == CEILING
    assert si_sdr(ref, silence) == pytest.approx(FLOOR)  # nothing to recover
    assert si_sdr(silence, silence) == pytest.approx(FLOOR)
    assert si_sdr(silence, ref) == pytest.approx(FLOOR)  # silent estimate recovers nothing


def test_si_sdr_accepts_1d_and_rejects_bad_input(rng):
    ref = _music(rng, channels=1)
    est = ref + 0.05 * rng.standard_normal(ref.shape).astype(np.float32)
    assert si_sdr(est[0], ref[0]) == si_sdr(est, ref)
    with pytest.raises(AudioError, match="does not match"):
        si_sdr(est[:, :-1], ref)
    bad = est.copy()
    bad[0, 3] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        si_sdr(bad, ref)


# ---------------------------------------------------------------- mel-SSIM


def _independent_mel_ssim(est: np.ndarray, ref: np.ndarray, sr: int) -> float:
    """The paper's recipe written out directly: librosa mel + dB + min-max, then skimage SSIM."""
    images = []
    for x in (est, ref):
        mel = librosa.feature.melspectrogram(y=x.mean(axis=0), sr=sr, n_fft=4096, hop_length=1024, n_mels=256)
        db = librosa.power_to_db(mel + 1e-8, ref=np.max, top_db=80)
        images.append((db - db.min()) / (db.max() - db.min()))
    return structural_similarity(images[0], images[1], data_range=1)


@pytest.mark.parametrize("noise", [0.003, 0.03, 0.3])
def test_mel_ssim_matches_direct_librosa_skimage(rng, noise):
    ref = _music(rng)
    est = ref + noise * rng.standard_normal(ref.shape).astype(np.float32)
    assert mel_ssim(est, ref, SR) == pytest.approx(_independent_mel_ssim(est, ref, SR), abs=1e-9)


def test_mel_ssim_identity_range_symmetry_and_monotonicity(rng):
    ref = _music(rng)
    assert mel_ssim(ref, ref, SR) == pytest.approx(1.0)
    values = []
    for noise in (0.001, 0.01, 0.1):
        est = ref + noise * rng.standard_normal(ref.shape).astype(np.float32)
        value = mel_ssim(est, ref, SR)
        assert -1.0 <= value <= 1.0
        assert mel_ssim(ref, est, SR) == pytest.approx(value, abs=1e-12)  # SSIM is symmetric
        values.append(value)
    assert values[0] > values[1] > values[2]


@pytest.mark.filterwarnings("error")
def test_mel_ssim_silence_is_finite(rng):
    ref = _music(rng)
    silence = np.zeros_like(ref)
    assert mel_ssim(silence, silence, SR) == pytest.approx(1.0)
    assert -1.0 <= mel_ssim(ref, silence, SR) < 0.9
    with pytest.raises(AudioError, match="at least 6144 samples"):
        mel_ssim(ref[:, :5000], ref[:, :5000], SR)


# ---------------------------------------------------------------- Multi-Mel-SNR


def _htk_filterbank(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """torchaudio's melscale_fbanks (HTK, norm=None, 0..sr/2), re-derived: (n_mels, n_freqs)."""
    freqs = np.linspace(0, sr // 2, n_fft // 2 + 1)
    mel_max = 2595.0 * np.log10(1.0 + (sr / 2) / 700.0)
    f_pts = 700.0 * (10 ** (np.linspace(0.0, mel_max, n_mels + 2) / 2595.0) - 1.0)
    slopes = f_pts[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / np.diff(f_pts)[:-1]
    up = slopes[:, 2:] / np.diff(f_pts)[1:]
    return np.maximum(0.0, np.minimum(down, up)).T


def _independent_multi_mel_snr(est: np.ndarray, ref: np.ndarray) -> float:
    """MSR Challenge recipe at 48 kHz with numpy only (reflect-padded frames, periodic Hann)."""
    snrs = []
    for e, r in zip(est.astype(np.float64), ref.astype(np.float64)):
        e = e * np.dot(r, e) / (np.dot(e, e) + 1e-8)
        for n_fft, hop, n_mels in ((512, 256, 80), (1024, 512, 128), (2048, 1024, 192)):
            window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
            fb = _htk_filterbank(48000, n_fft, n_mels)
            mels = []
            for x in (r, e):
                padded = np.pad(x, n_fft // 2, mode="reflect")
                frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
                mels.append(fb @ (np.abs(np.fft.rfft(frames * window, axis=1)) ** 2).T)
            snrs.append(10 * np.log10(np.sum(mels[0] ** 2) / np.sum((mels[0] - mels[1]) ** 2)))
    return float(np.mean(snrs))


@pytest.mark.parametrize("noise", [0.01, 0.1])
def test_multi_mel_snr_matches_independent_numpy(rng, noise):
    ref = _music(rng, sr=48000)
    est = ref + noise * 0.2 * rng.standard_normal(ref.shape).astype(np.float32)
    assert multi_mel_snr(est, ref, 48000) == pytest.approx(_independent_multi_mel_snr(est, ref), abs=1e-3)


def _half_copy(k: float, sr: int = 48000) -> tuple[np.ndarray, np.ndarray, float]:
    """Reference: noise then silence. Estimate: the same plus a k-scaled copy in the silent half.

    Frames are exact shifted copies (the half is a multiple of every hop), so
    with the least-squares gain a = 1/(1+k²) the SNR is -10·log10((1-a²)² + a⁴k⁴).
    """
    r = np.random.default_rng(5).standard_normal(48 * 1024).astype(np.float32) * 0.1
    ref = np.concatenate([r, np.zeros_like(r)])
    est = np.concatenate([r, k * r])
    a = 1 / (1 + k * k)
    return est, ref, -10 * math.log10((1 - a * a) ** 2 + a**4 * k**4)


@pytest.mark.parametrize("k", [0.1, 0.3, 0.5])
def test_multi_mel_snr_known_value_for_reference_plus_scaled_noise(k):
    est, ref, expected = _half_copy(k)
    assert multi_mel_snr(est, ref, 48000) == pytest.approx(expected, abs=0.05)


def test_multi_mel_snr_resamples_to_48k():
    est, ref, expected = _half_copy(0.3)
    est44, ref44 = resample(est[None], 48000, 44100), resample(ref[None], 48000, 44100)
    value = multi_mel_snr(est44, ref44, 44100)
    assert value == pytest.approx(expected, abs=0.05)
    # The 44.1 kHz path is exactly "resample, then score at 48 kHz".
    assert value == multi_mel_snr(resample(est44, 44100, 48000), resample(ref44, 44100, 48000), 48000)


@pytest.mark.parametrize("gain", [0.01, 0.5, 4.0])
def test_multi_mel_snr_is_gain_invariant(rng, gain):
    ref = _music(rng)
    est = ref + 0.03 * rng.standard_normal(ref.shape).astype(np.float32)
    assert multi_mel_snr(gain * est, ref, SR) == pytest.approx(multi_mel_snr(est, ref, SR), abs=1e-3)


def test_multi_mel_snr_averages_channels_each_with_its_own_gain(rng):
    ref = _music(rng)
    est = ref + np.array([[0.01], [0.1]], np.float32) * rng.standard_normal(ref.shape).astype(np.float32)
    est[1] *= 5.0  # a per-channel gain is removed per channel
    per_channel = [multi_mel_snr(est[c], ref[c], SR) for c in range(2)]
    assert per_channel[0] > per_channel[1] + 10
    assert multi_mel_snr(est, ref, SR) == pytest.approx(np.mean(per_channel), abs=1e-9)


@pytest.mark.filterwarnings("error")  # includes librosa's empty-mel-filter warning
def test_multi_mel_snr_degenerate_inputs_are_finite(rng):
    ref = _music(rng)
    silence = np.zeros_like(ref)
    assert multi_mel_snr(ref, ref, SR) == pytest.approx(CEILING)
    assert multi_mel_snr(ref, silence, SR) == pytest.approx(FLOOR)
    assert multi_mel_snr(silence, ref, SR) == pytest.approx(0.0, abs=1e-6)  # error equals the signal


# ---------------------------------------------------------------- alignment and the score CLI


def test_match_pair_rules(rng):
    ref = _music(rng)
    est, out_ref, notes = match_pair(ref[:1, :-5], ref, SR)
    assert est.shape == out_ref.shape == (2, ref.shape[1] - 5)
    assert np.array_equal(est[0], est[1]) and len(notes) == 1  # mono repeated; 5 samples is under 1 ms
    est, _, notes = match_pair(ref[:, :-2000], ref[:1], SR)
    assert est.shape == (1, ref.shape[1] - 2000) and len(notes) == 2
    with pytest.raises(AudioError, match="channel"):
        match_pair(np.zeros((3, 100)), np.zeros((2, 100)), SR)


def test_score_cli_prints_all_metrics(tmp_path, rng, capsys):
    ref = _music(rng)
    est = ref + 0.05 * rng.standard_normal(ref.shape).astype(np.float32)
    save_audio(tmp_path / "ref.wav", ref, SR)
    save_audio(tmp_path / "est.wav", est, SR)
    assert main(["score", "--estimate", str(tmp_path / "est.wav"), "--reference", str(tmp_path / "ref.wav"),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = score(est, ref, SR)
    for key, value in expected.items():
        assert printed[key] == pytest.approx(value, abs=1e-9)
    assert main(["score", "--estimate", str(tmp_path / "est.wav"), "--reference", str(tmp_path / "ref.wav")]) == 0
    text = capsys.readouterr().out
    assert "mel-SSIM" in text and "SI-SDR (dB)" in text and "Multi-Mel-SNR (dB)" in text


def test_score_cli_trims_with_warning_and_resamples(tmp_path, rng, capsys):
    ref = _music(rng)
    save_audio(tmp_path / "ref.wav", ref, SR)
    save_audio(tmp_path / "short.wav", ref[:, : SR // 2 + 7000], SR)
    save_audio(tmp_path / "other_rate.wav", resample(ref, SR, 16000), 16000)
    assert main(["score", "--estimate", str(tmp_path / "short.wav"), "--reference", str(tmp_path / "ref.wav"),
                 "--json"]) == 0
    out = capsys.readouterr()
    assert "trimmed to the shorter" in out.err
    assert json.loads(out.out)["si_sdr"] == CEILING  # the overlapping part is identical
    assert main(["score", "--estimate", str(tmp_path / "other_rate.wav"), "--reference", str(tmp_path / "ref.wav"),
                 "--json"]) == 0
    out = capsys.readouterr()
    assert "resampled from 16000 Hz" in out.err
    assert json.loads(out.out)["sample_rate"] == SR


def test_score_cli_errors_are_one_line(tmp_path, rng, capsys):
    save_audio(tmp_path / "six.wav", np.zeros((6, SR), np.float32) + 0.1, SR)
    save_audio(tmp_path / "ref.wav", _music(rng), SR)
    assert main(["score", "--estimate", str(tmp_path / "nope.wav"), "--reference", str(tmp_path / "ref.wav")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such file" in err[0]
    assert main(["score", "--estimate", str(tmp_path / "six.wav"), "--reference", str(tmp_path / "ref.wav")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "6 channels" in err[0] and err[0].startswith("stemrestore score: error:")
