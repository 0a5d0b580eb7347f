"""The offline test set (paper §4.3): test songs run through the protocol N times.

Layout: ``DIR/<id>/{mixture.flac, target.flac, params.json}`` plus
``DIR/index.jsonl`` (one line per example: id, mixture, target, params, song,
class). Example ``i`` is drawn from ``default_rng([seed, i])``, so re-running
gives identical files and any single example can be re-created from its
``params.json`` (which records the song, window, stems and every degradation).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
from stemrestore.progress import progress_bar

from stemrestore.audio import save_audio
from stemrestore.data.dataset import MSRDataset
from stemrestore.degrade import DegradationProtocol
from stemrestore.fileio import write_atomic

INDEX_NAME = "index.jsonl"


def make_testset(
    root: str | os.PathLike,
    out: str | os.PathLike,
    *,
    target: str = "Voc",
    n: int = 1000,
    split_file: str | os.PathLike | None = None,
    seed: int = 0,
    segment_seconds: float = 10.0,
    sr: int = 44100,
    protocol: DegradationProtocol | None = None,
    progress: bool = True,
    on_example: Callable[[int], None] | None = None,
) -> Path:
    """Write ``n`` degraded examples of ``target`` to ``out`` and return the index path."""
    dataset = MSRDataset(
        root,
        target=target,
        split_file=split_file,
        segment_seconds=segment_seconds,
        sr=sr,
        protocol=protocol,
        seed=seed,
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    width = max(6, len(str(n - 1)))
    lines = []
    for i in progress_bar(range(n), desc=f"test set {dataset.target}", unit="ex", disable=not progress):
        rng = np.random.default_rng([seed, i])
        draw = dataset.draw(rng)
        example = dataset.protocol(draw.target, draw.background, sr=sr, seed=rng, target_class=dataset.target)
        example_id = f"{i:0{width}d}"
        folder = out / example_id
        save_audio(folder / "mixture.flac", example.mixture, sr)
        save_audio(folder / "target.flac", example.target, sr)
        params = {"id": example_id, "class": dataset.target, "seed": [seed, i], "sample_rate": sr}
        params.update(source=draw.record(), degradation=example.params)
        write_atomic(folder / "params.json", json.dumps(params, indent=1))
        lines.append(
            {
                "id": example_id,
                "mixture": f"{example_id}/mixture.flac",
                "target": f"{example_id}/target.flac",
                "params": f"{example_id}/params.json",
                "song": draw.song,
                "class": dataset.target,
            }
        )
        if on_example:
            on_example(i)
    index = out / INDEX_NAME
    write_atomic(index, "".join(json.dumps(line) + "\n" for line in lines))
    return index

