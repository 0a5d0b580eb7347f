"""Shared pieces of the degradation set: ranges, the two effect roles, the registry.

Every effect comes in two parts:

* a *settings* dataclass (:class:`Effect`) that holds the ranges to draw from
  (paper values as defaults) and whose :meth:`Effect.sample` turns a numpy
  Generator into
* a frozen *parameter* dataclass (:class:`Params`) that records one draw and
  applies it with :meth:`Params.apply`.

Parameter records serialise to plain dicts tagged with the effect's name, so a
chain written to JSON can be rebuilt (:func:`params_from_dict`) and re-applied
bit for bit.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from stemrestore.audio import check_audio
from stemrestore.config import from_dict, to_dict
from stemrestore.errors import AudioError, ConfigError

if TYPE_CHECKING:
    import pedalboard

#: A closed interval ``(low, high)`` to draw a value uniformly from.
Range = tuple[float, float]


class RangeError(ConfigError, ValueError):
    """An invalid setting. Also a ValueError so that ``config.from_dict`` prefixes
    the message with the field's full path in the YAML."""


def check_range(name: str, value: Any, low: float = -math.inf, high: float = math.inf) -> Range:
    """``value`` as a float pair ``(a, b)`` with ``low <= a <= b <= high``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise RangeError(f"{name}: expected a [low, high] pair, got {value!r}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise RangeError(f"{name}: range values must be numbers, got {value!r}")
    a, b = float(value[0]), float(value[1])
    if not (math.isfinite(a) and math.isfinite(b)):
        raise RangeError(f"{name}: range values must be finite, got {value!r}")
    if a > b:
        raise RangeError(f"{name}: low {a:g} is above high {b:g}")
    if a < low or b > high:
        raise RangeError(f"{name}: range [{a:g}, {b:g}] must lie within [{low:g}, {high:g}]")
    return (a, b)


def check_probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise RangeError(f"{name}: probability must be a number in [0, 1], got {value!r}")
    return float(value)


def check_choices(name: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A non-empty tuple of names, each one of ``allowed``."""
    if isinstance(value, str) or not isinstance(value, (tuple, list)) or not value:
        raise RangeError(f"{name}: expected a non-empty list, got {value!r}")
    for v in value:
        if v not in allowed:
            raise RangeError(f"{name}: unknown choice {v!r} (valid: {', '.join(allowed)})")
    return tuple(value)


def uniform(rng: np.random.Generator, value_range: Range) -> float:
    """One draw from ``U(low, high)`` as a Python float (a degenerate range gives its value)."""
    low, high = value_range
    return low if low == high else float(rng.uniform(low, high))


def choice(rng: np.random.Generator, options: tuple[Any, ...]) -> Any:
    """One of ``options``, uniformly; as the option itself (no numpy scalar types)."""
    return options[int(rng.integers(len(options)))]


def check_sr(sr: Any) -> int:
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise AudioError(f"sample rate must be a positive integer, got {sr!r}")
    return int(sr)


def rms(audio: np.ndarray) -> float:
    """Root mean square over all channels and samples (0 for an empty array)."""
    flat = audio.reshape(-1)
    if not flat.size:
        return 0.0
    # einsum's float32 sum is accurate to ~1e-7 here and 5x faster than a
    # float64 pass; the float64 pass only runs when float32 overflows.
    total = float(np.einsum("i,i->", flat, flat))
    if not math.isfinite(total):
        total = float(np.einsum("i,i->", flat, flat, dtype=np.float64))
    return math.sqrt(total / flat.size)


#: Peaks below this count as silence: scaling them to full scale would overflow float32.
SILENCE_PEAK = 1e-30


def peak(audio: np.ndarray) -> float:
    """Largest absolute sample value (without allocating ``abs(audio)``)."""
    return max(float(audio.max()), -float(audio.min())) if audio.size else 0.0


def fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Trim or zero-pad the last axis to ``length`` samples (float32, C-contiguous)."""
    n = audio.shape[-1]
    if n > length:
        audio = audio[..., :length]
    elif n < length:
        audio = np.pad(audio, ((0, 0), (0, length - n)))
    return np.ascontiguousarray(audio, dtype=np.float32)


#: pedalboard's default 8192-sample blocks cost up to 1.5x more time than large ones.
_PLUGIN_BUFFER = 1 << 16


def run_plugin(plugin: pedalboard.Plugin, audio: np.ndarray, sr: int) -> np.ndarray:
    """Process float32 ``(channels, samples)`` with a freshly made pedalboard plugin
    (no state carries over between calls)."""
    return fit_length(plugin(audio, float(sr), buffer_size=_PLUGIN_BUFFER), audio.shape[-1])


_REGISTRY: dict[str, type[Params]] = {}


class Params(ABC):
    """One sampled setting of an effect; subclasses are frozen dataclasses.

    ``apply(audio, sr)`` takes float32 ``(channels, samples)`` (1-D is read as
    mono) and returns a new float32 array of exactly the same shape, time-aligned
    with the input. The input is never modified.
    """

    #: Name under which the record is stored in JSON; unique per effect.
    effect: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.effect:
            _REGISTRY[cls.effect] = cls

    def apply(self, audio: np.ndarray, sr: int) -> np.ndarray:
        audio = np.ascontiguousarray(check_audio(audio))
        return self.process(audio, check_sr(sr))

    @abstractmethod
    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """``apply`` without input checks: ``audio`` is already valid float32 (C, N)."""

    def to_dict(self) -> dict[str, Any]:
        return {"effect": self.effect, **to_dict(self)}


class Effect(ABC):
    """Settings of one effect (dataclass of ranges) that draw :class:`Params`."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Params:
        """One draw of parameters from the ranges."""


def params_from_dict(data: Any, where: str = "effect") -> Params:
    """Rebuild a :class:`Params` from :meth:`Params.to_dict` output."""
    if not isinstance(data, dict) or "effect" not in data:
        raise ConfigError(f"{where}: expected a mapping with an 'effect' name, got {data!r}")
    fields = dict(data)
    name = fields.pop("effect")
    cls = _REGISTRY.get(name)
    if cls is None:
        raise ConfigError(f"{where}: unknown effect {name!r} (known: {', '.join(sorted(_REGISTRY))})")
    return from_dict(cls, fields, f"{where}[{name}]")
