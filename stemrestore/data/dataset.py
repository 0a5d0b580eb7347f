"""The online training dataset: SPEC §3 applied on the fly to windows of ONE song.

The paper's reference code pooled target and background stems across songs,
which mixes unrelated keys and tempi; here every example comes from a single
song, as a produced mixture does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from stemrestore.audio import load_audio, resample, rms_db, to_stereo
from stemrestore.data.rawstems import Song, read_split, scan
from stemrestore.degrade import DegradationProtocol, Example
from stemrestore.errors import AudioError, ConfigError
from stemrestore.taxonomy import matches, validate_class


@dataclass(frozen=True)
class StemInfo:
    path: Path
    cls: str
    sr: int
    frames: int


@dataclass(frozen=True)
class SongEntry:
    id: str
    path: Path
    targets: tuple[StemInfo, ...]
    others: tuple[StemInfo, ...]
    seconds: float


def readable_stems(song: Song) -> list[StemInfo]:
    """The song's stems that soundfile can open (the index command reports the others)."""
    infos = []
    for stem in song.stems:
        try:
            info = sf.info(str(stem.path))
        except (sf.LibsndfileError, RuntimeError):
            continue
        infos.append(StemInfo(stem.path, stem.cls, int(info.samplerate), int(info.frames)))
    return infos


def song_entry(song: Song, stems: Sequence[StemInfo], cls: str) -> SongEntry:
    """The song seen by a model of class ``cls``: its stems of that class, and the rest."""
    targets = tuple(s for s in stems if matches(s.cls, cls))
    others = tuple(s for s in stems if not matches(s.cls, cls))
    seconds = max((s.frames / s.sr for s in stems), default=0.0)
    return SongEntry(song.id, Path(song.path), targets, others, seconds)


@dataclass
class Draw:
    """One drawn training example before degradation: what was picked and where."""

    song: str
    start_seconds: float
    target_stems: list[str]
    background_stems: list[str]
    target: np.ndarray
    background: np.ndarray

    def record(self) -> dict:
        return {
            "song": self.song,
            "start_seconds": self.start_seconds,
            "target_stems": self.target_stems,
            "background_stems": self.background_stems,
        }


