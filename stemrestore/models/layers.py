"""Building blocks of the U-Former: residual conv blocks and RoPE transformer blocks.

Module and parameter names mirror the paper's released checkpoints so that
their state_dicts load key for key (see ``docs/model.md``).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn


class ConvBlock(nn.Module):
    """Pre-activation residual block: BN -> LeakyReLU -> 3x3 conv, twice, plus a shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        # Released checkpoints have a `shortcut` only where the channel count changes.
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.leaky_relu(self.bn1(x), 0.01, inplace=True))
        h = self.conv2(F.leaky_relu(self.bn2(h), 0.01, inplace=True))
        return (x if self.shortcut is None else self.shortcut(x)) + h


class EncoderBlock(nn.Module):
    """Residual block then 2x2 average pooling; returns ``(pooled, skip)``."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv_block = ConvBlock(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skip = self.conv_block(x)
        return F.avg_pool2d(skip, 2), skip


class DecoderBlock(nn.Module):
    """2x transposed-conv upsampling, concatenation with the skip, residual block."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.upsample = nn.ConvTranspose2d(in_channels, in_channels, 2, stride=2, bias=False)
        self.conv_block = ConvBlock(2 * in_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv_block(torch.cat((self.upsample(x), skip), dim=1))


class RMSNorm(nn.Module):
    """Root-mean-square normalisation with a learned per-feature ``scale``."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.scale


@functools.lru_cache(maxsize=64)
def rope_table(length: int, head_dim: int, device: torch.device | None = None) -> torch.Tensor:
    """Rotary table ``(length, head_dim/2, 2)`` of (cos, sin) of ``p * 10000^(-2i/head_dim)``.

    Built for any length and cached per (length, device); callers must not modify it.
    """
    # A table first built under inference_mode must still be usable when training later.
    with torch.inference_mode(False):
        theta = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, device=device) / head_dim))
        angles = torch.outer(torch.arange(length, device=device), theta).float()
        return torch.stack((angles.cos(), angles.sin()), dim=-1)


def apply_rope(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Rotate each pair ``(x[2i], x[2i+1])`` of ``x`` ``(batch, length, heads, head_dim)``."""
    pairs = x.float().unflatten(-1, (-1, 2))
    cos, sin = table[:, None, :, 0], table[:, None, :, 1]
    even, odd = pairs[..., 0], pairs[..., 1]
    rotated = torch.stack((even * cos - odd * sin, odd * cos + even * sin), dim=-1)
    return rotated.flatten(-2).type_as(x)


class SelfAttention(nn.Module):
    """Multi-head self-attention with a fused ``c_attn`` (q, k, v) and rotary q/k."""

    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=False)

    def forward(self, x: torch.Tensor, rope: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        q, k, v = self.c_attn(x).view(batch, length, 3, self.n_head, dim // self.n_head).unbind(2)
        q, k = apply_rope(q, rope), apply_rope(k, rope)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return self.c_proj(out.transpose(1, 2).reshape(batch, length, dim))


class SwiGLU(nn.Module):
    """Gated MLP ``c_proj(silu(c_fc1(x)) * c_fc2(x))`` without biases."""

    def __init__(self, n_embd: int, hidden: int) -> None:
        super().__init__()
        self.c_fc1 = nn.Linear(n_embd, hidden, bias=False)
        self.c_fc2 = nn.Linear(n_embd, hidden, bias=False)
        self.c_proj = nn.Linear(hidden, n_embd, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(F.silu(self.c_fc1(x)) * self.c_fc2(x))


class TransformerBlock(nn.Module):
    """Pre-norm transformer block over sequences ``(batch, length, n_embd)``."""

    def __init__(self, n_embd: int, n_head: int, mlp_hidden: int) -> None:
        super().__init__()
        self.att_norm = RMSNorm(n_embd)
        self.att = SelfAttention(n_embd, n_head)
        self.ffn_norm = RMSNorm(n_embd)
        self.mlp = SwiGLU(n_embd, mlp_hidden)

    def forward(self, x: torch.Tensor, rope: torch.Tensor) -> torch.Tensor:
        x = x + self.att(self.att_norm(x), rope)
        return x + self.mlp(self.ffn_norm(x))

    def start_as_identity(self) -> None:
        """Zero both residual branches' output layers, so the block passes its input through.

        Gradients still reach those layers (their inputs are not zero), so the
        block learns from there; a block added to a trained model this way leaves
        the model computing what it did.
        """
        with torch.no_grad():
            self.att.c_proj.weight.zero_()
            self.mlp.c_proj.weight.zero_()
