"""The paper's corpus analyses (§3.3) of a RawStems tree, as numbers, PNG plots and JSON.

- active playing time per class (from the manifest's per-stem active seconds);
- first- and second-level classes per song, with the share of songs having
  4-6 / 4-9 of them (the paper: 78.9 % and 86.2 %);
- co-occurrence P(B | A) between second-level classes;
- 2-D t-SNE of per-track and per-mixture embeddings (see :mod:`.embeddings`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from stemrestore.data.embeddings import Embedder, LogMelEmbedder, song_excerpts, tsne_2d
from stemrestore.data.rawstems import Problem, Song, index, read_manifest, scan
from stemrestore.fileio import write_atomic
from stemrestore.plots import save_figure
from stemrestore.taxonomy import GROUPS, class_ids, group_of, leaf_ids

#: The paper's figures, written next to ours in the summary.
PAPER = {"share_first_level_4_6": 0.789, "share_second_level_4_9": 0.862}


def active_time(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per class (each stem counts for its class and its group): stems, hours, active hours."""
    table: dict[str, dict[str, float]] = {}
    for record in records:
        for cls in {record["class"], group_of(record["class"])}:
            row = table.setdefault(cls, {"stems": 0, "hours": 0.0, "active_hours": 0.0})
            row["stems"] += 1
            row["hours"] += record["duration"] / 3600.0
            row["active_hours"] += record["active_seconds"] / 3600.0
    return {c: table[c] for c in class_ids() if c in table}


def stems_per_song(songs: Sequence[Song]) -> tuple[list[int], list[int]]:
    """Per song: the number of distinct first-level groups and of distinct second-level classes."""
    first = [len({group_of(s.cls) for s in song.stems}) for song in songs]
    second = [len({s.cls for s in song.stems}) for song in songs]
    return first, second


def share_in_range(counts: Sequence[int], low: int, high: int) -> float:
    """Fraction of ``counts`` within ``[low, high]`` (0 for no counts)."""
    counts = np.asarray(counts)
    return float(np.mean((counts >= low) & (counts <= high))) if counts.size else 0.0


