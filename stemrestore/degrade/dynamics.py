"""Dynamics effects of the degradation set, through pedalboard as in the paper:
a compressor and a limiter. Both keep the input's length and alignment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pedalboard

from stemrestore.degrade.base import Effect, Params, Range, check_range, run_plugin, uniform


@dataclass(frozen=True)
class CompressorParams(Params):
    effect = "compressor"
    threshold_db: float
    ratio: float
    attack_ms: float
    release_ms: float

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        plugin = pedalboard.Compressor(self.threshold_db, self.ratio, self.attack_ms, self.release_ms)
        return run_plugin(plugin, audio, sr)


@dataclass
class Compressor(Effect):
    """Feed-forward compressor (no make-up gain), pedalboard ``Compressor``."""

    threshold_db: Range = (-20.0, 0.0)
    ratio: Range = (1.5, 10.0)
    attack_ms: Range = (1.0, 10.0)
    release_ms: Range = (50.0, 200.0)

    def __post_init__(self) -> None:
        self.threshold_db = check_range("threshold_db", self.threshold_db, -100.0, 24.0)
        self.ratio = check_range("ratio", self.ratio, 1.0, 1000.0)
        self.attack_ms = check_range("attack_ms", self.attack_ms, 0.0, 10_000.0)
        self.release_ms = check_range("release_ms", self.release_ms, 0.0, 10_000.0)

    def sample(self, rng: np.random.Generator) -> CompressorParams:
        return CompressorParams(
            uniform(rng, self.threshold_db),
            uniform(rng, self.ratio),
            uniform(rng, self.attack_ms),
            uniform(rng, self.release_ms),
        )


@dataclass(frozen=True)
class LimiterParams(Params):
    effect = "limiter"
    threshold_db: float
    release_ms: float

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        return run_plugin(pedalboard.Limiter(self.threshold_db, self.release_ms), audio, sr)


@dataclass
class Limiter(Effect):
    """Brick-wall limiter with instantaneous attack, pedalboard ``Limiter``.

    pedalboard (JUCE) adds make-up gain of up to ``-threshold_db`` and clips the
    result to [-1, 1].
    """

    threshold_db: Range = (-10.0, 0.0)
    release_ms: Range = (50.0, 200.0)

    def __post_init__(self) -> None:
        self.threshold_db = check_range("threshold_db", self.threshold_db, -100.0, 0.0)
        self.release_ms = check_range("release_ms", self.release_ms, 0.0, 10_000.0)

    def sample(self, rng: np.random.Generator) -> LimiterParams:
        return LimiterParams(uniform(rng, self.threshold_db), uniform(rng, self.release_ms))
