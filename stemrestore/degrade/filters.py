"""Filter designs of the EQ effects, as second-order sections (SOS).

Pass/stop filters come from :func:`scipy.signal.iirfilter` (five families, SOS
output). Peak and shelving bands use the RBJ "Audio EQ Cookbook" biquads,
which scipy does not provide; unlike the paper's reference code (which squares
the linear gain and so doubles every band's dB), a band of ``g`` dB changes
the level by exactly ``g`` dB at its centre.

Filtering runs in float64: a float32 direct-form cascade loses up to 2 % of the
signal (-34 dB error) on the narrow, low-frequency filters the ranges allow
(an order-8 100 Hz band-pass with Q 10, a 20 Hz elliptic high-pass), because
round-off noise grows as the poles approach z = 1. The conversion costs well
under a millisecond per 10-second stereo example; the cascade itself costs the
same in either precision.
"""

from __future__ import annotations

import numpy as np
import scipy.signal as ss

LOWPASS, HIGHPASS, BANDPASS, BANDSTOP = "lowpass", "highpass", "bandpass", "bandstop"
PEAK, LOWSHELF, HIGHSHELF = "peak", "lowshelf", "highshelf"
#: Filters designed from a family and an order.
FAMILY_KINDS = (LOWPASS, HIGHPASS, BANDPASS, BANDSTOP)
#: Single biquads with a gain.
GAIN_KINDS = (PEAK, LOWSHELF, HIGHSHELF)
KINDS = FAMILY_KINDS + GAIN_KINDS

FAMILIES = ("butterworth", "chebyshev1", "chebyshev2", "elliptic", "bessel")
_FTYPE = {
    "butterworth": "butter",
    "chebyshev1": "cheby1",
    "chebyshev2": "cheby2",
    "elliptic": "ellip",
    "bessel": "bessel_mag",
}
#: Bessel filters are normalised so that the cut-off is their -3 dB point, as for
#: Butterworth (scipy's default "phase" norm puts it 12.6 dB down at order 8).
#: Chebyshev II keeps scipy's meaning: the cut-off is where the stop band starts.
#: Families that take a pass-band ripple / a stop-band attenuation.
RIPPLE_FAMILIES = ("chebyshev1", "elliptic")
STOPBAND_FAMILIES = ("chebyshev2", "elliptic")

#: Designs are kept just below Nyquist, so that a range meant for 44.1 kHz
#: still gives a valid filter at a lower sample rate.
MAX_FRACTION_OF_SR = 0.49


def _limit(freq_hz: float, sr: int) -> float:
    return min(freq_hz, MAX_FRACTION_OF_SR * sr)


def band_edges(freq_hz: float, q: float) -> tuple[float, float]:
    """Edges of a band with geometric centre ``freq_hz`` and width ``freq_hz / q``.

    The paper's code uses ``f -/+ f/(2Q)``, which reaches 0 Hz at Q = 0.5 and
    then clamps; geometric edges (``lo * hi = f**2``, ``hi - lo = f / Q``) stay
    positive for every Q.
    """
    half = 1.0 / (2.0 * q)
    root = np.sqrt(1.0 + half * half)
    return freq_hz * (root - half), freq_hz * (root + half)


def family_sos(
    kind: str,
    freq_hz: float,
    sr: int,
    family: str,
    order: int,
    q: float | None = None,
    ripple_db: float | None = None,
    stopband_db: float | None = None,
) -> np.ndarray:
    """SOS of a low/high/band-pass or band-stop filter of total ``order``.

    ``order`` counts poles of the whole filter, so band filters use a
    prototype of half that order (scipy doubles it for band designs).
    """
    if kind in (LOWPASS, HIGHPASS):
        wn: float | list[float] = _limit(freq_hz, sr)
        proto_order = order
    else:
        lo, hi = band_edges(freq_hz, q if q is not None else 1.0)
        hi = _limit(hi, sr)
        wn = [min(lo, 0.9 * hi), hi]
        proto_order = order // 2
    return ss.iirfilter(
        proto_order,
        wn,
        rp=ripple_db if family in RIPPLE_FAMILIES else None,
        rs=stopband_db if family in STOPBAND_FAMILIES else None,
        btype=kind,
        ftype=_FTYPE[family],
        fs=sr,
        output="sos",
    )


def rbj_sos(kind: str, freq_hz: np.ndarray, q: np.ndarray, gain_db: np.ndarray, sr: int) -> np.ndarray:
    """RBJ cookbook peak / shelf biquads, one SOS row per element of the inputs."""
    freq_hz, q, gain_db = np.broadcast_arrays(
        np.atleast_1d(np.asarray(freq_hz, dtype=np.float64)),
        np.atleast_1d(np.asarray(q, dtype=np.float64)),
        np.atleast_1d(np.asarray(gain_db, dtype=np.float64)),
    )
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * np.minimum(freq_hz, MAX_FRACTION_OF_SR * sr) / sr
    cos, alpha = np.cos(w0), np.sin(w0) / (2.0 * q)
    if kind == PEAK:
        b = [1.0 + alpha * a, -2.0 * cos, 1.0 - alpha * a]
        den = [1.0 + alpha / a, -2.0 * cos, 1.0 - alpha / a]
    elif kind in (LOWSHELF, HIGHSHELF):
        # The cookbook's low- and high-shelf formulas differ only in these signs.
        s = 1.0 if kind == LOWSHELF else -1.0
        two_sqrt_a_alpha = 2.0 * np.sqrt(a) * alpha
        b = [
            a * ((a + 1) - s * (a - 1) * cos + two_sqrt_a_alpha),
            s * 2.0 * a * ((a - 1) - s * (a + 1) * cos),
            a * ((a + 1) - s * (a - 1) * cos - two_sqrt_a_alpha),
        ]
        den = [
            (a + 1) + s * (a - 1) * cos + two_sqrt_a_alpha,
            -s * 2.0 * ((a - 1) + s * (a + 1) * cos),
            (a + 1) + s * (a - 1) * cos - two_sqrt_a_alpha,
        ]
    else:
        raise ValueError(f"rbj_sos: kind must be one of {GAIN_KINDS}, got {kind!r}")
    sos = np.stack(b + den, axis=-1)
    return sos / sos[:, 3:4]


def apply_sos(sos: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Run one SOS cascade over every channel (float64 inside, float32 out)."""
    if len(sos) == 0:
        return audio.copy()
    return ss.sosfilt(sos, audio.astype(np.float64), axis=-1).astype(np.float32)
