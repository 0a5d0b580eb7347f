"""Equalisers of the degradation set: graphic EQ, parametric EQ, and the
protocol's "EQ" step that picks one of the two.

Each EQ applies all of its bands as a single SOS cascade (one ``sosfilt`` call
over all channels), see :mod:`stemrestore.degrade.filters`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stemrestore.degrade import filters
from stemrestore.degrade.base import (
    Effect,
    Params,
    Range,
    RangeError,
    check_choices,
    check_probability,
    check_range,
    choice,
    uniform,
)

#: Centre frequencies of the paper's 16-band graphic EQ.
PAPER_CENTRES_HZ = (25.0, 40.0, 63.0, 100.0, 160.0, 250.0, 400.0, 630.0,
                    1000.0, 1600.0, 2500.0, 4000.0, 6300.0, 10000.0, 16000.0, 20000.0)
#: Ratio to the missing neighbour of the first and last band (the bands are
#: about 1.6x apart), as in the paper's code.
_EDGE_RATIO = 1.6
#: Allowed total filter orders ("even orders 2-8").
_ORDERS = (2, 4, 6, 8)


@dataclass(frozen=True)
class GraphicEQParams(Params):
    """Peak bands at ``centres_hz`` with one gain and Q each."""

    effect = "graphic_eq"
    centres_hz: tuple[float, ...]
    gains_db: tuple[float, ...]
    q: tuple[float, ...]

    def __post_init__(self) -> None:
        if not len(self.centres_hz) == len(self.gains_db) == len(self.q):
            raise RangeError("graphic EQ: centres_hz, gains_db and q must have the same length")
        if not all(q > 0 for q in self.q) or not all(c > 0 for c in self.centres_hz):
            raise RangeError("graphic EQ: centres_hz and q must be positive")

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        centres = np.asarray(self.centres_hz)
        # Bands at or above Nyquist cannot be realised and are skipped.
        keep = centres < sr / 2
        sos = filters.rbj_sos(
            filters.PEAK, centres[keep], np.asarray(self.q)[keep], np.asarray(self.gains_db)[keep], sr
        )
        return filters.apply_sos(sos, audio)


@dataclass
class GraphicEQ(Effect):
    """Graphic EQ: one peak band per centre, gain ``U(gain_db)`` each.

    Q follows the paper: ``Q = f_c / (f_upper - f_lower) * q_scale`` with the
    neighbouring centres as ``f_lower``/``f_upper``.
    """

    centres_hz: tuple[float, ...] = PAPER_CENTRES_HZ
    gain_db: Range = (-6.0, 6.0)
    q_scale: float = 2.5

    def __post_init__(self) -> None:
        centres = np.asarray(self.centres_hz, dtype=np.float64)
        increasing = centres.ndim == 1 and (np.diff(centres) > 0).all()
        if not increasing or len(centres) < 2 or not (centres > 0).all():
            raise RangeError("centres_hz: need at least two positive, increasing frequencies")
        self.centres_hz = tuple(float(c) for c in centres)
        self.gain_db = check_range("gain_db", self.gain_db, -40.0, 40.0)
        if not self.q_scale > 0:
            raise RangeError(f"q_scale: must be positive, got {self.q_scale!r}")

    def band_q(self) -> tuple[float, ...]:
        c = np.asarray(self.centres_hz)
        lower = np.concatenate([[c[0] / _EDGE_RATIO], c[:-1]])
        upper = np.concatenate([c[1:], [c[-1] * _EDGE_RATIO]])
        return tuple(float(v) for v in c / (upper - lower) * self.q_scale)

    def sample(self, rng: np.random.Generator) -> GraphicEQParams:
        gains = rng.uniform(self.gain_db[0], self.gain_db[1], len(self.centres_hz))
        return GraphicEQParams(self.centres_hz, tuple(float(g) for g in gains), self.band_q())


@dataclass(frozen=True)
class EQBand:
    """One parametric band. Fields that do not apply to ``kind`` are None.

    lowpass/highpass: family, order (+ ripple_db / stopband_db by family);
    bandpass/bandstop: the same plus q (bandwidth ``freq_hz / q``);
    peak/lowshelf/highshelf: q and gain_db (one RBJ biquad).
    """

    kind: str
    freq_hz: float
    q: float | None = None
    gain_db: float | None = None
    family: str | None = None
    order: int | None = None
    ripple_db: float | None = None
    stopband_db: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in filters.KINDS:
            raise RangeError(f"kind: unknown filter {self.kind!r} (valid: {', '.join(filters.KINDS)})")
        if not self.freq_hz > 0:
            raise RangeError(f"freq_hz: must be positive, got {self.freq_hz!r}")
        needs_q = self.kind != filters.LOWPASS and self.kind != filters.HIGHPASS
        if needs_q and not (self.q is not None and self.q > 0):
            raise RangeError(f"q: a {self.kind} band needs a positive q, got {self.q!r}")
        if self.kind in filters.GAIN_KINDS:
            if self.gain_db is None:
                raise RangeError(f"gain_db: a {self.kind} band needs a gain")
            return
        if self.family not in filters.FAMILIES:
            raise RangeError(f"family: unknown {self.family!r} (valid: {', '.join(filters.FAMILIES)})")
        if self.order not in _ORDERS:
            raise RangeError(f"order: must be one of {_ORDERS}, got {self.order!r}")
        if self.family in filters.RIPPLE_FAMILIES and not (self.ripple_db or 0) > 0:
            raise RangeError(f"ripple_db: a {self.family} band needs a positive ripple")
        if self.family in filters.STOPBAND_FAMILIES and not (self.stopband_db or 0) > 0:
            raise RangeError(f"stopband_db: a {self.family} band needs a positive attenuation")

    def sos(self, sr: int) -> np.ndarray:
        if self.kind in filters.GAIN_KINDS:
            return filters.rbj_sos(self.kind, self.freq_hz, self.q, self.gain_db, sr)
        return filters.family_sos(
            self.kind, self.freq_hz, sr, self.family, self.order, self.q, self.ripple_db, self.stopband_db
        )


@dataclass(frozen=True)
class ParametricEQParams(Params):
    effect = "parametric_eq"
    bands: tuple[EQBand, ...]

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        sos = np.concatenate([band.sos(sr) for band in self.bands]) if self.bands else np.empty((0, 6))
        return filters.apply_sos(sos, audio)


@dataclass
class ParametricEQ(Effect):
    """Parametric EQ: ``bands`` random bands, each of a random kind.

    Frequencies are drawn uniformly (in Hz) from the kind's range; bandpass,
    bandstop and peak share the paper's 100-8000 Hz but are separate settings.
    """

    bands: tuple[int, int] = (1, 5)
    kinds: tuple[str, ...] = filters.KINDS
    lowpass_hz: Range = (200.0, 8000.0)
    highpass_hz: Range = (20.0, 2000.0)
    bandpass_hz: Range = (100.0, 8000.0)
    bandstop_hz: Range = (100.0, 8000.0)
    peak_hz: Range = (100.0, 8000.0)
    lowshelf_hz: Range = (50.0, 1000.0)
    highshelf_hz: Range = (1000.0, 10000.0)
    q: Range = (0.5, 10.0)
    gain_db: Range = (-6.0, 6.0)
    families: tuple[str, ...] = filters.FAMILIES
    orders: tuple[int, ...] = _ORDERS
    ripple_db: Range = (0.1, 3.0)
    stopband_db: Range = (20.0, 60.0)

    def __post_init__(self) -> None:
        lo, hi = check_range("bands", self.bands, 0, 32)
        if lo != int(lo) or hi != int(hi):
            raise RangeError(f"bands: must be whole numbers, got {self.bands!r}")
        self.bands = (int(lo), int(hi))
        self.kinds = check_choices("kinds", self.kinds, filters.KINDS)
        for kind in filters.KINDS:
            name = f"{kind}_hz"
            setattr(self, name, check_range(name, getattr(self, name), 1.0, 100_000.0))
        self.q = check_range("q", self.q, 0.05, 100.0)
        self.gain_db = check_range("gain_db", self.gain_db, -40.0, 40.0)
        self.families = check_choices("families", self.families, filters.FAMILIES)
        if not self.orders or any(o not in _ORDERS for o in self.orders):
            raise RangeError(f"orders: each must be one of {_ORDERS}, got {self.orders!r}")
        self.orders = tuple(self.orders)
        self.ripple_db = check_range("ripple_db", self.ripple_db, 0.01, 10.0)
        self.stopband_db = check_range("stopband_db", self.stopband_db, 3.0, 120.0)

    def sample_band(self, rng: np.random.Generator) -> EQBand:
        kind = choice(rng, self.kinds)
        freq = uniform(rng, getattr(self, f"{kind}_hz"))
        if kind in filters.GAIN_KINDS:
            return EQBand(kind, freq, q=uniform(rng, self.q), gain_db=uniform(rng, self.gain_db))
        family = choice(rng, self.families)
        return EQBand(
            kind,
            freq,
            q=uniform(rng, self.q) if kind in (filters.BANDPASS, filters.BANDSTOP) else None,
            family=family,
            order=int(choice(rng, self.orders)),
            ripple_db=uniform(rng, self.ripple_db) if family in filters.RIPPLE_FAMILIES else None,
            stopband_db=uniform(rng, self.stopband_db) if family in filters.STOPBAND_FAMILIES else None,
        )

    def sample(self, rng: np.random.Generator) -> ParametricEQParams:
        count = int(rng.integers(self.bands[0], self.bands[1] + 1))
        return ParametricEQParams(tuple(self.sample_band(rng) for _ in range(count)))


@dataclass
class EQ(Effect):
    """The protocol's EQ step: graphic with probability ``p_graphic``, else parametric
    (the paper's code chooses between the two with equal odds)."""

    p_graphic: float = 0.5
    graphic: GraphicEQ = field(default_factory=GraphicEQ)
    parametric: ParametricEQ = field(default_factory=ParametricEQ)

    def __post_init__(self) -> None:
        self.p_graphic = check_probability("p_graphic", self.p_graphic)

    def sample(self, rng: np.random.Generator) -> GraphicEQParams | ParametricEQParams:
        if rng.random() < self.p_graphic:
            return self.graphic.sample(rng)
        return self.parametric.sample(rng)
