"""Speed and memory of U-Former restoration on the CPU, against the paper's reference inference.

The paper's inference script cuts a song into 5-second chunks with 50 % overlap
(2.5-s hop, Hann-weighted overlap-add normalised by the summed window, reflect
padding at the end) and runs them one at a time under ``torch.no_grad`` with its
classic NCHW network. :class:`stemrestore.restore.Restorer` uses 10-s chunks with
25 % cross-fades, ``inference_mode`` and a channels-last network.

Reported: single-call network times, the real-time factor (processing time /
audio duration) of both loops on the same synthetic stereo song and the
speed-up, and the peak RSS of restoring a long song file to file, measured in a
fresh subprocess so that nothing else is counted. Speed does not depend on the
weights, so a randomly initialised default U-Former is used unless --checkpoint
is given.

    python benchmarks/restore.py [--seconds 60] [--long-seconds 600] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from stemrestore.models import UFormer, load_checkpoint
from stemrestore.restore import Restorer

SR = 44100


def synthetic_song(seconds: float, seed: int = 0) -> np.ndarray:
    """Stereo test signal: a few drifting partials over noise, float32 (2, samples)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    song = 0.05 * rng.standard_normal((2, t.size))
    for f in rng.uniform(80, 4000, 6):
        song += 0.1 * np.sin(
            2 * np.pi * f * t * (1 + 0.01 * np.sin(0.3 * t)) + rng.uniform(0, 2 * np.pi, (2, 1))
        )
    return song.astype(np.float32)


def reference_inference(
    model: torch.nn.Module, x: np.ndarray, chunk_s: float = 5.0, hop_s: float = 2.5
) -> np.ndarray:
    """The paper's inference loop: 5-s chunks, 50 % overlap, Hann OLA, one chunk at a time."""
    n = x.shape[1]
    chunk, hop = int(SR * chunk_s), int(SR * hop_s)
    if n <= chunk:
        with torch.no_grad():
            return model(torch.from_numpy(x[None])).squeeze(0).numpy()
    pad = -(n - chunk) % hop
    x_pad = np.pad(x, ((0, 0), (0, pad)), mode="reflect")
    window = np.hanning(chunk)[None, :]
    out, norm = np.zeros_like(x_pad, dtype=np.float64), np.zeros((1, x_pad.shape[1]))
    for i in range(1 + (x_pad.shape[1] - chunk) // hop):
        s = i * hop
        seg = x_pad[:, s : s + chunk].astype(np.float32)
        with torch.no_grad():
            y = model(torch.from_numpy(seg[None])).squeeze(0).numpy()
        out[:, s : s + chunk] += y * window
        norm[:, s : s + chunk] += window
    return (out / (norm + 1e-8))[:, :n].astype(np.float32)


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def network_times(model: UFormer) -> list[str]:
    rows = []
    for channels_last in (False, True):
        model.use_channels_last(channels_last)
        for seconds in (1, 10):
            x = torch.from_numpy(synthetic_song(seconds)[None])
            with torch.inference_mode():
                model(x)  # warm-up: oneDNN builds its kernels for the shape
                best = min(timed(model, x)[0] for _ in range(2))
            layout = "channels-last (stemrestore)" if channels_last else "NCHW (paper's layout)"
            rows.append(f"| {layout} | {seconds} s stereo | {best:.2f} s |")
    return rows


def child_restore(checkpoint: str | None, src: str, dst: str, threads: int) -> None:
    """Run in a fresh process: restore src -> dst, print elapsed seconds and peak RSS as JSON."""
    torch.set_num_threads(threads)
    model = load_checkpoint(checkpoint) if checkpoint else UFormer().eval()
    elapsed, _ = timed(Restorer(model, device="cpu", tta=False).restore_file, src, dst)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"elapsed": elapsed, "peak_rss_gb": peak_kb / 1e6}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="song length for the RTF comparison")
    parser.add_argument(
        "--long-seconds", type=float, default=600.0, help="song length for peak RSS (0: skip)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", help="time a real checkpoint instead of random weights")
    parser.add_argument("--skip-network", action="store_true", help="skip single-call network timings")
    parser.add_argument("--child", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_restore(args.checkpoint, *args.child, threads=args.threads)

    torch.set_num_threads(args.threads)
    model = load_checkpoint(args.checkpoint) if args.checkpoint else UFormer().eval()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    if not args.skip_network:
        print("| network | input | time |\n|---|---|---|")
        print("\n".join(network_times(model)) + "\n")

    song = synthetic_song(args.seconds, seed=1)
    # Each run is warmed up on its chunk shape first: oneDNN's one-time kernel set-up is not the loop's cost.
    model.use_channels_last(False)
    reference_inference(model, song[:, : 5 * SR])
    ref_time, _ = timed(reference_inference, model, song)
    model.use_channels_last(True)
    # One pass per chunk, as the reference script: a checkpoint's recommended TTA would triple the work.
    restorer = Restorer(model, device="cpu", tta=False)
    restorer.restore(song[:, : restorer.chunk], SR)
    ours_time, ours = timed(restorer.restore, song, SR)
    half = Restorer(model, device="cpu", tta=False, half=True)
    half.restore(song[:, : half.chunk], SR)
    half_time, half_out = timed(half.restore, song, SR)
    half_error = 10 * np.log10(np.sum((half_out - ours) ** 2) / max(float(np.sum(ours**2)), 1e-20))
    print(f"| {args.seconds:.0f}-s stereo song | time | real-time factor |\n|---|---|---|")
    print(
        f"| paper's reference inference (5-s chunks, 50 % overlap, NCHW) | {ref_time:.1f} s | {ref_time / args.seconds:.3f} |"
    )
    print(
        f"| stemrestore Restorer (10-s chunks, 25 % overlap) | {ours_time:.1f} s | {ours_time / args.seconds:.3f} |"
    )
    half_rtf = half_time / args.seconds
    print(f"| stemrestore Restorer, half=True (bfloat16 on the CPU) | {half_time:.1f} s | {half_rtf:.3f} |")
    print(f"\nspeed-up: {ref_time / ours_time:.2f}x; bfloat16 against float32: {ours_time / half_time:.2f}x,")
    print(f"its output differing from float32's by {half_error:.1f} dB (energy of the difference)\n")

    if args.long_seconds > 0:
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "long.wav", Path(tmp) / "long_out.wav"
            with sf.SoundFile(
                src, "w", SR, 2, "PCM_16"
            ) as f:  # written in pieces: the benchmark stays small too
                for start in range(0, int(args.long_seconds), 60):
                    f.write(synthetic_song(min(60.0, args.long_seconds - start), seed=start).T * 0.8)
            cmd = [sys.executable, __file__, "--child", str(src), str(dst), "--threads", str(args.threads)]
            if args.checkpoint:
                cmd += ["--checkpoint", args.checkpoint]
            result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        print(
            f"{args.long_seconds:.0f}-s stereo song, file to file: {result['elapsed']:.0f} s "
            f"(real-time factor {result['elapsed'] / args.long_seconds:.3f}), peak RSS {result['peak_rss_gb']:.2f} GB"
        )


if __name__ == "__main__":
    main()
