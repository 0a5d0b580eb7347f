"""Keyboard instruments: additive piano, FM electric piano, drawbar organ."""

from __future__ import annotations

import numpy as np
import scipy.signal

from stemrestore.data.synth.oscillators import TWO_PI, Patch, phase, sines

#: Hammond drawbar footages as multiples of the played pitch (16', 5 1/3', 8', 4', ...).
_DRAWBAR_RATIOS = (0.5, 1.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
_REGISTRATIONS = ("888000000", "868000000", "888800000", "888888888", "688600000", "808000008",
                  "886000000", "848000000", "800000888")


class Piano(Patch):
    """Additive piano: stiff-string (stretched) partials, unison-string beating, two-stage decay."""

    release = 0.12
    soft_cutoff = 900.0
    dynamics = 1.6

    def __init__(self, rng: np.random.Generator) -> None:
        self.stiffness = rng.uniform(1e-4, 4e-4)
        self.unison_cents = rng.uniform(0.3, 1.5)
        self.t60 = rng.uniform(8.0, 14.0)  # seconds, at A2
        self.strike = rng.uniform(0.11, 0.14)  # hammer position as a fraction of the string

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        k = np.arange(1, 17)
        fk = k * f0 * np.sqrt(1.0 + self.stiffness * k**2)
        k, fk = k[fk < 0.45 * sr], fk[fk < 0.45 * sr]
        amps = np.abs(np.sin(np.pi * k * self.strike)) / k**1.1
        t = np.arange(n, dtype=np.float32) / np.float32(sr)
        bright = np.zeros(n, dtype=np.float32)
        for i, (f, amp) in enumerate(zip(fk, amps)):
            partial = np.sin(np.float32(2.0 * np.pi * f) * t + np.float32(rng.uniform(0.0, 2.0 * np.pi)))
            if i < 4:  # the unison strings of the low partials beat audibly
                beat = f * (2.0 ** (self.unison_cents / 1200.0) - 1.0)
                partial *= np.cos(np.float32(np.pi * beat) * t)
            bright += np.float32(amp) * partial
        # upper partials die faster than the fundamental: fade from bright to a low-passed copy
        sos = scipy.signal.butter(2, min(3.0 * f0, 0.45 * sr), fs=sr, output="sos")
        dark = scipy.signal.sosfilt(sos, bright).astype(np.float32)
        tau = self.t60 * (110.0 / f0) ** 0.5 / 6.9
        out = (dark + (bright - dark) * np.exp(-t / np.float32(tau / 5.0))) * np.exp(-t / np.float32(tau))
        # the fast "prompt sound", then the slow "aftersound" of the coupled strings
        out *= np.float32(0.45) + np.float32(0.55) * np.exp(-t / np.float32(0.4))
        thump = rng.standard_normal(min(n, int(0.02 * sr)), dtype=np.float32)
        out[: len(thump)] += np.float32(0.05) * thump * np.linspace(1, 0, len(thump), dtype=np.float32)
        return out


class ElectricPiano(Patch):
    """Tine electric piano as two-operator FM: a bright, quickly fading attack over a sine-like body."""

    release = 0.2
    soft_cutoff = 1200.0
    dynamics = 1.4

    def __init__(self, rng: np.random.Generator) -> None:
        self.index = rng.uniform(1.0, 3.0)
        self.t60 = rng.uniform(4.0, 7.0)
        self.tine = rng.uniform(0.05, 0.25)

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        t = np.arange(n, dtype=np.float32) / np.float32(sr)
        ph = phase(f0, n, sr)
        frac = (ph - np.floor(ph)).astype(np.float32)
        env = np.exp(-t / np.float32(self.t60 * (220.0 / f0) ** 0.5 / 6.9))
        index = np.float32(self.index) * (np.float32(0.3) + np.float32(0.7) * np.exp(-t / np.float32(0.25))) * env
        body = np.sin(TWO_PI * frac + index * np.sin(TWO_PI * frac)) * env
        tine = np.float32(self.tine) * np.exp(-t / np.float32(0.03)) * sines(ph, (7.0,), (1.0,))
        return body + tine


class Organ(Patch):
    """Drawbar organ: nine sine footages, an optional decaying percussion harmonic, key click."""

    release = 0.03
    dynamics = 0.0  # an organ has no touch sensitivity

    def __init__(self, rng: np.random.Generator) -> None:
        bars = _REGISTRATIONS[int(rng.integers(len(_REGISTRATIONS)))]
        self.amps = [10.0 ** ((int(d) - 8) * 3.0 / 20.0) if d != "0" else 0.0 for d in bars]
        self.percussion = rng.choice((0.0, 2.0, 3.0), p=(0.6, 0.2, 0.2))
        self.click = rng.uniform(0.02, 0.1)

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        ph = phase(f0, n, sr, start=rng.uniform())
        ratios = [r for r in _DRAWBAR_RATIOS if r * f0 < 0.45 * sr]
        out = sines(ph, ratios, self.amps[: len(ratios)])
        if self.percussion and self.percussion * f0 < 0.45 * sr:
            t = np.arange(n, dtype=np.float32) / np.float32(sr)
            out += np.exp(-t / np.float32(0.25)) * sines(ph, (self.percussion,), (1.0,))
        m = min(n, int(0.004 * sr))
        out[:m] += np.float32(self.click) * rng.standard_normal(m, dtype=np.float32)
        return out
