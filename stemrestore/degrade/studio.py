"""The studio degradation mode: chains that follow how mixing engineers work.

Where the paper mode draws every effect independently, the studio mode runs

1. the target through its class's channel strip (vocals: high-pass ->
   compressor -> presence EQ -> reverb send; bass: compressor -> saturation
   -> low-pass; drums: EQ -> bus compressor -> room reverb send; ...), one
   latent intensity driving the strip's parameters together;
2. the background through the ``default`` strip (with ``p_background_strip``);
3. mixes them at a drawn SNR, as the paper mode;
4. masters the mix (:mod:`stemrestore.degrade.studio_master`): glue
   compressor -> EQ -> limiter driven to a drawn integrated loudness -> MP3;
5. gives the clean and degraded target the gain the mastering gave the mix
   (its RMS change), so the target stays the mix's ground truth in level;
   should any of the three then peak above 0.999, all three are scaled down
   by one more shared factor (the mix then falls short of its loudness
   target, and ``loudness_lufs`` in the record says by how much).

Every draw is recorded in ``Example.params``; :meth:`StudioProtocol.replay`
re-renders it bit for bit from the record alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stemrestore.config import from_dict, load_yaml, to_dict
from stemrestore.degrade.base import (
    SILENCE_PEAK,
    Range,
    RangeError,
    check_probability,
    check_range,
    check_sr,
    peak,
    rms,
    uniform,
)
from stemrestore.degrade.protocol import (
    _CEILING,
    DegradationProtocol,
    Example,
    _check_inputs,
    _check_seed,
    _json_db,
)
from stemrestore.degrade.studio_master import MasterDraw, MasteringSettings, master
from stemrestore.degrade.studio_stages import record_number
from stemrestore.degrade.studio_strips import DEFAULT_STRIP, StripDraw, StripSettings, default_strips
from stemrestore.errors import ConfigError
from stemrestore.taxonomy import GROUPS, group_of, validate_class

#: Version tag of the studio ``params`` record; bump when its meaning changes.
FORMAT = "stemrestore.degradation-studio/1"
MODE = "studio"


@dataclass
class StudioConfig:
    """Every setting of the studio mode; defaults in configs/degradation/studio.yaml.

    ``strips`` maps a taxonomy group (``Voc``, ``Bass``, ``Rhy``, ...) or
    ``default`` to its strip; a class whose group has no strip, and the
    background, use ``default``.
    """

    mode: str = MODE
    strips: dict[str, StripSettings] = field(default_factory=default_strips)
    p_background_strip: float = 1.0
    snr_db: Range = (-5.0, 20.0)
    mastering: MasteringSettings = field(default_factory=MasteringSettings)

    def __post_init__(self) -> None:
        if self.mode != MODE:
            raise RangeError(f"mode: a studio config must say {MODE!r}, got {self.mode!r}")
        if not isinstance(self.strips, dict):
            raise RangeError(f"strips: expected a mapping of group to strip, got {self.strips!r}")
        valid = [g.code for g in GROUPS] + [DEFAULT_STRIP]
        for key, strip in self.strips.items():
            if key not in valid:
                raise RangeError(f"strips: unknown strip {key!r} (valid: {', '.join(valid)})")
            if not isinstance(strip, StripSettings):
                raise RangeError(f"strips.{key}: expected strip settings, got {strip!r}")
        if DEFAULT_STRIP not in self.strips:
            raise RangeError(f"strips: a {DEFAULT_STRIP!r} strip is required (background, other classes)")
        self.p_background_strip = check_probability("p_background_strip", self.p_background_strip)
        self.snr_db = check_range("snr_db", self.snr_db, -100.0, 100.0)

    def strip_for(self, target_class: str | None) -> str:
        """Name of the strip for a (validated) class id; ``default`` for None."""
        if target_class is None:
            return DEFAULT_STRIP
        group = group_of(target_class)
        return group if group in self.strips else DEFAULT_STRIP


@dataclass(frozen=True)
class _Draw:
    """Everything sampled for one example (what ``params`` records)."""

    target: StripDraw
    background: StripDraw | None
    snr_db: float
    mastering: MasterDraw


class StudioProtocol(DegradationProtocol):
    """Makes (mixture, target, degraded target) examples with studio chains.

    Same interface as :class:`DegradationProtocol` (which it can stand in for);
    ``target_class`` picks the strip. ``replay`` also accepts paper records.
    """

    def __init__(self, config: StudioConfig | None = None) -> None:
        self.config = config or StudioConfig()

    @classmethod
    def from_yaml(cls, path: str | Path) -> StudioProtocol:
        return cls(from_dict(StudioConfig, load_yaml(path), str(path)))

    def __call__(
        self,
        target: np.ndarray,
        background: np.ndarray,
        sr: int,
        seed: int | np.random.Generator,
        target_class: str | None = None,
    ) -> Example:
        """One example from a clean ``target`` of class ``target_class`` (any
        taxonomy id or alias; None uses the ``default`` strip) and a
        ``background`` of the same shape. ``seed`` as for the paper mode."""
        target_in, background_in, squeeze = _check_inputs(target, background)
        sr = check_sr(sr)
        class_id = None if target_class is None else validate_class(target_class)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(_check_seed(seed))
        cfg = self.config
        name = cfg.strip_for(class_id)
        target_strip = cfg.strips[name].sample(rng, name)
        background_strip = None
        if rng.random() < cfg.p_background_strip:
            background_strip = cfg.strips[DEFAULT_STRIP].sample(rng, DEFAULT_STRIP)
        draw = _Draw(target_strip, background_strip, uniform(rng, cfg.snr_db), cfg.mastering.sample(rng))
        example = _render(draw, target_in, background_in, sr, squeeze)
        example.params.update(
            seed=None if isinstance(seed, np.random.Generator) else int(seed),
            target_class=class_id,
            config=to_dict(cfg),
        )
        return example

    def replay(self, params: dict[str, Any], target: np.ndarray, background: np.ndarray, sr: int) -> Example:
        """Re-render a record on the same inputs (at the recorded rate): identical output.
        A paper-mode record is replayed by the paper mode."""
        if not isinstance(params, dict) or params.get("format") != FORMAT:
            return super().replay(params, target, background, sr)
        target_in, background_in, squeeze = _check_inputs(target, background)
        draw, sr = _parse(params), check_sr(sr)
        if params.get("sr") != sr:
            raise ConfigError(f"params: recorded at {params.get('sr')!r} Hz, replay asked for {sr} Hz")
        example = _render(draw, target_in, background_in, sr, squeeze)
        example.params.update({k: params[k] for k in ("seed", "target_class", "config") if k in params})
        return example


def _render(draw: _Draw, target: np.ndarray, background: np.ndarray, sr: int, squeeze: bool) -> Example:
    degraded, target_change_db = draw.target.chain.run(target, sr)
    if draw.background is not None:
        background = draw.background.chain.run(background, sr)[0]
    target_power, background_power = rms(degraded) ** 2, rms(background) ** 2
    background_gain = 1.0
    if target_power > 0 and background_power > 0:
        background_gain = math.sqrt(target_power / (background_power * 10.0 ** (draw.snr_db / 10.0)))
    mixture = background * np.float32(background_gain)
    mixture += degraded

    mastered = master(mixture, sr, draw.mastering)
    mixture_rms = rms(mixture)
    mixture_gain = rms(mastered.audio) / mixture_rms if mixture_rms > 0 else 1.0
    out = mastered.audio
    loudest = max(peak(out), mixture_gain * peak(target), mixture_gain * peak(degraded))
    peak_scale = min(1.0, _CEILING / loudest) if loudest >= SILENCE_PEAK else 1.0
    out *= np.float32(peak_scale)
    gain = mixture_gain * peak_scale
    loudness = mastered.loudness_lufs
    if loudness is not None:
        loudness += 20.0 * math.log10(peak_scale)
    params = {
        "format": FORMAT,
        "sr": sr,
        "target_strip": draw.target.to_dict(),
        "background_strip": draw.background.to_dict() if draw.background is not None else None,
        "snr_db": draw.snr_db,
        "background_gain": background_gain,
        "mastering": draw.mastering.to_dict(),
        "drive_db": mastered.drive_db,
        "limiter_passes": mastered.passes,
        "trim_db": mastered.trim_db,
        "loudness_lufs": loudness,
        "mixture_gain": mixture_gain,
        "peak_scale": peak_scale,
        "gain": gain,
        "target_level_change_db": _json_db(target_change_db),
    }
    outputs = [out, target * np.float32(gain), degraded * np.float32(gain)]
    if squeeze:
        outputs = [o[0] for o in outputs]
    return Example(outputs[0], outputs[1], outputs[2], params)


def _parse(params: dict[str, Any]) -> _Draw:
    for key in ("target_strip", "background_strip", "snr_db", "mastering"):
        if key not in params:
            raise ConfigError(f"params: missing field '{key}'")
    background = params["background_strip"]
    return _Draw(
        target=StripDraw.from_dict(params["target_strip"], "params.target_strip"),
        background=None if background is None else StripDraw.from_dict(background, "params.background_strip"),
        snr_db=record_number(params, "snr_db", "params"),
        mastering=MasterDraw.from_dict(params["mastering"], "params.mastering"),
    )
