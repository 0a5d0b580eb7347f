"""The studio degradation mode: each strip does what it names (measured on the
signal), correlated draws, mastering loudness and ceiling, determinism, replay,
edge cases and settings."""

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import scipy.signal as ss

from stemrestore.config import from_dict, to_dict
from stemrestore.degrade import (
    Compressor,
    CompressorParams,
    DegradationProtocol,
    DistortionParams,
    EffectChain,
    GainParams,
    ParametricEQParams,
    ReverbParams,
    StudioConfig,
    StudioProtocol,
    integrated_loudness,
)
from stemrestore.degrade.studio_master import MasteringSettings
from stemrestore.degrade.studio_stages import CeilingLimiterParams, ReverbSendParams
from stemrestore.degrade.studio_strips import StripDraw, default_strips
from stemrestore.errors import AudioError, ConfigError

SR = 44100
CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "degradation"
STRIPS = default_strips()


def fixed(name, intensity, **changes):
    """A default strip with its intensity pinned (and optional field changes)."""
    return replace(STRIPS[name], intensity=(intensity, intensity), **changes)


def drop(chain, *kinds):
    """The same drawn chain without the effects of the given types."""
    return EffectChain(tuple(e for e in chain.effects if not isinstance(e, kinds)), chain.output_level)


def effects_of(chain, kind):
    return [e for e in chain.effects if isinstance(e, kind)]


def sine(freq, seconds=1.0, amp=0.5):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t))[None].astype(np.float32)


def white(seconds=1.0, seed=0, channels=1):
    return (0.3 * np.random.default_rng(seed).standard_normal((channels, int(seconds * SR)))).astype(np.float32)


def drums(seconds=2.0, seed=0):
    """Kick-like pitch-swept sine plus a noise snap, four hits a second, 2 ms onsets."""
    rng, n = np.random.default_rng(seed), int(seconds * SR)
    out = np.zeros(n)
    hits = int(4 * seconds)
    for k in range(hits):
        start, length = k * n // hits, min(int(0.25 * SR), n - k * n // hits)
        t = np.arange(length) / SR
        onset = np.minimum(1.0, t / 0.002)
        kick = np.sin(2 * np.pi * (50 * t + 2 * (1 - np.exp(-t / 0.02)))) * np.exp(-t / 0.06)
        snap = 0.5 * rng.standard_normal(length) * np.exp(-t / 0.02)
        out[start : start + length] += (kick + snap) * onset
    return (0.5 * out / np.abs(out).max())[None].astype(np.float32)


def song(seconds=1.5, seed=0):
    """A stereo vocal-like target and a bass + chords + drums background."""
    rng, n = np.random.default_rng(seed), int(seconds * SR)
    t = np.arange(n) / SR
    voice = np.sin(2 * np.pi * 220 * t + 3 * np.sin(2 * np.pi * 5 * t)) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
    voice += 0.3 * np.sin(2 * np.pi * 660 * t)
    rest = 0.8 * np.sin(2 * np.pi * 55 * t) + sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    rest = rest + drums(seconds, seed)[0].astype(np.float64)

    def stereo(x):
        return (0.3 * np.stack([x, 0.9 * x + 0.01 * rng.standard_normal(n)])).astype(np.float32)

    return stereo(voice), stereo(rest)


def tone_powers(x, freqs, skip_s=0.3):
    """Power of each sinusoid in ``freqs``, fitted jointly by least squares after a settling time."""
    x = np.asarray(x, np.float64).reshape(-1)[int(skip_s * SR) :]
    t = np.arange(len(x)) / SR
    basis = [f(2 * np.pi * freq * t) for freq in freqs for f in (np.sin, np.cos)]
    coef = np.linalg.lstsq(np.stack(basis, 1), x, rcond=None)[0] ** 2
    return coef[0::2] + coef[1::2]


def thd_db(x, f0):
    """Total harmonic distortion (harmonics 2-10 against the fundamental), dB."""
    power = tone_powers(x, [k * f0 for k in range(1, 11)])
    return 10 * np.log10(power[1:].sum() / power[0] + 1e-30)


