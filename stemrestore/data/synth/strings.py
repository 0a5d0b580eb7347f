"""Plucked strings: Karplus-Strong evaluated in the frequency domain.

The Karplus-Strong loop (a delay line of one period fed back through a lossy
low-pass) is the rational transfer function

    H(z) = 1 / (1 - g L(z) A(z) z**-N)

with ``L`` a one-pole loss filter, ``A`` a first-order all-pass that supplies
the fractional part of the period (its coefficient is solved so that the whole
loop delay at the fundamental is exactly ``sr / f0``: the note is in tune to a
fraction of a cent) and ``N`` the integer delay. Evaluating ``H`` on an FFT
grid instead of running the loop sample by sample costs two FFTs per note,
whatever the pitch. Time aliasing of the circular FFT is removed by
exponential weighting: the excitation is multiplied by ``r**-n`` and the output
by ``r**n``, which evaluates ``H`` on the circle ``|z| = r`` where the
wrapped-around tail is ``r**-M`` (-100 dB) smaller. This only works because
every factor of ``H`` is causal, so nothing wraps to the end of the buffer.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
import scipy.signal

from stemrestore.data.synth.oscillators import Patch

#: Amplitude ratio by which the wrapped-around tail of the circular FFT is suppressed.
_ALIAS_SUPPRESSION = 1e5


def midi_to_hz(pitch: float) -> float:
    """Equal-tempered frequency of MIDI ``pitch`` (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def string_tone(f0: float, n: int, sr: int, excitation: np.ndarray, *, t60: float, damping: float) -> np.ndarray:
    """``n`` samples of a string of fundamental ``f0`` set ringing by ``excitation``.

    ``t60``: decay time in seconds of the lowest partials; ``damping`` (0..0.9):
    the loss filter's pole, how much faster the upper partials die away.
    """
    period = sr / f0
    w0 = 2.0 * np.pi / period
    loss_delay = -np.angle((1.0 - damping) / (1.0 - damping * np.exp(-1j * w0))) / w0
    rest = period - loss_delay
    delay = int(rest - 0.5)
    frac = rest - delay  # in [0.5, 1.5): where the first-order all-pass is well behaved
    coef = math.sin(w0 * (1.0 - frac) / 2.0) / math.sin(w0 * (1.0 + frac) / 2.0)
    gain = 10.0 ** (-3.0 * period / (sr * t60))

    m = scipy.fft.next_fast_len(n + len(excitation), real=True)
    alpha = math.log(_ALIAS_SUPPRESSION) / m
    weighted = excitation * np.exp(-alpha * np.arange(len(excitation)))
    log_zinv = -alpha - 2j * np.pi * np.arange(m // 2 + 1) / m  # log of z**-1 on the circle |z| = r
    zinv = np.exp(log_zinv)
    loop = gain * (1.0 - damping) / (1.0 - damping * zinv) * (coef + zinv) / (1.0 + coef * zinv)
    loop *= np.exp(log_zinv * delay)
    out = scipy.fft.irfft(scipy.fft.rfft(weighted, m) / (1.0 - loop), m)[:n] * np.exp(alpha * np.arange(n))
    # The loop also has a mode at 0 Hz, which a real string lacks: a causal high-pass removes it.
    return scipy.signal.sosfilt(scipy.signal.butter(2, 0.5 * f0, "highpass", fs=sr, output="sos"), out)


def pluck_excitation(
    f0: float, sr: int, rng: np.random.Generator, brightness: float, position: float
) -> np.ndarray:
    """A one-period noise burst, low-passed by ``brightness`` (0..1), combed by the pluck ``position``."""
    period = max(int(round(sr / f0)), 2)
    smooth = 1.0 - brightness
    burst = scipy.signal.lfilter([1.0 - smooth], [1.0, -smooth], rng.uniform(-1.0, 1.0, period))
    return strike_position(burst - burst.mean(), position, period)


def strike_position(excitation: np.ndarray, position: float, period: float) -> np.ndarray:
    """Comb an excitation as if the string were struck at ``position`` (0..1) of its length.

    Striking at a fraction of the string length cancels the partials with a
    node there: a pluck near the bridge sounds thin, one over the soundhole round.
    """
    shift = max(1, int(round(position * period)))
    out = np.zeros(len(excitation) + shift)
    out[: len(excitation)] += excitation
    out[shift:] -= excitation
    return out


def amplifier(audio: np.ndarray, sr: int, drive: float, cabinet_hz: float) -> np.ndarray:
    """A guitar/bass amp and miked cabinet: soft clipping between a high-pass and the cab's roll-off.

    This is part of how an electric instrument is recorded (the amp is the
    instrument's voice), not a mix-stage effect.
    """
    pre = scipy.signal.butter(1, 90.0, "highpass", fs=sr, output="sos")
    cab = scipy.signal.butter(4, min(cabinet_hz, 0.45 * sr), fs=sr, output="sos")
    x = scipy.signal.sosfilt(pre, audio, axis=-1)
    x = np.tanh(drive * x / (np.max(np.abs(x)) + 1e-9)) / np.tanh(drive)
    return scipy.signal.sosfilt(cab, x, axis=-1).astype(np.float32)


class PluckedString(Patch):
    """A plucked string instrument; subclasses set its decay, damping, brightness, pluck point."""

    release = 0.08
    soft_cutoff = 1500.0
    dynamics = 1.3
    t60_range = (3.0, 5.0)  # seconds at A2
    damping_range = (0.15, 0.3)  # loss-filter pole at A2
    brightness_range = (0.6, 0.9)
    position_range = (0.1, 0.2)

    def __init__(self, rng: np.random.Generator) -> None:
        self.t60 = rng.uniform(*self.t60_range)
        self.damping = rng.uniform(*self.damping_range)
        self.brightness = rng.uniform(*self.brightness_range)
        self.position = rng.uniform(*self.position_range)

    def note(self, f0: float, n: int, sr: int, rng: np.random.Generator, variant: int) -> np.ndarray:
        excitation = pluck_excitation(f0, sr, rng, self.brightness, self.position * rng.uniform(0.9, 1.1))
        # higher strings ring shorter, and since they go round the loop more often per
        # second the loss per period must shrink with pitch to keep the timbre even
        tone = string_tone(f0, n, sr, excitation, t60=self.t60 * (110.0 / f0) ** 0.5,
                           damping=min(0.9, self.damping * 110.0 / f0))
        return tone.astype(np.float32)


class SteelGuitar(PluckedString):
    t60_range = (3.5, 5.0)
    damping_range = (0.1, 0.2)
    brightness_range = (0.75, 0.95)


class NylonGuitar(PluckedString):
    t60_range = (2.5, 3.5)
    damping_range = (0.3, 0.45)
    brightness_range = (0.4, 0.6)
    position_range = (0.15, 0.3)


class CleanGuitar(PluckedString):
    t60_range = (4.0, 6.0)
    damping_range = (0.2, 0.35)
    brightness_range = (0.5, 0.8)
    position_range = (0.07, 0.15)  # the bridge pickup hears the string near its end


class MutedGuitar(CleanGuitar):
    release = 0.03
    t60_range = (0.2, 0.35)
    damping_range = (0.5, 0.7)


class DriveGuitar(CleanGuitar):
    """An electric guitar through a driven amp (crunch to distortion)."""

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__(rng)
        self.drive = rng.uniform(3.0, 20.0)
        self.cabinet = rng.uniform(3500.0, 5500.0)

    def finish(self, audio: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
        return amplifier(audio, sr, self.drive, self.cabinet)


class ElectricBass(PluckedString):
    release = 0.05
    soft_cutoff = 700.0
    t60_range = (5.0, 8.0)
    damping_range = (0.35, 0.55)
    brightness_range = (0.4, 0.7)
    position_range = (0.1, 0.25)
