"""A RawStems tree on disk: finding songs and stems, the per-class split, the manifest.

Layout, as released (SPEC §4)::

    ROOT/RawStems/<Artist>|<Song>/<Group>/<Code>/**/<file>.{wav,flac,mp3}
    ROOT/RawStems/<Artist>|<Song>/<Group>/**/<file>      (Bass, Synth, Misc, MiscRoom)

A song's id is ``RawStems/<Artist>|<Song>`` whatever the folder above it is
called, exactly as in the paper's split files.
"""

from __future__ import annotations

import json
import math
import os
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stemrestore.audio import AUDIO_EXTENSIONS, audio_info, load_audio
from stemrestore.errors import AudioError, ConfigError, StemRestoreError
from stemrestore.fileio import write_atomic
from stemrestore.taxonomy import GROUPS, class_from_folder, class_ids, group_of

PREFIX = "RawStems"
_GROUP_FOLDERS = {g.code.lower() for g in GROUPS}
MANIFEST_FIELDS = ("song", "class", "path", "sample_rate", "channels", "frames", "duration", "active_seconds")


@dataclass(frozen=True)
class Stem:
    """One stem file and its class id."""

    path: Path
    cls: str
    song_id: str


@dataclass
class Song:
    """One song folder: ``id`` is ``RawStems/<Artist>|<Song>``."""

    id: str
    artist: str
    title: str
    path: Path
    stems: list[Stem] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        """The stems' classes and their groups: every class this song "contains"."""
        return {c for s in self.stems for c in (s.cls, group_of(s.cls))}


@dataclass
class Problem:
    """A file or folder that was skipped, and why (one line)."""

    path: Path
    reason: str


# --- finding songs -----------------------------------------------------------------------------


def _is_song_dir(path: Path) -> bool:
    if not path.is_dir() or path.name.startswith("."):
        return False
    if "|" in path.name:
        return True
    return any(child.is_dir() and child.name.lower() in _GROUP_FOLDERS for child in path.iterdir())


def find_root(root: str | os.PathLike) -> Path:
    """The folder that holds the song folders: ``ROOT/RawStems`` if present, else ``ROOT``."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder")
    for candidate in (root / PREFIX, root):
        if candidate.is_dir() and any(_is_song_dir(p) for p in candidate.iterdir()):
            return candidate
    raise ConfigError(
        f"{root}: no song folders found (expected {root}/{PREFIX}/<Artist>|<Song>/<Group>/<Code>/<file>)"
    )


def song_id(folder_name: str) -> str:
    """``Artist|Song`` -> ``RawStems/Artist|Song``."""
    return f"{PREFIX}/{folder_name}"


def song_path(root: str | os.PathLike, sid: str) -> Path:
    """The folder of song ``sid`` below a RawStems root."""
    return find_root(root) / _strip_prefix(sid)


def _strip_prefix(sid: str) -> str:
    return sid[len(PREFIX) + 1 :] if sid.startswith(PREFIX + "/") else sid


def scan(root: str | os.PathLike, problems: list[Problem] | None = None) -> list[Song]:
    """All songs below ``root`` with their stems, sorted by id and path.

    Files that cannot be placed in the taxonomy (unknown group or code folder,
    a file loose in the song folder) and song folders without stems are skipped
    and, when ``problems`` is given, appended to it. Hidden files (``.*``,
    e.g. macOS ``._Kick.wav``) and non-audio files are ignored.
    """
    base = find_root(root)
    songs = []
    for folder in sorted(p for p in base.iterdir() if _is_song_dir(p)):
        artist, _, title = folder.name.partition("|")
        song = Song(song_id(folder.name), artist if title else "", title or artist, folder)
        for path in sorted(_audio_files(folder)):
            try:
                cls = class_from_folder(path.relative_to(folder).parts[:-1])
            except ConfigError as exc:
                if problems is not None:
                    problems.append(Problem(path, str(exc)))
                continue
            song.stems.append(Stem(path, cls, song.id))
        if song.stems:
            songs.append(song)
        elif problems is not None:
            problems.append(Problem(folder, "song folder holds no labelled audio files"))
    return songs


def _audio_files(folder: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS:
                yield Path(dirpath) / name


# --- split files -------------------------------------------------------------------------------


def read_split(path: str | os.PathLike) -> list[str]:
    """Song ids of a split file, one a line; lines without the ``RawStems/`` prefix get it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such split file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: split file is not UTF-8 text") from None
    return [song_id(_strip_prefix(line.strip())) for line in lines if line.strip()]


