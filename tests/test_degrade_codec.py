"""MP3 codec and resampling: ranges, length, alignment, band-limiting."""

import numpy as np
import pytest
import scipy.signal as ss

from stemrestore.degrade import MP3Codec, MP3Params, ResampleParams, Resampling
from stemrestore.errors import AudioError, ConfigError

SR = 44100


def probe(seconds=1.0, channels=2, seed=0):
    """Noise band-limited to 50 Hz-5 kHz: inside every codec's and rate's pass band."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((channels, int(seconds * SR)))
    x = ss.sosfilt(ss.butter(4, [50, 5000], btype="bandpass", fs=SR, output="sos"), x)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def sine(freq, seconds=0.5):
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * freq * t))[None].astype(np.float32)


def lag(x, y):
    c = ss.correlate(y, x, mode="full", method="fft")
    return int(np.argmax(c)) - (len(x) - 1)


def level_db(y, x):
    half = x.shape[-1] // 2
    return 10 * np.log10(np.mean(y[:, half:] ** 2) / np.mean(x[:, half:] ** 2))


def snr_db(ref, est):
    return 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((ref - est).astype(np.float64) ** 2))


def test_mp3_draws_stay_in_range():
    rng = np.random.default_rng(0)
    draws = [MP3Codec().sample(rng).vbr_quality for _ in range(1000)]
    assert min(draws) >= 1.0 and max(draws) <= 9.0 and max(draws) - min(draws) > 7.8


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("quality", [1.0, 5.0, 9.0])
def test_mp3_keeps_length_and_alignment(quality, channels):
    x = probe(channels=channels)
    y = MP3Params(quality).apply(x, SR)
    assert y.shape == x.shape and y.dtype == np.float32
    for ch in range(channels):
        assert lag(x[ch], y[ch]) == 0
    assert snr_db(x, y) > 5  # aligned: the waveform itself survives


def test_mp3_lower_quality_number_is_closer_to_the_input():
    x = probe(seed=1)
    assert snr_db(x, MP3Params(1.0).apply(x, SR)) > snr_db(x, MP3Params(9.0).apply(x, SR)) + 3


def test_mp3_keeps_length_of_a_short_input():
    x = probe(channels=2)[:, :100]
    assert MP3Params(5.0).apply(x, SR).shape == (2, 100)


def test_mp3_rejects_a_sample_rate_lame_cannot_code():
    with pytest.raises(AudioError, match="MP3"):
        MP3Params(5.0).apply(probe()[:, :9600], 96000)


def test_resample_draws_are_whole_rates_in_range():
    rng = np.random.default_rng(2)
    draws = [Resampling().sample(rng).rate_hz for _ in range(1000)]
    assert all(isinstance(r, int) for r in draws)
    assert min(draws) >= 8000 and max(draws) <= 32000 and max(draws) - min(draws) > 23000


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 31999])
def test_resample_keeps_length_and_alignment(rate):
    x = probe(seed=3)
    x = ss.sosfilt(ss.butter(8, 0.3 * rate, fs=SR, output="sos"), x).astype(np.float32)
    y = ResampleParams(rate).apply(x, SR)
    assert y.shape == x.shape and y.dtype == np.float32
    assert lag(x[0], y[0]) == 0 and lag(x[1], y[1]) == 0
    assert snr_db(x, y) > 30  # content below the new Nyquist comes back intact


def test_resample_removes_what_the_low_rate_cannot_hold():
    p = ResampleParams(16000)
    assert level_db(p.apply(sine(10000), SR), sine(10000)) < -40
    assert abs(level_db(p.apply(sine(2000), SR), sine(2000))) < 0.5


def test_resample_at_or_above_the_signal_rate_is_identity():
    x = probe()
    assert np.array_equal(ResampleParams(SR).apply(x, SR), x)


def test_resample_of_a_tiny_input_keeps_its_length():
    for n in (1, 3, 100):
        y = ResampleParams(8000).apply(probe()[:, :n], SR)
        assert y.shape == (2, n) and np.isfinite(y).all()


def test_codec_settings_reject_bad_ranges():
    with pytest.raises(ConfigError, match="vbr_quality"):
        MP3Codec(vbr_quality=(1.0, 12.0))
    with pytest.raises(ConfigError, match="rate_hz"):
        Resampling(rate_hz=(8000.5, 16000.0))
