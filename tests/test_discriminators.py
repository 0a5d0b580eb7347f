"""Discriminators: structure, channel handling, gradients, configuration errors."""

from __future__ import annotations

import pytest
import torch

from stemrestore.errors import ConfigError
from stemrestore.models.discriminators import (
    Discriminator,
    DiscriminatorConfig,
    PeriodDiscriminator,
    ScaleDiscriminator,
)


@pytest.fixture(autouse=True)
def _one_thread():
    # The test machine's cores are shared; one thread avoids oversubscription stalls.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SMALL = dict(mpd_channels=(4, 8, 8, 8, 8), mrd_channels=4, msd_channels=16, fft_sizes=(256, 128))


def small(**kw) -> Discriminator:
    torch.manual_seed(0)
    return Discriminator(DiscriminatorConfig(**{**SMALL, **kw}))


def test_default_is_the_reference_codes_combination():
    cfg = DiscriminatorConfig()
    assert cfg.kinds == ("mpd", "mrd")
    assert cfg.periods == (2, 3, 5, 7, 11) and cfg.fft_sizes == (2048, 1024, 512)


def test_one_score_and_feature_list_per_sub_discriminator():
    d = small(kinds=("mpd", "mrd", "msd"), periods=(2, 3), msd_scales=2)
    scores, fmaps = d(torch.randn(3, 2, 2000))
    assert len(scores) == len(fmaps) == 2 + 2 + 2
    # MPD: 5 convs; MRD: 5 convs per band x 5 bands; MSD: 7 convs
    assert [len(f) for f in fmaps] == [5, 5, 25, 25, 7, 7]
    # channels are judged separately: 3 examples x 2 channels
    assert all(s.shape[0] == 6 for s in scores)


def test_channels_are_judged_independently():
    d = small(kinds=("mpd", "mrd"), periods=(3,)).eval()
    x = torch.randn(1, 2, 1500)
    stereo, _ = d(x)
    left, _ = d(x[:, :1])
    right, _ = d(x[:, 1:])
    for both, one, other in zip(stereo, left, right):
        assert torch.allclose(both[0], one[0], atol=1e-6) and torch.allclose(both[1], other[0], atol=1e-6)


def test_period_discriminator_folds_by_period_and_pads_odd_lengths():
    torch.manual_seed(0)
    d = PeriodDiscriminator(5, (4, 8), "weight")
    score, fmaps = d(torch.randn(2, 1, 1003))  # 1003 = 5 * 200 + 3: padded to 1005
    assert fmaps[0].shape == (2, 4, 67, 5)  # 201 rows, stride 3 -> 67; width = the period
    assert score.shape[-1] == 5


def test_period_discriminator_sees_periodic_structure():
    # An impulse train with the discriminator's period lands in one column of the 2-D fold.
    torch.manual_seed(0)
    d = PeriodDiscriminator(4, (4,), "weight")
    x = torch.zeros(1, 1, 400)
    x[..., ::4] = 1.0
    folded = d.convs[0](x.view(1, 1, -1, 4))
    bias = d.convs[0].bias.view(1, -1, 1)
    active = (folded - bias[..., None]).abs().sum(dim=(1, 2))[0]
    assert active[0] > 0 and torch.all(active[1:] == 0)


def test_gradients_reach_the_waveform():
    d = small(kinds=("mpd", "mrd", "msd"), periods=(2,), msd_scales=1)
    x = torch.randn(1, 2, 1200, requires_grad=True)
    scores, _ = d(x)
    sum(s.mean() for s in scores).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_norm_setting_is_applied():
    spectral = small(norm="spectral", kinds=("mpd",), periods=(2,))
    weight = small(norm="weight", kinds=("mpd",), periods=(2,))
    s_conv, w_conv = spectral.mpd[0].convs[1], weight.mpd[0].convs[1]
    assert type(s_conv.parametrizations.weight[0]).__name__ == "_SpectralNorm"
    assert type(w_conv.parametrizations.weight[0]).__name__ == "_WeightNorm"
    # After a few power iterations the spectrally normalised weight has top singular value 1.
    spectral.train()
    for _ in range(30):
        spectral(torch.randn(1, 1, 600))
    w = s_conv.weight.detach().flatten(1)
    assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, abs=0.05)


def test_scale_discriminator_groups_adapt_to_narrow_widths():
    d = ScaleDiscriminator(8, "weight")  # HiFi-GAN's 16 groups do not divide 8 channels
    assert [c.groups for c in d.convs] == [1, 4, 8, 16, 16, 16, 1]
    score, fmaps = d(torch.randn(1, 1, 800))
    assert len(fmaps) == 7 and score.shape[1] == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kinds": ("mpd", "hifi")}, "unknown kind 'hifi'"),
        ({"norm": "batch"}, "norm: 'batch'"),
        ({"mrd_bands": (0.0, 0.6, 0.5, 1.0)}, "mrd_bands"),
        ({"periods": (0, 2)}, "positive"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        DiscriminatorConfig(**kwargs)


def test_a_band_without_bins_is_an_error():
    with pytest.raises(ConfigError, match="no bins"):
        Discriminator(DiscriminatorConfig(kinds=("mrd",), fft_sizes=(16,), mrd_bands=(0.0, 0.01, 1.0)))
