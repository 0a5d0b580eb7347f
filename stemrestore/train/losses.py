"""Training losses (paper §4.1, SPEC §6): waveform L1 and least-squares GAN terms.

With several sub-discriminators (or several feature maps) the per-part terms
are summed, as in HiFi-GAN and the paper's reference code; within one score or
feature map the mean is taken, which is the paper's ``1/N_l`` normalisation.
All losses are computed in float32 whatever precision the networks ran in.
"""

from __future__ import annotations

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
    """Stage-2 generator objective ``L1 (+ SI-SDR term) + lambda_gen * L_gen + lambda_feat * L_feat``."""
    return reconstruction + lambda_gen * adversarial + lambda_feat * feature
