"""Keys, chord progressions and voicings shared by every part of a song.

Pitches are MIDI note numbers; pitch classes are 0..11 with C = 0. Progressions
are written as scale degrees (0-based) so that one table serves every key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MAJOR = (0, 2, 4, 5, 7, 9, 11)
#: Harmonic minor would make every v a V; natural minor plus an optional
#: major V (see the progressions) is what pop songs actually use.
MINOR = (0, 2, 3, 5, 7, 8, 10)

#: Common pop/rock progressions as (degree, quality) pairs; quality "" takes the
#: triad the scale gives, "maj" forces a major chord (the V of a minor key).
PROGRESSIONS = {
    "major": (
        ((0, ""), (4, ""), (5, ""), (3, "")),  # I V vi IV
        ((0, ""), (5, ""), (3, ""), (4, "")),  # I vi IV V
        ((5, ""), (3, ""), (0, ""), (4, "")),  # vi IV I V
        ((0, ""), (3, ""), (4, ""), (3, "")),  # I IV V IV
        ((1, ""), (4, ""), (0, ""), (0, "")),  # ii V I I
        ((0, ""), (2, ""), (3, ""), (4, "")),  # I iii IV V
        ((3, ""), (0, ""), (4, ""), (5, "")),  # IV I V vi
        ((0, ""), (3, ""), (0, ""), (4, "")),  # I IV I V
    ),
    "minor": (
        ((0, ""), (5, ""), (2, ""), (6, "")),  # i VI III VII
        ((0, ""), (3, ""), (4, ""), (0, "")),  # i iv v i
        ((0, ""), (6, ""), (5, ""), (6, "")),  # i VII VI VII
        ((0, ""), (3, ""), (5, ""), (4, "maj")),  # i iv VI V
        ((0, ""), (5, ""), (3, ""), (4, "maj")),  # i VI iv V
        ((0, ""), (0, ""), (3, ""), (3, "")),  # i i iv iv
    ),
}


@dataclass(frozen=True)
class Chord:
    """A chord: root pitch class and the pitch classes it contains (root first)."""

    root: int
    tones: tuple[int, ...]
    label: str


@dataclass(frozen=True)
class Key:
    """A tonic pitch class and a mode ("major" or "minor")."""

    tonic: int
    mode: str

    @property
    def scale(self) -> tuple[int, ...]:
        """Pitch classes of the key's scale, tonic first."""
        steps = MAJOR if self.mode == "major" else MINOR
        return tuple((self.tonic + s) % 12 for s in steps)

    @property
    def name(self) -> str:
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    def chord(self, degree: int, quality: str = "", seventh: bool = False) -> Chord:
        """The chord built on scale ``degree`` by stacking scale thirds."""
        scale = self.scale
        root = scale[degree % 7]
        third, fifth = scale[(degree + 2) % 7], scale[(degree + 4) % 7]
        if quality == "maj":
            third = (root + 4) % 12
        tones = [root, third, fifth]
        if seventh:
            tones.append(scale[(degree + 6) % 7])
        return Chord(root, tuple(tones), _label(root, tones))


def _label(root: int, tones: list[int]) -> str:
    third = (tones[1] - root) % 12
    fifth = (tones[2] - root) % 12
    name = NOTE_NAMES[root] + ("m" if third == 3 else "")
    if fifth == 6:
        name = NOTE_NAMES[root] + "dim"
    if len(tones) > 3:
        seventh = (tones[3] - root) % 12
        name += "maj7" if seventh == 11 else "7"
    return name


def random_key(rng: np.random.Generator) -> Key:
    """A key; major a little more often than minor, as in pop catalogues."""
    return Key(int(rng.integers(12)), "major" if rng.random() < 0.6 else "minor")


def random_progression(rng: np.random.Generator, key: Key, n_chords: int) -> list[Chord]:
    """``n_chords`` chords: a stock progression, looped, sevenths added at random."""
    table = PROGRESSIONS[key.mode]
    pattern = table[int(rng.integers(len(table)))]
    sevenths = rng.random() < 0.3
    chords = []
    for i in range(n_chords):
        degree, quality = pattern[i % len(pattern)]
        chords.append(key.chord(degree, quality, seventh=sevenths and rng.random() < 0.5))
    return chords


def pitches_in_range(pitch_classes: tuple[int, ...] | list[int], low: int, high: int) -> list[int]:
    """Every MIDI pitch in [low, high] whose pitch class is listed, ascending."""
    wanted = {pc % 12 for pc in pitch_classes}
    return [p for p in range(low, high + 1) if p % 12 in wanted]


def voicing(chord: Chord, n_voices: int, low: int, high: int, previous: list[int] | None = None) -> list[int]:
    """A close-position voicing of ``n_voices`` notes in [low, high].

    With ``previous`` the voicing whose mean pitch is nearest the previous one
    is taken, which gives the smooth voice leading players use.
    """
    candidates = pitches_in_range(chord.tones, low, high)
    if len(candidates) < n_voices:
        return candidates
    options = [candidates[i : i + n_voices] for i in range(len(candidates) - n_voices + 1)]
    # a voicing must contain the root and the third to name the chord
    options = [o for o in options if {chord.root, chord.tones[1]} <= {p % 12 for p in o}] or options
    centre = sum(previous) / len(previous) if previous else (low + high) / 2
    return min(options, key=lambda o: abs(sum(o) / len(o) - centre))


def guitar_voicing(chord: Chord, low: int = 40, high: int = 71) -> list[int]:
    """An open-position-like guitar shape: root in the bass, five more strings."""
    root = next(p for p in range(low, low + 12) if p % 12 == chord.root)
    notes = [root]
    for p in pitches_in_range(chord.tones, root + 5, high):
        if p - notes[-1] >= 3:
            notes.append(p)
        if len(notes) == 6:
            break
    return notes
