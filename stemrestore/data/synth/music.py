"""The song plan: tempo, key, chords, arrangement and every stem's notes.

A plan is pure data, fixed by one integer seed and the song length; rendering it
(:mod:`stemrestore.data.synth.render`) turns it into audio. All parts of a song
share the tempo, key and chord progression; each part enters and stops on bar
lines according to its arrangement, and every take is humanised (timing and
velocity) on its own, so a double-tracked guitar is a second performance rather
than a copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from stemrestore.data.synth import grooves
from stemrestore.data.synth.catalog import CLASS_IDS, Variant, class_spec
from stemrestore.data.synth.harmony import Key, random_key, random_progression
from stemrestore.data.synth.patterns import STYLES, Grid, Note, harmonise, lead, pad

MIN_CLASSES, MAX_CLASSES = 4, 9
#: Peak level of a stem file in dBFS: tracked with headroom, never normalised to 0 dB.
PEAK_DB_RANGE = (-12.0, -3.0)
#: Timing spread (seconds, one standard deviation) of a player's notes, by class group.
_TIMING = {"Rhy": 0.004, "Bass": 0.008, "Kbs": 0.008, "Gtr": 0.010, "Voc": 0.015, "Orch": 0.012, "Synth": 0.003}
#: Probability that a part plays the whole song instead of entering late/stopping early.
_FULL = {"Rhy_DK": 0.55, "Bass": 0.5}
#: Backing-vocal lines: scale steps from the melody (third above, fifth above, fourth below).
_HARMONY_STEPS = (2, 4, -3)


@dataclass
class StemPlan:
    """One file of a part: its name, channels, how it relates to the performance, level, seed."""

    name: str
    channels: int
    take: str
    performance: int
    peak_db: float
    seed: int


@dataclass
class PartPlan:
    """One stem class in a song: instrument, style, when it plays, its takes and files."""

    class_id: str
    folder: str
    style: str
    program: int | None
    patch: str
    width: float
    active: list[tuple[float, float]]
    performances: list[list[Note]]
    stems: list[StemPlan] = field(default_factory=list)


@dataclass
class SongPlan:
    """Everything needed to render one song."""

    seed: int
    seconds: float
    tempo: float
    key: Key
    chords: list[tuple[float, str]]
    parts: list[PartPlan]

    def summary(self) -> dict:
        """A JSON-ready description (the ``song.json`` written beside the stems)."""
        return {
            "seed": self.seed,
            "seconds": self.seconds,
            "tempo": self.tempo,
            "key": self.key.name,
            "chords": [{"time": round(t, 4), "chord": c} for t, c in self.chords],
            "classes": [p.class_id for p in self.parts],
            "parts": [{
                "class": p.class_id, "folder": p.folder, "style": p.style, "program": p.program,
                "patch": p.patch, "active": [[round(a, 4), round(b, 4)] for a, b in p.active],
                "stems": [{"file": s.name + ".wav", "channels": s.channels, "take": s.take,
                           "peak_db": round(s.peak_db, 2)} for s in p.stems],
            } for p in self.parts],
        }


def song_seed(seed: int, index: int) -> int:
    """Seed of song ``index`` of a corpus made with ``seed`` (a hash: corpora never overlap)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def choose_classes(rng: np.random.Generator, pool: tuple[str, ...]) -> list[str]:
    """4-9 classes (fewer if the pool is smaller), the common ones (drums, bass) more often."""
    n = int(rng.integers(min(MIN_CLASSES, len(pool)), min(MAX_CLASSES, len(pool)) + 1))
    weights = np.array([class_spec(c).weight for c in pool], dtype=float)
    picked = rng.choice(len(pool), size=n, replace=False, p=weights / weights.sum())
    chosen = {pool[i] for i in picked}
    return [c for c in CLASS_IDS if c in chosen]


