"""Effect chains: an ordered list of sampled effects applied at a reference level,
and the two chains of the protocol (target and mixture) as settings.

A chain first scales its input to a peak of 1 (as the paper's code does) so
that thresholds and drive mean the same for every input, runs the effects,
then sets the output level by ``output_level``:

* ``"match_rms"`` (default, as the paper's code): the output gets the input's
  RMS, so a degraded signal stays level-comparable with its clean version;
* ``"as_processed"``: only the input scaling is undone; level changes made by
  the effects (a compressor without make-up gain, a cutting EQ) remain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stemrestore.audio import check_audio
from stemrestore.degrade.base import (
    SILENCE_PEAK,
    Effect,
    Params,
    RangeError,
    check_probability,
    check_sr,
    params_from_dict,
    peak,
    rms,
)
from stemrestore.degrade.codec import MP3Codec, Resampling
from stemrestore.degrade.dynamics import Compressor, Limiter
from stemrestore.degrade.effects import Distortion, Reverb
from stemrestore.degrade.eq import EQ
from stemrestore.errors import ConfigError

OUTPUT_LEVELS = ("match_rms", "as_processed")


def _check_output_level(value: Any) -> str:
    if value not in OUTPUT_LEVELS:
        raise RangeError(f"output_level: must be one of {', '.join(OUTPUT_LEVELS)}, got {value!r}")
    return value


@dataclass(frozen=True)
class EffectChain:
    """Sampled effects, applied in order (see the module notes for levels)."""

    effects: tuple[Params, ...] = ()
    output_level: str = "match_rms"

    def __post_init__(self) -> None:
        _check_output_level(self.output_level)

    def apply(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Degrade float32 ``(channels, samples)``; same shape out."""
        return self.run(np.ascontiguousarray(check_audio(audio)), check_sr(sr))[0]

    def run(self, audio: np.ndarray, sr: int) -> tuple[np.ndarray, float | None]:
        """:meth:`apply` without input checks, also returning the level change (dB)
        that the effects themselves made, measured as RMS before the output
        level is set; None for silent input."""
        in_peak = peak(audio)
        if in_peak < SILENCE_PEAK:
            return audio.copy(), None
        if not self.effects:
            return audio.copy(), 0.0
        out = audio * np.float32(1.0 / in_peak)
        in_rms = rms(out)
        for effect in self.effects:
            out = effect.process(out, sr)
        out_rms = rms(out)
        change_db = 20.0 * math.log10(out_rms / in_rms) if out_rms > 0 else -math.inf
        if self.output_level == "match_rms":
            if out_rms > 0:
                out *= np.float32(in_rms * in_peak / out_rms)
        else:
            out *= np.float32(in_peak)
        return out, change_db

    def to_dict(self) -> dict[str, Any]:
        return {"effects": [e.to_dict() for e in self.effects], "output_level": self.output_level}

    @classmethod
    def from_dict(cls, data: Any, where: str = "chain") -> EffectChain:
        if not isinstance(data, dict) or not isinstance(data.get("effects"), list):
            raise ConfigError(f"{where}: expected a mapping with an 'effects' list")
        unknown = sorted(set(data) - {"effects", "output_level"})
        if unknown:
            raise ConfigError(f"{where}: unknown field '{unknown[0]}'")
        effects = tuple(params_from_dict(e, f"{where}.effects[{i}]") for i, e in enumerate(data["effects"]))
        try:
            return cls(effects, data.get("output_level", "match_rms"))
        except RangeError as exc:
            raise ConfigError(f"{where}: {exc}") from None


def _sample_steps(steps: list[tuple[float, Effect]], rng: np.random.Generator) -> tuple[Params, ...]:
    """Each step independently with its probability, in order."""
    return tuple(effect.sample(rng) for p, effect in steps if rng.random() < p)


