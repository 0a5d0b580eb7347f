"""Write a synthetic corpus to disk in the RawStems layout.

``ROOT/RawStems/<Artist>|<Song>/<Group>/<Code>/<Stem>.wav`` (``<Group>`` alone
for Bass and Synth), 24-bit WAV, plus a ``song.json`` per song folder with the
plan (seed, tempo, key, chords, classes, renderer). Song ``i`` depends only on
``(seed, i)`` and the settings, so a larger corpus extends a smaller one, and
songs already on disk with identical settings are kept rather than redone.
"""

from __future__ import annotations

import json
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import partial
from pathlib import Path

from stemrestore.audio import save_audio
from stemrestore.data.synth.catalog import CLASS_IDS
from stemrestore.data.synth.music import plan_song, song_seed
from stemrestore.data.synth.render import RENDERERS, render_plan
from stemrestore.errors import ConfigError

SUBTYPE = "PCM_24"  #: what studio multitracks are delivered as
MIN_SECONDS = 1.0
MIN_SR = 22050  #: below this the cymbals' and shakers' bands would not fit under Nyquist


def song_folder_name(index: int) -> str:
    """RawStems song folder (``<Artist>|<Song>``) of song ``index``."""
    return f"Synthetic Artist {index:03d}|Song {index:03d}"


def check_settings(n_songs: int, seconds: float, seed: int, renderer: str, sr: int,
                   classes: tuple[str, ...] | list[str] | None) -> None:
    """Raise :class:`ConfigError` (one line, naming the setting) for unusable settings."""
    if not isinstance(n_songs, int) or n_songs < 1:
        raise ConfigError(f"songs: must be a positive integer, got {n_songs!r}")
    if not seconds >= MIN_SECONDS:
        raise ConfigError(f"seconds: must be at least {MIN_SECONDS:g}, got {seconds!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed: must be a non-negative integer, got {seed!r}")
    if renderer not in RENDERERS:
        raise ConfigError(f"renderer: expected one of {', '.join(RENDERERS)}, got {renderer!r}")
    if not isinstance(sr, int) or not MIN_SR <= sr <= 192000:
        raise ConfigError(f"sr: must be an integer sample rate in {MIN_SR}..192000, got {sr!r}")
    if classes is not None:
        unknown = [c for c in classes if c not in CLASS_IDS]
        if unknown or not classes:
            raise ConfigError(f"classes: unknown class id(s) {', '.join(unknown) or '(none given)'}; "
                              f"choose from {', '.join(CLASS_IDS)}")


def generate_corpus(
    out_root: str | os.PathLike,
    n_songs: int,
    seconds: float,
    seed: int,
    renderer: str = "soundfont",
    sr: int = 44100,
    soundfont: str | os.PathLike | None = None,
    classes: tuple[str, ...] | list[str] | None = None,
    progress: bool = True,
    workers: int = 1,
) -> list[Path]:
    """Write ``n_songs`` songs of ``seconds`` seconds under ``out_root/RawStems``; return the song folders.

    ``classes`` restricts the pool each song's 4-9 classes are drawn from.
    A held-out corpus is one made with a different ``seed`` (song seeds are
    hashes of ``(seed, index)``, so two corpora share no song). ``workers`` > 1
    renders that many songs at once in separate processes; each song depends
    only on its own seed, so the files are the same for any number of workers.
    """
    from stemrestore.progress import progress_bar

    check_settings(n_songs, seconds, seed, renderer, sr, classes)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers: must be a positive integer, got {workers!r}")
    if soundfont is not None and renderer != "soundfont":
        raise ConfigError(f"soundfont: only the soundfont renderer uses one (renderer is {renderer!r})")
    root = Path(out_root) / "RawStems"
    write = partial(_write_song, root, seed=seed, seconds=float(seconds), classes=classes, renderer=renderer,
                    sr=sr, soundfont=soundfont)
    bar = progress_bar(total=n_songs, desc="synth", unit="song", disable=not progress)
    with bar:
        if workers == 1:
            for index in range(n_songs):
                write(index)
                bar.update()
        else:
            with ProcessPoolExecutor(min(workers, n_songs)) as pool:
                for future in as_completed([pool.submit(write, index) for index in range(n_songs)]):
                    future.result()  # a worker's error is raised here
                    bar.update()
    return [root / song_folder_name(index) for index in range(n_songs)]


def _write_song(root: Path, index: int, *, seed: int, seconds: float, classes: tuple[str, ...] | list[str] | None,
                renderer: str, sr: int, soundfont: str | os.PathLike | None) -> None:
    """Render song ``index`` into its folder, unless the very same song is already there."""
    plan = plan_song(song_seed(seed, index), seconds, classes)
    summary = {**plan.summary(), "corpus_seed": seed, "index": index, "renderer": renderer, "sr": sr,
               "soundfont": Path(soundfont).name if soundfont is not None else None}
    folder = root / song_folder_name(index)
    if _up_to_date(folder, summary):
        return
    stems = render_plan(plan, sr, renderer, soundfont)
    for part in plan.parts:
        for name, audio in stems[part.class_id]:
            save_audio(folder / part.folder / name, audio, sr, subtype=SUBTYPE)
    _write_json(folder / "song.json", summary)  # last: its presence marks a finished song


def _up_to_date(folder: Path, summary: dict) -> bool:
    """True when ``folder`` already holds this very song; an error when it holds a different one."""
    path = folder / "song.json"
    if not path.is_file():
        return False
    try:
        existing = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if existing == json.loads(json.dumps(summary)):
        return True
    raise ConfigError(f"{folder}: already holds a different synthetic song (other seed or settings); "
                      "use another --out folder")


def _write_json(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".song.", suffix=".json.tmp", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)
