"""Gain, harmonic distortion, reverb and additive noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pedalboard

from stemrestore.degrade.base import Effect, Params, Range, check_range, run_plugin, uniform


@dataclass(frozen=True)
class GainParams(Params):
    effect = "gain"
    gain_db: float

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        return audio * np.float32(10.0 ** (self.gain_db / 20.0))


@dataclass
class Gain(Effect):
    """``F(x) = a x``. The paper gives no range (only ``a != 0``); drawing in dB
    keeps ``a`` positive. Not one of the protocol's steps."""

    gain_db: Range = (-12.0, 12.0)

    def __post_init__(self) -> None:
        self.gain_db = check_range("gain_db", self.gain_db, -120.0, 60.0)

    def sample(self, rng: np.random.Generator) -> GainParams:
        return GainParams(uniform(rng, self.gain_db))


@dataclass(frozen=True)
class DistortionParams(Params):
    effect = "distortion"
    drive_db: float

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        # The same float32 tanh waveshaper as pedalboard's Distortion (the
        # tests compare the two), 20x faster than running the plugin.
        out = audio * np.float32(10.0 ** (self.drive_db / 20.0))
        return np.tanh(out, out=out)


@dataclass
class Distortion(Effect):
    """tanh soft clipping: ``tanh(10**(drive_db/20) * x)``, as pedalboard's ``Distortion``."""

    drive_db: Range = (0.0, 5.0)

    def __post_init__(self) -> None:
        self.drive_db = check_range("drive_db", self.drive_db, -60.0, 60.0)

    def sample(self, rng: np.random.Generator) -> DistortionParams:
        return DistortionParams(uniform(rng, self.drive_db))


@dataclass(frozen=True)
class ReverbParams(Params):
    effect = "reverb"
    room_size: float
    damping: float
    wet_level: float
    dry_level: float
    width: float

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        plugin = pedalboard.Reverb(
            room_size=self.room_size,
            damping=self.damping,
            wet_level=self.wet_level,
            dry_level=self.dry_level,
            width=self.width,
        )
        return run_plugin(plugin, audio, sr)


@dataclass
class Reverb(Effect):
    """FreeVerb, pedalboard ``Reverb``. The tail is cut at the input's end.

    The paper gives no dry level; the default keeps pedalboard's 0.4 (as the
    paper's code does). In pedalboard a dry level of 0.5 is unity gain.
    """

    room_size: Range = (0.1, 1.0)
    damping: Range = (0.1, 1.0)
    wet_level: Range = (0.1, 0.5)
    dry_level: Range = (0.4, 0.4)
    width: Range = (0.1, 1.0)

    def __post_init__(self) -> None:
        for name in ("room_size", "damping", "wet_level", "dry_level", "width"):
            setattr(self, name, check_range(name, getattr(self, name), 0.0, 1.0))

    def sample(self, rng: np.random.Generator) -> ReverbParams:
        return ReverbParams(
            room_size=uniform(rng, self.room_size),
            damping=uniform(rng, self.damping),
            wet_level=uniform(rng, self.wet_level),
            dry_level=uniform(rng, self.dry_level),
            width=uniform(rng, self.width),
        )


@dataclass(frozen=True)
class NoiseParams(Params):
    """White Gaussian noise of standard deviation ``std``; ``seed`` makes it
    reproducible without storing the samples."""

    effect = "noise"
    std: float
    seed: int

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        noise = np.random.default_rng(self.seed).standard_normal(audio.shape, dtype=np.float32)
        noise *= np.float32(self.std)
        noise += audio
        return noise


@dataclass
class Noise(Effect):
    """Additive Gaussian noise. The paper's "means uniformly distributed between
    0.001 and 0.005" is read as the noise's standard deviation (zero mean)."""

    std: Range = (0.001, 0.005)

    def __post_init__(self) -> None:
        self.std = check_range("std", self.std, 0.0, 1.0)

    def sample(self, rng: np.random.Generator) -> NoiseParams:
        return NoiseParams(uniform(rng, self.std), int(rng.integers(2**63)))
