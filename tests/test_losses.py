"""Training losses against values worked out by hand (SPEC §6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stemrestore.train.losses import (
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
    generator_loss,
    l1_loss,
    si_sdr_loss,
)


def test_l1_is_the_mean_absolute_sample_error():
    est = torch.tensor([[[1.0, -2.0, 3.0, 0.5]]])
    ref = torch.tensor([[[0.0, 0.0, 1.0, 0.5]]])
    # |1| + |-2| + |2| + 0 = 5 over 4 samples
    assert l1_loss(est, ref).item() == pytest.approx(1.25)


def test_l1_is_computed_in_float32_from_half_inputs():
    est = torch.full((1, 2, 8), 1.0009765625, dtype=torch.bfloat16)  # rounds to 1.0 in bf16
    ref = torch.zeros((1, 2, 8), dtype=torch.bfloat16)
    loss = l1_loss(est, ref)
    assert loss.dtype == torch.float32 and loss.item() == pytest.approx(1.0)


def test_generator_adversarial_loss_sums_sub_discriminators():
    scores = [torch.tensor([0.5, 1.0]), torch.tensor([[0.0, 0.0, 0.0]])]
    # mean((1-0.5)^2, 0) = 0.125 ; mean(1, 1, 1) = 1
    assert generator_adversarial_loss(scores).item() == pytest.approx(1.125)


def test_generator_adversarial_gradient_pushes_scores_to_one():
    s = torch.tensor([0.5, 2.0], requires_grad=True)
    generator_adversarial_loss([s]).backward()
    # d/ds mean((1-s)^2) = -2(1-s)/N
    assert torch.allclose(s.grad, torch.tensor([-0.5, 1.0]))


def test_discriminator_loss_real_to_one_fake_to_zero():
    real = [torch.tensor([1.0, 0.0]), torch.tensor([0.5])]
    fake = [torch.tensor([0.5, 0.5]), torch.tensor([-1.0])]
    # D1: mean(0, 1) + mean(.25, .25) = 0.75 ; D2: 0.25 + 1 = 1.25
    assert discriminator_loss(real, fake).item() == pytest.approx(2.0)
    perfect = discriminator_loss([torch.ones(3)], [torch.zeros(3)])
    assert perfect.item() == 0.0


def test_feature_matching_is_mean_l1_per_map_summed():
    real = [[torch.tensor([1.0, 2.0]), torch.ones(2, 2)], [torch.tensor([[4.0]])]]
    fake = [[torch.zeros(2), torch.full((2, 2), 3.0)], [torch.tensor([[1.0]])]]
    # 1.5 + 2 + 3
    assert feature_matching_loss(real, fake).item() == pytest.approx(6.5)


def test_feature_matching_sends_no_gradient_to_the_real_features():
    real = torch.tensor([1.0, 2.0], requires_grad=True)
    fake = torch.tensor([0.0, 3.0], requires_grad=True)
    feature_matching_loss([[real]], [[fake]]).backward()
    assert real.grad is None
    assert torch.allclose(fake.grad, torch.tensor([-0.5, 0.5]))  # sign(f - r) / N


def test_total_generator_loss_uses_the_paper_weights():
    one = torch.tensor(1.0)
    total = generator_loss(one, torch.tensor(10.0), torch.tensor(100.0), 0.001, 0.01)
    assert total.item() == pytest.approx(1.0 + 0.01 + 1.0)


def test_si_sdr_loss_is_minus_the_evaluation_metric_per_example():
    import numpy as np

    from stemrestore.metrics import si_sdr

    g = torch.Generator().manual_seed(0)
    ref = torch.randn(3, 2, 4000, generator=g)
    est = 0.5 * ref + torch.randn(3, 2, 4000, generator=g) * torch.tensor([0.1, 1.0, 3.0]).view(3, 1, 1)
    expected = -np.mean([si_sdr(e.numpy(), r.numpy()) for e, r in zip(est, ref)])
    assert si_sdr_loss(est, ref).item() == pytest.approx(expected, abs=1e-3)


def test_si_sdr_loss_ignores_the_estimates_scale_and_weighs_quiet_examples_equally():
    g = torch.Generator().manual_seed(1)
    ref = torch.randn(2, 2, 2000, generator=g)
    est = ref + 0.3 * torch.randn(2, 2, 2000, generator=g)
    base = si_sdr_loss(est, ref)
    assert si_sdr_loss(7.0 * est, ref).item() == pytest.approx(base.item(), abs=1e-4)
    quiet = torch.tensor([1.0, 1e-3]).view(2, 1, 1)  # a 60 dB quieter second example
    assert si_sdr_loss(est * quiet, ref * quiet).item() == pytest.approx(base.item(), abs=1e-3)
    assert l1_loss(est * quiet, ref * quiet).item() < 0.6 * l1_loss(est, ref).item()


def test_log_mel_loss_sees_quiet_noise_that_l1_hardly_does():
    from stemrestore.train.losses import log_mel_loss

    sr = 16000
    t = torch.arange(sr) / sr
    tone = torch.sin(2 * torch.pi * 440 * t) * (t < 0.5)  # a note, then half a second of silence
    ref = tone.view(1, 1, -1).repeat(1, 2, 1)
    hiss = 1e-3 * torch.randn(1, 2, sr, generator=torch.Generator().manual_seed(0)) * (t >= 0.5)
    assert log_mel_loss(ref, ref, sr).item() == 0.0
    assert l1_loss(ref + hiss, ref).item() < 1e-3  # L1 barely notices -60 dB hiss in the gap
    assert log_mel_loss(ref + hiss, ref, sr).item() > 0.5  # in log-mel it is orders of magnitude
    # a 6 dB level error everywhere is log10(4) per bin wherever both are above the floor
    louder = log_mel_loss(2 * ref, ref, sr, floor=1e-12).item()
    assert 0.2 < louder <= np.log10(4) + 1e-4