def band_db(x, low, high):
    f, psd = ss.welch(np.asarray(x, np.float64).reshape(-1), SR, nperseg=4096)
    return 10 * np.log10(psd[(f >= low) & (f < high)].sum())


def crest_db(x):
    x = np.asarray(x, np.float64)
    return 20 * np.log10(np.abs(x).max() / np.sqrt(np.mean(x**2)))


def envelope_crest_db(x, window_s=0.01):
    """Peak of the 10 ms mean-square envelope over its average (a peak meter's view)."""
    w = int(window_s * SR)
    power = np.convolve(np.asarray(x, np.float64).reshape(-1) ** 2, np.ones(w) / w, "same")
    return 10 * np.log10(power.max() / power.mean())


def energy(x):
    return float(np.sum(np.asarray(x, np.float64) ** 2))


def arrays(ex):
    return ex.mixture, ex.target, ex.degraded_target


# --- each strip does what it names ----------------------------------------------------------


def test_vocal_high_pass_matches_its_butterworth_design_and_removes_rumble():
    x = sine(25) + sine(1000)  # rumble and a tone at the same level
    alone = fixed("Voc", 0.5, order=("highpass",), compressor=None, eq=None, reverb=None)
    for seed in range(4):
        chain = alone.sample(np.random.default_rng(seed), "Voc").chain
        band = chain.effects[0].bands[0]
        rumble, tone = tone_powers(chain.apply(x, SR), [25, 1000])
        design = [10 * np.log10(1 + (band.freq_hz / f) ** (2 * band.order)) for f in (25, 1000)]
        assert 10 * np.log10(tone / rumble) == pytest.approx(design[0] - design[1], abs=1.0)
        full = fixed("Voc", 0.5).sample(np.random.default_rng(seed), "Voc").chain.apply(x, SR)
        rumble, tone = tone_powers(full, [25, 1000])
        assert 10 * np.log10(tone / rumble) > 15.0


def test_vocal_presence_boost_raises_2_to_5_khz_against_500_hz_more_when_heavier():
    x = white(1.0)
    before = band_db(x, 2000, 5000) - band_db(x, 400, 600)
    rises = {}
    for u in (0.0, 1.0):
        strip = fixed("Voc", u, jitter=0.0, order=("highpass", "compressor", "eq"), reverb=None)
        rises[u] = []
        for seed in range(3):
            y = strip.sample(np.random.default_rng(seed), "Voc").chain.apply(x, SR)
            rises[u].append(band_db(y, 2000, 5000) - band_db(y, 400, 600) - before)
    assert min(rises[0.0]) > 0.2
    assert min(rises[1.0]) > 3.0
    assert np.mean(rises[1.0]) > np.mean(rises[0.0]) + 2.0


def test_bass_low_pass_cuts_energy_above_its_cutoff():
    x = white(1.0, seed=1)
    for seed in range(4):
        chain = STRIPS["Bass"].sample(np.random.default_rng(seed), "Bass").chain
        cutoff = effects_of(chain, ParametricEQParams)[-1].bands[0]
        assert cutoff.kind == "lowpass"
        top = min(4 * cutoff.freq_hz, 20000)
        change = [band_db(s, 2 * cutoff.freq_hz, top) - band_db(s, 100, 400) for s in (x, chain.apply(x, SR))]
        assert change[1] - change[0] < -9.0


def test_bass_saturation_adds_harmonics_to_a_sine_more_when_heavier():
    x = sine(55)
    assert thd_db(x, 55) < -100
    thd = {}
    for u in (0.0, 1.0):
        thd[u] = []
        for seed in range(3):
            chain = fixed("Bass", u, jitter=0.0).sample(np.random.default_rng(seed), "Bass").chain
            with_sat, without = thd_db(chain.apply(x, SR), 55), thd_db(drop(chain, DistortionParams).apply(x, SR), 55)
            assert with_sat > without + 3.0
            thd[u].append(with_sat)
    assert min(thd[1.0]) > max(thd[0.0]) + 5.0


