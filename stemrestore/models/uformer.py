"""The U-Former: a conv U-Net over the complex STFT with a RoPE transformer bottleneck.

Exactly the network of the paper's released checkpoints (``/shared/UFORMER.md``),
made configurable and freed of the reference's limits: rotary tables are built
for the length at hand (no 20-second cap) and the output always has exactly the
input's length (also when the frame count is already a multiple of the
downsampling factor, where the reference returned nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from stemrestore.config import from_dict, to_dict
from stemrestore.errors import ConfigError
from stemrestore.models.layers import DecoderBlock, EncoderBlock, TransformerBlock, rope_table
from stemrestore.models.stft import STFT

ARCHITECTURE = "uformer"
HEADS = ("map", "mask_map")


@dataclass
class UFormerConfig:
    """U-Former hyper-parameters; the defaults are the paper's (about 14.3 M parameters)."""

    in_channels: int = 2  #: audio channels in (2 = stereo)
    out_channels: int = 2  #: audio channels out
    channels: tuple[int, ...] = (16, 64, 256, 256)  #: encoder widths; the last must be n_embd
    n_layer: int = 6  #: (time, frequency) transformer block pairs
    n_head: int = 8
    n_embd: int = 256
    n_fft: int = 2048
    hop: int = 441
    sample_rate: int = 44100
    #: output head: "map" (the paper: the network's output is the target spectrum) or
    #: "mask_map" (a complex mask on the mixture spectrum plus that mapping, see UFormer)
    head: str = "map"

    def __post_init__(self) -> None:
        self.channels = tuple(int(c) for c in self.channels)
        positive = (
            "in_channels",
            "out_channels",
            "n_layer",
            "n_head",
            "n_embd",
            "n_fft",
            "hop",
            "sample_rate",
        )
        for name in positive:
            if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0:
                raise ConfigError(
                    f"UFormerConfig.{name}: must be a positive integer, got {getattr(self, name)!r}"
                )
        if not self.channels or min(self.channels) <= 0:
            raise ConfigError(f"UFormerConfig.channels: must be positive widths, got {self.channels}")
        if self.channels[-1] != self.n_embd:
            raise ConfigError(
                f"UFormerConfig.channels: the last width ({self.channels[-1]}) must equal n_embd ({self.n_embd})"
            )
        if self.n_embd % self.n_head or (self.n_embd // self.n_head) % 2:
            raise ConfigError(
                f"UFormerConfig.n_head: n_embd ({self.n_embd}) / n_head ({self.n_head}) must be an even integer"
            )
        if self.head not in HEADS:
            raise ConfigError(f"UFormerConfig.head: '{self.head}' is not one of {', '.join(HEADS)}")
        if self.head == "mask_map" and self.in_channels != self.out_channels:
            raise ConfigError(
                f"UFormerConfig.head: 'mask_map' masks the input, so in_channels ({self.in_channels}) "
                f"must equal out_channels ({self.out_channels})"
            )
        if (self.n_fft // 2) % self.downsample or self.n_fft % 2:
            raise ConfigError(
                f"UFormerConfig.n_fft: n_fft/2 ({self.n_fft // 2}) must be divisible by 2^len(channels) "
                f"({self.downsample})"
            )

    @property
    def downsample(self) -> int:
        """Total pooling factor of the encoder along time and frequency."""
        return 2 ** len(self.channels)

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def mlp_hidden(self) -> int:
        """SwiGLU width as in the paper's network: int(2 * 4 * n_embd / 3)."""
        return int(2 * 4 * self.n_embd / 3)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UFormerConfig:
        return from_dict(cls, data)


class UFormer(nn.Module):
    """Restores a waveform: ``forward((batch, in_channels, samples)) -> (batch, out_channels, samples)``.

    With ``head="map"`` (the paper) the network maps the mixture's complex
    spectrogram directly to the target's. ``head="mask_map"`` adds a second 1x1
    output layer whose two channels per audio channel are a complex mask ``M``:
    the estimate is ``M * X + Y`` (``X`` the mixture spectrum, ``Y`` the mapping).
    A near-clean input then needs no re-synthesis, only a mask near 1; the mask
    layer starts at zero, so a "map" model's weights load into a "mask_map"
    model unchanged and start out computing exactly what they did.

    ``meta`` holds what a checkpoint knows about the model (target class, sample
    rate, training summary); ``config`` serialises the architecture.
    """

    #: Name stored in checkpoints, and the config class that rebuilds the model;
    #: subclasses override both and inherit the config round trip.
    architecture: str = ARCHITECTURE
    config_class: type[UFormerConfig] = UFormerConfig

    def __init__(self, config: UFormerConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or self.config_class()
        self.meta: dict[str, Any] = {
            "architecture": self.architecture,
            "target": "unknown",
            "sample_rate": config.sample_rate,
        }
        self.stft = STFT(config.n_fft, config.hop)
        widths = config.channels
        depth = len(widths)
        ins = (2 * config.in_channels,) + widths[:-1]
        for i in range(depth):
            self.add_module(f"encoder_block{i + 1}", EncoderBlock(ins[i], widths[i]))
        for k in range(depth):
            c_in = widths[depth - 1 - k]
            c_out = widths[max(depth - 2 - k, 0)]
            self.add_module(f"decoder_block{k + 1}", DecoderBlock(c_in, c_out))
        make = lambda: TransformerBlock(config.n_embd, config.n_head, config.mlp_hidden)
        self.t_blocks = nn.ModuleList(make() for _ in range(config.n_layer))
        self.f_blocks = nn.ModuleList(make() for _ in range(config.n_layer))
        self.post_fc = nn.Conv2d(widths[0], 2 * config.out_channels, 1)
        if config.head == "mask_map":
            self.mask_fc = nn.Conv2d(widths[0], 2 * config.out_channels, 1)
            nn.init.zeros_(self.mask_fc.weight)
            nn.init.zeros_(self.mask_fc.bias)
        self.use_channels_last(True)

    def use_channels_last(self, enabled: bool = True) -> UFormer:
        """Choose the memory layout of the conv path (results agree up to float rounding).

        Channels-last is the default because oneDNN runs these convolutions about
        1.4x faster on CPU with it; the paper's network used the classic NCHW layout.
        """
        self.channels_last = enabled
        return self.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)

    def get_config(self) -> dict[str, Any]:
        """Plain-data description of the architecture (round-trips through :meth:`from_config`)."""
        return {"architecture": self.architecture, **self.config.to_dict()}

    @classmethod
    def from_config(cls, data: dict[str, Any]) -> UFormer:
        data = dict(data)
        arch = data.pop("architecture", cls.architecture)
        if arch != cls.architecture:
            raise ConfigError(f"architecture '{arch}' is not '{cls.architecture}'")
        return cls(cls.config_class.from_dict(data))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.ndim != 3 or wave.shape[1] != self.config.in_channels:
            raise ValueError(f"expected (batch, {self.config.in_channels}, samples), got {tuple(wave.shape)}")
        length = wave.shape[-1]
        # Reflect padding needs more than n_fft/2 samples; shorter inputs get silence appended.
        min_length = self.config.n_fft // 2 + 1
        if length < min_length:
            wave = F.pad(wave, (0, min_length - length))
        spec = self.stft(wave)  # (b, c, t, f)
        frames = spec.shape[-2]
        x = torch.view_as_real(spec).permute(0, 1, 4, 2, 3).flatten(1, 2)  # (b, c*2, t, f)
        pad_t = -frames % self.config.downsample
        x = F.pad(x[..., :-1], (0, 0, 0, pad_t))  # Nyquist bin dropped, frames padded
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        features = self._unet(x)
        out_spec = _as_complex(self.post_fc(features))
        if self.config.head == "mask_map":
            out_spec = out_spec + _as_complex(self.mask_fc(features)) * _as_complex(x)
        out_spec = out_spec[:, :, :frames]
        out_spec = F.pad(out_spec, (0, 1))  # Nyquist bin back, as zero
        return self.stft.inverse(out_spec, wave.shape[-1])[..., :length]

    def _unet(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder, bottleneck and decoder: the features the output layers read."""
        depth = len(self.config.channels)
        skips = []
        for i in range(depth):
            x, skip = getattr(self, f"encoder_block{i + 1}")(x)
            skips.append(skip)
        x = self._bottleneck(x)
        for k in range(depth):
            x = getattr(self, f"decoder_block{k + 1}")(x, skips[depth - 1 - k])
        return x

    def _bottleneck(self, x: torch.Tensor) -> torch.Tensor:
        batch, dim, frames, bins = x.shape
        head_dim = self.config.head_dim
        t_rope, f_rope = rope_table(frames, head_dim, x.device), rope_table(bins, head_dim, x.device)
        x = x.permute(0, 3, 2, 1).reshape(batch * bins, frames, dim)  # sequences along time
        for t_block, f_block in zip(self.t_blocks, self.f_blocks):
            x = t_block(x, t_rope)
            x = x.view(batch, bins, frames, dim).transpose(1, 2).reshape(batch * frames, bins, dim)
            x = f_block(x, f_rope)
            x = x.view(batch, frames, bins, dim).transpose(1, 2).reshape(batch * bins, frames, dim)
        return x.view(batch, bins, frames, dim).permute(0, 3, 2, 1)


def _as_complex(x: torch.Tensor) -> torch.Tensor:
    """``(b, 2c, t, f)`` real with (real, imag) channel pairs -> ``(b, c, t, f)`` complex64."""
    x = x.float().unflatten(1, (x.shape[1] // 2, 2)).permute(0, 1, 3, 4, 2)
    return torch.view_as_complex(x.contiguous())


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
