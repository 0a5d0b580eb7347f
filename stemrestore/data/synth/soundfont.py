"""The sample-based renderer: General-MIDI SoundFont playback with TinySoundFont.

TinySoundFont plays the recorded instrument samples of a ``.sf2`` file. It is
driven offline here: note events are applied between calls that render
exactly the samples up to the next event, so timing is sample-accurate and no
audio device is involved. TinySoundFont has no effects unit (no reverb, no
chorus), so its output is dry by construction; the GM effect sends are zeroed
all the same so that a future version with effects stays dry.

The default SoundFont is ``TimGM6mb.sf2``, shipped inside the ``pretty_midi``
wheel (found through the package at run time).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stemrestore.data.synth.grooves import KIT_PIECES, PIECE_OF_KEY
from stemrestore.data.synth.patterns import Note
from stemrestore.errors import ConfigError

_REVERB_SEND, _CHORUS_SEND, _PAN = 91, 93, 10
#: Stereo stems spread notes over these MIDI channels, panned by pitch band.
_STEREO_CHANNELS = (0, 1, 2, 3)
_FLUSH = 8192  # samples rendered after a reset so that released voices are fully gone


def default_soundfont() -> Path:
    """Path of the GM SoundFont that ships with ``pretty_midi``."""
    import pretty_midi

    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise ConfigError(f"{path}: pretty_midi's GM soundfont is missing; pass --soundfont FILE.sf2")
    return path


class SoundFontRenderer:
    """Render note lists with one SoundFont at one sample rate (load once, render many)."""

    def __init__(self, sr: int, path: str | Path | None = None) -> None:
        import tinysoundfont

        self.path = Path(path) if path is not None else default_soundfont()
        if not self.path.is_file():
            raise ConfigError(f"{self.path}: no such soundfont file")
        self.sr = sr
        self._synth = tinysoundfont.Synth(samplerate=sr)
        try:
            self._sfid = self._synth.sfload(self.path.read_bytes())
        except (OSError, RuntimeError) as exc:
            raise ConfigError(f"{self.path}: not a readable SoundFont ({exc})") from None
        self._font = self._synth.soundfonts[self._sfid]

    def render(self, notes: list[Note], program: int, n: int, channels: int = 1, width: float = 0.0,
               drums: bool = False) -> np.ndarray:
        """``notes`` played on GM ``program`` (a kit number when ``drums``) as ``(channels, n)`` float32.

        Drum notes are one-shots (GM drum channels ignore note-off). A stereo
        render spreads pitch bands over differently panned MIDI channels.
        """
        self._reset()
        used = _STEREO_CHANNELS if channels == 2 and not drums else (0,)
        pans = np.linspace(-width, width, len(used)) if len(used) > 1 else np.zeros(1)
        for chan, pan in zip(used, pans):
            self._select(chan, program, drums)
            for controller, value in ((_REVERB_SEND, 0), (_CHORUS_SEND, 0), (_PAN, int(round(64 + 63 * pan)))):
                self._synth.control_change(chan, controller, value)
        events = []
        for x in notes:
            start = int(round(x.start * self.sr))
            if start >= n:
                continue
            pan = width * float(np.clip((x.pitch - 60) / 24.0, -1.0, 1.0))
            chan = used[int(np.argmin(np.abs(pans - pan)))]
            events.append((start, 1, chan, x.pitch, x.velocity))
            if not drums:
                events.append((start + max(1, int(round(x.dur * self.sr))), 0, chan, x.pitch, 0))
        events.sort()  # at equal times note-offs (0) come before note-ons (1)
        buffer = np.zeros((n, 2), dtype=np.float32)
        view = memoryview(buffer).cast("B")
        pos = 0
        for time, on, chan, key, velocity in events:
            time = min(time, n)
            if time > pos:
                self._synth.generate_simple(time - pos, buffer=view[pos * 8: time * 8])
                pos = time
            if on:
                self._synth.noteon(chan, key, velocity)
            else:
                self._synth.noteoff(chan, key)
        if pos < n:
            self._synth.generate_simple(n - pos, buffer=view[pos * 8:])
        out = buffer.T
        return np.ascontiguousarray(out if channels == 2 else out.mean(axis=0, keepdims=True))

    def render_drum_pieces(self, notes: list[Note], kit: int, n: int) -> dict[str, np.ndarray]:
        """One dry mono signal ``(1, n)`` per kit piece, each rendered on its own."""
        return {piece: self.render([x for x in notes if PIECE_OF_KEY.get(x.pitch, "cymbals") == piece], kit, n,
                                   drums=True) for piece in KIT_PIECES}

    def _select(self, chan: int, program: int, drums: bool) -> None:
        # TinySoundFont itself falls back to the Standard kit when a drum kit is missing
        try:
            self._synth.program_select(chan, self._sfid, 128 if drums else 0, program, is_drums=drums)
        except RuntimeError:
            kind = "drum kit" if drums else "GM program"
            raise ConfigError(f"{self.path}: has no {kind} {program}") from None

    def _reset(self) -> None:
        self._font.reset()
        self._synth.generate_simple(_FLUSH)
