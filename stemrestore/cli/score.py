"""stemrestore score: every metric for one estimate/reference pair."""

from __future__ import annotations

import argparse

NAME = "score"
HELP = "print mel-SSIM, SI-SDR and Multi-Mel-SNR of one estimate against its reference"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--estimate", required=True, help="restored audio file")
    p.add_argument("--reference", required=True, help="clean reference audio file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from stemrestore.audio import load_audio, resample
    from stemrestore.metrics import METRICS, match_pair, score

    reference, sr = load_audio(args.reference)
    estimate, est_sr = load_audio(args.estimate)
    if est_sr != sr:
        print(f"stemrestore score: warning: estimate resampled from {est_sr} Hz to the reference's {sr} Hz",
              file=sys.stderr)
        estimate = resample(estimate, est_sr, sr)
    estimate, reference, notes = match_pair(estimate, reference, sr)
    for note in notes:
        print(f"stemrestore score: warning: {note}", file=sys.stderr)
    values = score(estimate, reference, sr)
    if args.json:
        print(json.dumps({**values, "sample_rate": sr, "seconds": reference.shape[1] / sr}))
    else:
        width = max(len(m.label) for m in METRICS)
        for m in METRICS:
            print(f"{m.label:<{width}}  {values[m.key]:.4f}")
    return 0
