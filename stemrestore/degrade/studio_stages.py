"""Stages of the studio mode's channel strips and mastering chain.

A stage is a settings dataclass whose ``sample(rng, intensity, jitter)`` turns
one latent *intensity* ``u`` in [0, 1] (drawn once per strip) into parameters
of the degradation set's effects, so that the stages of one strip move
together: a heavily compressed vocal also gets more make-up gain, a brighter
presence boost and a louder reverb send.

Two kinds of setting:

* a *ramp* ``[at_0, at_1]`` is driven by the intensity: the value is
  ``at_0 + (at_1 - at_0) * clip(u + jitter * U(-1, 1), 0, 1)``; either end may
  be the larger one (a threshold falls while the ratio rises);
* a *range* ``[low, high]`` is drawn uniformly and independently, as in the
  paper mode (frequencies, Q, reverb room).

The studio mode adds two effects built from the paper's: a reverb *send*
(the wet copy is added to the dry signal, which passes at unity) and a
limiter with a hard output *ceiling*.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from stemrestore.degrade import filters
from stemrestore.degrade.base import (
    Params,
    Range,
    RangeError,
    check_probability,
    check_range,
    choice,
    uniform,
)
from stemrestore.degrade.dynamics import CompressorParams, LimiterParams
from stemrestore.degrade.effects import DistortionParams, GainParams, ReverbParams
from stemrestore.degrade.eq import EQBand, ParametricEQParams
from stemrestore.errors import ConfigError

#: ``(value at intensity 0, value at intensity 1)``; either may be the larger.
Ramp = tuple[float, float]

_ORDERS = (2, 4, 6, 8)


def check_ramp(name: str, value: Any, low: float, high: float) -> Ramp:
    """``value`` as a float pair, both ends within ``[low, high]``, in any order."""
    numbers = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )
    check_range(name, sorted(value) if numbers else value, low, high)
    return (float(value[0]), float(value[1]))


def at_intensity(rng: np.random.Generator, ramp: Ramp, intensity: float, jitter: float) -> float:
    """The ramp's value at ``intensity`` moved by ``jitter * U(-1, 1)`` (clipped to the ramp).

    One draw is always taken, so the random stream does not depend on the values.
    """
    t = min(1.0, max(0.0, intensity + jitter * float(rng.uniform(-1.0, 1.0))))
    return ramp[0] + (ramp[1] - ramp[0]) * t


def record_number(data: dict[str, Any], key: str, where: str) -> float:
    """A finite number from a params record, or a one-line :class:`ConfigError`."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}.{key}: expected a finite number, got {value!r}")
    return float(value)


def check_jitter(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise RangeError(f"jitter: must be a number in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ReverbSendParams(Params):
    """FreeVerb on a send: ``out = dry + reverb_wet(dry)``.

    ``send_db`` is pedalboard's wet level in dB (the dry path stays at unity,
    unlike the paper's insert reverb, whose dry level 0.4 is -1.9 dB).
    """

    effect = "reverb_send"
    send_db: float
    room_size: float
    damping: float
    width: float

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        wet_level = 10.0 ** (self.send_db / 20.0)
        reverb = ReverbParams(self.room_size, self.damping, wet_level, 0.0, self.width)
        out = reverb.process(audio, sr)
        out += audio
        return out


@dataclass(frozen=True)
class CeilingLimiterParams(Params):
    """The paper's limiter (pedalboard) with its threshold at ``ceiling_db``, scaled
    back by ``ceiling_db`` so that no output sample exceeds the ceiling.

    pedalboard's limiter (JUCE) compresses 4:1 above -10 dBFS, limits at the
    threshold, amplifies by ``3.75 - threshold`` dB (measured, pedalboard
    0.9.26) and clips to [-1, 1]; the scaling turns that clip into a hard
    ceiling. Below -10 dBFS the stage is a plain +3.75 dB gain, which the
    mastering drive loop absorbs.
    """

    effect = "ceiling_limiter"
    ceiling_db: float
    release_ms: float

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        out = LimiterParams(self.ceiling_db, self.release_ms).process(audio, sr)
        out *= np.float32(10.0 ** (self.ceiling_db / 20.0))
        return out


class Stage(ABC):
    """Settings of one strip stage; ``p`` is the stage's probability."""

    p: float

    @abstractmethod
    def sample(self, rng: np.random.Generator, intensity: float, jitter: float) -> tuple[Params, ...]:
        """The stage's effects for a strip of the given intensity."""


def _check_orders(value: Any) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)) or not value:
        raise RangeError(f"orders: expected a non-empty list, got {value!r}")
    if any(o not in _ORDERS for o in value):
        raise RangeError(f"orders: each must be one of {_ORDERS}, got {value!r}")
    return tuple(int(o) for o in value)


