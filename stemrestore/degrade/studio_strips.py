"""Channel strips of the studio mode: an ordered list of stages per instrument
group, driven by one intensity per strip, and the default strip of each group.

A sampled strip is an :class:`~stemrestore.degrade.chain.EffectChain`, so it
runs like the paper's target chain: at a reference peak of 1 (thresholds and
drive mean the same for every input), then ``output_level`` sets its level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stemrestore.degrade.base import Range, RangeError, check_range, uniform
from stemrestore.degrade.chain import OUTPUT_LEVELS, EffectChain
from stemrestore.degrade.studio_stages import (
    Band,
    CompressorStage,
    EQStage,
    HighPass,
    LowPass,
    Ramp,
    ReverbSendStage,
    SaturationStage,
    Stage,
    check_jitter,
    record_number,
)
from stemrestore.errors import ConfigError

#: Stage names a strip's ``order`` may list (each at most once).
STAGES = ("highpass", "eq", "compressor", "saturation", "lowpass", "reverb")
#: The strip used for classes without their own strip and for the background.
DEFAULT_STRIP = "default"


@dataclass
class StripSettings:
    """One channel strip: the stages named in ``order``, run in that order.

    Every stage that is set must be listed in ``order`` and every listed stage
    must be set, so a typo cannot silently drop one. ``intensity`` is the
    range of the strip's latent intensity, ``jitter`` how far each ramp may
    stray from it (see :mod:`stemrestore.degrade.studio_stages`).
    """

    order: tuple[str, ...] = ()
    highpass: HighPass | None = None
    eq: EQStage | None = None
    compressor: CompressorStage | None = None
    saturation: SaturationStage | None = None
    lowpass: LowPass | None = None
    reverb: ReverbSendStage | None = None
    intensity: Range = (0.0, 1.0)
    jitter: float = 0.15
    output_level: str = "match_rms"

    def __post_init__(self) -> None:
        if isinstance(self.order, str):
            raise RangeError(f"order: expected a list of stage names, got {self.order!r}")
        self.order = tuple(self.order)
        for name in self.order:
            if name not in STAGES:
                raise RangeError(f"order: unknown stage {name!r} (valid: {', '.join(STAGES)})")
            if getattr(self, name) is None:
                raise RangeError(f"order: stage {name!r} is listed but has no settings")
        if len(set(self.order)) != len(self.order):
            raise RangeError(f"order: a stage is listed twice in {list(self.order)}")
        for name in STAGES:
            if getattr(self, name) is not None and name not in self.order:
                raise RangeError(f"{name}: has settings but is missing from order")
        self.intensity = check_range("intensity", self.intensity, 0.0, 1.0)
        self.jitter = check_jitter(self.jitter)
        if self.output_level not in OUTPUT_LEVELS:
            raise RangeError(f"output_level: must be one of {', '.join(OUTPUT_LEVELS)}, got {self.output_level!r}")

    def stages(self) -> list[Stage]:
        return [getattr(self, name) for name in self.order]

    def sample(self, rng: np.random.Generator, name: str) -> StripDraw:
        """Draw the intensity, then each stage (with its probability) in order."""
        intensity = uniform(rng, self.intensity)
        effects = []
        for stage in self.stages():
            if rng.random() < stage.p:
                effects.extend(stage.sample(rng, intensity, self.jitter))
        return StripDraw(name, intensity, EffectChain(tuple(effects), self.output_level))


@dataclass(frozen=True)
class StripDraw:
    """A sampled strip: which one, its intensity, and the effects to run."""

    strip: str
    intensity: float
    chain: EffectChain

    def to_dict(self) -> dict[str, Any]:
        return {"strip": self.strip, "intensity": self.intensity, "chain": self.chain.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> StripDraw:
        if not isinstance(data, dict) or not {"strip", "intensity", "chain"} <= set(data):
            raise ConfigError(f"{where}: expected a mapping with 'strip', 'intensity' and 'chain'")
        chain = EffectChain.from_dict(data["chain"], f"{where}.chain")
        return cls(str(data["strip"]), record_number(data, "intensity", where), chain)


def _comp(
    threshold: Ramp, ratio: Ramp, attack: Ramp = (10.0, 2.0), release: Range = (60.0, 200.0), makeup: Ramp = (0.5, 0.8)
) -> CompressorStage:
    return CompressorStage(threshold, ratio, attack, release, makeup)


def _hall(send: Ramp, room: Range, damping: Range = (0.3, 0.7), p: float = 1.0) -> ReverbSendStage:
    return ReverbSendStage(send, room, damping, (0.5, 1.0), p)


def default_strips() -> dict[str, StripSettings]:
    """One strip per taxonomy group plus ``default`` (see docs/studio.md for the reasoning)."""
    air = Band("highshelf", (6000.0, 12000.0), (0.7, 0.7), (0.0, 3.0))
    return {
        "Voc": StripSettings(
            order=("highpass", "compressor", "eq", "reverb"),
            highpass=HighPass((70.0, 150.0), (2, 4)),
            compressor=_comp((-12.0, -30.0), (2.0, 8.0)),
            eq=EQStage((Band("peak", (2000.0, 5000.0), (0.7, 1.5), (1.0, 7.0)),)),
            reverb=_hall((-24.0, -10.0), (0.3, 0.8), p=0.9),
        ),
        "Bass": StripSettings(
            order=("compressor", "saturation", "lowpass"),
            compressor=_comp((-10.0, -25.0), (3.0, 10.0), release=(80.0, 200.0)),
            saturation=SaturationStage((1.0, 10.0)),
            lowpass=LowPass((2000.0, 8000.0), (2, 4)),
        ),
        "Rhy": StripSettings(
            order=("eq", "compressor", "reverb"),
            eq=EQStage(
                (
                    Band("lowshelf", (60.0, 120.0), (0.7, 0.7), (1.0, 5.0)),
                    Band("peak", (300.0, 600.0), (1.0, 2.0), (-1.0, -5.0)),
                    Band("highshelf", (5000.0, 10000.0), (0.7, 0.7), (1.0, 5.0)),
                )
            ),
            compressor=_comp((-8.0, -24.0), (2.0, 6.0), attack=(3.0, 0.5)),
            reverb=_hall((-24.0, -12.0), (0.1, 0.4), (0.4, 0.8), p=0.7),
        ),
        "Gtr": StripSettings(
            order=("highpass", "saturation", "compressor", "eq", "reverb"),
            highpass=HighPass((80.0, 150.0), (2, 4)),
            saturation=SaturationStage((0.0, 8.0), p=0.5),
            compressor=_comp((-6.0, -20.0), (1.5, 4.0)),
            eq=EQStage((Band("peak", (1500.0, 4000.0), (0.7, 1.5), (0.0, 5.0)),)),
            reverb=_hall((-26.0, -12.0), (0.3, 0.7)),
        ),
        "Kbs": StripSettings(
            order=("highpass", "compressor", "eq", "reverb"),
            highpass=HighPass((30.0, 80.0), (2,)),
            compressor=_comp((-4.0, -16.0), (1.5, 3.0), makeup=(0.4, 0.7)),
            eq=EQStage(
                (
                    Band("lowshelf", (150.0, 400.0), (0.7, 0.7), (0.0, -4.0)),
                    Band("highshelf", (4000.0, 10000.0), (0.7, 0.7), (0.0, 4.0)),
                )
            ),
            reverb=_hall((-24.0, -10.0), (0.4, 0.8)),
        ),
        "Synth": StripSettings(
            order=("highpass", "saturation", "compressor", "lowpass", "reverb"),
            highpass=HighPass((30.0, 100.0), (2,)),
            saturation=SaturationStage((0.0, 8.0), p=0.5),
            compressor=_comp((-6.0, -18.0), (2.0, 5.0)),
            lowpass=LowPass((4000.0, 16000.0), (2, 4), p=0.5),
            reverb=_hall((-26.0, -12.0), (0.3, 0.8)),
        ),
        "Orch": StripSettings(
            order=("highpass", "compressor", "eq", "reverb"),
            highpass=HighPass((30.0, 60.0), (2,)),
            compressor=_comp((-3.0, -12.0), (1.2, 2.5), (30.0, 10.0), (150.0, 400.0), makeup=(0.3, 0.6)),
            eq=EQStage((air,)),
            reverb=_hall((-20.0, -8.0), (0.6, 0.95), (0.2, 0.5)),
        ),
        DEFAULT_STRIP: StripSettings(
            order=("highpass", "compressor", "eq", "reverb"),
            highpass=HighPass((20.0, 80.0), (2,)),
            compressor=_comp((-4.0, -18.0), (1.5, 4.0), makeup=(0.4, 0.7)),
            eq=EQStage((Band("peak", (200.0, 5000.0), (0.5, 2.0), (0.0, 3.0)),)),
            reverb=_hall((-28.0, -14.0), (0.3, 0.8), p=0.7),
        ),
    }
