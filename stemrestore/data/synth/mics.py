"""Drum-kit microphones: each drum stem is what one mic hears of every kit piece.

A close mic picks up its own drum plus quieter, later and duller *bleed* from
the others; the overheads hear the whole kit from above, cymbals loudest,
with the left/right level and arrival-time differences of a spaced pair. Both
renderers produce one dry signal per kit piece and share this model, so a
kit always comes out as realistic per-mic multitrack stems.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

#: mic -> {piece: (gain, delay in ms)}; a negative gain is a polarity flip
#: (the snare-bottom mic faces the top mic).
CLOSE_MICS = {
    "kick_in": {"kick": (1.0, 0.0), "snare": (0.04, 1.5), "tom_floor": (0.03, 1.8), "cymbals": (0.01, 2.5)},
    "kick_out": {"kick": (0.8, 0.6), "snare": (0.08, 2.0), "tom_floor": (0.05, 2.0), "hihat": (0.03, 2.5),
                 "cymbals": (0.03, 2.5)},
    "snare_top": {"snare": (1.0, 0.0), "hihat": (0.2, 0.8), "kick": (0.06, 1.2), "tom_hi": (0.08, 1.0),
                  "cymbals": (0.05, 1.8)},
    "snare_bottom": {"snare": (-0.7, 0.3), "kick": (0.08, 1.0), "hihat": (0.06, 1.0)},
    "hihat": {"hihat": (1.0, 0.0), "snare": (0.25, 0.7), "cymbals": (0.12, 1.5), "kick": (0.03, 1.5)},
    "tom_hi": {"tom_hi": (1.0, 0.0), "tom_mid": (0.2, 0.8), "snare": (0.15, 0.8), "cymbals": (0.1, 1.2),
               "hihat": (0.06, 1.2), "kick": (0.04, 1.5)},
    "tom_mid": {"tom_mid": (1.0, 0.0), "tom_hi": (0.2, 0.8), "snare": (0.12, 1.0), "cymbals": (0.1, 1.2),
                "kick": (0.04, 1.5)},
    "tom_floor": {"tom_floor": (1.0, 0.0), "snare": (0.1, 1.2), "cymbals": (0.08, 1.5), "kick": (0.05, 1.2),
                  "tom_mid": (0.1, 1.0)},
}
#: How a mic's own drum is coloured: the kick-out mic misses the beater click,
#: the snare-bottom mic hears the wires more than the head.
_OWN_FILTER = {"kick_out": ("lowpass", 2500.0), "snare_bottom": ("highpass", 500.0)}
#: piece -> (gain, delay ms, position -1 left .. +1 right, drummer's view) for the overheads.
OVERHEAD = {"kick": (0.3, 3.5, 0.0), "snare": (0.55, 3.0, -0.1), "hihat": (0.6, 2.8, -0.6),
            "tom_hi": (0.45, 2.9, -0.2), "tom_mid": (0.45, 2.9, 0.2), "tom_floor": (0.45, 3.0, 0.6),
            "cymbals": (1.0, 2.5, 0.3)}


def _delayed(x: np.ndarray, ms: float, sr: int) -> np.ndarray:
    d = int(round(ms * sr / 1000.0))
    if d <= 0:
        return x
    out = np.zeros_like(x)
    out[d:] = x[:-d]
    return out


def _vary(rng: np.random.Generator, gain: float, ms: float) -> tuple[float, float]:
    """Every session places its mics a little differently: +-2 dB, +-20 % distance."""
    return gain * 10.0 ** (rng.normal(0.0, 2.0) / 20.0), ms * rng.uniform(0.8, 1.2)


def mic_signal(pieces: dict[str, np.ndarray], mic: str, channels: int, sr: int,
               rng: np.random.Generator) -> np.ndarray:
    """What drum ``mic`` (``kick_in``, ``snare_top``, ..., ``oh_l``, ``oh_r``, ``oh``) records.

    ``pieces`` maps each kit piece to its dry mono signal; the result is
    ``(channels, samples)`` float32 (``oh`` with 2 channels is a stereo pair).
    """
    n = len(next(iter(pieces.values())))
    if mic.startswith("oh"):
        sides = {"oh_l": (-1.0,), "oh_r": (1.0,), "oh": (-1.0, 1.0)}[mic]
        out = np.zeros((len(sides), n), dtype=np.float32)
        for piece, (gain, ms, pos) in OVERHEAD.items():
            gain, ms = _vary(rng, gain, ms)
            for c, side in enumerate(sides):
                # the mic on the piece's side is louder and hears it first
                near = 0.5 * (1.0 + pos * side)
                out[c] += (gain * (0.6 + 0.8 * near)) * _delayed(pieces[piece], ms + 0.6 * (1.0 - near), sr)
        return out if channels == len(sides) else np.mean(out, axis=0, keepdims=True)
    own, bleed = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
    target = next(iter(CLOSE_MICS[mic]))
    for piece, (gain, ms) in CLOSE_MICS[mic].items():
        if piece == target:
            own += gain * _delayed(pieces[piece], ms, sr)
        else:
            gain, ms = _vary(rng, gain, ms)
            bleed += gain * _delayed(pieces[piece], ms, sr)
    if mic in _OWN_FILTER:
        kind, freq = _OWN_FILTER[mic]
        own = scipy.signal.sosfilt(scipy.signal.butter(2, freq, kind, fs=sr, output="sos"), own)
    # bleed arrives off-axis, where a close mic's response falls off in the treble
    bleed = scipy.signal.sosfilt(scipy.signal.butter(1, min(5000.0, 0.45 * sr), fs=sr, output="sos"), bleed)
    mono = (own + bleed).astype(np.float32)[None, :]
    return np.repeat(mono, channels, axis=0)
