"""The procedural renderer: notes in, audio out, with nothing but numpy/scipy.

It works like a sampler whose samples are synthesised on demand: each distinct
(pitch, variant) of a performance is synthesised once, as long as its longest
note needs, then every note is a slice of it, cut at note-off with the
instrument's release, scaled and coloured by velocity (soft notes are a
cross-fade towards a low-passed copy: darker, as acoustic instruments are when
played softly) and panned by pitch on stereo stems.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.signal

from stemrestore.data.synth.drumkit import DrumKit
from stemrestore.data.synth.grooves import KIT_PIECES, PIECE_OF_KEY
from stemrestore.data.synth.keys import ElectricPiano, Organ, Piano
from stemrestore.data.synth.orchestra import BrassSection, Cello, StringSection, Trombone, Trumpet, Violin
from stemrestore.data.synth.oscillators import Patch
from stemrestore.data.synth.patterns import Note
from stemrestore.data.synth.strings import (
    CleanGuitar,
    DriveGuitar,
    ElectricBass,
    MutedGuitar,
    NylonGuitar,
    SteelGuitar,
    midi_to_hz,
)
from stemrestore.data.synth.synths import SynthBass, SynthLead, SynthPad, SynthPluck
from stemrestore.data.synth.voice import Voice

PATCHES: dict[str, type[Patch]] = {
    "steel_guitar": SteelGuitar, "nylon_guitar": NylonGuitar, "clean_guitar": CleanGuitar,
    "muted_guitar": MutedGuitar, "drive_guitar": DriveGuitar, "electric_bass": ElectricBass,
    "piano": Piano, "electric_piano": ElectricPiano, "organ": Organ,
    "synth_lead": SynthLead, "synth_pad": SynthPad, "synth_pluck": SynthPluck, "synth_bass": SynthBass,
    "strings": StringSection, "violin": Violin, "cello": Cello,
    "brass_section": BrassSection, "trumpet": Trumpet, "trombone": Trombone,
    "voice": Voice,
}

Tone = Callable[[int, int, int, np.random.Generator], np.ndarray]  # (pitch, variant, length, rng) -> mono


def render_notes(patch: str, notes: list[Note], n: int, sr: int, seed: int, channels: int = 1,
                 width: float = 0.0) -> np.ndarray:
    """Render ``notes`` with procedural instrument ``patch`` into ``(channels, n)`` float32.

    ``width`` (0..1) spreads a stereo render by pitch, low notes left, as a
    stereo pair in front of a piano hears it.
    """
    rng = np.random.default_rng(seed)
    instrument = PATCHES[patch](rng)

    def tone(pitch: int, variant: int, length: int, key_rng: np.random.Generator) -> np.ndarray:
        return instrument.note(midi_to_hz(pitch), length, sr, key_rng, variant)

    out = _place(notes, n, sr, seed, rng, tone, instrument.variants, instrument.release, instrument.soft_cutoff,
                 instrument.dynamics, channels, width)
    return np.asarray(instrument.finish(out, sr, rng), dtype=np.float32)


def render_hits(notes: list[Note], n: int, sr: int, seed: int) -> np.ndarray:
    """Render drum/percussion ``notes`` (GM drum keys) as one mono signal ``(1, n)``."""
    return render_drum_pieces(notes, n, sr, seed, split=False)["all"]


def render_drum_pieces(notes: list[Note], n: int, sr: int, seed: int, split: bool = True) -> dict[str, np.ndarray]:
    """One dry mono signal ``(1, n)`` per kit piece (see ``grooves.KIT_PIECES``), or ``{"all": ...}``."""
    rng = np.random.default_rng(seed)
    kit = DrumKit(rng)

    def tone(pitch: int, variant: int, length: int, key_rng: np.random.Generator) -> np.ndarray:
        return kit.hit(pitch, sr, key_rng)

    groups = {piece: [x for x in notes if PIECE_OF_KEY.get(x.pitch, "cymbals") == piece] for piece in KIT_PIECES} \
        if split else {"all": notes}
    return {piece: _place(group, n, sr, seed, rng, tone, kit.variants, None, kit.soft_cutoff, kit.dynamics, 1, 0.0)
            for piece, group in groups.items()}


def _place(notes: list[Note], n: int, sr: int, seed: int, rng: np.random.Generator, tone: Tone, variants: int,
           release: float | None, soft_cutoff: float, dynamics: float, channels: int, width: float) -> np.ndarray:
    """Mix the notes into ``(channels, n)``; ``release=None`` means one-shots that ignore note-off."""
    out = np.zeros((channels, n), dtype=np.float32)
    if not notes:
        return out
    chosen = rng.integers(variants, size=len(notes))
    starts = [int(round(x.start * sr)) for x in notes]
    holds = [max(1, int(round(x.dur * sr))) for x in notes]
    tail = int(release * sr) if release is not None else 0
    need: dict[tuple[int, int], int] = {}
    for x, v, start, hold in zip(notes, chosen, starts, holds):
        if start < n:
            key = (x.pitch, int(v))
            need[key] = max(need.get(key, 0), min(hold + tail, n - start))
    soft = scipy.signal.butter(2, min(soft_cutoff, 0.45 * sr), fs=sr, output="sos")
    cache = {}
    for (pitch, v), length in need.items():
        bright = np.asarray(tone(pitch, v, length, np.random.default_rng([seed, pitch, v])), dtype=np.float32)
        dark = scipy.signal.sosfilt(soft, bright).astype(np.float32) if dynamics else bright
        cache[(pitch, v)] = (bright, dark)
    fade = 10.0 ** (-3.0 * np.arange(tail, dtype=np.float32) / max(tail, 1))  # to -60 dB over the release
    for x, v, start, hold in zip(notes, chosen, starts, holds):
        if start >= n:
            continue
        bright, dark = cache[(x.pitch, int(v))]
        length = min(len(bright), n - start) if release is None else min(hold + tail, n - start)
        vel = x.velocity / 127.0
        seg = dark[:length] + np.float32(vel**0.7) * (bright[:length] - dark[:length])
        seg *= np.float32(vel**dynamics)
        if release is not None and hold < length:
            seg[hold:] *= fade[: length - hold]
        if channels == 1:
            out[0, start:start + length] += seg
        else:
            pan = width * float(np.clip((x.pitch - 60) / 24.0, -1.0, 1.0))
            angle = (pan + 1.0) * np.pi / 4.0
            out[0, start:start + length] += np.float32(np.sqrt(2) * np.cos(angle)) * seg
            out[1, start:start + length] += np.float32(np.sqrt(2) * np.sin(angle)) * seg
    return out
