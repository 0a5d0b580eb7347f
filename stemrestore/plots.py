"""Figures for evaluation reports: mel-spectrogram comparisons and histograms.

Figures are drawn with matplotlib's object API (no pyplot global state, no GUI
backend) and written atomically as PNG, so a report folder never holds a
half-written image.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import librosa
import numpy as np
from matplotlib.figure import Figure

from stemrestore.audio import check_audio
from stemrestore.fileio import write_atomic
from stemrestore.metrics import SSIM_HOP, SSIM_N_FFT, SSIM_N_MELS

#: Dynamic range shown below the loudest bin of all panels.
DISPLAY_RANGE_DB = 80.0


def save_figure(fig: Figure, out_path: str | os.PathLike, dpi: int = 100) -> Path:
    """Render ``fig`` to PNG and write it atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return write_atomic(out_path, buffer.getvalue())


def mel_power(audio: np.ndarray, sr: int) -> np.ndarray:
    """Mono power mel spectrogram ``(mels, frames)`` at the mel-SSIM resolution."""
    mono = check_audio(audio).mean(axis=0)
    return librosa.feature.melspectrogram(
        y=mono, sr=sr, n_fft=SSIM_N_FFT, hop_length=SSIM_HOP, n_mels=SSIM_N_MELS, power=2.0
    )


def mel_comparison_png(
    signals: dict[str, np.ndarray],
    sr: int,
    out_path: str | os.PathLike,
    title: str | None = None,
) -> Path:
    """Side-by-side mel spectrograms of ``signals`` (e.g. mixture / restored / clean).

    All panels share one colour scale: dB relative to the loudest bin of any
    panel, down to -80 dB, so a quieter signal looks quieter. Returns the path.
    """
    if not signals:
        raise ValueError("mel_comparison_png needs at least one signal")
    mels = {name: mel_power(audio, sr) for name, audio in signals.items()}
    # One shared reference (never below 1e-10, librosa's amin) keeps silence at the bottom of the scale.
    peak = max(max(float(m.max()) for m in mels.values()), 1e-10)
    fig = Figure(figsize=(4.2 * len(mels) + 1.0, 3.6), layout="constrained")
    axes = fig.subplots(1, len(mels), sharey=True, squeeze=False)[0]
    image = None
    for ax, (name, mel) in zip(axes, mels.items()):
        db = librosa.power_to_db(mel, ref=peak, top_db=None)
        seconds = mel.shape[1] * SSIM_HOP / sr
        image = ax.imshow(
            db,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=-DISPLAY_RANGE_DB,
            vmax=0.0,
            extent=(0.0, seconds, 0, mel.shape[0]),
            interpolation="nearest",
        )
        ax.set_title(name)
        ax.set_xlabel("time (s)")
    axes[0].set_ylabel("mel bin")
    fig.colorbar(image, ax=list(axes), label="dB (shared reference)")
    if title:
        fig.suptitle(title)
    return save_figure(fig, out_path)


def histogram_png(
    values: dict[str, np.ndarray],
    out_path: str | os.PathLike,
    xlabel: str,
    bins: int = 30,
) -> Path:
    """Overlaid step histograms, one per entry of ``values`` (same bins for all)."""
    arrays = [np.asarray(v, dtype=float) for v in values.values()]
    pooled = np.concatenate(arrays) if arrays else np.zeros(0)
    edges = np.histogram_bin_edges(pooled, bins=bins) if pooled.size else np.linspace(0.0, 1.0, bins + 1)
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    for name, v in zip(values, arrays):
        ax.hist(v, bins=edges, histtype="step", linewidth=1.5, label=f"{name} (n={v.size})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("segments")
    if values:
        ax.legend()
    return save_figure(fig, out_path)