@dataclass
class TargetChain:
    """The target's degradation (SPEC §3 step 2): EQ -> resample -> compressor ->
    distortion -> reverb, each applied with its own probability.

    ``max_attenuation_db`` (off by default, as in the paper) re-draws a chain
    whose effects leave the target more than that many dB quieter (RMS, before
    ``output_level``), up to ``max_redraws`` times; if every draw fails, the
    least attenuating one is kept.
    """

    p_eq: float = 0.5
    eq: EQ = field(default_factory=EQ)
    p_resample: float = 0.5
    resample: Resampling = field(default_factory=Resampling)
    p_compressor: float = 0.5
    compressor: Compressor = field(default_factory=Compressor)
    p_distortion: float = 0.5
    distortion: Distortion = field(default_factory=Distortion)
    p_reverb: float = 0.5
    reverb: Reverb = field(default_factory=Reverb)
    output_level: str = "match_rms"
    max_attenuation_db: float | None = None
    max_redraws: int = 10

    def __post_init__(self) -> None:
        for name in ("p_eq", "p_resample", "p_compressor", "p_distortion", "p_reverb"):
            setattr(self, name, check_probability(name, getattr(self, name)))
        _check_output_level(self.output_level)
        if self.max_attenuation_db is not None and not self.max_attenuation_db >= 0:
            raise RangeError(f"max_attenuation_db: must be >= 0 dB or null, got {self.max_attenuation_db!r}")
        redraws = self.max_redraws
        if isinstance(redraws, bool) or not isinstance(redraws, int) or redraws < 0:
            raise RangeError(f"max_redraws: must be a whole number >= 0, got {self.max_redraws!r}")

    def steps(self) -> list[tuple[float, Effect]]:
        return [
            (self.p_eq, self.eq),
            (self.p_resample, self.resample),
            (self.p_compressor, self.compressor),
            (self.p_distortion, self.distortion),
            (self.p_reverb, self.reverb),
        ]

    def sample(self, rng: np.random.Generator) -> EffectChain:
        return EffectChain(_sample_steps(self.steps(), rng), self.output_level)

    def degrade(
        self, audio: np.ndarray, sr: int, rng: np.random.Generator
    ) -> tuple[EffectChain, np.ndarray, float | None, int]:
        """Draw a chain and apply it, re-drawing as ``max_attenuation_db`` says.

        ``audio`` is float32 ``(channels, samples)``. Returns the
        chain, the degraded audio, the effects' level change in dB (None for
        silence) and how many chains were drawn.
        """
        audio, sr = np.ascontiguousarray(check_audio(audio)), check_sr(sr)
        limit = self.max_attenuation_db
        draws = 1 if limit is None else 1 + self.max_redraws
        best: tuple[EffectChain, np.ndarray, float] | None = None
        for draw in range(1, draws + 1):
            chain = self.sample(rng)
            out, change = chain.run(audio, sr)
            if change is None or limit is None or change >= -limit:
                return chain, out, change, draw
            if best is None or change > best[2]:
                best = (chain, out, change)
        assert best is not None  # the loop runs at least once and only falls through on a rejection
        return best[0], best[1], best[2], draws


@dataclass
class MixtureChain:
    """The mixture's degradation (SPEC §3 step 5): limiter -> resample -> MP3."""

    p_limiter: float = 0.5
    limiter: Limiter = field(default_factory=Limiter)
    p_resample: float = 0.5
    resample: Resampling = field(default_factory=Resampling)
    p_mp3: float = 0.5
    mp3: MP3Codec = field(default_factory=MP3Codec)
    output_level: str = "match_rms"

    def __post_init__(self) -> None:
        for name in ("p_limiter", "p_resample", "p_mp3"):
            setattr(self, name, check_probability(name, getattr(self, name)))
        _check_output_level(self.output_level)

    def steps(self) -> list[tuple[float, Effect]]:
        return [(self.p_limiter, self.limiter), (self.p_resample, self.resample), (self.p_mp3, self.mp3)]

    def sample(self, rng: np.random.Generator) -> EffectChain:
        return EffectChain(_sample_steps(self.steps(), rng), self.output_level)
