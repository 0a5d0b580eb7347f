"""A singing voice by source-filter synthesis: glottal buzz through vowel formants.

The source is a band-limited sawtooth, low-passed for the glottal spectral
tilt, plus breath noise; the vocal tract is a cascade of four two-pole
resonators (Klatt's cascade synthesiser) at the formant frequencies of the
sung vowel, each normalised to unit gain at 0 Hz so that the cascade gives the
natural relative formant levels by itself. Vibrato fades in after the onset
and every note starts with a small upward scoop, as singers do.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from stemrestore.data.synth.oscillators import Patch, attack_decay, phase, saw, vibrato

#: Formant frequencies and bandwidths (Hz) of five vowels for an adult male voice
#: (after Peterson & Barney 1952); other voices scale the frequencies.
VOWELS = {
    "a": ((730, 1090, 2440, 3400), (90, 110, 160, 250)),
    "e": ((530, 1840, 2480, 3400), (70, 120, 160, 250)),
    "i": ((270, 2290, 3010, 3400), (60, 120, 180, 250)),
    "o": ((570, 840, 2410, 3400), (80, 100, 160, 250)),
    "u": ((300, 870, 2240, 3400), (60, 100, 160, 250)),
}
VOWEL_ORDER = tuple(VOWELS)


def formant_sos(freqs, bandwidths, sr: int, scale: float = 1.0) -> np.ndarray:
    """Second-order sections of a cascade of unit-DC-gain formant resonators."""
    sections = []
    for f, bw in zip(freqs, bandwidths):
        f = min(f * scale, 0.45 * sr)
        r = np.exp(-np.pi * bw * scale / sr)
        a = [1.0, -2.0 * r * np.cos(2.0 * np.pi * f / sr), r * r]
        sections.append([sum(a), 0.0, 0.0, *a])
    return np.array(sections)


class Voice(Patch):
    """One singer: voice type, vibrato, breathiness drawn once; the vowel changes per note."""

    release = 0.12
    variants = len(VOWEL_ORDER)
    soft_cutoff = 2000.0
    dynamics = 1.2

    def __init__(self, rng: np.random.Generator) -> None:
        self.scale = float(rng.choice((1.0, 1.1, 1.17)))  # male, tenor-ish, female formants
        self.rate = rng.uniform(4.8, 6.5)
        self.depth = rng.uniform(20.0, 60.0)
        self.delay = rng.uniform(0.12, 0.35)
        self.scoop = rng.uniform(15.0, 60.0)
        self.breath = rng.uniform(0.02, 0.08)
        self.tilt = rng.uniform(0.6, 0.85)  # pole of the glottal low-pass

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        freq = vibrato(f0, n, sr, rng, self.rate, self.depth, delay=self.delay, scoop=self.scoop)
        buzz = scipy.signal.lfilter([1.0 - self.tilt], [1.0, -self.tilt], saw(phase(freq, n, sr), freq, sr))
        env = attack_decay(n, sr, rng.uniform(0.03, 0.08), 1.0, 0.85)
        source = (buzz.astype(np.float32) + np.float32(self.breath) * rng.standard_normal(n, dtype=np.float32)) * env
        freqs, bandwidths = VOWELS[VOWEL_ORDER[variant]]
        return scipy.signal.sosfilt(formant_sos(freqs, bandwidths, sr, self.scale), source).astype(np.float32)
