"""The studio mode's mastering chain: glue compressor -> EQ -> limiter driven to a
loudness target -> MP3 (with a probability), then a trim to the target.

The limiter is driven the way a mastering engineer does it: the input gain
(*drive*) is raised until the limited mix reaches the drawn integrated
loudness (ITU-R BS.1770-4, measured with pyloudnorm). Each pass limits and
measures once; the next drive comes from a secant step, within ``max_passes``
passes and ``max_drive_db``. After the codec, a final *trim* gain moves the
mix onto the target, but never lifts its peak above the limiter's ceiling:
a target that the ceiling (or the drive cap) cannot reach is left short, and
the record says by how much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyloudnorm

from stemrestore.degrade.base import (
    SILENCE_PEAK,
    Params,
    Range,
    RangeError,
    check_probability,
    check_range,
    params_from_dict,
    peak,
    uniform,
)
from stemrestore.degrade.codec import MP3Codec, MP3Params
from stemrestore.degrade.studio_stages import (
    Band,
    CeilingLimiterParams,
    CompressorStage,
    EQStage,
    LimiterStage,
    Ramp,
    at_intensity,
    check_jitter,
    check_ramp,
    record_number,
)
from stemrestore.errors import AudioError, ConfigError

#: BS.1770 gating block; shorter input is measured on a repetition of itself.
_BLOCK_S = 0.4
#: pyloudnorm's channel weights cover at most five channels.
_MAX_CHANNELS = 5
#: The secant step assumes the limited loudness rises by 0.1-1 LU per dB of drive.
_MIN_SLOPE, _MAX_SLOPE = 0.1, 1.0


def integrated_loudness(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS of float32 ``(channels, samples)``; ``-inf`` for silence.

    Input shorter than the 400 ms gating block is tiled to one block, which
    measures its K-weighted mean square (BS.1770 needs at least one block).
    """
    channels, length = audio.shape
    if channels > _MAX_CHANNELS:
        raise AudioError(f"loudness: at most {_MAX_CHANNELS} channels can be metered, got {channels}")
    data = audio.T.astype(np.float64)
    block = math.ceil(_BLOCK_S * sr)
    if length < block:
        data = np.tile(data, (math.ceil(block / length), 1))
    return float(pyloudnorm.Meter(sr).integrated_loudness(data))


def _glue() -> CompressorStage:
    # Make-up gain would be undone by the drive, which sets the level.
    return CompressorStage((-4.0, -14.0), (1.5, 4.0), (30.0, 10.0), (100.0, 300.0), (0.0, 0.0))


def _tilt() -> EQStage:
    return EQStage(
        (
            Band("lowshelf", (60.0, 200.0), (0.7, 0.7), (0.0, 2.0)),
            Band("highshelf", (4000.0, 12000.0), (0.7, 0.7), (0.0, 3.0)),
        )
    )


@dataclass
class MasteringSettings:
    """The bus chain of the mix; one intensity drives glue, EQ and loudness together."""

    glue: CompressorStage = field(default_factory=_glue)
    eq: EQStage = field(default_factory=_tilt)
    limiter: LimiterStage = field(default_factory=LimiterStage)
    loudness_lufs: Ramp = (-16.0, -8.0)
    p_mp3: float = 0.3
    mp3: MP3Codec = field(default_factory=lambda: MP3Codec((1.0, 5.0)))
    intensity: Range = (0.0, 1.0)
    jitter: float = 0.15
    max_drive_db: float = 24.0
    tolerance_lu: float = 0.1
    max_passes: int = 6

    def __post_init__(self) -> None:
        self.loudness_lufs = check_ramp("loudness_lufs", self.loudness_lufs, -70.0, 0.0)
        self.p_mp3 = check_probability("p_mp3", self.p_mp3)
        self.intensity = check_range("intensity", self.intensity, 0.0, 1.0)
        self.jitter = check_jitter(self.jitter)
        _check_loop(self.max_drive_db, self.tolerance_lu, self.max_passes, RangeError)

    def sample(self, rng: np.random.Generator) -> MasterDraw:
        intensity = uniform(rng, self.intensity)
        effects: list[Params] = []
        for stage in (self.glue, self.eq):
            if rng.random() < stage.p:
                effects.extend(stage.sample(rng, intensity, self.jitter))
        limiter = self.limiter.sample(rng)
        target = at_intensity(rng, self.loudness_lufs, intensity, self.jitter)
        mp3 = self.mp3.sample(rng) if rng.random() < self.p_mp3 else None
        return MasterDraw(
            intensity, tuple(effects), limiter, target, mp3, self.max_drive_db, self.tolerance_lu, self.max_passes
        )


def _check_loop(max_drive_db: Any, tolerance_lu: Any, max_passes: Any, error: type[Exception]) -> None:
    if isinstance(max_drive_db, bool) or not isinstance(max_drive_db, (int, float)) or not 0 <= max_drive_db <= 60:
        raise error(f"max_drive_db: must be a number in [0, 60], got {max_drive_db!r}")
    if isinstance(tolerance_lu, bool) or not isinstance(tolerance_lu, (int, float)) or not 0 < tolerance_lu <= 3:
        raise error(f"tolerance_lu: must be a number in (0, 3], got {tolerance_lu!r}")
    if isinstance(max_passes, bool) or not isinstance(max_passes, int) or not 1 <= max_passes <= 50:
        raise error(f"max_passes: must be a whole number in [1, 50], got {max_passes!r}")


