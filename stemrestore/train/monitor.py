"""What a training run shows and records (rank 0 only).

- a tqdm progress bar on stderr with the loss (tqdm adds steps/s);
- TensorBoard events in ``RUN_DIR/tensorboard``: losses, learning rates,
  throughput, validation metrics, audio examples and mel-spectrogram images;
- ``RUN_DIR/metrics.jsonl``: the same scalars, one JSON object per logged step,
  for scripts and tests;
- ``RUN_DIR/train.log``: messages (skipped steps, checkpoints, validation).

On resume, records from steps after the checkpoint (written before a crash
and then lost) are dropped, so every file tells one consistent history.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from stemrestore.progress import progress_bar

from stemrestore.fileio import write_atomic
from stemrestore.train.config import TrainConfig

METRICS_FILE = "metrics.jsonl"
LOG_FILE = "train.log"


class Monitor:
    """Progress, TensorBoard and text logs; every method is a no-op when ``enabled`` is False."""

    def __init__(self, run_dir: Path, config: TrainConfig, start_step: int, enabled: bool) -> None:
        self.enabled = enabled
        self.run_dir = run_dir
        self.sr = config.model.sample_rate
        self.writer = None
        self.bar = None
        if not enabled:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        _truncate_after(run_dir / METRICS_FILE, start_step)
        if config.logging.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=start_step or None)
        if config.logging.progress:
            self.bar = progress_bar(
                total=config.schedule.max_steps, initial=start_step, unit="step", dynamic_ncols=True
            )
        self._log = open(run_dir / LOG_FILE, "a", encoding="utf-8")

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}"
        self._log.write(line + "\n")
        self._log.flush()
        (self.bar.write if self.bar else print)(text)

    def progress(self, step: int, loss: float | None) -> None:
        if self.bar is None:
            return
        self.bar.update(step - self.bar.n)
        if loss is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        with open(self.run_dir / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, **values}) + "\n")
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(key, value, step)

    def examples(self, step: int, examples: list[tuple[str, dict[str, np.ndarray]]]) -> None:
        """Audio of each signal and one mel-spectrogram comparison image per example."""
        if self.writer is None:
            return
        from matplotlib.image import imread

        from stemrestore.plots import mel_comparison_png

        folder = self.run_dir / "samples"
        for example_id, signals in examples:
            for name, audio in signals.items():
                # TensorBoard plays mono: the channel mean, clipped as a player would.
                mono = np.clip(audio.mean(axis=0), -1.0, 1.0)
                self.writer.add_audio(f"{example_id}/{name}", mono, step, sample_rate=self.sr)
            png = mel_comparison_png(signals, self.sr, folder / f"step_{step:06d}_{example_id}.png")
            self.writer.add_image(f"{example_id}/mel", imread(png)[..., :3], step, dataformats="HWC")

    def close(self) -> None:
        if not self.enabled:
            return
        if self.writer is not None:
            self.writer.close()
        if self.bar is not None:
            self.bar.close()
        self._log.close()


def _truncate_after(path: Path, step: int) -> None:
    """Keep only the records of steps up to ``step`` (the point a resumed run continues from)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= step:
                kept.append(line)
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # the half line a killed process can leave at the end
    write_atomic(path, "".join(line + "\n" for line in kept))
