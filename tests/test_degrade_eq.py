"""Graphic and parametric EQ: sampled ranges, measured responses, stability."""

import itertools

import numpy as np
import pytest

from stemrestore.degrade import EQ, EQBand, GraphicEQ, GraphicEQParams, ParametricEQ, ParametricEQParams
from stemrestore.degrade.filters import FAMILIES, GAIN_KINDS, KINDS
from stemrestore.errors import ConfigError

SR = 44100
PAPER_CENTRES = [25, 40, 63, 100, 160, 250, 400, 630, 1000, 1600, 2500, 4000, 6300, 10000, 16000, 20000]


def sine(freq, seconds=1.0, sr=SR, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    return np.tile(np.sin(2 * np.pi * freq * t), (channels, 1)).astype(np.float32)


def gain_db(params, freq, seconds=1.0):
    """Steady-state level change of a sine (second half only, after transients)."""
    x = sine(freq, seconds)
    y = params.apply(x, SR)
    half = x.shape[-1] // 2
    return 20 * np.log10(np.sqrt(np.mean(y[:, half:] ** 2)) / np.sqrt(np.mean(x[:, half:] ** 2)))


def family_band(kind, freq, family, order=8, q=None):
    return EQBand(
        kind,
        freq,
        q=q,
        family=family,
        order=order,
        ripple_db=0.5 if family in ("chebyshev1", "elliptic") else None,
        stopband_db=60.0 if family in ("chebyshev2", "elliptic") else None,
    )


def test_graphic_eq_draws_stay_in_range_and_follow_the_q_rule():
    rng = np.random.default_rng(0)
    eq = GraphicEQ()
    c = np.array(PAPER_CENTRES, dtype=float)
    lower = np.r_[c[0] / 1.6, c[:-1]]
    upper = np.r_[c[1:], c[-1] * 1.6]
    expected_q = c / (upper - lower) * 2.5
    gains = np.array([eq.sample(rng).gains_db for _ in range(1000)])
    assert gains.shape == (1000, 16)
    assert gains.min() >= -6 and gains.max() <= 6
    assert gains.min() < -5.9 and gains.max() > 5.9  # the whole range is used
    p = eq.sample(rng)
    assert list(p.centres_hz) == PAPER_CENTRES
    np.testing.assert_allclose(p.q, expected_q)


@pytest.mark.parametrize("centre", PAPER_CENTRES)
def test_graphic_eq_band_at_plus_6_db_raises_its_centre_by_6_db(centre):
    eq = GraphicEQ()
    gains = [6.0 if c == centre else 0.0 for c in PAPER_CENTRES]
    params = GraphicEQParams(eq.centres_hz, tuple(gains), eq.band_q())
    assert gain_db(params, centre, seconds=2.0 if centre < 100 else 0.5) == pytest.approx(6.0, abs=0.5)


def test_graphic_eq_skips_bands_above_nyquist():
    eq = GraphicEQ()
    params = GraphicEQParams(eq.centres_hz, (6.0,) * 16, eq.band_q())
    y = params.apply(sine(1000, 0.5, sr=16000), 16000)
    assert np.isfinite(y).all()


def test_parametric_eq_draws_stay_in_range():
    rng = np.random.default_rng(1)
    settings = ParametricEQ()
    draws = [settings.sample(rng) for _ in range(1000)]
    counts = [len(d.bands) for d in draws]
    assert set(counts) == {1, 2, 3, 4, 5}
    bands = [b for d in draws for b in d.bands]
    assert {b.kind for b in bands} == set(KINDS)
    for b in bands:
        lo, hi = getattr(settings, f"{b.kind}_hz")
        assert lo <= b.freq_hz <= hi
        if b.kind in GAIN_KINDS:
            assert 0.5 <= b.q <= 10 and -6 <= b.gain_db <= 6
            assert b.family is None and b.order is None
        else:
            assert b.family in FAMILIES and b.order in (2, 4, 6, 8) and b.gain_db is None
            assert (b.q is not None) == (b.kind in ("bandpass", "bandstop"))
            if b.q is not None:
                assert 0.5 <= b.q <= 10
            assert (b.ripple_db is not None) == (b.family in ("chebyshev1", "elliptic"))
            assert (b.stopband_db is not None) == (b.family in ("chebyshev2", "elliptic"))
            if b.ripple_db is not None:
                assert 0.1 <= b.ripple_db <= 3.0
            if b.stopband_db is not None:
                assert 20 <= b.stopband_db <= 60
    families = {b.family for b in bands if b.family}
    assert families == set(FAMILIES)


def test_eq_step_picks_graphic_or_parametric_evenly():
    rng = np.random.default_rng(2)
    kinds = [type(EQ().sample(rng)) for _ in range(1000)]
    share = kinds.count(GraphicEQParams) / 1000
    assert 0.44 < share < 0.56
    assert set(kinds) == {GraphicEQParams, ParametricEQParams}


@pytest.mark.parametrize("family", FAMILIES)
def test_order_8_lowpass_at_1khz(family):
    p = ParametricEQParams((family_band("lowpass", 1000.0, family),))
    assert gain_db(p, 6000) < -40
    assert abs(gain_db(p, 200)) < 1.0


@pytest.mark.parametrize("family", FAMILIES)
def test_order_8_highpass_at_1khz(family):
    p = ParametricEQParams((family_band("highpass", 1000.0, family),))
    assert gain_db(p, 150) < -40
    assert abs(gain_db(p, 6000)) < 1.0


@pytest.mark.parametrize("family", FAMILIES)
def test_bandpass_passes_its_centre_and_cuts_far_away(family):
    p = ParametricEQParams((family_band("bandpass", 1000.0, family, q=1.0),))
    assert abs(gain_db(p, 1000)) < 1.0
    assert gain_db(p, 100) < -40
    assert gain_db(p, 12000) < -40


@pytest.mark.parametrize("family", FAMILIES)
def test_bandstop_cuts_its_centre_and_passes_far_away(family):
    p = ParametricEQParams((family_band("bandstop", 1000.0, family, q=1.0),))
    assert gain_db(p, 1000) < -30
    assert abs(gain_db(p, 100)) < 1.0
    assert abs(gain_db(p, 12000)) < 1.0


@pytest.mark.parametrize("gain", [-6.0, 6.0])
def test_peak_band_changes_its_centre_by_its_gain(gain):
    p = ParametricEQParams((EQBand("peak", 2000.0, q=2.0, gain_db=gain),))
    assert gain_db(p, 2000) == pytest.approx(gain, abs=0.5)
    assert abs(gain_db(p, 200)) < 0.5


@pytest.mark.parametrize("gain", [-6.0, 6.0])
def test_shelves_change_one_side_only(gain):
    low = ParametricEQParams((EQBand("lowshelf", 300.0, q=0.707, gain_db=gain),))
    assert gain_db(low, 30) == pytest.approx(gain, abs=0.5)
    assert abs(gain_db(low, 8000)) < 0.5
    high = ParametricEQParams((EQBand("highshelf", 2000.0, q=0.707, gain_db=gain),))
    assert gain_db(high, 18000) == pytest.approx(gain, abs=0.5)
    assert abs(gain_db(high, 100)) < 0.5


def test_bands_cascade():
    lp = family_band("lowpass", 1000.0, "butterworth")
    peak = EQBand("peak", 200.0, q=2.0, gain_db=6.0)
    both = ParametricEQParams((lp, peak))
    assert gain_db(both, 200) == pytest.approx(6.0, abs=0.6)
    assert gain_db(both, 6000) < -40


def _corner_bands():
    """Every kind/family/order at the ends of every range."""
    s = ParametricEQ()
    for kind in KINDS:
        for freq, q in itertools.product(getattr(s, f"{kind}_hz"), s.q):
            if kind in GAIN_KINDS:
                for g in s.gain_db:
                    yield EQBand(kind, freq, q=q, gain_db=g)
                continue
            for family, order, rp, rs in itertools.product(FAMILIES, s.orders, s.ripple_db, s.stopband_db):
                yield EQBand(
                    kind,
                    freq,
                    q=q if kind in ("bandpass", "bandstop") else None,
                    family=family,
                    order=order,
                    ripple_db=rp if family in ("chebyshev1", "elliptic") else None,
                    stopband_db=rs if family in ("chebyshev2", "elliptic") else None,
                )


@pytest.mark.parametrize("sr", [44100, 16000])
def test_every_corner_setting_is_stable(sr):
    worst = 0.0
    seen = set()
    for band in _corner_bands():
        key = (band.kind, band.freq_hz, band.q, band.gain_db, band.family, band.order,
               band.ripple_db, band.stopband_db)
        if key in seen:
            continue
        seen.add(key)
        sos = band.sos(sr)
        assert np.isfinite(sos).all(), band
        for section in sos:
            worst = max(worst, np.abs(np.roots(section[3:])).max())
    assert worst < 1.0
    assert len(seen) > 500


def test_low_cutoff_order_8_filters_stay_bounded_on_noise():
    x = np.random.default_rng(3).uniform(-1, 1, (2, SR * 2)).astype(np.float32)
    for family in FAMILIES:
        for kind, freq, q in (("highpass", 20.0, None), ("bandpass", 100.0, 10.0), ("lowpass", 200.0, None)):
            y = ParametricEQParams((family_band(kind, freq, family, q=q),)).apply(x, SR)
            assert np.isfinite(y).all() and np.abs(y).max() < 20, (family, kind)


def test_parametric_eq_settings_reject_bad_values():
    with pytest.raises(ConfigError, match="orders"):
        ParametricEQ(orders=(3,))
    with pytest.raises(ConfigError, match="families"):
        ParametricEQ(families=("chebyshev3",))
    with pytest.raises(ConfigError, match="lowpass_hz"):
        ParametricEQ(lowpass_hz=(8000.0, 200.0))
    with pytest.raises(ConfigError, match="kind"):
        EQBand("notch", 100.0, q=1.0)