@dataclass(frozen=True)
class MasterDraw:
    """One sampled mastering chain, with the loop settings it renders with."""

    intensity: float
    effects: tuple[Params, ...]
    limiter: CeilingLimiterParams
    loudness_target_lufs: float
    mp3: MP3Params | None
    max_drive_db: float
    tolerance_lu: float
    max_passes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "intensity": self.intensity,
            "effects": [e.to_dict() for e in self.effects],
            "limiter": self.limiter.to_dict(),
            "loudness_target_lufs": self.loudness_target_lufs,
            "mp3": self.mp3.to_dict() if self.mp3 is not None else None,
            "max_drive_db": self.max_drive_db,
            "tolerance_lu": self.tolerance_lu,
            "max_passes": self.max_passes,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str) -> MasterDraw:
        keys = {
            "intensity",
            "effects",
            "limiter",
            "loudness_target_lufs",
            "mp3",
            "max_drive_db",
            "tolerance_lu",
            "max_passes",
        }
        if not isinstance(data, dict) or set(data) != keys or not isinstance(data["effects"], list):
            raise ConfigError(f"{where}: expected a mapping with exactly {', '.join(sorted(keys))}")
        effects = tuple(params_from_dict(e, f"{where}.effects[{i}]") for i, e in enumerate(data["effects"]))
        limiter = _typed(data["limiter"], CeilingLimiterParams, f"{where}.limiter")
        mp3 = None if data["mp3"] is None else _typed(data["mp3"], MP3Params, f"{where}.mp3")
        _check_loop(data["max_drive_db"], data["tolerance_lu"], data["max_passes"], ConfigError)
        return cls(
            intensity=record_number(data, "intensity", where),
            effects=effects,
            limiter=limiter,
            loudness_target_lufs=record_number(data, "loudness_target_lufs", where),
            mp3=mp3,
            max_drive_db=float(data["max_drive_db"]),
            tolerance_lu=float(data["tolerance_lu"]),
            max_passes=int(data["max_passes"]),
        )


def _typed(data: Any, kind: type[Params], where: str) -> Any:
    params = params_from_dict(data, where)
    if not isinstance(params, kind):
        raise ConfigError(f"{where}: expected a {kind.effect!r} record, got {params.effect!r}")
    return params


@dataclass(frozen=True)
class Mastered:
    """The mastered mix and what the loudness loop measured (None: nothing to meter)."""

    audio: np.ndarray
    drive_db: float | None
    passes: int
    trim_db: float | None
    loudness_lufs: float | None


def master(mix: np.ndarray, sr: int, draw: MasterDraw) -> Mastered:
    """Run ``draw`` on float32 ``(channels, samples)``; silence stays silence.

    The glue compressor and EQ run at a reference peak of 1 (as a chain does),
    so their thresholds mean the same for every mix; the drive then sets the level.
    """
    reference = peak(mix)
    if reference < SILENCE_PEAK:
        return Mastered(mix.copy(), None, 0, None, None)
    bus = mix * np.float32(1.0 / reference)
    for effect in draw.effects:
        bus = effect.process(bus, sr)
    target = draw.loudness_target_lufs
    level = integrated_loudness(bus, sr)
    drive = _clamp(target - level, draw.max_drive_db) if math.isfinite(level) else 0.0
    previous: tuple[float, float] | None = None
    for passes in range(1, draw.max_passes + 1):
        out = draw.limiter.process(bus * np.float32(10.0 ** (drive / 20.0)), sr)
        level = integrated_loudness(out, sr)
        error = target - level
        if not math.isfinite(level) or abs(error) <= draw.tolerance_lu or passes == draw.max_passes:
            break
        slope = 1.0
        if previous is not None and previous[0] != drive:
            slope = min(_MAX_SLOPE, max(_MIN_SLOPE, (level - previous[1]) / (drive - previous[0])))
        step = _clamp(drive + error / slope, draw.max_drive_db)
        if step == drive:  # held at the drive cap: the target is out of reach
            break
        previous, drive = (drive, level), step
    if draw.mp3 is not None:
        out = draw.mp3.process(out, sr)
        level = integrated_loudness(out, sr)
    if not math.isfinite(level):
        return Mastered(out, drive, passes, None, None)
    gain = 10.0 ** ((target - level) / 20.0)
    ceiling, top = 10.0 ** (draw.limiter.ceiling_db / 20.0), peak(out)
    if top * gain > ceiling:
        gain = ceiling / top
    out *= np.float32(gain)
    trim_db = 20.0 * math.log10(gain)
    return Mastered(out, drive, passes, trim_db, level + trim_db)


def _clamp(drive_db: float, limit_db: float) -> float:
    return min(limit_db, max(-limit_db, drive_db))
