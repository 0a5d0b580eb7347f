"""Gain, distortion, reverb and noise: ranges and measured behaviour."""

import numpy as np
import pedalboard
import pytest
import scipy.signal as ss

from stemrestore.degrade import (
    Distortion,
    DistortionParams,
    Gain,
    GainParams,
    Noise,
    NoiseParams,
    Reverb,
    ReverbParams,
)

SR = 44100


def noise(seconds=1.0, channels=2, seed=0, scale=0.3):
    x = np.random.default_rng(seed).standard_normal((channels, int(seconds * SR))) * scale
    return x.astype(np.float32)


def lag(x, y):
    c = ss.correlate(y, x, mode="full", method="fft")
    return int(np.argmax(c)) - (len(x) - 1)


def test_gain_scales_exactly_and_draws_stay_in_range():
    x = noise()
    assert np.allclose(GainParams(-6.0).apply(x, SR), x * 10 ** (-6 / 20), rtol=1e-6)
    rng = np.random.default_rng(0)
    draws = [Gain().sample(rng).gain_db for _ in range(1000)]
    assert min(draws) >= -12 and max(draws) <= 12


def test_distortion_is_tanh_of_the_driven_signal_like_pedalboard():
    x = noise(scale=0.8)
    for drive in (0.0, 2.5, 5.0):
        y = DistortionParams(drive).apply(x, SR)
        np.testing.assert_allclose(y, np.tanh(x.astype(np.float64) * 10 ** (drive / 20)), atol=2e-6)
        np.testing.assert_allclose(y, pedalboard.Distortion(drive_db=drive)(x, SR), atol=2e-6)


def test_distortion_adds_harmonics_to_a_sine():
    t = np.arange(SR) / SR
    x = (0.9 * np.sin(2 * np.pi * 1000 * t))[None].astype(np.float32)
    spectrum = np.abs(np.fft.rfft(DistortionParams(5.0).apply(x, SR)[0]))
    third = spectrum[3000] / spectrum[1000]  # 1 Hz bins; tanh is odd: odd harmonics
    assert 20 * np.log10(third) > -30


def test_distortion_draws_stay_in_range():
    rng = np.random.default_rng(1)
    draws = [Distortion().sample(rng).drive_db for _ in range(1000)]
    assert min(draws) >= 0 and max(draws) <= 5 and max(draws) - min(draws) > 4.9


def test_reverb_draws_stay_in_range():
    rng = np.random.default_rng(2)
    draws = np.array([[p.room_size, p.damping, p.wet_level, p.dry_level, p.width]
                      for p in (Reverb().sample(rng) for _ in range(1000))])
    lo, hi = draws.min(0), draws.max(0)
    assert (lo >= [0.1, 0.1, 0.1, 0.4, 0.1]).all() and (hi <= [1.0, 1.0, 0.5, 0.4, 1.0]).all()


def test_reverb_adds_a_tail_after_a_burst():
    x = np.zeros((2, 2 * SR), np.float32)
    x[:, 4410:4851] = noise(0.01, seed=3)  # a 10 ms burst at 0.1 s
    y = ReverbParams(room_size=0.8, damping=0.3, wet_level=0.4, dry_level=0.4, width=1.0).apply(x, SR)
    assert y.shape == x.shape
    burst = np.mean(x[:, 4410:4851] ** 2)
    tail = np.mean(y[:, SR // 2 : SR] ** 2)  # 0.4-0.9 s after the burst ended
    assert 10 * np.log10(tail / burst) > -50
    dry = ReverbParams(room_size=0.8, damping=0.3, wet_level=0.0, dry_level=0.4, width=1.0).apply(x, SR)
    assert np.abs(dry[:, SR // 2 :]).max() == 0.0


def test_reverb_keeps_the_dry_signal_aligned():
    x = noise(seed=4)
    y = ReverbParams(room_size=0.3, damping=0.5, wet_level=0.2, dry_level=0.4, width=1.0).apply(x, SR)
    assert lag(x[0], y[0]) == 0


def test_noise_has_the_drawn_standard_deviation():
    silence = np.zeros((2, SR), np.float32)
    for std in (0.001, 0.005):
        y = NoiseParams(std, seed=5).apply(silence, SR)
        assert np.std(y) == pytest.approx(std, rel=0.02)
        assert abs(np.mean(y)) < 5 * std / np.sqrt(y.size)


def test_noise_is_additive_and_reproducible_from_its_seed():
    x = noise(seed=6)
    a = NoiseParams(0.003, seed=7).apply(x, SR)
    b = NoiseParams(0.003, seed=7).apply(x, SR)
    c = NoiseParams(0.003, seed=8).apply(x, SR)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.std(a - x) == pytest.approx(0.003, rel=0.02)


def test_noise_draws_stay_in_range_with_fresh_seeds():
    rng = np.random.default_rng(9)
    draws = [Noise().sample(rng) for _ in range(1000)]
    stds = [d.std for d in draws]
    assert min(stds) >= 0.001 and max(stds) <= 0.005
    assert len({d.seed for d in draws}) == 1000
