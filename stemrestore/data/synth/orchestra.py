"""Bowed strings and brass: sawtooth sources with vibrato, shaped by body and brightness models.

A bowed string's waveform is close to a sawtooth (Helmholtz motion); its
colour comes from the wooden body, modelled here as a few fixed resonances
applied once to the whole performance (the body is a linear filter, so this
equals filtering every note). Brass gets brighter as it gets louder: the
unfiltered source is faded in with the square of the note's envelope.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from stemrestore.data.synth.oscillators import Patch, attack_decay, phase, saw, vibrato


class Bowed(Patch):
    """A string section (several detuned players) or a soloist (one player, wider vibrato)."""

    release = 0.25
    dynamics = 1.0
    soft_cutoff = 1800.0
    players = 5
    body_scale = 1.0  # body resonances scale with instrument size (a cello's are lower)

    def __init__(self, rng: np.random.Generator) -> None:
        solo = self.players == 1
        self.attack = rng.uniform(0.05, 0.15) if solo else rng.uniform(0.15, 0.4)
        self.depth = rng.uniform(20.0, 35.0) if solo else rng.uniform(8.0, 18.0)
        self.rate = rng.uniform(4.8, 6.2)
        self.spread = rng.uniform(4.0, 10.0)
        self.noise = rng.uniform(0.01, 0.04)
        self.body = [f * self.body_scale * rng.uniform(0.9, 1.1) for f in (280.0, 460.0, 1100.0, 2800.0)]

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.float32)
        for _ in range(self.players):
            cents = rng.normal(0.0, self.spread) if self.players > 1 else 0.0
            freq = vibrato(f0 * 2.0 ** (cents / 1200.0), n, sr, rng, self.rate * rng.uniform(0.9, 1.1),
                           self.depth, delay=0.15)
            out += saw(phase(freq, n, sr, rng.uniform()), freq, sr)
        out /= np.float32(np.sqrt(self.players))
        out += np.float32(self.noise) * rng.standard_normal(n, dtype=np.float32)  # bow hair on the string
        return out * attack_decay(n, sr, self.attack, 2.0, 0.8)

    def finish(self, audio: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
        body = 0.4 * audio
        for i, freq in enumerate(self.body):
            b, a = scipy.signal.iirpeak(min(freq, 0.45 * sr), 3.0 + i, fs=sr)
            body = body + scipy.signal.lfilter(b, a, audio, axis=-1)
        air = scipy.signal.butter(2, min(7000.0, 0.45 * sr), fs=sr, output="sos")
        return scipy.signal.sosfilt(air, body, axis=-1).astype(np.float32)


class Violin(Bowed):
    players = 1


class Cello(Bowed):
    players = 1
    body_scale = 0.55


class StringSection(Bowed):
    players = 5


class Brass(Patch):
    """Brass: a lip-buzz sawtooth whose brightness follows its loudness, with a scooped attack."""

    release = 0.1
    dynamics = 1.2
    soft_cutoff = 900.0
    players = 1
    darkness = 1.0  # trombone/horn > trumpet

    def __init__(self, rng: np.random.Generator) -> None:
        self.attack = rng.uniform(0.03, 0.08)
        self.scoop = rng.uniform(20.0, 60.0)
        self.brightness = rng.uniform(0.5, 1.0) / self.darkness

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.float32)
        for p in range(self.players):
            cents = rng.normal(0.0, 6.0) if self.players > 1 else 0.0
            freq = vibrato(f0 * 2.0 ** (cents / 1200.0), n, sr, rng, 5.0, 8.0, delay=0.4, scoop=self.scoop)
            lag = int(rng.uniform(0.0, 0.015) * sr) if p else 0
            out[lag:] += saw(phase(freq, n, sr, rng.uniform()), freq, sr)[: n - lag]
        sos = scipy.signal.butter(2, min(4.0 * f0 / self.darkness, 0.45 * sr), fs=sr, output="sos")
        dark = scipy.signal.sosfilt(sos, out).astype(np.float32)
        env = attack_decay(n, sr, self.attack, 1.5, 0.85)
        return (dark + np.float32(self.brightness) * env**2 * (out - dark)) * env


class Trumpet(Brass):
    darkness = 0.8


class Trombone(Brass):
    darkness = 1.6


class BrassSection(Brass):
    players = 3
