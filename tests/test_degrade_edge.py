"""Edge cases for every effect: silence, mono, tiny input, DC offset, full-scale square."""

import numpy as np
import pytest

from stemrestore.degrade import (
    Compressor,
    Distortion,
    Gain,
    GraphicEQ,
    Limiter,
    MP3Codec,
    Noise,
    NoiseParams,
    ParametricEQ,
    Resampling,
    Reverb,
)
from stemrestore.errors import AudioError

SR = 44100
EFFECTS = [Gain, GraphicEQ, ParametricEQ, Compressor, Limiter, Distortion, Reverb, MP3Codec, Resampling,
           Noise]


def drawn(effect_cls, count=4, seed=0):
    rng = np.random.default_rng(seed)
    return [effect_cls().sample(rng) for _ in range(count)]


def inputs():
    n = SR // 10
    t = np.arange(n) / SR
    rng = np.random.default_rng(1)
    square = np.sign(np.sin(2 * np.pi * 100 * t + 0.1))
    return {
        "mono": (0.3 * rng.standard_normal((1, n))).astype(np.float32),
        "stereo": (0.3 * rng.standard_normal((2, n))).astype(np.float32),
        "100 samples": (0.3 * rng.standard_normal((2, 100))).astype(np.float32),
        "dc offset": (0.5 + 0.1 * rng.standard_normal((2, n))).astype(np.float32),
        "full-scale square": np.tile(square, (2, 1)).astype(np.float32),
    }


@pytest.mark.parametrize("effect_cls", EFFECTS, ids=lambda c: c.__name__)
def test_every_input_keeps_its_shape_and_stays_finite(effect_cls):
    for name, x in inputs().items():
        before = x.copy()
        for params in drawn(effect_cls):
            y = params.apply(x, SR)
            assert y.shape == x.shape and y.dtype == np.float32, (name, params)
            assert np.isfinite(y).all(), (name, params)
            assert np.array_equal(x, before), "the input was modified"


@pytest.mark.parametrize("effect_cls", [e for e in EFFECTS if e is not Noise], ids=lambda c: c.__name__)
def test_silence_in_gives_silence_out(effect_cls):
    silence = np.zeros((2, SR // 10), np.float32)
    for params in drawn(effect_cls):
        assert not params.apply(silence, SR).any(), params


def test_noise_on_silence_is_only_the_noise():
    silence = np.zeros((2, SR), np.float32)
    y = NoiseParams(0.002, seed=3).apply(silence, SR)
    assert np.std(y) == pytest.approx(0.002, rel=0.02)


def test_one_dimensional_input_is_read_as_mono():
    x = (0.1 * np.random.default_rng(4).standard_normal(SR // 10)).astype(np.float32)
    for effect_cls in EFFECTS:
        assert drawn(effect_cls, 1)[0].apply(x, SR).shape == (1, x.size)


def test_bad_audio_is_refused_with_an_audio_error():
    params = drawn(Gain, 1)[0]
    with pytest.raises(AudioError, match="NaN"):
        params.apply(np.array([[0.0, np.nan]], np.float32), SR)
    with pytest.raises(AudioError, match="sample rate"):
        params.apply(np.zeros((1, 10), np.float32), 0)
    with pytest.raises(AudioError, match="no samples"):
        params.apply(np.zeros((2, 0), np.float32), SR)
