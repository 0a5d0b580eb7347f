"""Objective metrics for restored stems: SI-SDR, mel-SSIM and Multi-Mel-SNR.

Every metric takes numpy audio, ``(channels, samples)`` or ``(samples,)``, with
the estimate first and the reference second, and returns a Python float.
Estimate and reference must have the same shape (align them first, see
:func:`match_pair`). All three are finite for any finite input and emit no
warnings:

- the dB metrics lie in ``[-80, +120]`` dB. The floor is the paper's reference
  code (``10·log10(ratio + 1e-8)``); the ceiling replaces the division by zero
  of a perfect estimate (distortion energy below 1e-12 of the signal energy).
- a silent reference gives -80 dB for SI-SDR and Multi-Mel-SNR (there is no
  signal to recover); mel-SSIM of two silent signals is 1.0.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Callable

import librosa
import numpy as np
from skimage.metrics import structural_similarity

from stemrestore.audio import check_audio, resample
from stemrestore.errors import AudioError

#: The reference code's epsilon (SI-SDR gain denominator, dB floor, mel offset).
EPS = 1e-8
#: Largest energy ratio reported: a perfect estimate scores +120 dB, not +inf.
MAX_RATIO = 1e12

#: mel-SSIM settings (paper §2.3 and its reference code).
SSIM_N_FFT, SSIM_HOP, SSIM_N_MELS, SSIM_TOP_DB = 4096, 1024, 256, 80.0
#: Multi-Mel-SNR resolutions (n_fft, hop, mels) at 48 kHz (MSR Challenge).
MEL_SNR_RESOLUTIONS: tuple[tuple[int, int, int], ...] = ((512, 256, 80), (1024, 512, 128), (2048, 1024, 192))
MEL_SNR_RATE = 48000


def _pair(estimate: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both signals as float32 (channels, samples) of equal shape, or AudioError."""
    est = check_audio(estimate, "estimate")
    ref = check_audio(reference, "reference")
    if est.shape != ref.shape:
        raise AudioError(
            f"estimate shape {est.shape} does not match reference shape {ref.shape} "
            "(channels, samples); trim or resample the estimate to the reference first"
        )
    return est, ref


def _ratio_db(signal_energy: float, error_energy: float) -> float:
    """``10·log10(signal/error + EPS)``, bounded to [-80, +120] dB without warnings."""
    if signal_energy <= 0.0:
        ratio = 0.0
    elif error_energy * MAX_RATIO <= signal_energy:
        ratio = MAX_RATIO
    else:
        ratio = signal_energy / error_energy
    return 10.0 * math.log10(ratio + EPS)


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant SDR in dB (Le Roux et al. 2019), as the paper's reference code.

    Channels are flattened into one vector and no mean is removed;
    ``alpha = <est, ref> / (<ref, ref> + 1e-8)`` and the result is the energy
    ratio of ``alpha·ref`` to ``est - alpha·ref``. Perfect estimate: +120 dB;
    silent reference: -80 dB.
    """
    est, ref = _pair(estimate, reference)
    est, ref = est.astype(np.float64).ravel(), ref.astype(np.float64).ravel()
    alpha = float(np.dot(est, ref)) / (float(np.dot(ref, ref)) + EPS)
    target = alpha * ref
    error = est - target
    return _ratio_db(float(np.dot(target, target)), float(np.dot(error, error)))


def _normalised_mel_db(mono: np.ndarray, sr: int) -> np.ndarray:
    """Power mel spectrogram in dB (ref=max, top_db 80), min-max scaled to [0, 1]."""
    mel = librosa.feature.melspectrogram(
        y=mono, sr=sr, n_fft=SSIM_N_FFT, hop_length=SSIM_HOP, n_mels=SSIM_N_MELS, window="hann", power=2.0
    )
    db = librosa.power_to_db(mel + EPS, ref=np.max, top_db=SSIM_TOP_DB)
    span = float(db.max() - db.min())
    # A flat spectrogram (silence) has no range to scale; the reference code maps it to 0.5.
    return np.full_like(db, 0.5) if span == 0.0 else (db - db.min()) / span


def mel_ssim(estimate: np.ndarray, reference: np.ndarray, sr: int = 44100) -> float:
    """SSIM between the normalised log-mel spectrograms of estimate and reference.

    As the paper's reference code: channels averaged to mono; power mel
    spectrogram (librosa, n_fft 4096, hop 1024, 256 mels) plus 1e-8; dB with
    ``ref=max`` and ``top_db=80``; each spectrogram min-max scaled to [0, 1];
    scikit-image SSIM with its defaults and ``data_range=1``. In [-1, 1].
    """
    est, ref = _pair(estimate, reference)
    frames = 1 + est.shape[1] // SSIM_HOP
    if frames < 7:  # scikit-image's default 7x7 window
        raise AudioError(f"mel-SSIM needs at least {6 * SSIM_HOP} samples, got {est.shape[1]}")
    a = _normalised_mel_db(est.mean(axis=0), sr)
    b = _normalised_mel_db(ref.mean(axis=0), sr)
    return float(structural_similarity(a, b, data_range=1.0))


@functools.lru_cache(maxsize=None)
def _mel_basis(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """HTK mel filters without normalisation, as torchaudio's MelSpectrogram defaults.

    The lowest HTK bands of the 512-point resolution are narrower than one FFT
    bin and hold no weight; they add zero to both sides of the SNR, so
    librosa's "empty filters" warning is expected and silenced here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Empty filters detected", category=UserWarning)
        return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=0.0, fmax=sr / 2, htk=True, norm=None)


