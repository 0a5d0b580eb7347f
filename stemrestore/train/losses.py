"""Training losses (paper §4.1, SPEC §6): waveform L1 and least-squares GAN terms.

With several sub-discriminators (or several feature maps) the per-part terms
are summed, as in HiFi-GAN and the paper's reference code; within one score or
feature map the mean is taken, which is the paper's ``1/N_l`` normalisation.
All losses are computed in float32 whatever precision the networks ran in.
"""

from __future__ import annotations

import functools

import librosa
import numpy as np
import torch


def l1_loss(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mean absolute error between two waveforms (the stage-1 reconstruction loss)."""
    return (estimate.float() - reference.float()).abs().mean()


def si_sdr_loss(estimate: torch.Tensor, reference: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Negative scale-invariant SDR in dB, averaged over the batch (an optional extra term).

    Per example, channels flattened, no mean removed: the definition of
    :func:`stemrestore.metrics.si_sdr`. Unlike L1 it weighs every example
    equally whatever its level, so quiet targets in loud mixtures count as much
    as loud ones.
    """
    est = estimate.float().flatten(1)
    ref = reference.float().flatten(1)
    alpha = (est * ref).sum(1, keepdim=True) / (ref.pow(2).sum(1, keepdim=True) + eps)
    projection = alpha * ref
    error = est - projection
    ratio = (projection.pow(2).sum(1) + eps) / (error.pow(2).sum(1) + eps)
    return -(10.0 * torch.log10(ratio)).mean()


@functools.lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels).astype(np.float32)


def log_mel_loss(
    estimate: torch.Tensor, reference: torch.Tensor, sr: int, n_fft: int = 2048, hop: int = 512,
    n_mels: int = 128, floor: float = 1e-6,
) -> torch.Tensor:
    """Mean ``|log10 mel(est) - log10 mel(ref)|`` of power mel spectrograms, per channel.

    A log-domain term sees low-level noise in quiet passages, which L1 and SI-SDR
    barely weigh but dB-scaled spectrogram metrics (mel-SSIM) do; ``floor`` (power)
    is the level below which differences stop counting (-60 dB for a full-scale sine).
    """
    x = torch.cat([estimate, reference]).float().flatten(0, 1)
    window = torch.hann_window(n_fft, device=x.device)
    power = torch.stft(x, n_fft, hop, window=window, return_complex=True).abs().pow(2)
    basis = torch.from_numpy(_mel_basis(int(sr), n_fft, n_mels)).to(x.device)
    log_mel = torch.log10(torch.matmul(basis, power) + floor)
    est, ref = log_mel.chunk(2)
    return (est - ref).abs().mean()


def generator_adversarial_loss(fake_scores: list[torch.Tensor]) -> torch.Tensor:
    """``L_gen = sum_k mean((1 - D_k(G(x)))^2)``: the generator wants every score at 1."""
    return sum(((1.0 - s.float()) ** 2).mean() for s in fake_scores)


def discriminator_loss(real_scores: list[torch.Tensor], fake_scores: list[torch.Tensor]) -> torch.Tensor:
    """``L_D = sum_k [mean((1 - D_k(y))^2) + mean(D_k(G(x))^2)]``: real -> 1, restored -> 0."""
    return sum(
        ((1.0 - r.float()) ** 2).mean() + (f.float() ** 2).mean() for r, f in zip(real_scores, fake_scores)
    )


def feature_matching_loss(
    real_fmaps: list[list[torch.Tensor]], fake_fmaps: list[list[torch.Tensor]]
) -> torch.Tensor:
    """``L_feat = sum_k sum_l mean|D_k,l(y) - D_k,l(G(x))|``; real features carry no gradient."""
    return sum(
        (r.detach().float() - f.float()).abs().mean()
        for real, fake in zip(real_fmaps, fake_fmaps)
        for r, f in zip(real, fake)
    )


def generator_loss(
    reconstruction: torch.Tensor, adversarial: torch.Tensor, feature: torch.Tensor, lambda_gen: float,
    lambda_feat: float,
) -> torch.Tensor:
    """Stage-2 generator objective: ``reconstruction + lambda_gen * L_gen + lambda_feat * L_feat``,
    where ``reconstruction`` is the L1 term plus any SI-SDR / log-mel terms."""
    return reconstruction + lambda_gen * adversarial + lambda_feat * feature
