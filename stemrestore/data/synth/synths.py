"""Subtractive synthesizers: lead, pad, pluck and bass.

Each voice is detuned band-limited oscillators into a low-pass filter; the
filter envelope is realised as a cross-fade from the unfiltered to the filtered
signal, which sounds like a sweeping cutoff at the cost of two signals instead
of a time-varying filter.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from stemrestore.data.synth.oscillators import Patch, attack_decay, phase, saw, sines, square, vibrato


def _lowpass(x: np.ndarray, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    sos = scipy.signal.butter(order, min(cutoff, 0.45 * sr), fs=sr, output="sos")
    return scipy.signal.sosfilt(sos, x).astype(np.float32)


def _sweep(bright: np.ndarray, dark: np.ndarray, sr: int, tau: float, depth: float) -> np.ndarray:
    t = np.arange(len(bright), dtype=np.float32) / np.float32(sr)
    env = np.float32(depth) * np.exp(-t / np.float32(tau))
    return dark + env * (bright - dark)


class SynthLead(Patch):
    """Two detuned oscillators (saw or pulse), delayed vibrato, a short filter sweep."""

    release = 0.08
    dynamics = 0.8
    soft_cutoff = 2500.0

    def __init__(self, rng: np.random.Generator) -> None:
        self.wave = saw if rng.random() < 0.6 else square
        self.detune = rng.uniform(3.0, 12.0)
        self.cutoff = rng.uniform(1500.0, 5000.0)
        self.vibrato = rng.uniform(0.0, 25.0)

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        freq = vibrato(f0, n, sr, rng, 5.5, self.vibrato, delay=0.3)
        osc = sum(self.wave(phase(freq * 2.0 ** (c / 1200.0), n, sr, rng.uniform()), freq, sr)
                  for c in (-self.detune, self.detune)) * np.float32(0.5)
        out = _sweep(osc, _lowpass(osc, self.cutoff, sr), sr, 0.15, 0.8)
        return out * attack_decay(n, sr, 0.005)


class SynthPad(Patch):
    """Three detuned sawtooths, slow attack, dark fixed filter."""

    release = 0.5
    dynamics = 0.5
    soft_cutoff = 1500.0

    def __init__(self, rng: np.random.Generator) -> None:
        self.detune = rng.uniform(6.0, 18.0)
        self.cutoff = rng.uniform(900.0, 3000.0)
        self.attack = rng.uniform(0.2, 0.8)

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        osc = np.zeros(n, dtype=np.float32)
        for c in (-self.detune, 0.0, self.detune):
            f = f0 * 2.0 ** (c / 1200.0)
            osc += saw(phase(f, n, sr, rng.uniform()), f, sr)
        return _lowpass(osc / 3.0, self.cutoff, sr) * attack_decay(n, sr, self.attack)


class SynthPluck(Patch):
    """Saw plus pulse with fast amplitude and filter decays (arpeggio synth)."""

    release = 0.1
    dynamics = 1.0
    soft_cutoff = 1200.0

    def __init__(self, rng: np.random.Generator) -> None:
        self.decay = rng.uniform(0.15, 0.5)
        self.cutoff = rng.uniform(500.0, 1500.0)
        self.mix = rng.uniform(0.2, 0.8)

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        ph = phase(f0, n, sr, rng.uniform())
        osc = (1.0 - self.mix) * saw(ph, f0, sr) + self.mix * square(ph, f0, sr)
        out = _sweep(osc, _lowpass(osc, self.cutoff, sr), sr, self.decay / 3.0, 1.0)
        return out * attack_decay(n, sr, 0.002, self.decay, 0.05)


class SynthBass(Patch):
    """Monophonic analogue-style bass: saw or pulse, sine sub-oscillator, filter envelope."""

    release = 0.04
    dynamics = 0.7
    soft_cutoff = 500.0

    def __init__(self, rng: np.random.Generator) -> None:
        self.wave = saw if rng.random() < 0.5 else square
        self.cutoff = rng.uniform(250.0, 900.0)
        self.sub = rng.uniform(0.2, 0.8)
        self.sweep = rng.uniform(0.3, 1.0)

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        ph = phase(f0, n, sr)
        osc = self.wave(ph, f0, sr) + sines(ph, (1.0,), (self.sub,))
        out = _sweep(osc, _lowpass(osc, self.cutoff, sr), sr, 0.08, self.sweep)
        return out * attack_decay(n, sr, 0.003)