def write_split(path: str | os.PathLike, song_ids: Sequence[str]) -> Path:
    """Write song ids one a line (the paper's format), atomically."""
    text = "".join(f"{song_id(_strip_prefix(s))}\n" for s in song_ids)
    return write_atomic(path, text)


def make_split(
    songs: Sequence[Song],
    seed: int = 0,
    *,
    min_test: int = 10,
    test_fraction: float = 0.1,
) -> dict[str, tuple[list[str], list[str]]]:
    """Per class (groups and codes): ``(train_ids, test_ids)``, both sorted.

    The test set takes :func:`n_test_songs` of the songs containing the class,
    drawn at random. Each class draws from its own generator, seeded by ``seed`` and the
    class id, so one class's split never depends on which other classes exist.
    """
    if min_test < 0 or not 0.0 <= test_fraction <= 1.0:
        raise ConfigError(f"split: need min_test >= 0 and 0 <= test_fraction <= 1, got {min_test}, {test_fraction}")
    members: dict[str, set[str]] = {c: set() for c in class_ids()}
    for song in songs:
        for cls in song.classes:
            members[cls].add(song.id)
    splits = {}
    for cls, found in members.items():
        if not found:
            continue
        ids = sorted(found)  # the draw must not depend on the order songs were listed in
        rng = np.random.default_rng([seed, zlib.crc32(cls.encode())])
        test = set(rng.choice(len(ids), size=n_test_songs(len(ids), min_test, test_fraction), replace=False).tolist())
        splits[cls] = ([s for i, s in enumerate(ids) if i not in test], [s for i, s in enumerate(ids) if i in test])
    return splits


def n_test_songs(n_songs: int, min_test: int = 10, test_fraction: float = 0.1) -> int:
    """Test songs of a class found in ``n_songs`` songs: ``min(n, max(min_test, floor(fraction * n)))``.

    The floor reproduces every count of the paper's released split (e.g. 537 Bass songs -> 53).
    """
    return min(n_songs, max(min_test, math.floor(n_songs * test_fraction + 1e-9)))


def write_splits(splits: dict[str, tuple[list[str], list[str]]], out_dir: str | os.PathLike) -> list[Path]:
    """``DIR/<class>_train.txt`` and ``DIR/<class>_test.txt`` for every class."""
    out = Path(out_dir)
    written = []
    for cls, (train, test) in splits.items():
        written.append(write_split(out / f"{cls}_train.txt", train))
        written.append(write_split(out / f"{cls}_test.txt", test))
    return written


# --- activity and the manifest -----------------------------------------------------------------


