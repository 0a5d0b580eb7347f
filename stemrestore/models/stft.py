"""STFT front end of the U-Former: waveform <-> complex spectrogram.

Settings follow the paper's network: periodic Hann window of ``n_fft``,
``center=True`` with reflect padding and ``normalized=True`` (scaled by
``1/sqrt(n_fft)``). Spectrograms are laid out ``(batch, channels, frames, bins)``.
"""

from __future__ import annotations

import torch
from torch import nn


class STFT(nn.Module):
    """Short-time Fourier transform and its exact inverse for ``(batch, channels, samples)``."""

    def __init__(self, n_fft: int = 2048, hop: int = 441) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop = hop
        # Not persistent: the window is derived, and released checkpoints do not carry it.
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def frames(self, samples: int) -> int:
        """Number of STFT frames for a signal of ``samples`` samples (``center=True``)."""
        return samples // self.hop + 1

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, samples)`` real -> ``(batch, channels, frames, bins)`` complex."""
        batch, channels, samples = wave.shape
        spec = torch.stft(
            wave.reshape(batch * channels, samples),
            n_fft=self.n_fft,
            hop_length=self.hop,
            window=self.window.to(wave.dtype),
            center=True,
            pad_mode="reflect",
            normalized=True,
            return_complex=True,
        )
        return spec.reshape(batch, channels, *spec.shape[-2:]).transpose(-1, -2)

    def inverse(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        """``(batch, channels, frames, bins)`` complex -> ``(batch, channels, length)`` real."""
        batch, channels, frames, bins = spec.shape
        wave = torch.istft(
            spec.transpose(-1, -2).reshape(batch * channels, bins, frames),
            n_fft=self.n_fft,
            hop_length=self.hop,
            window=self.window.to(spec.real.dtype),
            center=True,
            normalized=True,
            length=length,
        )
        return wave.reshape(batch, channels, length)
