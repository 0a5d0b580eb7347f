"""The restoration engine: run a restoration model over songs of any length.

Audio is resampled to the model's rate (streaming soxr), cut into chunks of
``chunk_seconds`` that overlap by ``overlap`` (a fraction of the chunk), run
through the model in batches under ``torch.inference_mode`` and put back
together by overlap-add with raised-cosine cross-fades whose weights sum to
exactly one, then resampled back. Everything is a stream of blocks, so memory is
bounded by the chunk size: :meth:`Restorer.restore_file` reads and writes files
block by block and never holds the whole song.

Channels: stereo in -> stereo out; mono in runs as dual mono (the model sees
L = R) and the two restored channels are averaged back to mono; more than two
channels is an :class:`AudioError`.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch
from torch import nn

from stemrestore.audio import audio_info, check_audio, default_subtype
from stemrestore.errors import AudioError, ConfigError, StemRestoreError
from stemrestore.fileio import atomic_path
from stemrestore.models import is_conditional, load_checkpoint, resolve_device, select_target
from stemrestore.restore_settings import DEFAULT_SETTINGS

#: ``progress(done, total)`` in input frames.
ProgressFn = Callable[[int, int], None]
#: Frames read from a file per step when streaming.
READ_BLOCK = 1 << 16


class Restorer:
    """Chunked, batched, streaming inference with a restoration model.

    ``model_or_checkpoint`` is a loaded model (``nn.Module`` mapping
    ``(batch, channels, samples)`` to the same shape, with ``meta["sample_rate"]``
    and ``meta["target"]``, like :class:`~stemrestore.models.UFormer`) or a path for
    :func:`~stemrestore.models.load_checkpoint`. ``overlap`` is the fraction of a
    chunk shared with the next one (0 to 0.5). ``batch_size`` defaults to 1 on the
    CPU (batching brings no speed there, only memory) and 4 on a GPU. ``half``
    runs the network in 16-bit autocast: float16 on a GPU, bfloat16 on the CPU
    (about twice as fast where the CPU has native bf16, at a small cost in
    accuracy; docs/model.md).

    ``target`` is the class to restore. A conditional model (one that lists its
    ``classes``, like :class:`~stemrestore.models.ConditionalUFormer`) is called as
    ``model(x, target)`` and restores any class it knows; None means its default
    class. A one-class model accepts only its own class: asking it for another is
    a :class:`ConfigError`. :meth:`with_target` gives a restorer for another class
    that shares the loaded model.

    ``shifts`` > 1 is test-time augmentation as in demucs: each chunk is also
    restored delayed by ``shifts - 1`` offsets spread evenly over ``max_shift``
    seconds (default 0.5 s, demucs' value) and the time-aligned outputs are
    averaged. A framed (STFT) model sees other frame boundaries at each offset,
    so its errors partly average out; it costs ``shifts`` times the compute. The
    offsets are fixed, not random, so a result can be reproduced exactly.

    ``tta`` adds the two input views of MSST's ``--use_tta``: the channels
    swapped (stereo models) and the polarity inverted. Each view's output is
    mapped back (swapped again, negated) and all are averaged with the plain
    pass, so a model that treats the channels alike and is odd in its input
    gives exactly its plain output; a trained network is neither, and part of
    its error averages out. It multiplies the compute by the number of views
    (3 for stereo models, 2 for mono ones), on top of ``shifts``.

    ``chunk_seconds``, ``overlap``, ``shifts`` and ``tta`` left as None take the
    value the checkpoint recommends (its JSON's ``inference``: the settings it
    was measured with), else 10 s, 0.25, 1 and off. :attr:`settings` holds the
    values in use.
    """

    def __init__(
        self,
        model_or_checkpoint: nn.Module | str | os.PathLike,
        chunk_seconds: float | None = None,
        overlap: float | None = None,
        batch_size: int | None = None,
        device: str | torch.device = "auto",
        half: bool = False,
        progress: ProgressFn | None = None,
        target: str | None = None,
        shifts: int | None = None,
        max_shift: float = 0.5,
        tta: bool | None = None,
    ) -> None:
        self.device = resolve_device(device)
        if isinstance(model_or_checkpoint, nn.Module):
            model = model_or_checkpoint
        else:
            model = load_checkpoint(model_or_checkpoint, "cpu")
        self.model = model.to(self.device).eval()
        self.conditional = is_conditional(model)
        self._target = select_target(model, target)
        meta = getattr(model, "meta", {})
        if "sample_rate" not in meta:
            raise ConfigError("Restorer: the model has no meta['sample_rate']")
        given = {"chunk_seconds": chunk_seconds, "overlap": overlap, "shifts": shifts, "tta": tta}
        recommended = {**DEFAULT_SETTINGS, **(meta.get("inference") or {})}
        self.settings = {k: recommended[k] if v is None else v for k, v in given.items()}
        chunk_seconds, overlap = self.settings["chunk_seconds"], self.settings["overlap"]
        shifts, tta = self.settings["shifts"], self.settings["tta"]
        config = getattr(model, "config", None)
        self.model_channels = getattr(config, "in_channels", 2)
        if (
            self.model_channels not in (1, 2)
            or getattr(config, "out_channels", self.model_channels) != self.model_channels
        ):
            raise ConfigError("Restorer: the model must map mono to mono or stereo to stereo")
        self.half = half
        if batch_size is None:
            batch_size = 1 if self.device.type == "cpu" else 4
        if int(batch_size) < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = int(batch_size)
        min_chunk = max(getattr(config, "n_fft", 1), 2)  # at least one STFT window
        if not np.isfinite(chunk_seconds) or round(float(chunk_seconds) * self.sample_rate) < min_chunk:
            raise ConfigError(
                f"chunk_seconds must be at least {min_chunk / self.sample_rate:.3f} s, got {chunk_seconds}"
            )
        self.chunk = round(float(chunk_seconds) * self.sample_rate)
        if not 0.0 <= overlap <= 0.5:
            raise ConfigError(f"overlap must be a fraction between 0 and 0.5 of a chunk, got {overlap}")
        self.overlap = round(float(overlap) * self.chunk)
        # Raised-cosine fade-in; fade[n] + fade[O-1-n] == 1, so overlapping chunks sum to one.
        ramp = (np.arange(self.overlap) + 0.5) / max(self.overlap, 1)
        self._fade = (0.5 - 0.5 * np.cos(np.pi * ramp)).astype(np.float32)
        if isinstance(shifts, bool) or int(shifts) != shifts or shifts < 1:
            raise ConfigError(f"shifts must be a whole number >= 1, got {shifts}")
        if shifts > 1 and not (np.isfinite(max_shift) and max_shift > 0):
            raise ConfigError(f"max_shift must be a positive number of seconds, got {max_shift}")
        span = round(float(max_shift) * self.sample_rate) if shifts > 1 else 0
        self.offsets = [round(k * span / shifts) for k in range(int(shifts))]
        self.views = _views(self.model_channels, bool(tta))
        self.progress = progress

    @property
    def sample_rate(self) -> int:
        """The model's sample rate (inputs at other rates are resampled)."""
        return int(self.model.meta["sample_rate"])

    @property
    def target(self) -> str:
        """Class id of the stem this restorer restores (``unknown`` when not known)."""
        return self._target

    def describe_settings(self) -> str:
        """The settings in use in words, e.g. ``10 s chunks, overlap 0.25, no shifts, TTA on``."""
        s = self.settings
        shifts = f"{s['shifts']} shifts" if s["shifts"] > 1 else "no shifts"
        return f"{s['chunk_seconds']:g} s chunks, overlap {s['overlap']:g}, {shifts}, TTA {'on' if s['tta'] else 'off'}"

    def with_target(self, target: str) -> Restorer:
        """A restorer for class ``target`` with the same model and settings (the model is shared)."""
        other = copy.copy(self)
        other._target = select_target(self.model, target)
        return other

    def check_target(self) -> None:
        """Raise :class:`ConfigError` when a conditional model has no class to restore."""
        if self.conditional and self._target not in self.model.classes:
            raise ConfigError(
                f"this checkpoint restores any class ({', '.join(self.model.classes)}); "
                "name one (--target, e.g. --target Gtr_EG)"
            )

    def restore(self, audio: np.ndarray, sr: int, progress: ProgressFn | None = None) -> np.ndarray:
        """Restore ``audio`` ``(channels, samples)`` at rate ``sr``; returns the same shape and rate."""
        self.check_target()
        one_d = np.asarray(audio).ndim == 1
        audio = check_audio(audio)
        _check_input(audio.shape[0], sr, "audio")
        blocks = (audio[:, i : i + READ_BLOCK] for i in range(0, audio.shape[1], READ_BLOCK))
        out = np.concatenate(list(self._stream(blocks, sr, audio.shape, progress)), axis=1)
        return out[0] if one_d else out

    def restore_file(
        self,
        in_path: str | os.PathLike,
        out_path: str | os.PathLike,
        overwrite: bool = False,
        progress: ProgressFn | None = None,
    ) -> Path:
        """Restore an audio file into ``out_path`` (same rate, channels and length), streaming.

        The output format follows the extension (``.wav`` float32, ``.flac``
        24-bit); it is written to a temporary file beside the target, then renamed.
        """
        self.check_target()
        in_path, out_path = Path(in_path), Path(out_path)
        info = audio_info(in_path)
        _check_input(info.channels, info.samplerate, str(in_path))
        if info.frames <= 0:
            raise AudioError(f"{in_path}: contains no samples")
        ext = out_path.suffix.lower()
        if ext not in (".wav", ".flac"):
            raise AudioError(f"{out_path}: unsupported output format '{ext}' (use .wav or .flac)")
        if out_path.exists() and not overwrite:
            raise AudioError(f"{out_path}: already exists (pass --overwrite to replace it)")
        try:
            with atomic_path(out_path) as tmp, sf.SoundFile(str(in_path)) as src, sf.SoundFile(
                str(tmp), "w", info.samplerate, info.channels, default_subtype(ext), format=ext[1:].upper()
            ) as dst:
                blocks = _read_blocks(src, in_path, info.frames)
                for block in self._stream(blocks, info.samplerate, (info.channels, info.frames), progress):
                    dst.write(block.T)
        except StemRestoreError as exc:
            raise AudioError(str(exc)) from None
        return out_path

    # -- the stream: channels/rate in, chunked overlap-add, rate/channels out ------------------

    def _stream(
        self, blocks: Iterable[np.ndarray], sr: int, shape: tuple[int, int], progress: ProgressFn | None
    ) -> Iterator[np.ndarray]:
        channels, frames = shape
        report = progress or self.progress
        to_model = _Resampler(sr, self.sample_rate, channels)
        from_model = _Resampler(self.sample_rate, sr, channels)
        work = max(channels, self.model_channels)

        def model_blocks() -> Iterator[np.ndarray]:
            for is_last, block in _with_last(blocks):
                yield _tile(to_model(block, is_last), work)

        done = 0
        for is_last, restored in _with_last(self._overlap_add(model_blocks())):
            if channels < work:
                restored = restored.mean(axis=0, keepdims=True)
            out = from_model(restored, is_last)
            if is_last:  # rounding in two resamplings: make the length exactly the input's
                out = _fit(out, frames - done)
            out = out[:, : frames - done]
            done += out.shape[1]
            if report:
                report(done, frames)
            if out.shape[1]:
                yield out
        if done < frames:
            # Only an input shorter than one sample at the model's rate gets here (e.g. a
            # single sample at 44.1 kHz for an 8 kHz model): nothing to restore, keep the length.
            if report:
                report(frames, frames)
            yield np.zeros((channels, frames - done), np.float32)

    def _overlap_add(self, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """Cut chunks from a block stream, restore them, cross-fade them back into a block stream."""
        length, hop = self.chunk, self.chunk - self.overlap
        buf: np.ndarray | None = None  # input samples from global index `buf_start` on
        buf_start = start = 0
        acc = np.zeros((0, 0), np.float32)  # output accumulator from global index `acc_start` on
        acc_start = 0
        pending: list[tuple[int, np.ndarray, bool]] = []

        def flush() -> Iterator[np.ndarray]:
            nonlocal acc, acc_start
            for (pos, _, final), out in zip(pending, self._run([c for _, c, _ in pending])):
                if self.overlap and pos > 0:
                    out[:, : self.overlap] *= self._fade
                if self.overlap and not final:
                    out[:, -self.overlap :] *= self._fade[::-1]
                end = pos + out.shape[1]
                grow = end - acc_start - acc.shape[1]
                if grow > 0:
                    acc = np.concatenate([acc, np.zeros((out.shape[0], grow), np.float32)], axis=1)
                acc[:, pos - acc_start : end - acc_start] += out
                ready = end if final else pos + hop  # later chunks only touch samples from pos + hop on
                yield acc[:, : ready - acc_start].copy()
                acc, acc_start = acc[:, ready - acc_start :], ready
            pending.clear()

        def add(pos: int, chunk: np.ndarray, final: bool) -> Iterator[np.ndarray]:
            if pending and (len(pending) == self.batch_size or pending[0][1].shape[1] != chunk.shape[1]):
                yield from flush()
            pending.append((pos, chunk, final))

        for block in blocks:
            if buf is None:
                buf, acc = block, np.zeros((block.shape[0], 0), np.float32)
            else:
                buf = np.concatenate([buf, block], axis=1)
            # A full chunk is cut only when samples exist beyond it, so it is never the last one.
            while buf_start + buf.shape[1] > start + length:
                yield from add(start, buf[:, start - buf_start : start - buf_start + length], False)
                start += hop
                buf, buf_start = buf[:, start - buf_start :], start
        if buf is not None and buf.shape[1]:
            yield from add(start, buf, True)
        if pending:
            yield from flush()

    def _run(self, chunks: list[np.ndarray]) -> list[np.ndarray]:
        """Restore equal-length chunks ``(work_channels, samples)`` as one batch."""
        x = torch.from_numpy(np.stack(chunks)).to(self.device)
        batch, channels, samples = x.shape
        if self.model_channels == 1:  # a mono model restores each channel on its own
            x = x.reshape(batch * channels, 1, samples)
        # CPUs compute bfloat16 natively (AVX512-BF16, AMX) but float16 mostly by emulation.
        half = torch.bfloat16 if self.device.type == "cpu" else torch.float16
        autocast = torch.autocast(self.device.type, dtype=half) if self.half else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            outs = []
            for offset in self.offsets:
                shifted = torch.nn.functional.pad(x, (offset, 0)) if offset else x
                for view in self.views:  # each view is its own inverse
                    seen = view(shifted)
                    out = self.model(seen, self._target) if self.conditional else self.model(seen)
                    outs.append(view(out[..., offset : offset + samples].float()))
            y = outs[0] if len(outs) == 1 else torch.stack(outs).mean(0)
        y = y.reshape(batch, channels, samples).cpu().numpy()
        return list(y)


def _views(channels: int, tta: bool) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    """The input views averaged per chunk: the plain one, then (``tta``) swapped channels and inverted polarity."""
    views: list[Callable[[torch.Tensor], torch.Tensor]] = [lambda x: x]
    if tta:
        if channels == 2:
            views.append(lambda x: x.flip(1))
        views.append(lambda x: -x)
    return views


class _Resampler:
    """Streaming soxr resampler for ``(channels, samples)`` blocks (identity at equal rates)."""

    def __init__(self, sr_in: int, sr_out: int, channels: int) -> None:
        self.stream = (
            soxr.ResampleStream(sr_in, sr_out, channels, dtype="float32") if sr_in != sr_out else None
        )

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        if self.stream is None:
            return block
        out = self.stream.resample_chunk(np.ascontiguousarray(block.T), last=last)
        return np.ascontiguousarray(out.T, dtype=np.float32)


def _check_input(channels: int, sr: int, name: str) -> None:
    if channels > 2:
        raise AudioError(f"{name}: has {channels} channels; restoration takes mono or stereo (downmix first)")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise AudioError(f"{name}: sample rate must be a positive integer, got {sr!r}")


def _read_blocks(f: sf.SoundFile, path: Path, frames: int) -> Iterator[np.ndarray]:
    read = 0
    while True:
        data = f.read(READ_BLOCK, dtype="float32", always_2d=True)
        if not data.shape[0]:
            break
        read += data.shape[0]
        yield check_audio(data.T, str(path))
    if read < frames:
        raise AudioError(f"{path}: truncated file (read {read} of {frames} frames)")


def _with_last(items: Iterable[np.ndarray]) -> Iterator[tuple[bool, np.ndarray]]:
    """Pairs ``(is_last, item)``, so that a stream's final block can flush the resamplers."""
    it = iter(items)
    prev = next(it, None)
    if prev is None:
        return
    for item in it:
        yield False, prev
        prev = item
    yield True, prev


def _tile(block: np.ndarray, channels: int) -> np.ndarray:
    return np.repeat(block, channels, axis=0) if block.shape[0] < channels else block


def _fit(block: np.ndarray, frames: int) -> np.ndarray:
    """Trim or zero-pad ``block`` to ``frames`` samples."""
    if block.shape[1] >= frames:
        return block[:, :frames]
    return np.pad(block, ((0, 0), (0, frames - block.shape[1])))
