"""Compressor and limiter: sampled ranges and what they do to a drum-like signal."""

import numpy as np
import pytest

from stemrestore.degrade import Compressor, CompressorParams, Limiter, LimiterParams
from stemrestore.errors import ConfigError

SR = 44100


def drums(seconds=2.0, channels=2):
    """Kick-drum-like hits every 250 ms: an 80 Hz sine with a 2 ms rise and a
    100 ms exponential decay, peaking at 0.99."""
    t = np.arange(int(seconds * SR)) / SR
    tau = t % 0.25
    envelope = np.minimum(tau / 0.002, 1.0) * np.exp(-np.maximum(tau - 0.002, 0.0) / 0.1)
    x = envelope * np.sin(2 * np.pi * 80 * tau)
    return np.tile(0.99 * x / np.abs(x).max(), (channels, 1)).astype(np.float32)


def crest_db(x):
    return 20 * np.log10(np.abs(x).max() / np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_compressor_draws_stay_in_range():
    rng = np.random.default_rng(0)
    draws = np.array([list(vars(Compressor().sample(rng)).values()) for _ in range(1000)])
    lo = np.array([-20, 1.5, 1, 50])
    hi = np.array([0, 10, 10, 200])
    assert (draws >= lo).all() and (draws <= hi).all()
    assert (draws.min(0) < lo + 0.05 * (hi - lo)).all() and (draws.max(0) > hi - 0.05 * (hi - lo)).all()


def test_limiter_draws_stay_in_range():
    rng = np.random.default_rng(1)
    draws = np.array([[p.threshold_db, p.release_ms] for p in (Limiter().sample(rng) for _ in range(1000))])
    assert draws[:, 0].min() >= -10 and draws[:, 0].max() <= 0
    assert draws[:, 1].min() >= 50 and draws[:, 1].max() <= 200


def test_compressor_lowers_the_crest_factor_of_drums():
    x = drums()
    y = CompressorParams(threshold_db=-20.0, ratio=8.0, attack_ms=1.0, release_ms=100.0).apply(x, SR)
    assert y.shape == x.shape
    assert crest_db(y) < crest_db(x) - 3.0


def test_compressor_leaves_signals_below_threshold_alone():
    x = drums() * np.float32(0.05)  # peaks near -26 dBFS, under a -20 dB threshold
    y = CompressorParams(threshold_db=-20.0, ratio=8.0, attack_ms=1.0, release_ms=100.0).apply(x, SR)
    assert np.abs(y - x).max() < 0.01 * np.abs(x).max()


def test_limiter_flattens_peaks_and_never_exceeds_full_scale():
    x = drums()
    y = LimiterParams(threshold_db=-10.0, release_ms=100.0).apply(x, SR)
    assert np.abs(y).max() <= 1.0
    assert crest_db(y) < crest_db(x) - 3.0


def test_dynamics_settings_reject_bad_ranges():
    with pytest.raises(ConfigError, match="ratio"):
        Compressor(ratio=(0.5, 2.0))
    with pytest.raises(ConfigError, match="threshold_db"):
        Limiter(threshold_db=(-5.0, 3.0))
