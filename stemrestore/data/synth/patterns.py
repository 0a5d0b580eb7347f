"""Note generators: one function per playing style.

Every generator reads the song's :class:`Grid` (tempo, bars, chords, dynamics)
and returns the notes of one performance over the whole song; which bars a part
actually plays is decided later by the arrangement. Rhythms are written in
beats (4/4 time); all random choices come from the ``rng`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stemrestore.data.synth.harmony import Chord, Key, guitar_voicing, pitches_in_range, voicing


@dataclass(frozen=True)
class Note:
    """One note: onset and duration in seconds, MIDI pitch (GM key on drums), velocity 1..127."""

    start: float
    dur: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Grid:
    """The song's time grid: tempo, length, chords and per-bar dynamics."""

    beat: float
    bars: int
    chords: tuple[Chord, ...]
    beats_per_chord: int
    key: Key
    intensity: tuple[float, ...]

    def chord_at(self, beat: float) -> Chord:
        return self.chords[min(int(beat // self.beats_per_chord), len(self.chords) - 1)]

    def note(self, beat: float, dur: float, pitch: int, velocity: float, offset: float = 0.0) -> Note:
        """A note at ``beat`` lasting ``dur`` beats, velocity scaled by the bar's intensity."""
        bar = min(int(beat // 4), self.bars - 1)
        vel = int(np.clip(round(velocity * self.intensity[bar]), 1, 127))
        return Note(beat * self.beat + offset, max(dur * self.beat - offset, 0.02), int(pitch), vel)


def _root_above(pitch_class: int, low: int) -> int:
    return low + (pitch_class - low) % 12


def _pick(rng: np.random.Generator, options: tuple):
    return options[int(rng.integers(len(options)))]


# (onset beat, duration beats, chord member: 0 root, 1 fifth, 2 octave)
_BASS_BARS = (
    ((0, 1, 0), (1, 1, 0), (2, 1, 0), (3, 1, 0)),
    tuple((i / 2, 0.5, 0) for i in range(8)),
    ((0, 1.5, 0), (1.5, 0.5, 0), (2, 1, 1), (3, 1, 2)),
    ((0, 0.75, 0), (0.75, 0.75, 0), (1.5, 0.5, 0), (2, 1, 0), (3, 0.5, 1), (3.5, 0.5, 2)),
    ((0, 2, 0), (2, 2, 0)),
    ((0, 3, 0), (3, 0.5, 1), (3.5, 0.5, 2)),
)


def bass(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """Bass lines on chord roots, fifths and octaves."""
    pattern = _pick(rng, _BASS_BARS)
    legato = rng.uniform(0.6, 0.95)
    notes = []
    for bar in range(grid.bars):
        for onset, dur, member in pattern:
            beat = bar * 4 + onset
            chord = grid.chord_at(beat)
            root = _root_above(chord.root, register[0])
            pitch = root + (0, (chord.tones[2] - chord.root) % 12, 12)[member]
            if pitch > register[1]:
                pitch -= 12
            accent = 1.0 if onset % 1 == 0 else 0.85
            notes.append(grid.note(beat, dur * legato, pitch, velocity * accent))
    return notes


_STRUMS = ("D.D.D.D.", "D.DU.UDU", "D..UD.DU", "D.......", "D...D...", "D.DUD.DU", "DUDUDUDU")


def strum(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """Strummed guitar chords; strings sound one after another, up-strums hit the top strings."""
    pattern = _pick(rng, _STRUMS)
    onsets = [i for i, c in enumerate(pattern) if c != "."]
    stagger = rng.uniform(0.006, 0.018)
    notes = []
    for bar in range(grid.bars):
        for j, i in enumerate(onsets):
            beat = bar * 4 + i / 2
            length = ((onsets[j + 1] if j + 1 < len(onsets) else 8 + onsets[0]) - i) / 2
            shape = guitar_voicing(grid.chord_at(beat), register[0], min(register[1], register[0] + 31))
            down = pattern[i] == "D"
            strings = shape if down else shape[::-1][:4]
            vel = velocity * (1.0 if down else 0.75) * (1.1 if i == 0 else 1.0)
            for k, pitch in enumerate(strings):
                notes.append(grid.note(beat, length, pitch, vel * (1 - 0.03 * k), offset=k * stagger))
    return notes


def power(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """Power chords (root, fifth, octave): palm-muted eighths or ringing whole notes."""
    eighths = rng.random() < 0.6
    notes = []
    for bar in range(grid.bars):
        steps = range(8) if eighths else (0,)
        for s in steps:
            beat = bar * 4 + s / 2
            root = _root_above(grid.chord_at(beat).root, register[0])
            dur = 0.4 if eighths else 3.9
            for k, pitch in enumerate((root, root + 7, root + 12)):
                notes.append(grid.note(beat, dur, pitch, velocity * (1.0 if s % 2 == 0 else 0.85), offset=k * 0.004))
    return notes


def muted8(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """Muted single-note sixteenth/eighth figures on chord tones (funk rhythm guitar)."""
    step = 0.25 if rng.random() < 0.5 else 0.5
    accents = rng.random(int(4 / step)) < 0.6
    notes = []
    for bar in range(grid.bars):
        for s, hit in enumerate(accents):
            if not hit:
                continue
            beat = bar * 4 + s * step
            tones = pitches_in_range(grid.chord_at(beat).tones, register[0] + 12, register[0] + 24)
            notes.append(grid.note(beat, step * 0.5, tones[s % len(tones)], velocity * (1.0 if s % 2 == 0 else 0.8)))
    return notes


def arp(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """Broken chords: the voicing played up, up-down or in a fixed shuffled order."""
    step = 0.5 if rng.random() < 0.6 else 0.25
    order = _pick(rng, ("up", "updown", "shuffled"))
    ring = step * rng.uniform(1.0, 3.0)
    perm = rng.permutation(4)
    low, high = register[0] + 7, min(register[1], register[0] + 31)
    notes, prev = [], None
    for bar in range(grid.bars):
        for s in range(int(4 / step)):
            beat = bar * 4 + s * step
            prev = voicing(grid.chord_at(beat), 4, low, high, prev)
            seq = {"up": prev, "updown": prev + prev[-2:0:-1], "shuffled": [prev[i % len(prev)] for i in perm]}[order]
            notes.append(grid.note(beat, ring, seq[s % len(seq)], velocity * (1.0 if s % 2 == 0 else 0.85)))
    return notes


_BLOCKS = (
    ((0, 1), (1, 1), (2, 1), (3, 1)),
    ((0, 1.5), (1.5, 1), (2.5, 1.5)),
    ((0, 2), (2, 2)),
    ((0, 0.5), (1, 0.5), (1.5, 0.5), (2.5, 0.5), (3, 0.5)),
    ((0, 4),),
)


def block(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """Keyboard comping: left-hand root held per chord, right-hand chords on a rhythm."""
    pattern = _pick(rng, _BLOCKS)
    n_voices = int(rng.integers(3, 5))
    mid = register[0] + 15
    notes, prev = [], None
    for bar in range(grid.bars):
        for onset, dur in pattern:
            beat = bar * 4 + onset
            prev = voicing(grid.chord_at(beat), n_voices, mid, min(register[1], mid + 20), prev)
            notes += [grid.note(beat, dur * 0.9, p, velocity * (1.0 if onset % 1 == 0 else 0.85)) for p in prev]
        for half in range(0, 4, grid.beats_per_chord):
            beat = bar * 4 + half
            notes.append(grid.note(beat, grid.beats_per_chord * 0.95, _root_above(grid.chord_at(beat).root,
                                                                                register[0]), velocity * 0.9))
    return notes


def ballad(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """Piano ballad: left-hand root and fifth, right hand broken chords in eighths."""
    notes = arp(grid, rng, (register[0] + 12, register[1]), velocity * 0.85)
    for bar in range(grid.bars):
        for onset in (0, 2):
            chord = grid.chord_at(bar * 4 + onset)
            root = _root_above(chord.root, register[0])
            pitch = root if onset == 0 else root + (chord.tones[2] - chord.root) % 12
            notes.append(grid.note(bar * 4 + onset, 1.9, pitch, velocity))
    return notes


def pad(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float,
        n_voices: int | None = None) -> list[Note]:
    """Sustained chords, voice-led, one per chord change (strings, organ, pads, oohs)."""
    n_voices = n_voices or int(rng.integers(3, 5))
    notes, prev = [], None
    for slot, chord in enumerate(grid.chords):
        beat = slot * grid.beats_per_chord
        prev = voicing(chord, n_voices, register[0], register[1], prev)
        notes += [grid.note(beat, grid.beats_per_chord * 1.02, p, velocity) for p in prev]
    return notes


_PHRASE_BARS = (
    ((0, 1), (1, 0.5), (1.5, 0.5), (2, 1), (3, 1)),
    ((0.5, 0.5), (1, 0.5), (1.5, 1), (2.5, 0.5), (3, 1)),
    ((0, 0.5), (0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 2)),
    ((0, 1.5), (1.5, 0.5), (2, 0.5), (2.5, 1.5)),
    ((1, 0.5), (1.5, 0.5), (2, 0.5), (2.5, 0.5), (3, 0.5), (3.5, 0.5)),
)
_PHRASE_ENDS = (((0, 3),), ((0, 1), (1, 2.5)), ((0, 0.5), (0.5, 0.5), (1, 2)))


def lead(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """A melody in two-bar phrases: a scale walk that lands on chord tones on the beat."""
    scale = pitches_in_range(grid.key.scale, register[0], register[1])
    index = len(scale) // 2
    steps, weights = (-3, -2, -1, 0, 1, 2, 3), (0.05, 0.15, 0.3, 0.1, 0.25, 0.1, 0.05)
    notes = []
    for bar in range(grid.bars):
        rhythm = _pick(rng, _PHRASE_ENDS if bar % 2 else _PHRASE_BARS)
        for onset, dur in rhythm:
            beat = bar * 4 + onset
            index = int(np.clip(index + rng.choice(steps, p=weights), 0, len(scale) - 1))
            if onset % 1 == 0:
                tones = {t % 12 for t in grid.chord_at(beat).tones}
                near = [i for i in range(len(scale)) if scale[i] % 12 in tones]
                index = min(near, key=lambda i: abs(i - index))
            notes.append(grid.note(beat, dur * 0.95, scale[index], velocity * (1.0 if onset % 1 == 0 else 0.88)))
    return notes


def harmonise(notes: list[Note], key: Key, steps: int, register: tuple[int, int]) -> list[Note]:
    """Shift a melody by ``steps`` scale degrees (a diatonic third is 2), folded into range."""
    scale = pitches_in_range(key.scale, 0, 127)
    out = []
    for n in notes:
        i = min(range(len(scale)), key=lambda k: abs(scale[k] - n.pitch))
        pitch = scale[int(np.clip(i + steps, 0, len(scale) - 1))]
        while pitch > register[1]:
            pitch -= 12
        while pitch < register[0]:
            pitch += 12
        out.append(Note(n.start, n.dur, pitch, max(1, int(n.velocity * 0.9))))
    return out


_STABS = (((1.5, 0.25), (3.5, 0.25)), ((0, 0.5), (0.5, 0.25), (2.5, 0.5)), ((0, 3.5),), ((0, 1), (2.5, 1.5)))


def stabs(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """Brass-section chords: short stabs on a rhythm, or long swells."""
    pattern = _pick(rng, _STABS)
    notes, prev = [], None
    for bar in range(grid.bars):
        for onset, dur in pattern:
            beat = bar * 4 + onset
            prev = voicing(grid.chord_at(beat), 3, register[0] + 5, register[1], prev)
            notes += [grid.note(beat, dur, p, velocity * (1.05 if dur < 1 else 0.9)) for p in prev]
    return notes


def line(grid: Grid, rng: np.random.Generator, register: tuple[int, int], velocity: float) -> list[Note]:
    """A sustained single line on chord tones (a solo string or horn holding the harmony)."""
    return pad(grid, rng, register, velocity, n_voices=1)


STYLES = {
    "bass": bass, "strum": strum, "power": power, "muted8": muted8, "arp": arp, "block": block,
    "ballad": ballad, "pad": pad, "line": line, "lead": lead, "stabs": stabs,
}
