"""GAN discriminators for stage-2 training: multi-period, multi-resolution STFT, multi-scale.

The paper names a HiFi-GAN-style multi-scale discriminator; its reference code
trained with a multi-period discriminator (periods 2, 3, 5, 7, 11) plus a
multi-resolution STFT discriminator (FFT 2048, 1024, 512). All three are here
and :class:`DiscriminatorConfig` picks any combination (default: the reference
code's pair). Stereo input is judged one channel at a time (channels are folded
into the batch), as the reference code does: a discriminator then learns what a
clean instrument sounds like, not how a particular mix is panned.

Every sub-discriminator returns ``(score, feature_maps)``; the combined
:class:`Discriminator` returns the list of scores and the list of feature-map
lists, the shape the LSGAN and feature-matching losses take.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from stemrestore.errors import ConfigError

KINDS = ("mpd", "mrd", "msd")
NORMS = ("spectral", "weight")
LEAKY_SLOPE = 0.1  # HiFi-GAN's slope

#: ``(scores, feature maps)``: one score and one list of feature maps per sub-discriminator.
DiscOutput = tuple[list[torch.Tensor], list[list[torch.Tensor]]]


@dataclass
class DiscriminatorConfig:
    """Which discriminators to train against, and their sizes (defaults: the reference code's)."""

    kinds: tuple[str, ...] = ("mpd", "mrd")  #: any of "mpd", "mrd" (multi-resolution STFT), "msd"
    periods: tuple[int, ...] = (2, 3, 5, 7, 11)  #: MPD periods
    mpd_channels: tuple[int, ...] = (32, 128, 512, 1024, 1024)  #: MPD conv widths (HiFi-GAN)
    fft_sizes: tuple[int, ...] = (2048, 1024, 512)  #: MRD resolutions (hop = n_fft / 4)
    mrd_channels: int = 32  #: MRD conv width
    mrd_bands: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)  #: MRD band edges, fraction of bins
    msd_scales: int = 3  #: MSD: raw, 2x and 4x average-pooled waveform
    msd_channels: int = 128  #: MSD first width (HiFi-GAN: 128, widths grow to 8x)
    norm: str = "spectral"  #: "spectral" (reference code) or "weight" (HiFi-GAN)

    def __post_init__(self) -> None:
        self.kinds = tuple(self.kinds)
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or not self.kinds:
            raise ConfigError(
                f"DiscriminatorConfig.kinds: unknown kind '{unknown[0] if unknown else ''}' "
                f"(choose from {', '.join(KINDS)})"
            )
        if self.norm not in NORMS:
            raise ConfigError(f"DiscriminatorConfig.norm: '{self.norm}' is not one of {', '.join(NORMS)}")
        edges = tuple(float(e) for e in self.mrd_bands)
        if len(edges) < 2 or edges[0] != 0.0 or edges[-1] != 1.0 or list(edges) != sorted(set(edges)):
            raise ConfigError("DiscriminatorConfig.mrd_bands: must rise strictly from 0.0 to 1.0")
        self.mrd_bands = edges
        sizes = [*self.periods, *self.mpd_channels, *self.fft_sizes, self.mrd_channels, self.msd_scales]
        if min(sizes + [self.msd_channels]) < 1:
            raise ConfigError("DiscriminatorConfig: periods, widths, FFT sizes and scales must be positive")


def _normed(module: nn.Module, norm: str) -> nn.Module:
    return spectral_norm(module) if norm == "spectral" else weight_norm(module)


class PeriodDiscriminator(nn.Module):
    """HiFi-GAN period discriminator: the waveform folded into ``(samples / p, p)`` frames."""

    def __init__(self, period: int, channels: tuple[int, ...], norm: str) -> None:
        super().__init__()
        self.period = period
        ins = (1,) + tuple(channels[:-1])
        strides = [3] * (len(channels) - 1) + [1]
        self.convs = nn.ModuleList(
            _normed(nn.Conv2d(i, o, (5, 1), (s, 1), padding=(2, 0)), norm)
            for i, o, s in zip(ins, channels, strides)
        )
        self.post = _normed(nn.Conv2d(channels[-1], 1, (3, 1), padding=(1, 0)), norm)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        batch, _, samples = x.shape
        pad = -samples % self.period
        if pad:
            # Reflect needs pad < samples; very short inputs fall back to zeros.
            x = F.pad(x, (0, pad), "reflect" if pad < samples else "constant")
        x = x.view(batch, 1, -1, self.period)
        fmaps = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LEAKY_SLOPE)
            fmaps.append(x)
        return self.post(x), fmaps