def _power_mel(audio: np.ndarray, n_fft: int, hop: int, n_mels: int) -> np.ndarray:
    spec = librosa.stft(audio, n_fft=n_fft, hop_length=hop, window="hann", center=True, pad_mode="reflect")
    return np.matmul(_mel_basis(MEL_SNR_RATE, n_fft, n_mels), np.abs(spec) ** 2)


def multi_mel_snr(estimate: np.ndarray, reference: np.ndarray, sr: int) -> float:
    """MSR Challenge Multi-Mel-SNR in dB.

    Both signals are resampled to 48 kHz (soxr). Per channel, the estimate is
    scaled by its least-squares gain ``<ref, est> / (<est, est> + 1e-8)``; then
    at each resolution (n_fft, hop, mels) = (512, 256, 80), (1024, 512, 128),
    (2048, 1024, 192) the SNR is ``10·log10(sum M_ref² / sum (M_ref - M_est)²)``
    on power mel spectrograms M (Hann, centred frames with reflect padding, HTK
    mels 0-24 kHz, unnormalised filters). The result is the mean over
    resolutions and channels.
    """
    est, ref = _pair(estimate, reference)
    est = resample(est, sr, MEL_SNR_RATE)
    ref = resample(ref, sr, MEL_SNR_RATE)
    if ref.shape[1] < 2:
        raise AudioError(f"Multi-Mel-SNR needs at least 2 samples at 48 kHz, got {ref.shape[1]}")
    est64 = est.astype(np.float64)
    gains = np.sum(ref * est64, axis=1, keepdims=True) / (np.sum(est64 * est64, axis=1, keepdims=True) + EPS)
    # Spectra in float32 (half the time of float64); energies are summed in float64.
    est = (gains * est64).astype(np.float32)
    snrs = []
    for n_fft, hop, n_mels in MEL_SNR_RESOLUTIONS:
        m_ref = _power_mel(ref, n_fft, hop, n_mels).astype(np.float64)
        m_est = _power_mel(est, n_fft, hop, n_mels).astype(np.float64)
        for c in range(ref.shape[0]):
            snrs.append(_ratio_db(float(np.sum(m_ref[c] ** 2)), float(np.sum((m_ref[c] - m_est[c]) ** 2))))
    return float(np.mean(snrs))


@dataclass(frozen=True)
class Metric:
    """A metric as reported in tables: key, column label, function of (est, ref, sr)."""

    key: str
    label: str
    fn: Callable[[np.ndarray, np.ndarray, int], float]


#: The reported metrics, in the column order of the paper's Table 1.
METRICS: tuple[Metric, ...] = (
    Metric("mel_ssim", "mel-SSIM", lambda e, r, sr: mel_ssim(e, r, sr)),
    Metric("si_sdr", "SI-SDR (dB)", lambda e, r, sr: si_sdr(e, r)),
    Metric("multi_mel_snr", "Multi-Mel-SNR (dB)", multi_mel_snr),
)


def score(estimate: np.ndarray, reference: np.ndarray, sr: int) -> dict[str, float]:
    """All :data:`METRICS` for one aligned pair, keyed by metric key."""
    return {m.key: m.fn(estimate, reference, sr) for m in METRICS}


def match_pair(
    estimate: np.ndarray, reference: np.ndarray, sr: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Align an estimate to its reference; returns ``(est, ref, warnings)``.

    Rules: a mono estimate is repeated to the reference's channel count and a
    multi-channel estimate is averaged for a mono reference (any other channel
    mismatch raises AudioError); both signals are trimmed to the shorter
    length. ``warnings`` describes each change worth telling the user about
    (a channel conversion, or a length difference above 1 ms).
    """
    est = check_audio(estimate, "estimate")
    ref = check_audio(reference, "reference")
    notes = []
    if est.shape[0] != ref.shape[0]:
        channels = est.shape[0]
        if channels == 1:
            est = np.repeat(est, ref.shape[0], axis=0)
        elif ref.shape[0] == 1:
            est = est.mean(axis=0, keepdims=True)
        else:
            raise AudioError(
                f"estimate has {est.shape[0]} channels, reference has {ref.shape[0]}; "
                "write the estimate with the reference's channel count"
            )
        notes.append(f"estimate converted from {channels} to {ref.shape[0]} channel(s) to match the reference")
    n = min(est.shape[1], ref.shape[1])
    if abs(est.shape[1] - ref.shape[1]) > 0.001 * sr:
        notes.append(
            f"lengths differ ({est.shape[1] / sr:.3f} s estimate, {ref.shape[1] / sr:.3f} s reference); "
            "both trimmed to the shorter"
        )
    return est[:, :n], ref[:, :n], notes
