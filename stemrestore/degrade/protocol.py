"""The training-example protocol (SPEC §3): degrade a target, mix it with a
background at a random SNR, degrade the mixture, add noise, normalise.

Every random choice is drawn from one numpy Generator and recorded in
``Example.params`` (plain JSON), which :meth:`DegradationProtocol.replay`
re-applies bit for bit.

Normalisation (the paper's code scales by the mixture's peak, which can push
the clean target far above full scale when its degraded copy is quiet): one
gain ``g`` puts the loudest of mixture, target and degraded target at a peak
drawn from ``peak_level``; noise is added to the normalised mixture, so its
standard deviation is relative to full scale; should the noise push the
mixture past 0.999, all three signals are scaled down once more. The same
``g`` multiplies mixture, target and degraded target, so the target stays the
mixture's ground truth in level, and every stored signal lies within [-1, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stemrestore.audio import check_audio
from stemrestore.config import from_dict, load_yaml, to_dict
from stemrestore.degrade.base import (
    SILENCE_PEAK,
    Range,
    check_probability,
    check_range,
    check_sr,
    params_from_dict,
    peak,
    rms,
    uniform,
)
from stemrestore.degrade.chain import EffectChain, MixtureChain, TargetChain
from stemrestore.degrade.effects import Noise, NoiseParams
from stemrestore.errors import AudioError, ConfigError

#: Version tag of the ``params`` record; bump when its meaning changes.
FORMAT = "stemrestore.degradation/1"
#: Final safety ceiling for the noisy mixture (strictly below full scale).
_CEILING = 0.999


@dataclass
class ProtocolConfig:
    """Every probability and range of the protocol; defaults are the paper's."""

    target: TargetChain = field(default_factory=TargetChain)
    snr_db: Range = (-5.0, 20.0)
    mixture: MixtureChain = field(default_factory=MixtureChain)
    p_noise: float = 0.5
    noise: Noise = field(default_factory=Noise)
    peak_level: Range = (0.5, 0.95)

    def __post_init__(self) -> None:
        self.snr_db = check_range("snr_db", self.snr_db, -100.0, 100.0)
        self.p_noise = check_probability("p_noise", self.p_noise)
        self.peak_level = check_range("peak_level", self.peak_level, 0.001, _CEILING)


@dataclass(frozen=True)
class Example:
    """One training example; arrays are float32 with the inputs' shape."""

    mixture: np.ndarray
    target: np.ndarray
    degraded_target: np.ndarray
    params: dict[str, Any]


@dataclass(frozen=True)
class _Draw:
    """Everything sampled for one example (what ``params`` records)."""

    target_chain: EffectChain
    snr_db: float
    mixture_chain: EffectChain
    noise: NoiseParams | None
    peak_level: float


class DegradationProtocol:
    """Makes (mixture, target, degraded target) examples, see the module notes."""

    def __init__(self, config: ProtocolConfig | None = None) -> None:
        self.config = config or ProtocolConfig()

    @classmethod
    def from_yaml(cls, path: str | Path) -> DegradationProtocol:
        """The protocol a YAML file describes: ``mode: studio`` gives a
        :class:`~stemrestore.degrade.studio.StudioProtocol`, ``mode: paper`` (or
        no ``mode``) this paper protocol."""
        data = load_yaml(path)
        mode = data.get("mode", "paper")
        if mode == "studio":
            from stemrestore.degrade.studio import StudioProtocol

            return StudioProtocol.from_yaml(path)
        if mode != "paper":
            raise ConfigError(f"{path}: mode must be 'paper' or 'studio', got {mode!r}")
        data.pop("mode", None)
        return cls(from_dict(ProtocolConfig, data, str(path)))

    def __call__(
        self,
        target: np.ndarray,
        background: np.ndarray,
        sr: int,
        seed: int | np.random.Generator,
        target_class: str | None = None,
    ) -> Example:
        """One example from a clean ``target`` and a ``background`` of the same shape.

        ``seed`` is an int (recorded in ``params``) or a numpy Generator (which
        is advanced; ``params`` still holds every draw needed for replay).
        ``target_class`` is ignored: the paper degrades every class alike (the
        studio mode uses it).
        """
        target_in, background_in, squeeze = _check_inputs(target, background)
        sr = check_sr(sr)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(_check_seed(seed))
        cfg = self.config
        target_chain, degraded, change_db, draws = cfg.target.degrade(target_in, sr, rng)
        draw = _Draw(
            target_chain=target_chain,
            snr_db=uniform(rng, cfg.snr_db),
            mixture_chain=cfg.mixture.sample(rng),
            noise=cfg.noise.sample(rng) if rng.random() < cfg.p_noise else None,
            peak_level=uniform(rng, cfg.peak_level),
        )
        example = _render(draw, target_in, background_in, sr, degraded, squeeze)
        example.params.update(
            seed=None if isinstance(seed, np.random.Generator) else int(seed),
            target_level_change_db=_json_db(change_db),
            target_draws=draws,
            config=to_dict(cfg),
        )
        return example

    def replay(self, params: dict[str, Any], target: np.ndarray, background: np.ndarray, sr: int) -> Example:
        """Re-apply a ``params`` record to the same inputs (at the recorded rate):
        identical output. A studio-mode record is replayed by the studio mode."""
        from stemrestore.degrade import studio

        if isinstance(params, dict) and params.get("format") == studio.FORMAT:
            return studio.StudioProtocol().replay(params, target, background, sr)
        target_in, background_in, squeeze = _check_inputs(target, background)
        draw, sr = _parse(params), check_sr(sr)
        if params.get("sr") != sr:
            raise ConfigError(f"params: recorded at {params.get('sr')!r} Hz, replay asked for {sr} Hz")
        example = _render(draw, target_in, background_in, sr, None, squeeze)
        kept = ("seed", "target_level_change_db", "target_draws", "config")
        example.params.update({k: params[k] for k in kept if k in params})
        return example


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed: must be a whole number >= 0 or a numpy Generator, got {seed!r}")
    return int(seed)