def cooccurrence(songs: Sequence[Song], classes: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """``(classes, P)`` with ``P[a, b]`` = P(song has class b | song has class a).

    ``classes`` defaults to the second-level classes present in ``songs``; a
    class no song has gets a row of NaN.
    """
    present = [{s.cls for s in song.stems} for song in songs]
    if classes is None:
        seen = set().union(*present) if present else set()
        classes = [c for c in leaf_ids() if c in seen]
    has = np.array([[c in p for c in classes] for p in present], dtype=np.float64).reshape(len(present), len(classes))
    both = has.T @ has
    with np.errstate(invalid="ignore", divide="ignore"):
        return list(classes), both / np.diag(both)[:, None]


def embed_corpus(
    songs: Sequence[Song],
    embedder: Embedder,
    seconds: float = 10.0,
    silence_db: float = -60.0,
    problems: list[Problem] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Embeddings of every non-silent track excerpt and of every song's mixture excerpt.

    Returns ``tracks`` (n, d), ``track_classes``, ``mixtures`` (m, d), ``mixture_songs``
    and ``mixture_groups`` (first-level groups per song). Excerpts whose RMS is
    below ``silence_db`` dBFS carry no timbre and are left out.
    """
    from stemrestore.progress import progress_bar

    floor = 10.0 ** (silence_db / 20.0)
    tracks, classes, mixes, mix_songs, mix_groups = [], [], [], [], []
    for song in progress_bar(songs, desc="embed", unit="song", disable=not progress):
        ex = song_excerpts(song, seconds, embedder.sr, problems)
        loud = np.sqrt(np.mean(np.square(ex.tracks, dtype=np.float64), axis=-1)) > floor
        if loud.any():
            tracks.append(embedder(ex.tracks[loud]))
            classes.extend(stem.cls for stem, keep in zip(ex.stems, loud, strict=True) if keep)
        if np.sqrt(np.mean(np.square(ex.mixture, dtype=np.float64))) > floor:
            mixes.append(embedder(ex.mixture[None]))
            mix_songs.append(song.id)
            mix_groups.append(len({group_of(s.cls) for s in ex.stems}))
    return {
        "tracks": np.concatenate(tracks) if tracks else np.zeros((0, 0)),
        "track_classes": classes,
        "mixtures": np.concatenate(mixes) if mixes else np.zeros((0, 0)),
        "mixture_songs": mix_songs,
        "mixture_groups": mix_groups,
    }


# --- plots -------------------------------------------------------------------------------------

_GROUP_COLOUR = {g.code: colormaps["tab10"](i) for i, g in enumerate(GROUPS)}


def plot_active_time(table: dict[str, dict[str, float]], path: str | os.PathLike) -> Path:
    """Horizontal bars: active hours per second-level class, coloured by group."""
    rows = [c for c in leaf_ids() if c in table]
    fig = Figure(figsize=(7, 0.3 * len(rows) + 1.5))
    ax = fig.add_subplot()
    ax.barh(rows, [table[c]["active_hours"] for c in rows], color=[_GROUP_COLOUR[group_of(c)] for c in rows])
    ax.invert_yaxis()
    ax.set_xlabel("active playing time (hours; 1-s segments above -40 dB after peak normalisation)")
    ax.set_title("Active playing time per class")
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def plot_stems_per_song(first: Sequence[int], second: Sequence[int], path: str | os.PathLike) -> Path:
    """Two histograms: first-level groups and second-level classes per song, with the paper's ranges."""
    fig = Figure(figsize=(10, 3.8))
    for i, (counts, (lo, hi), what) in enumerate(((first, (4, 6), "first-level"), (second, (4, 9), "second-level"))):
        ax = fig.add_subplot(1, 2, i + 1)
        top = max(counts, default=1)
        ax.hist(counts, bins=np.arange(0.5, top + 1.5), color="tab:blue", edgecolor="white")
        ax.axvspan(lo - 0.5, hi + 0.5, color="tab:orange", alpha=0.15)
        ax.set_title(f"{what} stems per song: {100 * share_in_range(counts, lo, hi):.1f} % have {lo}-{hi}")
        ax.set_xlabel(f"number of {what} classes")
        ax.set_ylabel("songs")
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def plot_cooccurrence(classes: Sequence[str], matrix: np.ndarray, path: str | os.PathLike) -> Path:
    """Heatmap of P(B | A): row A (given), column B."""
    size = 0.45 * len(classes) + 2.5
    fig = Figure(figsize=(size + 1.2, size))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap="viridis")
    ax.set_xticks(range(len(classes)), classes, rotation=90)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("B")
    ax.set_ylabel("A")
    if len(classes) <= 25:
        for (a, b), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                ax.text(b, a, f"{value:.2f}", ha="center", va="center", fontsize=6,
                        color="black" if value > 0.6 else "white")  # fmt: skip
    ax.set_title("Co-occurrence P(B | A)")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def plot_tsne(points: np.ndarray, labels: Sequence[Any], title: str, path: str | os.PathLike) -> Path:
    """Scatter of 2-D points; string labels get one colour per value, numbers a colour scale."""
    fig = Figure(figsize=(7, 6))
    ax = fig.add_subplot()
    if labels and isinstance(labels[0], str):
        present = dict.fromkeys(labels)
        for value in [g.code for g in GROUPS if g.code in present] + [v for v in present if v not in _GROUP_COLOUR]:
            mask = np.array([label == value for label in labels])
            ax.scatter(*points[mask].T, s=8, color=_GROUP_COLOUR.get(value), label=value)
        ax.legend(fontsize=7, markerscale=2)
    else:
        image = ax.scatter(*points.T, s=10, c=np.asarray(labels, dtype=float), cmap="viridis")
        fig.colorbar(image, ax=ax, label="first-level groups in the song")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


# --- the whole analysis ------------------------------------------------------------------------


def analyze(
    root: str | os.PathLike,
    out: str | os.PathLike,
    *,
    manifest: str | os.PathLike | None = None,
    workers: int | None = None,
    embedder: Embedder | None = None,
    seed: int = 0,
    excerpt_s: float = 10.0,
    max_tracks: int = 2000,
    threshold_db: float = -40.0,
    progress: bool = True,
) -> dict[str, Any]:
    """Run every analysis on the tree at ``root``; write PNGs and ``summary.json`` to ``out``.

    Without ``manifest`` the tree is indexed first (``out/manifest.jsonl``).
    At most ``max_tracks`` track embeddings, drawn with ``seed``, enter the t-SNE.
    Returns the summary.
    """
    out = Path(out)
    problems: list[Problem] = []
    songs = scan(root, problems)
    if manifest is None:
        report = index(root, out / "manifest.jsonl", workers, threshold_db=threshold_db, progress=progress)
        problems = report.problems  # index re-scans, so its list already holds the scan's problems
        manifest = report.out
    records = read_manifest(manifest)
    times = active_time(records)
    first, second = stems_per_song(songs)
    classes, matrix = cooccurrence(songs)
    plots = [
        plot_active_time(times, out / "active_time.png"),
        plot_stems_per_song(first, second, out / "stems_per_song.png"),
        plot_cooccurrence(classes, matrix, out / "cooccurrence.png"),
    ]
    embedder = embedder or LogMelEmbedder()
    emb = embed_corpus(songs, embedder, excerpt_s, problems=problems, progress=progress)
    rng = np.random.default_rng(seed)
    n_tracks = len(emb["track_classes"])
    keep = np.sort(rng.choice(n_tracks, size=min(n_tracks, max_tracks), replace=False))
    tsne = {"tracks": int(keep.size), "mixtures": len(emb["mixture_songs"])}
    if keep.size >= 3:
        groups = [group_of(emb["track_classes"][i]) for i in keep]
        points = tsne_2d(emb["tracks"][keep], seed)
        plots.append(plot_tsne(points, groups, f"t-SNE of track embeddings ({embedder.name})", out / "tsne_tracks.png"))
    if len(emb["mixture_songs"]) >= 3:
        points = tsne_2d(emb["mixtures"], seed)
        title = f"t-SNE of mixture embeddings ({embedder.name})"
        plots.append(plot_tsne(points, emb["mixture_groups"], title, out / "tsne_mixtures.png"))
    summary = {
        "songs": len(songs),
        "stems": sum(len(s.stems) for s in songs),
        "indexed_stems": len(records),
        "hours": sum(r["duration"] for r in records) / 3600.0,
        "active_hours": sum(r["active_seconds"] for r in records) / 3600.0,
        "active_time": times,
        "first_level_per_song": _histogram(first),
        "second_level_per_song": _histogram(second),
        "share_first_level_4_6": share_in_range(first, 4, 6),
        "share_second_level_4_9": share_in_range(second, 4, 9),
        "paper": PAPER,
        "cooccurrence": {"classes": classes, "p_b_given_a": np.round(matrix, 4).tolist()},
        "embedding": embedder.name,
        "tsne_points": tsne,
        "plots": [p.name for p in plots],
        "problems": [{"path": path, "reason": why} for path, why in _first_reasons(problems).items()],
    }
    write_atomic(out / "summary.json", (json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode())
    return summary


def _first_reasons(problems: Sequence[Problem]) -> dict[str, str]:
    """One entry per path: indexing and embedding may both trip over the same file."""
    reasons: dict[str, str] = {}
    for problem in problems:
        reasons.setdefault(str(problem.path), problem.reason)
    return reasons


def _histogram(counts: Sequence[int]) -> dict[str, int]:
    values, freq = np.unique(np.asarray(counts, dtype=int), return_counts=True)
    return {str(v): int(f) for v, f in zip(values, freq, strict=True)}
