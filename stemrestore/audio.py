"""Audio I/O at the edges of the toolkit.

Everything outside the models is float32 numpy ``(channels, samples)`` with an
explicit sample rate. Loading validates the file (one :class:`AudioError` with a
one-line message for anything unusable); saving is atomic (temporary file in the
target folder, then rename) so an interrupted run never leaves a half-written
file behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from stemrestore.errors import AudioError, StemRestoreError
from stemrestore.fileio import atomic_path

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")

#: soundfile subtype used when saving, by extension; float WAV keeps values
#: above full scale intact, FLAC has no float so it uses 24-bit PCM.
_DEFAULT_SUBTYPE = {".wav": "FLOAT", ".flac": "PCM_24", ".ogg": "VORBIS", ".mp3": "MPEG_LAYER_III"}


_SFC_SET_ADD_PEAK_CHUNK = 0x1050  # libsndfile's sndfile.h


def default_subtype(ext: str) -> str:
    """The soundfile subtype stemrestore writes for an extension such as ``.wav``."""
    try:
        return _DEFAULT_SUBTYPE[ext.lower()]
    except KeyError:
        raise AudioError(f"unsupported output format '{ext}' (use .wav or .flac)") from None


def check_audio(audio: np.ndarray, name: str = "audio") -> np.ndarray:
    """Return ``audio`` as float32 ``(channels, samples)`` or raise :class:`AudioError`."""
    audio = np.asarray(audio)
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.ndim != 2:
        raise AudioError(f"{name}: expected (channels, samples), got shape {audio.shape}")
    if audio.shape[0] == 0:
        raise AudioError(f"{name}: has zero channels")
    if audio.shape[1] == 0:
        raise AudioError(f"{name}: has no samples")
    if not np.issubdtype(audio.dtype, np.number):
        raise AudioError(f"{name}: samples are not numbers (dtype {audio.dtype})")
    audio = audio.astype(np.float32, copy=False)
    if not np.isfinite(audio).all():
        bad = int((~np.isfinite(audio)).sum())
        raise AudioError(f"{name}: contains {bad} NaN/Inf samples")
    return audio


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """Header information of an audio file, or :class:`AudioError` if it is not audio."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({_short(exc)})") from None
    if info.channels <= 0:
        raise AudioError(f"{path}: has zero channels")
    if info.format in ("WAV", "WAVEX"):
        _check_wav_complete(path)
    return info


def _check_wav_complete(path: Path) -> None:
    """libsndfile quietly shortens a WAV whose data chunk was cut off; we refuse it."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] not in (b"RIFF", b"RF64") or header[8:12] != b"WAVE":
            return
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            chunk_id, chunk_size = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if chunk_id == b"data":
                # 0xFFFFFFFF marks RF64 / streamed files whose size lives elsewhere.
                if chunk_size != 0xFFFFFFFF and pos + 8 + chunk_size > size:
                    missing = pos + 8 + chunk_size - size
                    raise AudioError(f"{path}: truncated file ({missing} bytes of audio data missing)")
                return
            pos += 8 + chunk_size + (chunk_size & 1)


def load_audio(
    path: str | os.PathLike,
    sr: int | None = None,
    *,
    start: int = 0,
    frames: int = -1,
    allow_empty: bool = False,
) -> tuple[np.ndarray, int]:
    """Load ``path`` as float32 ``(channels, samples)``.

    ``start``/``frames`` (in the file's own rate) read only a window, seeking
    instead of decoding the whole file. ``sr`` resamples the result with soxr.
    Returns ``(audio, sample_rate)``.
    """
    path = Path(path)
    info = audio_info(path)
    if allow_empty and start >= info.frames:
        return np.zeros((info.channels, 0), np.float32), info.samplerate
    try:
        with sf.SoundFile(str(path)) as f:
            if start:
                f.seek(start)
            data = f.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path}: could not decode ({_short(exc)})") from None
    if data.shape[0] == 0 and not allow_empty:
        if info.frames > 0 and start < info.frames:
            raise AudioError(f"{path}: truncated file (header promises {info.frames} frames, none readable)")
        raise AudioError(f"{path}: contains no samples")
    expected = info.frames - start if frames < 0 else min(frames, info.frames - start)
    if 0 < data.shape[0] < expected:
        raise AudioError(f"{path}: truncated file (read {data.shape[0]} of {expected} frames)")
    audio = data.T
    if data.shape[0]:
        audio = check_audio(audio, str(path))
    if sr is not None and sr != info.samplerate and audio.shape[1]:
        audio = resample(audio, info.samplerate, sr)
        return audio, sr
    return np.ascontiguousarray(audio), info.samplerate


def resample(audio: np.ndarray, sr_in: int, sr_out: int, quality: str = "HQ") -> np.ndarray:
    """Resample float32 ``(channels, samples)`` with soxr; identity when rates match."""
    if sr_in == sr_out:
        return audio
    if sr_in <= 0 or sr_out <= 0:
        raise AudioError(f"sample rates must be positive, got {sr_in} -> {sr_out}")
    out = soxr.resample(np.ascontiguousarray(audio.T), sr_in, sr_out, quality=quality)
    return np.ascontiguousarray(out.T, dtype=np.float32)


def save_audio(
    path: str | os.PathLike,
    audio: np.ndarray,
    sr: int,
    subtype: str | None = None,
) -> Path:
    """Write ``audio`` (channels, samples) atomically; the format follows the extension."""
    path = Path(path)
    audio = check_audio(audio, str(path))
    ext = path.suffix.lower()
    try:
        subtype = subtype or default_subtype(ext)
    except AudioError as exc:
        raise AudioError(f"{path}: {exc}") from None
    try:
        with atomic_path(path) as tmp:
            with sf.SoundFile(str(tmp), "w", sr, audio.shape[0], subtype, format=ext.lstrip(".").upper()) as f:
                if f.format == "WAV":
                    # libsndfile stamps float WAVs with a PEAK chunk holding the wall-clock
                    # time; without it the same audio always gives byte-identical files.
                    sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
                f.write(audio.T)
    except StemRestoreError as exc:
        raise AudioError(str(exc)) from None
    except (sf.LibsndfileError, OSError, RuntimeError, ValueError) as exc:
        raise AudioError(f"{path}: could not write ({_short(exc)})") from None
    return path


def to_stereo(audio: np.ndarray) -> np.ndarray:
    """Mono -> dual mono; stereo unchanged; more channels is an error."""
    if audio.shape[0] == 1:
        return np.repeat(audio, 2, axis=0)
    if audio.shape[0] == 2:
        return audio
    raise AudioError(f"expected mono or stereo audio, got {audio.shape[0]} channels")


def peak_db(audio: np.ndarray) -> float:
    """Peak level in dBFS (-inf for digital silence)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return 20.0 * np.log10(peak) if peak > 0 else float("-inf")


def rms_db(audio: np.ndarray) -> float:
    """RMS level in dBFS (-inf for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