def _check_inputs(target: Any, background: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    squeeze = np.ndim(target) == 1 and np.ndim(background) == 1
    t = np.ascontiguousarray(check_audio(target, "target"))
    b = np.ascontiguousarray(check_audio(background, "background"))
    if t.shape != b.shape:
        raise AudioError(f"target and background must have the same shape, got {t.shape} and {b.shape}")
    return t, b, squeeze


def _json_db(value: float | None) -> float | None:
    """JSON has no infinity: a level change of -inf dB (all erased) is stored as None."""
    return value if value is not None and math.isfinite(value) else None


def _render(
    draw: _Draw,
    target: np.ndarray,
    background: np.ndarray,
    sr: int,
    degraded: np.ndarray | None,
    squeeze: bool,
) -> Example:
    """Steps 2-6 and normalisation for a fixed draw (``degraded`` if already made)."""
    if degraded is None:
        degraded = draw.target_chain.run(target, sr)[0]
    target_power, background_power = rms(degraded) ** 2, rms(background) ** 2
    background_gain = 1.0
    if target_power > 0 and background_power > 0:
        background_gain = math.sqrt(target_power / (background_power * 10.0 ** (draw.snr_db / 10.0)))
    mixture = background * np.float32(background_gain)
    mixture += degraded
    mixture, mixture_change_db = draw.mixture_chain.run(mixture, sr)

    loudest = max(peak(mixture), peak(target), peak(degraded))
    gain = draw.peak_level / loudest if loudest >= SILENCE_PEAK else 1.0
    mixture *= np.float32(gain)
    if draw.noise is not None:
        mixture = draw.noise.process(mixture, sr)
        noisy_peak = peak(mixture)
        if noisy_peak > _CEILING:
            guard = _CEILING / noisy_peak
            mixture *= np.float32(guard)
            gain *= guard
    params = {
        "format": FORMAT,
        "sr": sr,
        "target_chain": draw.target_chain.to_dict(),
        "snr_db": draw.snr_db,
        "background_gain": background_gain,
        "mixture_chain": draw.mixture_chain.to_dict(),
        "mixture_level_change_db": _json_db(mixture_change_db),
        "noise": draw.noise.to_dict() if draw.noise is not None else None,
        "peak_level": draw.peak_level,
        "gain": gain,
    }
    outputs = [mixture, target * np.float32(gain), degraded * np.float32(gain)]
    if squeeze:
        outputs = [o[0] for o in outputs]
    return Example(outputs[0], outputs[1], outputs[2], params)


def effect_labels(params: Any) -> tuple[str, ...]:
    """The effects an example's degradation record applied, as ``"target: reverb"``, ``"mixture: mp3"``.

    In chain order, target chain first, then the mixture chain and its noise; each label once.
    A record of another format (e.g. the studio protocol's) gives ``()``; a malformed record of
    this format is a :class:`ConfigError`.
    """
    if not isinstance(params, dict) or params.get("format") != FORMAT:
        return ()
    draw = _parse(params)
    labels = [f"target: {e.effect}" for e in draw.target_chain.effects]
    labels += [f"mixture: {e.effect}" for e in draw.mixture_chain.effects]
    if draw.noise is not None:
        labels.append("mixture: noise")
    return tuple(dict.fromkeys(labels))


def _parse(params: Any) -> _Draw:
    if not isinstance(params, dict):
        raise ConfigError(f"params: expected a mapping, got {type(params).__name__}")
    if params.get("format") != FORMAT:
        raise ConfigError(f"params: format {params.get('format')!r} is not {FORMAT!r}")
    for key in ("target_chain", "snr_db", "mixture_chain", "noise", "peak_level"):
        if key not in params:
            raise ConfigError(f"params: missing field '{key}'")
    noise = params["noise"]
    if noise is not None:
        noise = params_from_dict(noise, "params.noise")
        if not isinstance(noise, NoiseParams):
            raise ConfigError(f"params.noise: expected a noise record, got {noise.effect!r}")
    peak_level = _number(params, "peak_level")
    if not 0 < peak_level <= _CEILING:
        raise ConfigError(f"params.peak_level: must lie in (0, {_CEILING}], got {peak_level!r}")
    return _Draw(
        target_chain=EffectChain.from_dict(params["target_chain"], "params.target_chain"),
        snr_db=_number(params, "snr_db"),
        mixture_chain=EffectChain.from_dict(params["mixture_chain"], "params.mixture_chain"),
        noise=noise,
        peak_level=peak_level,
    )


def _number(params: dict[str, Any], key: str) -> float:
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"params.{key}: expected a finite number, got {value!r}")
    return float(value)
