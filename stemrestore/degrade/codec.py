"""Lossy coding and band-limiting: the MP3 codec and down/up resampling.

Both keep the input's length and alignment. pedalboard's ``MP3Compressor``
already removes the LAME encoder/decoder delay and returns the input's length
(measured: cross-correlation lag 0 at every quality); soxr's one-shot
``resample`` is linear-phase and centred, so down- then up-sampling is aligned
too. The tests measure both on a test signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pedalboard
import soxr

from stemrestore.degrade.base import (
    Effect,
    Params,
    Range,
    RangeError,
    check_range,
    fit_length,
    run_plugin,
    uniform,
)
from stemrestore.errors import AudioError

#: Sample rates the LAME encoder accepts.
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


@dataclass(frozen=True)
class MP3Params(Params):
    effect = "mp3"
    vbr_quality: float

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        if sr not in MP3_RATES:
            raise AudioError(f"MP3 codec: sample rate {sr} Hz is not supported (use one of {MP3_RATES})")
        return run_plugin(pedalboard.MP3Compressor(self.vbr_quality), audio, sr)


@dataclass
class MP3Codec(Effect):
    """MP3 encode + decode, LAME variable bit rate, quality 0 (best) to 10."""

    vbr_quality: Range = (1.0, 9.0)

    def __post_init__(self) -> None:
        self.vbr_quality = check_range("vbr_quality", self.vbr_quality, 0.0, 10.0)

    def sample(self, rng: np.random.Generator) -> MP3Params:
        return MP3Params(uniform(rng, self.vbr_quality))


#: soxr quality of both resampling passes ("HQ": 20-bit, linear phase).
_SOXR_QUALITY = "HQ"


@dataclass(frozen=True)
class ResampleParams(Params):
    """Down-sample to ``rate_hz`` and back: removes everything above ``rate_hz / 2``.
    A rate at or above the signal's own leaves it unchanged."""

    effect = "resample"
    rate_hz: int

    def process(self, audio: np.ndarray, sr: int) -> np.ndarray:
        if self.rate_hz >= sr:
            return audio.copy()
        out = np.empty_like(audio)
        for ch, channel in enumerate(audio):
            low = soxr.resample(channel, sr, self.rate_hz, quality=_SOXR_QUALITY)
            if low.size == 0:  # shorter than one sample at the low rate: nothing left
                out[ch] = 0.0
                continue
            back = soxr.resample(low, self.rate_hz, sr, quality=_SOXR_QUALITY)
            out[ch] = fit_length(back[None, :], audio.shape[-1])[0]
        return out


@dataclass
class Resampling(Effect):
    """Resampling degradation: a whole-Hz rate drawn uniformly from ``rate_hz``.

    The paper gives no range. 8-32 kHz (as the paper's code) spans telephone
    bandwidth (4 kHz) to that of 32 kHz broadcast (16 kHz): below it nothing
    musical is left, above it the loss is barely audible.
    """

    rate_hz: Range = (8000.0, 32000.0)

    def __post_init__(self) -> None:
        self.rate_hz = check_range("rate_hz", self.rate_hz, 1000.0, 384_000.0)
        if self.rate_hz[0] != int(self.rate_hz[0]) or self.rate_hz[1] != int(self.rate_hz[1]):
            raise RangeError(f"rate_hz: must be whole numbers of Hz, got {self.rate_hz!r}")

    def sample(self, rng: np.random.Generator) -> ResampleParams:
        return ResampleParams(int(rng.integers(int(self.rate_hz[0]), int(self.rate_hz[1]) + 1)))