class ResolutionDiscriminator(nn.Module):
    """One STFT resolution: real/imaginary parts, a conv stack per frequency band."""

    def __init__(self, n_fft: int, channels: int, bands: tuple[float, ...], norm: str) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop = n_fft // 4
        bins = n_fft // 2 + 1
        self.bands = [(int(a * bins), int(b * bins)) for a, b in zip(bands[:-1], bands[1:])]
        if any(hi <= lo for lo, hi in self.bands):
            raise ConfigError(f"DiscriminatorConfig.mrd_bands: a band of the {n_fft}-point STFT has no bins")
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

        def stack() -> nn.ModuleList:
            spec = [(2, (3, 9), (1, 1), (1, 4))] + [(channels, (3, 9), (1, 2), (1, 4))] * 3
            spec += [(channels, (3, 3), (1, 1), (1, 1))]
            return nn.ModuleList(_normed(nn.Conv2d(i, channels, k, s, p), norm) for i, k, s, p in spec)

        self.band_convs = nn.ModuleList(stack() for _ in self.bands)
        self.post = _normed(nn.Conv2d(channels, 1, (3, 3), padding=(1, 1)), norm)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        # FFTs stay in float32 whatever autocast says: cuFFT has no bf16 path.
        with torch.autocast(x.device.type, enabled=False):
            spec = torch.stft(
                x[:, 0].float(), self.n_fft, self.hop, window=self.window, return_complex=True
            )
        x = torch.view_as_real(spec).permute(0, 3, 2, 1)  # (batch, re/im, frames, bins)
        fmaps, outs = [], []
        for (lo, hi), convs in zip(self.bands, self.band_convs):
            h = x[..., lo:hi]
            for conv in convs:
                h = F.leaky_relu(conv(h), LEAKY_SLOPE)
                fmaps.append(h)
            outs.append(h)
        return self.post(torch.cat(outs, dim=-1)), fmaps


class ScaleDiscriminator(nn.Module):
    """HiFi-GAN scale discriminator: strided, grouped 1-D convolutions on the waveform."""

    def __init__(self, width: int, norm: str) -> None:
        super().__init__()
        w = [width, width, 2 * width, 4 * width, 8 * width, 8 * width, 8 * width]
        groups = [1, 4, 16, 16, 16, 16, 1]
        kernels, strides = [15, 41, 41, 41, 41, 41, 5], [1, 2, 2, 4, 4, 1, 1]
        ins = [1] + w[:-1]
        self.convs = nn.ModuleList(
            _normed(nn.Conv1d(i, o, k, s, padding=k // 2, groups=_groups(g, i, o)), norm)
            for i, o, k, s, g in zip(ins, w, kernels, strides, groups)
        )
        self.post = _normed(nn.Conv1d(w[-1], 1, 3, padding=1), norm)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        fmaps = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LEAKY_SLOPE)
            fmaps.append(x)
        return self.post(x), fmaps


def _groups(groups: int, c_in: int, c_out: int) -> int:
    """HiFi-GAN's group count, reduced until it divides narrower (scaled-down) layers."""
    while c_in % groups or c_out % groups:
        groups //= 2
    return groups


class MultiScaleDiscriminator(nn.Module):
    """Scale discriminators on the waveform and its 2x, 4x, ... average-pooled copies."""

    def __init__(self, scales: int, width: int, norm: str) -> None:
        super().__init__()
        self.discs = nn.ModuleList(ScaleDiscriminator(width, norm) for _ in range(scales))

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        outs = []
        for i, disc in enumerate(self.discs):
            if i:
                x = F.avg_pool1d(x, 4, 2, padding=2)
            outs.append(disc(x))
        return outs


class Discriminator(nn.Module):
    """The configured combination of sub-discriminators, judging each channel separately."""

    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DiscriminatorConfig()
        self.mpd = self.mrd = self.msd = None
        if "mpd" in config.kinds:
            self.mpd = nn.ModuleList(
                PeriodDiscriminator(p, config.mpd_channels, config.norm) for p in config.periods
            )
        if "mrd" in config.kinds:
            self.mrd = nn.ModuleList(
                ResolutionDiscriminator(n, config.mrd_channels, config.mrd_bands, config.norm)
                for n in config.fft_sizes
            )
        if "msd" in config.kinds:
            self.msd = MultiScaleDiscriminator(config.msd_scales, config.msd_channels, config.norm)

    def forward(self, wave: torch.Tensor) -> DiscOutput:
        """``wave (batch, channels, samples)`` -> scores and feature maps of every sub-discriminator."""
        x = wave.reshape(-1, 1, wave.shape[-1])
        outs: list[tuple[torch.Tensor, list[torch.Tensor]]] = []
        for part in (self.mpd, self.mrd):
            if part is not None:
                outs.extend(disc(x) for disc in part)
        if self.msd is not None:
            outs.extend(self.msd(x))
        return [score for score, _ in outs], [fmaps for _, fmaps in outs]