def plan_song(seed: int, seconds: float, classes: tuple[str, ...] | list[str] | None = None) -> SongPlan:
    """Plan song ``seed`` of ``seconds`` seconds using a subset of ``classes`` (default: all)."""
    rng = np.random.default_rng(seed)
    tempo = float(rng.integers(70, 151))
    key = random_key(rng)
    beat = 60.0 / tempo
    bars = max(1, math.ceil(seconds / (4 * beat)))
    beats_per_chord = 4 if rng.random() < 0.7 else 2
    chords = random_progression(rng, key, bars * 4 // beats_per_chord)
    section_level = rng.uniform(0.75, 1.0, size=(bars + 3) // 4)
    intensity = tuple(float(section_level[b // 4] * (0.97 + 0.03 * (b % 4))) for b in range(bars))
    grid = Grid(beat, bars, tuple(chords), beats_per_chord, key, intensity)

    raw: dict[str, list[Note]] = {}
    parts = [_plan_part(c, grid, seconds, rng, raw) for c in choose_classes(rng, tuple(classes or CLASS_IDS))]
    chord_times = [(i * beats_per_chord * beat, c.label) for i, c in enumerate(chords)
                   if i * beats_per_chord * beat < seconds]
    return SongPlan(int(seed), float(seconds), tempo, key, chord_times, parts)


def _pick_variant(rng: np.random.Generator, variants: tuple[Variant, ...]) -> Variant:
    weights = np.array([v.weight for v in variants], dtype=float)
    return variants[int(rng.choice(len(variants), p=weights / weights.sum()))]


def _plan_part(class_id: str, grid: Grid, seconds: float, rng: np.random.Generator,
               raw: dict[str, list[Note]]) -> PartPlan:
    spec = class_spec(class_id)
    variant = _pick_variant(rng, spec.variants)
    style = variant.styles[int(rng.integers(len(variant.styles)))]
    program = int(rng.choice(variant.programs)) if variant.programs else None
    layout = variant.layouts[int(rng.integers(len(variant.layouts)))]
    velocity = rng.uniform(70, 110)
    active = _activity(rng, grid, seconds, _FULL.get(class_id, 0.3))
    timing = _TIMING[spec.folder.split("/")[0]]

    n_harm = sum(take.startswith("harm") for _, _, take in layout)
    if style == "drums":
        main = grooves.drums(grid, rng, velocity)
    elif style == "perc":
        main = []
    elif style == "harmony":
        main = raw.get("Voc_LV") or lead(grid, rng, variant.register, velocity)
    elif style == "pad" and n_harm:
        main = pad(grid, rng, variant.register, velocity, n_voices=max(n_harm, 2))
    else:
        main = STYLES[style](grid, rng, variant.register, velocity)
    raw[class_id] = main

    sources: list[list[Note] | None] = []  # per stem; None: shares the first performance
    for _, _, take in layout:
        if take.startswith("perc:"):
            sources.append(grooves.percussion(grid, rng, velocity, take[5:]))
        elif take.startswith("harm"):
            k = int(take[4:])
            sources.append(harmonise(main, grid.key, _HARMONY_STEPS[k], variant.register) if style == "harmony"
                           else _split_voices(main)[k])
        else:
            sources.append(main if take == "double" or not sources else None)
    if any(not _arrange(notes, active) for notes in sources if notes is not None):
        active = [(0.0, seconds)]  # too short a region to hold a note: let the part play throughout
    performances = [_humanise(_arrange(notes, active), rng, timing) for notes in sources if notes is not None]

    stems, index = [], -1
    pair_peak = rng.uniform(*PEAK_DB_RANGE)
    for (name, channels, take), notes in zip(layout, sources):
        index += notes is not None
        peak = pair_peak if take in ("left", "right") else rng.uniform(*PEAK_DB_RANGE)
        stems.append(StemPlan(name, channels, take, index if notes is not None else 0, float(peak),
                              int(rng.integers(2**63))))
    return PartPlan(class_id, spec.folder, style, program, variant.patch, float(rng.uniform(0.3, 0.9)),
                    active, performances, stems)


def _split_voices(notes: list[Note]) -> list[list[Note]]:
    """Chord notes -> one line per voice, top voice first (for sung "ooh" pads)."""
    by_onset: dict[float, list[Note]] = {}
    for n in notes:
        by_onset.setdefault(n.start, []).append(n)
    voices: list[list[Note]] = [[] for _ in range(len(_HARMONY_STEPS))]
    for chord in by_onset.values():
        chord.sort(key=lambda n: -n.pitch)
        for k in range(len(voices)):
            voices[k].append(chord[min(k, len(chord) - 1)])
    return voices


def _activity(rng: np.random.Generator, grid: Grid, seconds: float, full: float) -> list[tuple[float, float]]:
    """Bars where a part plays, in seconds: all, a late entry, an early stop, or a gap."""
    bars, bar_s = grid.bars, 4 * grid.beat
    r = rng.random()
    if bars < 2 or r < full:
        spans = [(0, bars)]
    elif r < full + (1 - full) * 0.35:
        spans = [(int(rng.integers(1, bars // 2 + 1)), bars)]
    elif r < full + (1 - full) * 0.65 or bars < 3:
        spans = [(0, int(rng.integers((bars + 1) // 2, bars)))]
    else:
        start = int(rng.integers(1, bars - 1))
        spans = [(0, start), (start + 1, bars)]
    return [(a * bar_s, min(b * bar_s, seconds)) for a, b in spans]


def _arrange(notes: list[Note], active: list[tuple[float, float]]) -> list[Note]:
    """Keep the notes that start while the part plays, cut at the end of its span."""
    kept = []
    for n in notes:
        for a, b in active:
            if a <= n.start < b:
                kept.append(Note(n.start, min(n.dur, b - n.start), n.pitch, n.velocity))
                break
    return kept


def _humanise(notes: list[Note], rng: np.random.Generator, timing: float) -> list[Note]:
    """One player's take: a feel offset for the take, per-note timing, velocity and length spread."""
    if not notes:
        return []
    feel = rng.normal(0.0, timing)
    jitter = rng.normal(0.0, timing, len(notes))
    vel = rng.normal(0.0, 6.0, len(notes))
    stretch = rng.uniform(0.92, 1.05, len(notes))
    return [Note(max(0.0, n.start + feel + j), n.dur * s, n.pitch, int(np.clip(round(n.velocity + v), 1, 127)))
            for n, j, v, s in zip(notes, jitter, vel, stretch)]