@dataclass
class _PassFilter(Stage):
    """A Butterworth pass filter at ``U(freq_hz)`` Hz of a random total order."""

    kind: ClassVar[str]
    freq_hz: Range = (20.0, 20000.0)
    orders: tuple[int, ...] = (2, 4)
    p: float = 1.0

    def __post_init__(self) -> None:
        self.freq_hz = check_range("freq_hz", self.freq_hz, 10.0, 30_000.0)
        self.orders = _check_orders(self.orders)
        self.p = check_probability("p", self.p)

    def sample(self, rng: np.random.Generator, intensity: float, jitter: float) -> tuple[Params, ...]:
        freq, order = uniform(rng, self.freq_hz), int(choice(rng, self.orders))
        return (ParametricEQParams((EQBand(self.kind, freq, family="butterworth", order=order),)),)


@dataclass
class HighPass(_PassFilter):
    """Rumble filter (frequency independent of the intensity)."""

    kind = filters.HIGHPASS
    freq_hz: Range = (20.0, 80.0)


@dataclass
class LowPass(_PassFilter):
    """Top-end roll-off (frequency independent of the intensity)."""

    kind = filters.LOWPASS
    freq_hz: Range = (4000.0, 16000.0)


@dataclass
class Band:
    """One peak or shelf band: frequency and Q drawn, gain a ramp."""

    kind: str = filters.PEAK
    freq_hz: Range = (1000.0, 1000.0)
    q: Range = (0.7, 0.7)
    gain_db: Ramp = (0.0, 0.0)

    def __post_init__(self) -> None:
        if self.kind not in filters.GAIN_KINDS:
            raise RangeError(f"kind: must be one of {', '.join(filters.GAIN_KINDS)}, got {self.kind!r}")
        self.freq_hz = check_range("freq_hz", self.freq_hz, 10.0, 30_000.0)
        self.q = check_range("q", self.q, 0.1, 20.0)
        self.gain_db = check_ramp("gain_db", self.gain_db, -24.0, 24.0)

    def sample(self, rng: np.random.Generator, intensity: float, jitter: float) -> EQBand:
        freq, q = uniform(rng, self.freq_hz), uniform(rng, self.q)
        return EQBand(self.kind, freq, q=q, gain_db=at_intensity(rng, self.gain_db, intensity, jitter))


@dataclass
class EQStage(Stage):
    """Peak/shelf bands applied as one parametric EQ (one SOS cascade)."""

    bands: tuple[Band, ...] = ()
    p: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.bands, (str, bytes)) or not all(isinstance(b, Band) for b in self.bands):
            raise RangeError(f"bands: expected a list of bands, got {self.bands!r}")
        self.bands = tuple(self.bands)
        self.p = check_probability("p", self.p)

    def sample(self, rng: np.random.Generator, intensity: float, jitter: float) -> tuple[Params, ...]:
        return (ParametricEQParams(tuple(b.sample(rng, intensity, jitter) for b in self.bands)),)