class MSRDataset(torch.utils.data.Dataset):
    """Items are ``(mixture, target)`` float32 tensors ``(2, N)``.

    Item ``i`` of epoch ``e`` is drawn from ``default_rng([seed, e, i])``: the
    same (seed, epoch, index) always gives the same example, and DataLoader
    workers (which each handle different indices) never share a stream.

    ``items_per_epoch`` defaults to the number of songs; the paper trains by
    steps, not epochs, so this only sets how often ``set_epoch`` reshuffles.
    Windows whose target is quieter than ``silence_db`` (RMS, dBFS) are redrawn
    up to ``max_redraws`` times, then the last draw is kept: a silent target
    is a valid (if uninformative) example and a bounded loop cannot hang.
    ``songs`` (entries already scanned for ``target``) skips scanning ``root``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        target: str = "Voc",
        split_file: str | os.PathLike | None = None,
        segment_seconds: float = 10.0,
        sr: int = 44100,
        protocol: DegradationProtocol | None = None,
        seed: int = 0,
        items_per_epoch: int | None = None,
        silence_db: float = -60.0,
        max_redraws: int = 20,
        target_probability: float = 0.5,
        background_probability: float = 0.5,
        songs: Sequence[SongEntry] | None = None,
    ) -> None:
        self.target = validate_class(target)
        self.segment_seconds = float(segment_seconds)
        self.sr = int(sr)
        self.protocol = protocol or DegradationProtocol()
        self.seed = int(seed)
        self.silence_db = float(silence_db)
        self.max_redraws = int(max_redraws)
        self.target_probability = float(target_probability)
        self.background_probability = float(background_probability)
        self.epoch = 0
        if self.segment_seconds <= 0:
            raise ConfigError(f"segment_seconds must be positive, got {segment_seconds}")
        if songs is None:
            found = scan(root)
            if split_file is not None:
                wanted = set(read_split(split_file))
                found = [s for s in found if s.id in wanted]
            songs = [song_entry(s, readable_stems(s), self.target) for s in found]
        self.songs = [e for e in songs if e.targets]
        if not self.songs:
            where = f" listed in {split_file}" if split_file else ""
            raise ConfigError(f"{root}: no song{where} has a stem of class {self.target}")
        self.items_per_epoch = int(items_per_epoch or len(self.songs))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.items_per_epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        example = self.example(index)
        return torch.from_numpy(example.mixture), torch.from_numpy(example.target)

    def example(self, index: int, epoch: int | None = None) -> Example:
        """The degraded example of ``index``, with ``params`` recording the draw too."""
        epoch = self.epoch if epoch is None else epoch
        rng = np.random.default_rng([self.seed, epoch, index])
        draw = self.draw(rng)
        example = self.protocol(draw.target, draw.background, sr=self.sr, seed=rng, target_class=self.target)
        example.params["source"] = draw.record()
        return example

    def draw(self, rng: np.random.Generator) -> Draw:
        """Pick song, window and stems; redraw while the target is silent (bounded)."""
        draw = None
        for _ in range(self.max_redraws + 1):
            song = self.songs[int(rng.integers(len(self.songs)))]
            draw = self._draw_from(song, rng)
            if rms_db(draw.target) > self.silence_db:
                break
        return draw

    def _draw_from(self, song: SongEntry, rng: np.random.Generator) -> Draw:
        n = int(round(self.segment_seconds * self.sr))
        slack = max(song.seconds - self.segment_seconds, 0.0)
        start = float(rng.uniform(0.0, slack)) if slack > 0 else 0.0
        targets = _subset(song.targets, self.target_probability, rng)
        others = _subset(song.others, self.background_probability, rng)
        return Draw(
            song=song.id,
            start_seconds=round(start, 6),
            # Relative to the song folder, so a record stays valid on another machine.
            target_stems=[s.path.relative_to(song.path).as_posix() for s in targets],
            background_stems=[s.path.relative_to(song.path).as_posix() for s in others],
            target=self._sum(targets, start, n),
            background=self._sum(others, start, n),
        )

    def _sum(self, stems: list[StemInfo], start: float, n: int) -> np.ndarray:
        total = np.zeros((2, n), np.float32)
        for stem in stems:
            total += read_window(stem.path, start, n, self.sr, stem.sr)
        return total


def read_window(path: Path, start_seconds: float, n: int, sr: int, file_sr: int | None = None) -> np.ndarray:
    """``n`` stereo samples at ``sr`` from ``start_seconds``, reading only that window.

    Short files are zero-padded; mono is duplicated; other rates are resampled.
    """
    file_sr = file_sr or sf.info(str(path)).samplerate
    first = int(round(start_seconds * file_sr))
    frames = int(np.ceil(n * file_sr / sr)) + (0 if file_sr == sr else 16)
    audio, _ = load_audio(path, start=first, frames=frames, allow_empty=True)
    if audio.shape[0] > 2:
        raise AudioError(f"{path}: {audio.shape[0]} channels; stems must be mono or stereo")
    audio = to_stereo(audio)
    if file_sr != sr and audio.shape[1]:
        audio = resample(audio, file_sr, sr)
    out = np.zeros((2, n), np.float32)
    take = min(n, audio.shape[1])
    out[:, :take] = audio[:, :take]
    return out


def _subset(stems: tuple[StemInfo, ...], p: float, rng: np.random.Generator) -> list[StemInfo]:
    """Each stem with probability ``p``, at least one when any exist."""
    if not stems:
        return []
    keep = rng.random(len(stems)) < p
    if not keep.any():
        keep[int(rng.integers(len(stems)))] = True
    return [s for s, k in zip(stems, keep) if k]

