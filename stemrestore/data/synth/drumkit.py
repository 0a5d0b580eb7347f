"""Synthesised drum kit and hand percussion, one sound per General-MIDI drum key.

Membranes (kick, toms, congas) are sines with a falling pitch; snares add
band-passed noise for the wires; metals (hi-hats, cymbals, cowbell,
tambourine) sum square waves at the inharmonic ratios of the Roland TR-808
cymbal circuit before a high-pass, the classic recipe for a metallic spectrum.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from stemrestore.data.synth.oscillators import phase, sines, square

_METAL_RATIOS = (1.0, 1.483, 1.932, 2.546, 2.630, 3.897)
#: Length of each one-shot in seconds (beyond it the sound is below -60 dB).
_LENGTH = {36: 0.6, 35: 0.6, 38: 0.6, 40: 0.6, 37: 0.2, 42: 0.25, 44: 0.2, 46: 1.2, 49: 3.0, 57: 3.0,
           51: 2.0, 59: 2.0, 53: 2.0, 70: 0.2, 54: 0.5, 56: 0.5, 39: 0.4}
#: Tom keys -> tuning relative to the high tom.
_TOMS = {50: 1.0, 48: 0.85, 47: 0.72, 45: 0.62, 43: 0.5, 41: 0.42}
#: Hand drums: key -> (frequency, decay seconds, slap noise level)
_HAND_DRUMS = {60: (420.0, 0.12, 0.3), 61: (300.0, 0.15, 0.3), 62: (330.0, 0.05, 0.6),
               63: (330.0, 0.25, 0.3), 64: (220.0, 0.3, 0.2)}


def _decay(n: int, sr: int, tau: float) -> np.ndarray:
    return np.exp(-np.arange(n, dtype=np.float32) / np.float32(tau * sr))


def _band(x: np.ndarray, lo: float, hi: float, sr: int) -> np.ndarray:
    sos = scipy.signal.butter(2, (lo, min(hi, 0.45 * sr)), "bandpass", fs=sr, output="sos")
    return scipy.signal.sosfilt(sos, x).astype(np.float32)


def _membrane(n: int, sr: int, freq: float, tau: float, bend: float = 0.3) -> np.ndarray:
    t = np.arange(n) / sr
    inst = freq * (1.0 + bend * np.exp(-t / 0.04))
    ph = phase(inst, n, sr)
    return sines(ph, (1.0, 1.5), (1.0, 0.3)) * _decay(n, sr, tau)


class DrumKit:
    """A kit and a percussionist's instruments; tunings and decays drawn once per kit."""

    variants = 3  #: round robins: no two consecutive hits are the same waveform
    soft_cutoff = 2500.0
    dynamics = 1.4

    def __init__(self, rng: np.random.Generator) -> None:
        self.kick_hz = rng.uniform(45.0, 65.0)
        self.kick_tau = rng.uniform(0.05, 0.1)
        self.click = rng.uniform(0.1, 0.4)
        self.snare_hz = rng.uniform(170.0, 240.0)
        self.wires = rng.uniform(0.5, 1.0)
        self.snare_tau = rng.uniform(0.06, 0.12)
        self.tom_hz = rng.uniform(170.0, 220.0)
        self.metal_hz = rng.uniform(300.0, 420.0)
        self.cymbal_tau = rng.uniform(0.4, 0.8)

    def hit(self, key: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        """One stroke of GM drum ``key`` at full velocity (mono float32)."""
        n = int(_LENGTH.get(key, 1.0) * sr)
        noise = rng.standard_normal(n, dtype=np.float32)
        if key in (35, 36):
            body = _membrane(n, sr, self.kick_hz, self.kick_tau, bend=2.0)
            return body + np.float32(self.click) * _band(noise, 2000, 9000, sr) * _decay(n, sr, 0.004)
        if key in (38, 40):
            tone = _membrane(n, sr, self.snare_hz, 0.06, bend=0.2)
            return tone + np.float32(self.wires) * _band(noise, 1500, 9000, sr) * _decay(n, sr, self.snare_tau)
        if key == 37:
            return _band(noise, 800, 4000, sr) * _decay(n, sr, 0.012) + _membrane(n, sr, 600.0, 0.02)
        if key in (42, 44, 46):
            tau = {42: 0.04, 44: 0.025, 46: 0.35}[key]
            return (self._metal(n, sr, self.metal_hz, 6000) + 0.4 * _band(noise, 7000, 16000, sr)) * _decay(n, sr, tau)
        if key in _TOMS:
            freq = self.tom_hz * _TOMS[key]
            body = _membrane(n, sr, freq, 0.12 * (200.0 / freq) ** 0.7)
            return body + 0.2 * _band(noise, 500, 5000, sr) * _decay(n, sr, 0.01)
        if key in (49, 57, 51, 59, 53):
            crash = key in (49, 57)
            metal = self._metal(n, sr, self.metal_hz * (1.3 if crash else 1.8), 400 if crash else 2000)
            wash = _band(noise, 3000, 16000, sr) * np.float32(0.8 if crash else 0.25)
            tau = self.cymbal_tau * (1.0 if crash else 0.6)
            if key == 53:
                metal = metal + sines(phase(self.metal_hz * 2.0, n, sr), (1.0, 2.1, 3.2), (1.0, 0.6, 0.3))
            return (metal + wash) * _decay(n, sr, tau)
        if key == 70:
            env = np.minimum(np.arange(n) / (0.008 * sr), 1.0).astype(np.float32) * _decay(n, sr, 0.04)
            return _band(noise, 3000, 10000, sr) * env
        if key == 54:
            jingles = self._metal(n, sr, self.metal_hz * 5.0, 5000) + _band(noise, 6000, 16000, sr)
            return jingles * _decay(n, sr, 0.08)
        if key == 56:
            ph = phase(540.0, n, sr)
            bell = square(ph, 540.0, sr) + square(ph * (800.0 / 540.0), 800.0, sr)
            return _band(bell, 400, 4000, sr) * (0.6 * _decay(n, sr, 0.02) + 0.4 * _decay(n, sr, 0.12))
        if key == 39:
            bursts = np.zeros(n, dtype=np.float32)
            for delay in (0.0, 0.008, 0.017, 0.027):
                start = int(delay * sr)
                bursts[start:] += _decay(n - start, sr, 0.006 if delay < 0.027 else 0.06)
            return _band(noise, 800, 3000, sr) * bursts
        if key in _HAND_DRUMS:
            freq, tau, slap = _HAND_DRUMS[key]
            return _membrane(n, sr, freq, tau, bend=0.1) + slap * _band(noise, 1000, 6000, sr) * _decay(n, sr, 0.008)
        return _band(noise, 200, 8000, sr) * _decay(n, sr, 0.05)  # any other GM key: a generic knock

    def _metal(self, n: int, sr: int, base: float, highpass: float) -> np.ndarray:
        ph = phase(base, n, sr)
        out = sum(square(ph * r, base * r, sr) for r in _METAL_RATIOS)
        sos = scipy.signal.butter(2, min(highpass, 0.45 * sr), "highpass", fs=sr, output="sos")
        return scipy.signal.sosfilt(sos, out).astype(np.float32) / np.float32(len(_METAL_RATIOS))
