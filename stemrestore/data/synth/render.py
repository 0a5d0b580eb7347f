"""Turn a song plan into stem audio with either renderer.

Both renderers sit behind one function: ``soundfont`` plays parts that have a
GM program with the SoundFont's recorded samples (parts without one, such as a
lead vocal, fall back to the procedural voice); ``procedural`` synthesises
everything. After rendering, each stem is edited the way an engineer trims a
multitrack (silence outside the part's regions, short fades at the edges) and
set to its planned peak level, well below full scale. Nothing else is done:
no EQ, compression, reverb or mastering.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from stemrestore.data.synth import procedural
from stemrestore.data.synth.mics import mic_signal
from stemrestore.data.synth.music import PartPlan, SongPlan, plan_song
from stemrestore.data.synth.soundfont import SoundFontRenderer
from stemrestore.data.synth.strings import amplifier
from stemrestore.errors import ConfigError

RENDERERS = ("soundfont", "procedural")
#: Seconds a part may ring on after its last bar (cymbal wash, piano sustain) before its region ends.
REGION_TAIL = 1.0
#: Seconds a region opens before the part's first bar (pickups, early notes of a loose take).
REGION_LEAD = 0.1
_EDGE_FADE = 0.02

Stems = dict[str, list[tuple[str, np.ndarray]]]


@lru_cache(maxsize=4)
def _soundfont(sr: int, path: str | None) -> SoundFontRenderer:
    return SoundFontRenderer(sr, path)


def render_song(seed: int, seconds: float, sr: int = 44100, renderer: str = "soundfont",
                soundfont: str | Path | None = None, classes: tuple[str, ...] | list[str] | None = None) -> Stems:
    """Render song ``seed``: class id -> [(file name, float32 (channels, samples))].

    ``classes`` restricts the pool the song's 4-9 classes are drawn from.
    """
    return render_plan(plan_song(seed, seconds, classes), sr, renderer, soundfont)


def render_plan(plan: SongPlan, sr: int = 44100, renderer: str = "soundfont",
                soundfont: str | Path | None = None) -> Stems:
    """Render every stem of ``plan`` (see :func:`render_song`)."""
    if renderer not in RENDERERS:
        raise ConfigError(f"renderer: expected one of {', '.join(RENDERERS)}, got {renderer!r}")
    font = _soundfont(sr, str(soundfont) if soundfont is not None else None) if renderer == "soundfont" else None
    n = int(round(plan.seconds * sr))
    return {part.class_id: _render_part(part, n, sr, font) for part in plan.parts}


def _render_part(part: PartPlan, n: int, sr: int, font: SoundFontRenderer | None) -> list[tuple[str, np.ndarray]]:
    sampled = font is not None and part.program is not None
    renders: dict[int, np.ndarray] = {}  # performance -> its render, for the tonal parts
    if part.style == "drums":
        notes = part.performances[0]
        pieces = font.render_drum_pieces(notes, part.program, n) if sampled else \
            procedural.render_drum_pieces(notes, n, sr, part.stems[0].seed)
        mono = {piece: audio[0] for piece, audio in pieces.items()}
        raw = [mic_signal(mono, s.take[4:], s.channels, sr, np.random.default_rng(s.seed)) for s in part.stems]
    elif part.style == "perc":
        raw = [font.render(part.performances[s.performance], part.program, n, drums=True) if sampled else
               procedural.render_hits(part.performances[s.performance], n, sr, s.seed) for s in part.stems]
    else:
        for s in part.stems:
            if s.performance not in renders:
                users = [t for t in part.stems if t.performance == s.performance]
                channels = 2 if any(t.channels == 2 or t.take in ("left", "right") for t in users) else 1
                notes = part.performances[s.performance]
                renders[s.performance] = font.render(notes, part.program, n, channels, part.width) if sampled else \
                    procedural.render_notes(part.patch, notes, n, sr, s.seed, channels, part.width)
        raw = [_take(renders[s.performance], s.take, s.channels, sr, np.random.default_rng(s.seed))
               for s in part.stems]
    gate = region_mask(part.active, n, sr)
    out = []
    for s, audio in zip(part.stems, raw):
        audio = audio * gate
        # the two files of a stereo pair share one gain, set on the pair's louder side
        reference = renders[s.performance] * gate if s.take in ("left", "right") else audio
        peak = float(np.max(np.abs(reference)))
        gain = 10.0 ** (s.peak_db / 20.0) / peak if peak > 0 else 0.0
        out.append((s.name + ".wav", (audio * gain).astype(np.float32)))
    return out


def _take(render: np.ndarray, take: str, channels: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One file's signal from its performance's render."""
    if take == "left":
        return render[:1]
    if take == "right":
        return render[1:2]
    mono = render if render.shape[0] == channels else render.mean(axis=0, keepdims=True)
    if take == "amp":
        return amplifier(mono, sr, rng.uniform(1.5, 4.0), rng.uniform(2500.0, 4500.0))
    return mono if channels == mono.shape[0] else np.repeat(mono, channels, axis=0)


def region_mask(active: list[tuple[float, float]], n: int, sr: int) -> np.ndarray:
    """1 inside the part's regions (opened a little early, closed after the tail), 0 outside, short fades."""
    mask = np.zeros(n, dtype=np.float32)
    fade = max(int(_EDGE_FADE * sr), 1)
    ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)).astype(np.float32)
    for start_s, end_s in active:
        a = max(0, int(round((start_s - REGION_LEAD) * sr)))
        b = min(n, int(round((end_s + REGION_TAIL) * sr)))
        if b <= a:
            continue
        region = np.ones(b - a, dtype=np.float32)
        k = min(fade, b - a)
        if a > 0:
            region[:k] = np.minimum(region[:k], ramp[:k])
        if b < n:
            region[-k:] = np.minimum(region[-k:], ramp[:k][::-1])
        mask[a:b] = np.maximum(mask[a:b], region)
    return mask