@dataclass
class CompressorStage(Stage):
    """The paper's compressor followed by make-up gain.

    Thresholds are relative to the strip's input peak (strips run at peak 1).
    The make-up gain gives back ``makeup`` (a fraction) of the static gain
    reduction at that peak, ``-threshold_db * (1 - 1 / ratio)`` dB, as an
    engineer restores the level after compressing: heavier compression gets
    more make-up, and a stage after the compressor (saturation) is driven by
    a restored level.
    """

    threshold_db: Ramp = (-10.0, -25.0)
    ratio: Ramp = (2.0, 8.0)
    attack_ms: Ramp = (10.0, 2.0)
    release_ms: Range = (60.0, 200.0)
    makeup: Ramp = (0.5, 0.8)
    p: float = 1.0

    def __post_init__(self) -> None:
        self.threshold_db = check_ramp("threshold_db", self.threshold_db, -60.0, 0.0)
        self.ratio = check_ramp("ratio", self.ratio, 1.0, 100.0)
        self.attack_ms = check_ramp("attack_ms", self.attack_ms, 0.01, 1000.0)
        self.release_ms = check_range("release_ms", self.release_ms, 1.0, 5000.0)
        self.makeup = check_ramp("makeup", self.makeup, 0.0, 1.5)
        self.p = check_probability("p", self.p)

    def sample(self, rng: np.random.Generator, intensity: float, jitter: float) -> tuple[Params, ...]:
        def ramp(value: Ramp) -> float:
            return at_intensity(rng, value, intensity, jitter)

        threshold, ratio, attack = ramp(self.threshold_db), ramp(self.ratio), ramp(self.attack_ms)
        release = uniform(rng, self.release_ms)
        makeup_db = ramp(self.makeup) * -threshold * (1.0 - 1.0 / ratio)
        return CompressorParams(threshold, ratio, attack, release), GainParams(makeup_db)


@dataclass
class SaturationStage(Stage):
    """The paper's tanh distortion; more drive at higher intensity."""

    drive_db: Ramp = (1.0, 10.0)
    p: float = 1.0

    def __post_init__(self) -> None:
        self.drive_db = check_ramp("drive_db", self.drive_db, 0.0, 48.0)
        self.p = check_probability("p", self.p)

    def sample(self, rng: np.random.Generator, intensity: float, jitter: float) -> tuple[Params, ...]:
        return (DistortionParams(at_intensity(rng, self.drive_db, intensity, jitter)),)


@dataclass
class ReverbSendStage(Stage):
    """A reverb send (:class:`ReverbSendParams`): louder send at higher intensity."""

    send_db: Ramp = (-26.0, -12.0)
    room_size: Range = (0.3, 0.8)
    damping: Range = (0.3, 0.7)
    width: Range = (0.5, 1.0)
    p: float = 1.0

    def __post_init__(self) -> None:
        self.send_db = check_ramp("send_db", self.send_db, -80.0, 0.0)
        for name in ("room_size", "damping", "width"):
            setattr(self, name, check_range(name, getattr(self, name), 0.0, 1.0))
        self.p = check_probability("p", self.p)

    def sample(self, rng: np.random.Generator, intensity: float, jitter: float) -> tuple[Params, ...]:
        send = at_intensity(rng, self.send_db, intensity, jitter)
        room, damping, width = (uniform(rng, r) for r in (self.room_size, self.damping, self.width))
        return (ReverbSendParams(send, room, damping, width),)


@dataclass
class LimiterStage:
    """The mastering limiter (:class:`CeilingLimiterParams`); its drive is set by the
    loudness target (see :mod:`stemrestore.degrade.studio_master`)."""

    ceiling_db: Range = (-1.0, -0.1)
    release_ms: Range = (50.0, 200.0)

    def __post_init__(self) -> None:
        self.ceiling_db = check_range("ceiling_db", self.ceiling_db, -20.0, 0.0)
        self.release_ms = check_range("release_ms", self.release_ms, 1.0, 5000.0)

    def sample(self, rng: np.random.Generator) -> CeilingLimiterParams:
        return CeilingLimiterParams(uniform(rng, self.ceiling_db), uniform(rng, self.release_ms))
