"""Synthesis speed of ``stemrestore synth``: times faster than real time, per core.

Renders ``--songs`` songs of ``--seconds`` seconds with each renderer on one
thread and reports song-seconds per CPU-second (``x real time per core``), the
wall-clock figure, and the cost of writing a corpus (24-bit WAVs) with the
default renderer. Run: ``python benchmarks/synth.py [--songs 12] [--seconds 10]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread: the figure is per core

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from stemrestore.data.synth import RENDERERS, generate_corpus, render_song, song_seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    song_time = args.songs * args.seconds
    for renderer in RENDERERS:
        render_song(song_seed(args.seed, 0), 2.0, renderer=renderer)  # warm-up: SoundFont load, FFT plans
        cpu = wall = 0.0
        stems = 0
        for index in range(args.songs):
            c0, w0 = time.process_time(), time.perf_counter()
            out = render_song(song_seed(args.seed, index), args.seconds, renderer=renderer)
            cpu += time.process_time() - c0
            wall += time.perf_counter() - w0
            stems += sum(len(files) for files in out.values())
        print(f"{renderer:>10}: {song_time / cpu:6.1f}x real time per core (CPU time), "
              f"{song_time / wall:6.1f}x wall clock; {args.songs} songs x {args.seconds:g} s, "
              f"{stems / args.songs:.1f} stem files per song")
    with tempfile.TemporaryDirectory() as root:
        c0, w0 = time.process_time(), time.perf_counter()
        generate_corpus(root, args.songs, args.seconds, args.seed, progress=False)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    print(f"{'corpus':>10}: {song_time / cpu:6.1f}x real time per core incl. writing 24-bit WAVs "
          f"(soundfont), {song_time / wall:6.1f}x wall clock")


if __name__ == "__main__":
    main()
