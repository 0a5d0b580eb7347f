"""Markdown tables of experiments/beyond_paper.sh from its evaluation summaries.

    python experiments/tables.py runs/beyond > runs/beyond/tables.md
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from stemrestore.evaluate import summarize
from stemrestore.models import load_checkpoint
from stemrestore.models.uformer import count_parameters

METRICS = (("si_sdr", "SI-SDR (dB)", 2), ("mel_ssim", "mel-SSIM", 4), ("multi_mel_snr", "Multi-Mel-SNR (dB)", 2))


def cell(stats: dict, digits: int) -> str:
    return f"{stats['mean']:.{digits}f} ± {stats['ci95']:.{digits}f}"


def summary(root: Path, name: str) -> dict:
    return json.loads((root / "eval" / name / "summary.json").read_text())["estimators"]


def paired_difference(root: Path, name: str, a: str, b: str) -> dict[str, dict]:
    """Mean and 95 % CI of (a - b) per metric over the examples both scored: the models are
    scored on the same examples, so the paired CI is much tighter than the two separate ones."""
    rows: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    with open(root / "eval" / name / "per_example.csv", newline="") as f:
        for row in csv.DictReader(f):
            key = (row["id"], row["segment"])
            rows.setdefault(key, {})[row["estimator"]] = {m: float(row[m]) for m, _, _ in METRICS}
    return {metric: summarize([r[a][metric] - r[b][metric] for r in rows.values() if a in r and b in r])
            for metric, _, _ in METRICS}


def model_size(root: Path, name: str) -> tuple[int, int]:
    """(trainable parameters, bytes on disk) of an exported model."""
    path = root / "models" / f"{name}.safetensors"
    return count_parameters(load_checkpoint(path)), path.stat().st_size


def conditional_table(root: Path, classes: list[str]) -> list[str]:
    lines = ["| class | model | " + " | ".join(label for _, label, _ in METRICS) + " | n |",
             "|---|---|" + "---|" * (len(METRICS) + 1)]
    for c in classes:
        rows = summary(root, f"A-{c}")
        for key, label in (("identity", "identity (the mixture)"), (f"{c}-paper", f"per-class ({c})"),
                           ("conditional", "conditional")):
            metrics = rows[key]["metrics"]
            cells = " | ".join(cell(metrics[m], d) for m, _, d in METRICS)
            lines.append(f"| {c} | {label} | {cells} | {metrics['si_sdr']['n']} |")
        diff = paired_difference(root, f"A-{c}", "conditional", f"{c}-paper")
        cells = " | ".join(f"{diff[m]['mean']:+.{d}f} ± {diff[m]['ci95']:.{d}f}" for m, _, d in METRICS)
        lines.append(f"| {c} | **conditional − per-class** (paired) | {cells} | {diff['si_sdr']['n']} |")
    per_class = [model_size(root, f"{c}-paper") for c in classes]
    cond = model_size(root, "conditional")
    lines += ["", "| | parameters | on disk |", "|---|---|---|",
              f"| {len(classes)} per-class models | {sum(p for p, _ in per_class):,} | "
              f"{sum(b for _, b in per_class) / 1e6:.2f} MB |",
              f"| one conditional model | {cond[0]:,} | {cond[1] / 1e6:.2f} MB |"]
    return lines


def protocol_table(root: Path) -> list[str]:
    lines = ["| trained on ↓ / tested on → | paper test set: SI-SDR | mel-SSIM | studio test set: SI-SDR | mel-SSIM |",
             "|---|---|---|---|---|"]
    tests = [summary(root, "B-paper-test"), summary(root, "B-studio-test")]
    for key, label in (("identity", "identity (the mixture)"), ("Voc-paper", "paper protocol"),
                       ("Voc-studio", "studio protocol")):
        cells = []
        for test in tests:
            metrics = test[key]["metrics"]
            cells += [cell(metrics["si_sdr"], 2), cell(metrics["mel_ssim"], 4)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def main(root: Path) -> None:
    classes = sorted(p.name[2:] for p in (root / "eval").glob("A-*"))
    out = ["## One conditional model vs one model per class", "", *conditional_table(root, classes), "",
           "## Paper vs studio protocol (Voc), 2x2", "", *protocol_table(root), "",
           "Mean ± 95 % confidence interval (1.96·std/√n) over the test examples; a paired row is the",
           "mean and CI of the per-example difference between the two models."]
    print("\n".join(out))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/beyond"))