def segment_powers(audio: np.ndarray, seg: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean square (over channels and samples) and length of consecutive ``seg``-sample segments.

    The last segment may be shorter; it keeps its own length.
    """
    audio = np.atleast_2d(audio)
    n = audio.shape[-1]
    starts = np.arange(0, n, seg)
    sums = np.add.reduceat(np.square(audio, dtype=np.float64).sum(axis=0), starts) if n else np.zeros(0)
    lengths = np.minimum(seg, n - starts)
    return sums / (lengths * audio.shape[0]), lengths


def count_active(powers: np.ndarray, lengths: np.ndarray, peak: float, sr: int, threshold_db: float) -> float:
    """Seconds of the segments whose RMS, after peak normalisation, exceeds ``threshold_db``."""
    if peak <= 0:
        return 0.0
    with np.errstate(divide="ignore"):
        level = 10.0 * np.log10(powers) - 20.0 * math.log10(peak)
    return float(lengths[level > threshold_db].sum()) / sr


def active_seconds(audio: np.ndarray, sr: int, threshold_db: float = -40.0, segment_s: float = 1.0) -> float:
    """Active playing time (paper §3.3): normalise to peak 1, count 1-s segments above -40 dB RMS.

    A trailing segment shorter than ``segment_s`` counts with its own length.
    """
    audio = np.atleast_2d(audio)
    powers, lengths = segment_powers(audio, max(1, round(segment_s * sr)))
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return count_active(powers, lengths, peak, sr, threshold_db)


def measure_stem(path: str | os.PathLike, threshold_db: float = -40.0, block_s: int = 10) -> dict[str, Any]:
    """Header facts and active seconds of one file, read in blocks to bound memory."""
    info = audio_info(path)
    sr = int(info.samplerate)
    block = block_s * sr  # a whole number of 1-s segments, so segments never straddle blocks
    powers, lengths, peak = [], [], 0.0
    frames = 0
    while True:
        audio, _ = load_audio(path, start=frames, frames=block, allow_empty=True)
        if audio.shape[-1] == 0:
            break
        p, n = segment_powers(audio, sr)
        powers.append(p)
        lengths.append(n)
        peak = max(peak, float(np.max(np.abs(audio))))
        frames += audio.shape[-1]
        if audio.shape[-1] < block:
            break
    if frames == 0:
        raise AudioError(f"{path}: contains no samples")
    active = count_active(np.concatenate(powers), np.concatenate(lengths), peak, sr, threshold_db)
    return {
        "sample_rate": sr,
        "channels": int(info.channels),
        "frames": frames,
        "duration": frames / sr,
        "active_seconds": active,
    }


def _measure_job(job: tuple[str, float]) -> dict[str, Any] | str:
    path, threshold_db = job
    try:
        return measure_stem(path, threshold_db)
    except StemRestoreError as exc:
        return str(exc)


@dataclass
class IndexReport:
    """What :func:`index` wrote and what it skipped."""

    out: Path
    songs: int
    stems: int
    problems: list[Problem]


def index(
    root: str | os.PathLike,
    out: str | os.PathLike,
    workers: int | None = None,
    *,
    threshold_db: float = -40.0,
    progress: bool = True,
) -> IndexReport:
    """Write a JSONL manifest, one line per readable stem (fields: :data:`MANIFEST_FIELDS`).

    Files are measured in parallel (``workers`` processes, default: all CPUs;
    1 runs in this process). Unreadable files are skipped and listed in the report.
    """
    from stemrestore.progress import progress_bar

    problems: list[Problem] = []
    stems = [stem for song in scan(root, problems) for stem in song.stems]
    workers = max(1, workers or os.cpu_count() or 1)
    jobs = [(str(stem.path), threshold_db) for stem in stems]
    bar = {"total": len(jobs), "desc": "index", "unit": "file", "disable": not progress}
    if workers == 1 or len(jobs) < 2:
        results = list(progress_bar(map(_measure_job, jobs), **bar))
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            chunk = max(1, min(16, len(jobs) // (workers * 8)))
            results = list(progress_bar(pool.map(_measure_job, jobs, chunksize=chunk), **bar))
    lines, songs = [], set()
    for stem, result in zip(stems, results, strict=True):
        if isinstance(result, str):
            problems.append(Problem(stem.path, result))
            continue
        songs.add(stem.song_id)
        record = {"song": stem.song_id, "class": stem.cls, "path": str(stem.path.absolute()), **result}
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    out = write_atomic(out, "".join(lines))
    return IndexReport(out, len(songs), len(lines), problems)


def read_manifest(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Records of a manifest written by :func:`index`; a malformed line raises :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such manifest") from None
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise ConfigError(f"{path}: line {number} is not JSON") from None
        missing = [f for f in MANIFEST_FIELDS if f not in record] if isinstance(record, dict) else ["all"]
        if missing:
            raise ConfigError(f"{path}: line {number} lacks field '{missing[0]}'")
        records.append(record)
    return records
