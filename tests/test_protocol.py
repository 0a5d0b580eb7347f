"""The training-example protocol: determinism, replay, probabilities, levels."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from stemrestore.config import from_dict
from stemrestore.degrade import DegradationProtocol, MixtureChain, ProtocolConfig, TargetChain
from stemrestore.errors import AudioError, ConfigError

SR = 44100
PAPER_YAML = Path(__file__).resolve().parents[1] / "configs" / "degradation" / "paper.yaml"
TARGET_ORDER = ["graphic_eq|parametric_eq", "resample", "compressor", "distortion", "reverb"]


def pair(seconds=0.5, channels=2, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    target = scale * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    target = target + 0.05 * rng.standard_normal((channels, n))
    background = scale * rng.standard_normal((channels, n))
    return target.astype(np.float32), background.astype(np.float32)


def config(**overrides):
    return from_dict(ProtocolConfig, overrides)


def no_effects(**extra):
    """A protocol with every random step off, for exact level checks."""
    target = {f"p_{k}": 0.0 for k in ("eq", "resample", "compressor", "distortion", "reverb")}
    mixture = {f"p_{k}": 0.0 for k in ("limiter", "resample", "mp3")}
    return config(**{"target": target, "mixture": mixture, "p_noise": 0.0, **extra})


def energy(x):
    return np.sum(x.astype(np.float64) ** 2)


def arrays(ex):
    return ex.mixture, ex.target, ex.degraded_target


def names(chain):
    return [e["effect"] for e in chain["effects"]]


def test_outputs_are_float32_with_the_inputs_shape():
    proto = DegradationProtocol()
    for channels in (1, 2):
        t, b = pair(channels=channels)
        for out in arrays(proto(t, b, SR, seed=1)):
            assert out.shape == t.shape and out.dtype == np.float32
    t, b = pair(channels=1)
    assert all(o.shape == t[0].shape for o in arrays(proto(t[0], b[0], SR, seed=1)))


def test_same_seed_is_bit_identical_and_other_seeds_differ():
    t, b = pair()
    proto = DegradationProtocol()
    a, again, other = proto(t, b, SR, seed=7), proto(t, b, SR, seed=7), proto(t, b, SR, seed=8)
    assert all(np.array_equal(x, y) for x, y in zip(arrays(a), arrays(again)))
    assert a.params == again.params
    assert not np.array_equal(a.mixture, other.mixture)


def test_a_generator_seed_works_and_is_advanced():
    t, b = pair()
    proto = DegradationProtocol()
    rng = np.random.default_rng(3)
    first, second = proto(t, b, SR, seed=rng), proto(t, b, SR, seed=rng)
    assert first.params["seed"] is None
    assert first.params != second.params
    repeat = proto(t, b, SR, seed=np.random.default_rng(3))
    assert np.array_equal(first.mixture, repeat.mixture)


@pytest.mark.parametrize("seed", range(12))
def test_replay_of_the_json_record_is_bit_identical(seed):
    t, b = pair(seed=seed)
    proto = DegradationProtocol()
    ex = proto(t, b, SR, seed=seed)
    record = json.loads(json.dumps(ex.params, allow_nan=False))
    again = DegradationProtocol(no_effects()).replay(record, t, b, SR)  # the record alone decides
    assert all(np.array_equal(x, y) for x, y in zip(arrays(ex), arrays(again)))
    assert again.params == ex.params


def test_the_record_holds_every_choice():
    t, b = pair()
    p = DegradationProtocol()(t, b, SR, seed=11).params
    assert p["format"] == "stemrestore.degradation/1" and p["seed"] == 11 and p["sr"] == SR
    for key in ("target_chain", "snr_db", "background_gain", "mixture_chain", "noise", "peak_level", "gain",
                "config"):
        assert key in p
    assert from_dict(ProtocolConfig, p["config"]) == ProtocolConfig()


def test_chain_steps_have_the_papers_probabilities_and_order():
    rng = np.random.default_rng(0)
    counts, n = Counter(), 1000
    for _ in range(n):
        chain = [e.effect for e in TargetChain().sample(rng).effects]
        steps = [next(i for i, s in enumerate(TARGET_ORDER) if e in s.split("|")) for e in chain]
        assert steps == sorted(steps) and len(set(steps)) == len(steps)
        counts.update(TARGET_ORDER[i] for i in steps)
        mix = [e.effect for e in MixtureChain().sample(rng).effects]
        assert mix == [m for m in ("limiter", "resample", "mp3") if m in mix]
        counts.update("mix:" + m for m in mix)
    assert len(counts) == 8
    for step, count in counts.items():
        assert 0.44 < count / n < 0.56, step


def test_snr_noise_and_level_draws_follow_the_config():
    t, b = pair(seconds=0.02)
    proto = DegradationProtocol(config(target={"p_eq": 0.0, "p_reverb": 0.0}, mixture={"p_mp3": 0.0}))
    records = [proto(t, b, SR, seed=s).params for s in range(300)]
    snrs = [r["snr_db"] for r in records]
    assert min(snrs) >= -5 and max(snrs) <= 20 and max(snrs) - min(snrs) > 22
    noisy = [r["noise"] for r in records if r["noise"] is not None]
    assert 0.4 < len(noisy) / len(records) < 0.6
    assert all(0.001 <= n["std"] <= 0.005 for n in noisy)
    assert all(0.5 <= r["peak_level"] <= 0.95 for r in records)


def test_the_mixture_is_the_degraded_target_plus_the_background_at_the_snr():
    t, b = pair(seed=2)
    cfg = no_effects()
    cfg.target.p_compressor = cfg.target.p_reverb = 1.0
    ex = DegradationProtocol(cfg)(t, b, SR, seed=4)
    background = ex.mixture - ex.degraded_target
    snr = 10 * np.log10(energy(ex.degraded_target) / energy(background))
    assert snr == pytest.approx(ex.params["snr_db"], abs=0.01)
    np.testing.assert_allclose(background, b * ex.params["background_gain"] * ex.params["gain"], atol=1e-6)


def test_one_shared_gain_keeps_the_target_the_ground_truth():
    t, b = pair(seed=3)
    ex = DegradationProtocol(no_effects())(t, b, SR, seed=5)
    gain = ex.params["gain"]
    np.testing.assert_allclose(ex.target, t * gain, rtol=1e-6)
    np.testing.assert_array_equal(ex.degraded_target, ex.target)  # no target effects drawn
    loudest = max(np.abs(x).max() for x in arrays(ex))
    assert loudest == pytest.approx(ex.params["peak_level"], rel=1e-6)


def test_nothing_clips_even_with_loud_inputs_and_an_erasing_eq():
    # A 200-300 Hz order-8 low-pass leaves a 5 kHz target about 100 dB down;
    # matching its RMS back makes it loud, then the shared gain must bring
    # every signal, the clean target included, under full scale.
    n = SR // 4
    t = (3.0 * np.sin(2 * np.pi * 5000 * np.arange(n) / SR))[None].repeat(2, 0).astype(np.float32)
    b = (3.0 * np.random.default_rng(0).standard_normal((2, n))).astype(np.float32)
    erase = {"p_eq": 1.0, "eq": {"p_graphic": 0.0, "parametric": {"bands": [1, 1], "kinds": ["lowpass"],
                                                                  "lowpass_hz": [200, 300], "orders": [8]}}}
    for cfg in (ProtocolConfig(), config(target=erase, peak_level=[0.99, 0.99], p_noise=1.0,
                                         noise={"std": [0.05, 0.05]})):
        proto = DegradationProtocol(cfg)
        for seed in range(8):
            for out in arrays(proto(t, b, SR, seed=seed)):
                assert np.isfinite(out).all() and np.abs(out).max() <= 1.0


def test_noise_guard_scales_everything_together():
    t, b = pair(seed=6)
    cfg = no_effects(peak_level=[0.99, 0.99], p_noise=1.0, noise={"std": [0.3, 0.3]})
    ex = DegradationProtocol(cfg)(t, b, SR, seed=1)
    assert np.abs(ex.mixture).max() <= 0.999
    assert ex.params["gain"] < 0.99 / max(np.abs(t).max(), np.abs(t + b * ex.params["background_gain"]).max())
    np.testing.assert_allclose(ex.target, t * ex.params["gain"], rtol=1e-6)


def test_redraw_setting_rejects_chains_that_erase_the_target():
    n = SR // 4
    t = (0.5 * np.sin(2 * np.pi * 3000 * np.arange(n) / SR))[None].astype(np.float32)
    b = (0.1 * np.random.default_rng(0).standard_normal((1, n))).astype(np.float32)
    eq = {"p_graphic": 0.0, "parametric": {"bands": [1, 1], "kinds": ["lowpass", "highpass"], "orders": [8],
                                           "lowpass_hz": [200, 300], "highpass_hz": [20, 50]}}
    others_off = {f"p_{k}": 0.0 for k in ("resample", "compressor", "distortion", "reverb")}
    target = {"p_eq": 1.0, "eq": eq, **others_off}
    plain = DegradationProtocol(config(target=target))
    guarded = DegradationProtocol(config(target={**target, "max_attenuation_db": 20.0}))
    plain_changes = [plain(t, b, SR, seed=s).params["target_level_change_db"] for s in range(16)]
    guarded_records = [guarded(t, b, SR, seed=s).params for s in range(16)]
    assert min(plain_changes) < -40  # without the setting, erased targets happen
    assert all(r["target_level_change_db"] >= -20 for r in guarded_records)
    assert all(r["target_chain"]["effects"][0]["bands"][0]["kind"] == "highpass" for r in guarded_records)
    assert max(r["target_draws"] for r in guarded_records) > 1


def test_edge_inputs_stay_finite_and_in_range():
    n = SR // 10
    square = np.sign(np.sin(2 * np.pi * 100 * np.arange(n) / SR + 0.1))
    cases = {
        "silence": (np.zeros((2, n), np.float32), np.zeros((2, n), np.float32)),
        "silent target": (np.zeros((2, n), np.float32), pair(0.1)[1]),
        "100 samples": tuple(x[:, :100] for x in pair(0.1)),
        "dc offset": tuple(x + np.float32(0.5) for x in pair(0.1)),
        "full-scale square": (np.tile(square, (2, 1)).astype(np.float32),) * 2,
    }
    proto = DegradationProtocol()
    for name, (t, b) in cases.items():
        for seed in range(6):
            ex = proto(t, b, SR, seed=seed)
            for out in arrays(ex):
                assert out.shape == t.shape and np.isfinite(out).all() and np.abs(out).max() <= 1.0, name
    ex = proto(*cases["silence"], SR, seed=0)
    assert not ex.target.any() and not ex.degraded_target.any()
    if ex.params["noise"] is None:
        assert not ex.mixture.any()
    else:  # silence in: only the added noise comes out, at its stated level
        assert np.std(ex.mixture) == pytest.approx(ex.params["noise"]["std"], rel=0.05)


def test_paper_yaml_holds_the_defaults_and_typos_are_refused(tmp_path):
    assert DegradationProtocol.from_yaml(PAPER_YAML).config == ProtocolConfig()
    bad = tmp_path / "bad.yaml"
    bad.write_text("target:\n  p_compresor: 0.5\n")
    with pytest.raises(ConfigError, match="p_compresor"):
        DegradationProtocol.from_yaml(bad)
    bad.write_text("mixture:\n  mp3:\n    vbr_quality: [9, 1]\n")
    with pytest.raises(ConfigError, match="mixture.mp3.*vbr_quality"):
        DegradationProtocol.from_yaml(bad)
    bad.write_text("p_noise: 1.5\n")
    with pytest.raises(ConfigError, match="p_noise"):
        DegradationProtocol.from_yaml(bad)


def test_bad_inputs_and_records_are_refused():
    t, b = pair()
    proto = DegradationProtocol()
    with pytest.raises(AudioError, match="same shape"):
        proto(t, b[:, :-1], SR, seed=0)
    with pytest.raises(ConfigError, match="seed"):
        proto(t, b, SR, seed=-1)
    record = proto(t, b, SR, seed=0).params
    with pytest.raises(ConfigError, match="format"):
        proto.replay({**record, "format": "other/9"}, t, b, SR)
    broken = json.loads(json.dumps(record))
    broken["mixture_chain"]["effects"] = [{"effect": "flanger", "rate": 1.0}]
    with pytest.raises(ConfigError, match="flanger"):
        proto.replay(broken, t, b, SR)
    with pytest.raises(ConfigError, match="snr_db"):
        proto.replay({**record, "snr_db": "loud"}, t, b, SR)
    with pytest.raises(ConfigError, match="peak_level"):
        proto.replay({**record, "peak_level": 3.0}, t, b, SR)
    with pytest.raises(ConfigError, match="recorded at 44100 Hz"):
        proto.replay(record, t, b, 48000)
