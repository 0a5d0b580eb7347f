"""Speed of the degradation protocol, against a reference-style pipeline.

Prints examples per second and the median time per example (10-second stereo
examples at 44.1 kHz, the full protocol, one thread), the same for a
"reference-style" pipeline that makes the same draws but runs them the way the
paper's code does (pedalboard ``Resample`` for down/up-sampling, one
``sosfilt`` per band and channel, float64 arrays, pedalboard's default block
size), the speed-up, and the median time of each effect.

    .venv/bin/python benchmarks/degrade.py [--examples 40] [--seconds 10]
"""

from __future__ import annotations

import os

# One thread everywhere, set before numpy/scipy load their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import time
from collections import defaultdict

import numpy as np
import pedalboard
import scipy.signal as ss

from stemrestore.degrade import (
    EQ,
    Compressor,
    DegradationProtocol,
    Distortion,
    Limiter,
    MP3Codec,
    Noise,
    Resampling,
    Reverb,
)
from stemrestore.degrade.base import Params
from stemrestore.degrade.eq import GraphicEQParams
from stemrestore.degrade.filters import PEAK, rbj_sos

SR = 44100


def synth_pair(seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A music-like target (decaying harmonic notes) and background (kicks, noise
    hats, a bass line), stereo float32: no downloads, realistic dynamics."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    target = np.zeros((2, n))
    for start in np.arange(0, seconds, 0.5):
        f0 = 220 * 2 ** (rng.integers(0, 12) / 12)
        env = np.where(t >= start, np.exp(-(t - start) / 0.4), 0.0)
        note = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * env
        pan = rng.uniform(0.3, 0.7)
        target += np.stack([note * pan, note * (1 - pan)])
    beat = t % 0.5
    kick = np.sin(2 * np.pi * 60 * beat) * np.exp(-beat / 0.08)
    hats = rng.standard_normal(n) * np.exp(-(t % 0.125) / 0.01) * 0.3
    bass = np.sin(2 * np.pi * 55 * t) * 0.4
    background = np.stack([kick + hats + bass, kick + 0.8 * hats + bass])
    return _scale(target), _scale(background)


def _scale(x: np.ndarray) -> np.ndarray:
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


class ReferenceStyle:
    """The protocol's draws, executed as the paper's code does (float64, one
    ``sosfilt`` per band and channel, pedalboard ``Resample``, one Pedalboard)."""

    def __init__(self) -> None:
        self.protocol = DegradationProtocol()

    def _eq(self, params: Params, audio: np.ndarray) -> np.ndarray:
        if isinstance(params, GraphicEQParams):
            bands = zip(params.centres_hz, params.q, params.gains_db)
            sections = [rbj_sos(PEAK, f, q, g, SR) for f, q, g in bands]
        else:
            sections = [band.sos(SR) for band in params.bands]
        out = audio.astype(np.float64)
        for sos in sections:
            for ch in range(out.shape[0]):
                out[ch] = ss.sosfilt(sos, out[ch])
        return out

    def _plugin(self, params: Params) -> pedalboard.Plugin:
        v = vars(params)
        return {
            "resample": lambda: pedalboard.Resample(target_sample_rate=float(v.get("rate_hz", SR))),
            "compressor": lambda: pedalboard.Compressor(**v),
            "distortion": lambda: pedalboard.Distortion(**v),
            "reverb": lambda: pedalboard.Reverb(**v),
            "limiter": lambda: pedalboard.Limiter(**v),
            "mp3": lambda: pedalboard.MP3Compressor(**v),
        }[params.effect]()

    def _chain(self, effects: tuple[Params, ...], audio: np.ndarray) -> np.ndarray:
        n, original_rms = audio.shape[-1], _rms(audio)
        audio = audio / (np.abs(audio).max() + 1e-6)
        board = pedalboard.Pedalboard()
        for params in effects:
            if params.effect in ("graphic_eq", "parametric_eq"):
                audio = self._eq(params, audio)
            else:
                board.append(self._plugin(params))
        if len(board):
            audio = board(audio, SR)
        audio = np.pad(audio, ((0, 0), (0, max(0, n - audio.shape[-1]))))[:, :n]
        return audio * (original_rms / _rms(audio))

    def __call__(self, target: np.ndarray, background: np.ndarray, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        cfg = self.protocol.config
        degraded = self._chain(cfg.target.sample(rng).effects, target.astype(np.float64))
        snr = rng.uniform(*cfg.snr_db)
        gain = np.sqrt(np.mean(degraded**2) / (np.mean(background**2) * 10 ** (snr / 10)))
        mixture = self._chain(cfg.mixture.sample(rng).effects, degraded + background * gain)
        if rng.random() < cfg.p_noise:
            mixture = mixture + rng.normal(0, rng.uniform(*cfg.noise.std), mixture.shape)
        scale = np.abs(mixture).max() + 1e-7
        return np.stack([mixture / scale, target / scale, degraded / scale])


def time_examples(pipelines: dict, target, background, count: int) -> dict[str, list[float]]:
    """Seconds per example of each pipeline; interleaved per seed so that load
    from other processes on the machine hits both alike."""
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for seed in range(count):
        for name, make in pipelines.items():
            start = time.perf_counter()
            make(target, background, seed)
            times[name].append(time.perf_counter() - start)
    return times


def time_effects(audio: np.ndarray, draws: int) -> dict[str, list[float]]:
    """Median cost of each effect over ``draws`` sampled settings."""
    rng = np.random.default_rng(0)
    settings = {"eq": EQ(), "resample": Resampling(), "compressor": Compressor(), "distortion": Distortion(),
                "reverb": Reverb(), "limiter": Limiter(), "mp3": MP3Codec(), "noise": Noise()}
    reference = ReferenceStyle()
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(draws):
        for name, effect in settings.items():
            params = effect.sample(rng)
            start = time.perf_counter()
            params.apply(audio, SR)
            times[f"{params.effect}"].append(time.perf_counter() - start)
            if name in ("eq", "resample"):
                start = time.perf_counter()
                if name == "eq":
                    reference._eq(params, audio)
                else:
                    reference._plugin(params)(audio.astype(np.float64), SR)
                times[f"{params.effect} (reference-style)"].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--effect-draws", type=int, default=10)
    args = parser.parse_args()

    target, background = synth_pair(args.seconds, seed=0)
    ours = DegradationProtocol()
    ours(target, background, SR, seed=0)  # warm-up: imports, plugin loading
    pipelines = {"stemrestore": lambda t, b, s: ours(t, b, SR, seed=s), "reference-style": ReferenceStyle()}
    rows = time_examples(pipelines, target, background, args.examples)
    print(f"{args.examples} examples of {args.seconds:g} s stereo at {SR} Hz, one thread")
    print(f"{'pipeline':18s} {'examples/s':>10s} {'median s':>9s} {'mean s':>8s} {'p90 s':>7s}")
    for name, times in rows.items():
        print(f"{name:18s} {len(times) / sum(times):10.2f} {np.median(times):9.3f} {np.mean(times):8.3f} "
              f"{np.percentile(times, 90):7.3f}")
    ours_t, ref_t = rows["stemrestore"], rows["reference-style"]
    print(f"speed-up: throughput x{sum(ref_t) / sum(ours_t):.2f}, "
          f"median x{np.median(ref_t) / np.median(ours_t):.2f}")

    print(f"\ntime per effect call ({args.effect_draws} sampled settings each, median)")
    for name, times in sorted(time_effects(target, args.effect_draws).items()):
        print(f"  {name:32s} {1000 * np.median(times):8.1f} ms")


if __name__ == "__main__":
    main()
