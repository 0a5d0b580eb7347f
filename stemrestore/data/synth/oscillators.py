"""Oscillators, envelopes and the procedural-instrument interface.

Oscillators work on a phase in cycles (float64, so that long notes keep their
tuning) and produce float32 (whose SIMD sine is ~15x faster than float64's,
which is what keeps the procedural renderer well above real time).
"""

from __future__ import annotations

import numpy as np

TWO_PI = np.float32(2.0 * np.pi)


class Patch:
    """A procedural instrument: draws its character once, then synthesises held notes.

    ``note`` returns ``n`` samples of a note held for all of them (its natural
    decay included); the renderer cuts it at note-off and applies ``release``.
    """

    release: float = 0.1  #: seconds from note-off to -60 dB (damper, bow lift, breath)
    variants: int = 1  #: kinds of note drawn per note (vowels, round robins)
    soft_cutoff: float = 1500.0  #: Hz; the softest notes are low-passed here (darker timbre)
    dynamics: float = 1.5  #: amplitude = (velocity / 127) ** dynamics

    def __init__(self, rng: np.random.Generator) -> None:
        """Subclasses draw the instrument's character (tuning, brightness, ...) from ``rng``."""

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        """``n`` samples (float32) of a note at ``f0`` Hz held throughout, at full velocity."""
        raise NotImplementedError

    def finish(self, audio: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
        """Whole-performance stage (an amplifier); identity by default."""
        return audio


def phase(freq: float | np.ndarray, n: int, sr: int, start: float = 0.0) -> np.ndarray:
    """Phase in cycles (float64) of an oscillator of (possibly time-varying) frequency ``freq``."""
    if np.ndim(freq) == 0:
        return start + np.arange(n) * (float(freq) / sr)
    return start + np.cumsum(freq, dtype=np.float64) / sr


def sines(ph: np.ndarray, ratios, amps) -> np.ndarray:
    """Sum of sines at ``ratios`` times the phase ``ph`` (cycles), with amplitudes ``amps``."""
    out = np.zeros(len(ph), dtype=np.float32)
    for ratio, amp in zip(ratios, amps):
        if amp:
            cyc = ph * ratio
            out += np.float32(amp) * np.sin(TWO_PI * (cyc - np.floor(cyc)).astype(np.float32))
    return out


def saw(ph: np.ndarray, freq: float | np.ndarray, sr: int) -> np.ndarray:
    """Band-limited sawtooth (polyBLEP: the jump is smoothed over one sample each side)."""
    t = (ph - np.floor(ph)).astype(np.float32)
    dt = np.asarray(freq, dtype=np.float32) / np.float32(sr)
    y = np.float32(2.0) * t - np.float32(1.0)
    lo = t < dt
    x = t[lo] / (dt[lo] if dt.ndim else dt)
    y[lo] -= 2.0 * x - x * x - 1.0
    hi = t > 1.0 - dt
    x = (t[hi] - 1.0) / (dt[hi] if dt.ndim else dt)
    y[hi] -= x * x + 2.0 * x + 1.0
    return y


def square(ph: np.ndarray, freq: float | np.ndarray, sr: int, duty: float = 0.5) -> np.ndarray:
    """Band-limited pulse wave: the difference of two sawtooths."""
    return 0.5 * (saw(ph, freq, sr) - saw(ph + duty, freq, sr))


def vibrato(f0: float, n: int, sr: int, rng: np.random.Generator, rate: float, cents: float,
            delay: float = 0.0, scoop: float = 0.0) -> np.ndarray:
    """Instantaneous frequency (float32) of a played note: vibrato fading in after ``delay``
    seconds, a slow random drift, and an attack that starts ``scoop`` cents flat."""
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    depth = np.float32(cents) * np.clip((t - np.float32(delay)) / np.float32(0.3), 0.0, 1.0)
    wobble = depth * np.sin(np.float32(2.0 * np.pi * rate) * t + np.float32(rng.uniform(0, 2 * np.pi)))
    drift = np.float32(4.0) * np.sin(np.float32(2.0 * np.pi * rng.uniform(0.2, 0.6)) * t
                                     + np.float32(rng.uniform(0, 2 * np.pi)))
    bend = np.float32(-scoop) * np.exp(-t / np.float32(0.04))
    return np.float32(f0) * np.exp2((wobble + drift + bend) / np.float32(1200.0))


def attack_decay(n: int, sr: int, attack: float, decay: float = np.inf, sustain: float = 1.0) -> np.ndarray:
    """Envelope: raised-cosine attack, then exponential decay (time constant ``decay``) to ``sustain``."""
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    rise = np.where(t < attack, 0.5 - 0.5 * np.cos(np.pi * t / max(attack, 1e-6)), 1.0).astype(np.float32)
    if not np.isfinite(decay):
        return rise
    fall = sustain + (1.0 - sustain) * np.exp(-np.maximum(t - attack, 0) / np.float32(decay))
    return rise * fall.astype(np.float32)
