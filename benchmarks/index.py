"""Index speed: files/s and audio seconds/s of `stemrestore index` on a generated RawStems tree.

Usage: python benchmarks/index.py [--songs 6] [--stems 10] [--seconds 30] [--workers 1 2]

The tree (44.1 kHz stereo; half 24-bit WAV, half FLAC, like the released data;
each stem a tone with silent gaps so FLAC compresses as on real stems) is
written to a temporary folder and deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from stemrestore.audio import save_audio
from stemrestore.data.rawstems import index
from stemrestore.taxonomy import class_folder, leaf_ids

SR = 44100


def build_tree(root: Path, songs: int, stems: int, seconds: float, seed: int = 0) -> int:
    """Write songs x stems files; returns the number of files."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    classes = leaf_ids()
    for s in range(songs):
        for k in range(stems):
            tone = np.sin(2 * np.pi * rng.uniform(60, 2000) * t) + 0.05 * rng.standard_normal(t.size)
            gate = (np.floor(t / rng.uniform(1, 4)) % 3 != 0).astype(float)  # silent every third bar
            audio = (0.3 * tone * gate)[None].repeat(2, axis=0).astype(np.float32)
            cls = classes[(s + k) % len(classes)]
            ext = ".wav" if k % 2 else ".flac"
            save_audio(root / "RawStems" / f"Artist_{s}|Song_{s}" / class_folder(cls) / f"Stem_{k}{ext}", audio, SR,
                       subtype="PCM_24")  # fmt: skip
    return songs * stems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=6)
    parser.add_argument("--stems", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stemrestore-bench-") as tmp:
        root = Path(tmp)
        files = build_tree(root, args.songs, args.stems, args.seconds)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        print(f"tree: {files} files x {args.seconds:g} s, 44.1 kHz stereo, {size:.0f} MB; {os.cpu_count()} CPUs")
        for workers in args.workers:
            start = time.perf_counter()
            report = index(root, root / "manifest.jsonl", workers, progress=False)
            elapsed = time.perf_counter() - start
            assert report.stems == files and not report.problems, report.problems
            print(
                f"workers={workers}: {elapsed:.2f} s, {files / elapsed:.1f} files/s, "
                f"{files * args.seconds / elapsed:.0f} audio-s/s ({files * args.seconds / elapsed / 3600:.2f} h/s)",
                flush=True,
            )
    sys.exit(0)


if __name__ == "__main__":
    main()