def test_drum_bus_compression_lowers_the_crest_factor():
    x = drums()
    for u, least_drop_db in ((0.0, 0.3), (1.0, 3.0)):
        strip = fixed("Rhy", u, jitter=0.0, order=("eq", "compressor"), reverb=None)
        for seed in range(3):
            chain = strip.sample(np.random.default_rng(seed), "Rhy").chain
            compressed, plain = chain.apply(x, SR), drop(chain, CompressorParams, GainParams).apply(x, SR)
            assert crest_db(compressed) < crest_db(plain)
            assert envelope_crest_db(compressed) < envelope_crest_db(plain) - least_drop_db


def test_reverb_send_adds_a_tail_after_a_burst_and_keeps_the_dry_signal():
    x = np.zeros((1, SR // 2), np.float32)
    end = int(0.05 * SR)
    x[0, :end] = white(0.05, seed=2)[0]
    tail = slice(end + int(0.05 * SR), end + int(0.3 * SR))
    for u in (0.0, 1.0):
        wet_strip = fixed("Voc", u, reverb=replace(STRIPS["Voc"].reverb, p=1.0))
        dry_strip = fixed("Voc", u, order=("highpass", "compressor", "eq"), reverb=None)
        wet = wet_strip.sample(np.random.default_rng(1), "Voc").chain.apply(x, SR)
        dry = dry_strip.sample(np.random.default_rng(1), "Voc").chain.apply(x, SR)
        assert 10 * np.log10(energy(wet[0, tail]) / energy(wet[0, :end])) > -35
        assert energy(dry[0, tail]) < 1e-10 * energy(dry[0, :end])
    send = ReverbSendParams(send_db=-12.0, room_size=0.5, damping=0.5, width=1.0)
    wet_only = ReverbParams(0.5, 0.5, 10 ** (-12 / 20), 0.0, 1.0).apply(x, SR)
    np.testing.assert_allclose(send.apply(x, SR) - wet_only, x, atol=1e-6)


# --- correlated draws and stage probabilities ------------------------------------------------


def test_one_intensity_moves_the_strip_parameters_together():
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(400):
        chain = STRIPS["Voc"].sample(rng, "Voc").chain
        sends = effects_of(chain, ReverbSendParams)
        if sends:
            comp, makeup = effects_of(chain, CompressorParams)[0], effects_of(chain, GainParams)[0]
            presence = effects_of(chain, ParametricEQParams)[1].bands[0].gain_db
            rows.append((comp.ratio, comp.threshold_db, makeup.gain_db, presence, sends[0].send_db))
    ratio, threshold, makeup, presence, send = np.array(rows).T
    assert np.corrcoef(ratio, makeup)[0, 1] > 0.5
    assert np.corrcoef(ratio, presence)[0, 1] > 0.5
    assert np.corrcoef(ratio, send)[0, 1] > 0.5
    assert np.corrcoef(ratio, threshold)[0, 1] < -0.5
    # the paper mode draws each parameter on its own
    paper = [Compressor().sample(rng) for _ in range(400)]
    assert abs(np.corrcoef([c.ratio for c in paper], [c.threshold_db for c in paper])[0, 1]) < 0.15
    masters = [MasteringSettings().sample(rng) for _ in range(300)]
    glue_ratio = [m.effects[0].ratio for m in masters]
    assert np.corrcoef(glue_ratio, [m.loudness_target_lufs for m in masters])[0, 1] > 0.5
    assert 0.23 < np.mean([m.mp3 is not None for m in masters]) < 0.37


def test_stages_run_in_order_with_their_probabilities():
    rng = np.random.default_rng(1)
    counts, n = Counter(), 400
    for _ in range(n):
        names = [e.effect for e in STRIPS["Voc"].sample(rng, "Voc").chain.effects]
        assert names[:4] == ["parametric_eq", "compressor", "gain", "parametric_eq"]
        assert names[4:] in ([], ["reverb_send"])
        counts.update(names[4:])
        synth = [e.effect for e in STRIPS["Synth"].sample(rng, "Synth").chain.effects]
        counts.update("synth:" + e for e in synth)
    assert 0.85 < counts["reverb_send"] / n < 0.95
    assert 0.42 < counts["synth:distortion"] / n < 0.58
    assert counts["synth:compressor"] == n


# --- mastering -------------------------------------------------------------------------------


def test_ceiling_limiter_keeps_peaks_under_the_ceiling_and_passes_quiet_audio_linearly():
    loud = white(0.5, seed=3, channels=2) * np.float32(12.0)
    quiet = white(0.5, seed=4, channels=2) * np.float32(0.1)  # peaks below -10 dBFS: no gain reduction
    for ceiling in (-0.1, -1.0, -3.0, -6.0):
        limiter = CeilingLimiterParams(ceiling, 100.0)
        limited = limiter.apply(loud, SR)
        assert np.abs(limited).max() <= 10 ** (ceiling / 20) + 1e-6
        assert crest_db(limited) < crest_db(loud) - 3.0
        # only pedalboard's fixed 3.75 dB make-up remains (the drive loop sets the level anyway)
        np.testing.assert_allclose(limiter.apply(quiet, SR), quiet * 10 ** (3.75 / 20), atol=1e-3 * np.abs(quiet).max())


def test_mastering_reaches_the_loudness_target_unless_a_peak_rule_holds_it_back():
    target, background = song()
    proto = StudioProtocol()
    reached = 0
    for seed in range(10):
        ex = proto(target, background, SR, seed=seed, target_class="Voc_LV")
        record = ex.params
        goal, ceiling = record["mastering"]["loudness_target_lufs"], record["mastering"]["limiter"]["ceiling_db"]
        measured = pyloudnorm.Meter(SR).integrated_loudness(ex.mixture.T.astype(np.float64))
        assert measured == pytest.approx(record["loudness_lufs"], abs=0.02)
        assert np.abs(ex.mixture).max() <= 10 ** (ceiling / 20) + 1e-6
        assert measured < goal + 0.5
        held_by_ceiling = np.abs(ex.mixture).max() >= 10 ** (ceiling / 20) * (1 - 1e-4)
        if record["peak_scale"] < 1.0:
            assert max(np.abs(a).max() for a in arrays(ex)) == pytest.approx(0.999, abs=1e-6)
        elif not held_by_ceiling:
            assert measured == pytest.approx(goal, abs=0.5)
        reached += abs(measured - goal) <= 0.5
    assert reached >= 5


def test_the_target_gets_the_gain_the_mastering_gave_the_mix():
    target, background = song(seed=1)
    ex = StudioProtocol()(target, background, SR, seed=3, target_class="Voc")
    p = ex.params
    gain = np.float32(p["gain"])
    assert p["gain"] == pytest.approx(p["mixture_gain"] * p["peak_scale"])
    np.testing.assert_array_equal(ex.target, target * gain)
    strip = StripDraw.from_dict(p["target_strip"], "t").chain.apply(target, SR)
    np.testing.assert_array_equal(ex.degraded_target, strip * gain)
    bed = StripDraw.from_dict(p["background_strip"], "b").chain.apply(background, SR) * np.float32(p["background_gain"])
    assert 10 * np.log10(energy(strip) / energy(bed)) == pytest.approx(p["snr_db"], abs=0.01)
    mastered = ex.mixture / p["peak_scale"]
    assert np.sqrt(energy(mastered) / energy(strip + bed)) == pytest.approx(p["mixture_gain"], rel=1e-4)


def test_loudness_meter_matches_bs1770_and_measures_short_input_on_a_repetition():
    full_scale = sine(997, seconds=1.0, amp=1.0)
    # BS.1770's reference: a full-scale 997 Hz tone in one channel reads -3.01 LKFS (tolerance 0.1)
    assert integrated_loudness(full_scale, SR) == pytest.approx(-3.01, abs=0.1)
    tenth = sine(1000, seconds=0.1, amp=0.25)
    assert integrated_loudness(tenth, SR) == pytest.approx(integrated_loudness(sine(1000, 1.0, 0.25), SR), abs=0.1)
    assert integrated_loudness(np.zeros((2, 100), np.float32), SR) == -np.inf
    with pytest.raises(AudioError, match="channels"):
        integrated_loudness(np.zeros((6, SR), np.float32), SR)


# --- determinism, replay, classes, edges -----------------------------------------------------


@pytest.mark.parametrize("target_class", ["Voc", "Bass", "Rhy_DK", "Gtr_EG", "Kbs", "Synth", "Orch", "Misc", None])
def test_same_seed_is_identical_and_the_json_record_replays_bit_for_bit(target_class):
    target, background = song(seconds=0.5)
    proto = StudioProtocol()
    ex, again = proto(target, background, SR, 7, target_class), proto(target, background, SR, 7, target_class)
    assert all(np.array_equal(a, b) for a, b in zip(arrays(ex), arrays(again), strict=True))
    assert ex.params == again.params
    assert not np.array_equal(ex.mixture, proto(target, background, SR, 8, target_class).mixture)
    record = json.loads(json.dumps(ex.params, allow_nan=False))
    for replayer in (DegradationProtocol(), StudioProtocol(StudioConfig(strips={"default": STRIPS["Bass"]}))):
        replayed = replayer.replay(record, target, background, SR)  # the record alone decides
        assert all(np.array_equal(a, b) for a, b in zip(arrays(ex), arrays(replayed), strict=True))
        assert replayed.params == ex.params
    for out in arrays(ex):
        assert out.dtype == np.float32 and out.shape == target.shape and np.abs(out).max() <= 1.0


def test_a_generator_seed_is_advanced_and_paper_records_still_replay():
    target, background = song(seconds=0.5)
    proto = StudioProtocol()
    rng = np.random.default_rng(5)
    first, second = proto(target, background, SR, rng), proto(target, background, SR, rng)
    assert first.params["seed"] is None and first.params != second.params
    assert np.array_equal(first.mixture, proto(target, background, SR, np.random.default_rng(5)).mixture)
    paper = DegradationProtocol()(target, background, SR, seed=2)
    assert np.array_equal(proto.replay(paper.params, target, background, SR).mixture, paper.mixture)


def test_target_class_picks_the_strip_and_the_paper_mode_ignores_it():
    target, background = song(seconds=0.3)
    proto = StudioProtocol()
    expected = {
        "Voc_LV": "Voc",
        "vocals": "Voc",
        "Gtr_EG": "Gtr",
        "Rhy_PERC": "Rhy",
        "Misc": "default",
        "MiscRoom": "default",
        None: "default",
    }
    for name, strip in expected.items():
        assert proto(target, background, SR, 0, target_class=name).params["target_strip"]["strip"] == strip
    assert proto(target, background, SR, 0, target_class="vocals").params["target_class"] == "Voc"
    own = StudioProtocol(StudioConfig(strips={**STRIPS, "Misc": STRIPS["Bass"]}))
    assert own(target, background, SR, 0, target_class="Misc").params["target_strip"]["strip"] == "Misc"
    with pytest.raises(ConfigError, match="Kazoo"):
        proto(target, background, SR, 0, target_class="Kazoo")
    paper = DegradationProtocol()
    assert np.array_equal(
        paper(target, background, SR, 3).mixture, paper(target, background, SR, 3, target_class="Bass").mixture
    )


def test_edge_inputs_stay_finite_and_in_range():
    n = SR // 10
    rng = np.random.default_rng(0)
    proto = StudioProtocol()
    silence = proto(np.zeros((2, n), np.float32), np.zeros((2, n), np.float32), SR, 1, "Voc")
    assert not any(a.any() for a in arrays(silence)) and silence.params["loudness_lufs"] is None
    cases = {
        "silent target": (np.zeros((2, n), np.float32), white(0.1, channels=2)),
        "silent background": (white(0.1, channels=2), np.zeros((2, n), np.float32)),
        "mono 1-D": (white(0.1)[0], white(0.1, seed=1)[0]),
        "100 samples": (
            (0.3 * rng.standard_normal((2, 100))).astype(np.float32),
            (0.3 * rng.standard_normal((2, 100))).astype(np.float32),
        ),
        "loud": (white(0.1, channels=2) * np.float32(20), white(0.1, seed=1, channels=2) * np.float32(20)),
    }
    for name, (t, b) in cases.items():
        for seed in range(3):
            ex = proto(t, b, SR, seed, "Rhy")
            for out in arrays(ex):
                assert out.shape == t.shape and np.isfinite(out).all() and np.abs(out).max() <= 1.0, name
            json.dumps(ex.params, allow_nan=False)
    with pytest.raises(AudioError, match="same shape"):
        proto(white(0.1), white(0.2), SR, 0)


# --- settings and records ---------------------------------------------------------------------


def test_studio_yaml_holds_the_defaults_and_from_yaml_reads_the_mode(tmp_path):
    proto = DegradationProtocol.from_yaml(CONFIGS / "studio.yaml")
    assert isinstance(proto, StudioProtocol) and proto.config == StudioConfig()
    assert StudioProtocol.from_yaml(CONFIGS / "studio.yaml").config == StudioConfig()
    assert from_dict(StudioConfig, to_dict(StudioConfig())) == StudioConfig()
    assert type(DegradationProtocol.from_yaml(CONFIGS / "paper.yaml")) is DegradationProtocol
    explicit = tmp_path / "paper.yaml"
    explicit.write_text("mode: paper\nsnr_db: [0, 10]\n")
    assert DegradationProtocol.from_yaml(explicit).config.snr_db == (0.0, 10.0)
    explicit.write_text("mode: mastering\n")
    with pytest.raises(ConfigError, match="mode"):
        DegradationProtocol.from_yaml(explicit)
    with pytest.raises(ConfigError, match="unknown field"):
        StudioProtocol.from_yaml(CONFIGS / "paper.yaml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"strips": {"default": {"order": ["highpass"], "highpas": {}}}}, "highpas"),
        ({"strips": {"default": {"order": ["reverb"]}}}, "listed but has no settings"),
        ({"strips": {"default": {"order": [], "reverb": {}}}}, "missing from order"),
        ({"strips": {"default": {"order": ["eq", "eq"], "eq": {}}}}, "twice"),
        ({"strips": {"Vocals": {}, "default": {}}}, "Vocals"),
        ({"strips": {"Voc": {}}}, "'default' strip is required"),
        ({"strips": {"default": {"order": ["reverb"], "reverb": {"send_db": [-10, 5]}}}}, "send_db"),
        ({"strips": {"default": {"order": ["lowpass"], "lowpass": {"orders": [3]}}}}, "orders"),
        ({"strips": {"default": {"order": ["eq"], "eq": {"bands": [{"kind": "lowpass"}]}}}}, "kind"),
        ({"strips": {"default": {"jitter": 2}}}, "jitter"),
        ({"mastering": {"loudness_lufs": [-16, 3]}}, "loudness_lufs"),
        ({"mastering": {"max_passes": 0}}, "max_passes"),
        ({"mode": "paper"}, "mode"),
    ],
)
def test_bad_settings_are_refused_by_name(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(StudioConfig, data)


def test_bad_records_are_refused():
    target, background = song(seconds=0.3)
    record = StudioProtocol()(target, background, SR, 0, "Voc").params
    proto = StudioProtocol()
    with pytest.raises(ConfigError, match="48000"):
        proto.replay(record, target, background, 48000)
    with pytest.raises(ConfigError, match="mastering"):
        proto.replay({k: v for k, v in record.items() if k != "mastering"}, target, background, SR)
    wrong = json.loads(json.dumps(record))
    wrong["mastering"]["limiter"] = {"effect": "mp3", "vbr_quality": 2.0}
    with pytest.raises(ConfigError, match="limiter"):
        proto.replay(wrong, target, background, SR)
    wrong = json.loads(json.dumps(record))
    wrong["snr_db"] = "loud"
    with pytest.raises(ConfigError, match="snr_db"):
        proto.replay(wrong, target, background, SR)
    with pytest.raises(ConfigError):
        proto.replay(["not", "a", "record"], target, background, SR)
