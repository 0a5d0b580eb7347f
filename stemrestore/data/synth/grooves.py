"""Drum-kit grooves and hand-percussion patterns, as General-MIDI drum keys.

Patterns are written on a sixteenth-note grid (16 steps per 4/4 bar). The GM
key numbers are the lingua franca of both renderers: the soundfont renders them
on its drum channel, the procedural renderer synthesises a piece per key.
"""

from __future__ import annotations

import numpy as np

from stemrestore.data.synth.patterns import Grid, Note

KICK, SIDESTICK, SNARE, CLAP = 36, 37, 38, 39
HAT_CLOSED, HAT_PEDAL, HAT_OPEN = 42, 44, 46
TOM_FLOOR, TOM_MID, TOM_HIGH = 43, 47, 50
CRASH, RIDE = 49, 51
TAMBOURINE, COWBELL = 54, 56
BONGO_HI, BONGO_LO, CONGA_MUTE, CONGA_OPEN, CONGA_LO = 60, 61, 62, 63, 64
SHAKER = 70  # GM "maracas": the closest GM key to a shaker, present in every GM kit

#: Kit pieces (each has its own close-mic signal) and the GM keys they sound.
KIT_PIECES = {
    "kick": (KICK, 35),
    "snare": (SNARE, SIDESTICK, 40),
    "hihat": (HAT_CLOSED, HAT_PEDAL, HAT_OPEN),
    "tom_hi": (TOM_HIGH, 48),
    "tom_mid": (TOM_MID, 45),
    "tom_floor": (TOM_FLOOR, 41),
    "cymbals": (CRASH, RIDE, 57, 59, 53),
}
PIECE_OF_KEY = {key: piece for piece, keys in KIT_PIECES.items() for key in keys}

_EIGHTHS = tuple(range(0, 16, 2))
# groove name -> {GM key: sixteenth steps}; ghost snares come from "ghost"
_GROOVES = {
    "rock": {KICK: (0, 8, 10), SNARE: (4, 12), HAT_CLOSED: _EIGHTHS},
    "rock2": {KICK: (0, 6, 8), SNARE: (4, 12), HAT_CLOSED: _EIGHTHS},
    "four": {KICK: (0, 4, 8, 12), SNARE: (4, 12), HAT_CLOSED: (0, 4, 8, 12), HAT_OPEN: (2, 6, 10, 14)},
    "halftime": {KICK: (0, 10), SNARE: (8,), HAT_CLOSED: _EIGHTHS},
    "funk": {KICK: (0, 3, 10), SNARE: (4, 12), HAT_CLOSED: tuple(range(16)), "ghost": (7, 9, 15)},
    "ballad": {KICK: (0, 8), SIDESTICK: (4, 12), HAT_CLOSED: _EIGHTHS},
}


def drums(grid: Grid, rng: np.random.Generator, velocity: float) -> list[Note]:
    """A drum-kit performance: a groove, crashes on phrase starts, tom fills before them."""
    name = tuple(_GROOVES)[int(rng.integers(len(_GROOVES)))]
    groove = dict(_GROOVES[name])
    if HAT_OPEN not in groove and rng.random() < 0.25:
        groove[RIDE] = groove.pop(HAT_CLOSED)
    step = grid.beat / 4
    notes = []

    def hit(bar: int, s: float, key: int, vel: float, dur: float = 0.1) -> None:
        notes.append(grid.note(bar * 4 + s / 4, dur / grid.beat, key, vel))

    for bar in range(grid.bars):
        fill = (bar + 1) % 4 == 0 and bar + 1 < grid.bars and rng.random() < 0.7
        for key, steps in groove.items():
            for s in steps:
                if fill and s >= 8:
                    continue
                if key == "ghost":
                    hit(bar, s, SNARE, velocity * 0.35)
                elif key in (HAT_CLOSED, RIDE, HAT_OPEN):
                    hit(bar, s, key, velocity * (0.9 if s % 4 == 0 else 0.7), dur=step * 2)
                else:
                    hit(bar, s, key, velocity * (1.0 if s % 4 == 0 else 0.9))
        if bar % 4 == 0 and rng.random() < 0.8:
            hit(bar, 0, CRASH, velocity, dur=1.5)
        if fill:
            toms = (TOM_HIGH, TOM_HIGH, TOM_MID, TOM_MID, TOM_FLOOR, TOM_FLOOR, SNARE, TOM_FLOOR)
            sixteenths = rng.random() < 0.5
            for i in range(8 if sixteenths else 4):
                s = 8 + (i if sixteenths else 2 * i)
                key = toms[i if sixteenths else 2 * i + 1]
                hit(bar, s, key, velocity * (0.8 + 0.2 * (i % 2 == 0)))
            hit(bar, 8, KICK, velocity * 0.9)
    return notes


def percussion(grid: Grid, rng: np.random.Generator, velocity: float, instrument: str) -> list[Note]:
    """A hand-percussion part for one instrument (``shaker``, ``tambourine``, ``congas``...)."""
    notes = []
    if instrument == "shaker":
        pattern = [(s, SHAKER, 1.0 if s % 2 == 0 else 0.6) for s in range(16)]
    elif instrument == "tambourine":
        steps = (4, 12) if rng.random() < 0.5 else _EIGHTHS
        pattern = [(s, TAMBOURINE, 1.0 if s % 4 == 0 else 0.7) for s in steps]
    elif instrument == "congas":
        pattern = [(0, CONGA_LO, 1.0), (3, CONGA_MUTE, 0.6), (6, CONGA_OPEN, 0.9), (8, CONGA_LO, 0.9),
                   (10, CONGA_MUTE, 0.6), (12, CONGA_OPEN, 1.0), (14, CONGA_OPEN, 0.8)]
    elif instrument == "bongos":
        pattern = [(s, BONGO_HI if s % 4 else BONGO_LO, 0.9 if s % 4 == 0 else 0.7) for s in _EIGHTHS]
    elif instrument == "cowbell":
        pattern = [(s, COWBELL, 1.0 if s == 0 else 0.8) for s in (0, 4, 8, 12)]
    elif instrument == "claps":
        pattern = [(4, CLAP, 1.0), (12, CLAP, 1.0)]
    else:
        raise ValueError(f"unknown percussion instrument {instrument!r}")
    skip = rng.random(len(pattern)) < 0.1  # players leave out a hit now and then
    for bar in range(grid.bars):
        for (s, key, accent), leave_out in zip(pattern, skip):
            if not (leave_out and bar % 2):
                notes.append(grid.note(bar * 4 + s / 4, 0.12 / grid.beat, key, velocity * accent))
    return notes
