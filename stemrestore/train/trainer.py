"""The training run: data, steps, checkpoints, validation, logs, export.

One :class:`Trainer` per process. It resumes from the newest checkpoint of the
run folder when asked, feeds the :class:`~stemrestore.train.step.Learner` one
global batch per step (stage 1 until ``schedule.stage2_step``, then stage 2),
and on rank 0 writes a checkpoint every ``checkpoint.every`` steps and at the
end, validates every ``validation.every`` steps (keeping ``best.pt``), and
finally exports the generator in the inference format.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stemrestore.config import save_yaml, to_dict
from stemrestore.errors import ConfigError, StemRestoreError
from stemrestore.models.checkpoint import describe_origin, init_weights, origin_of, training_summary
from stemrestore.models.checkpoint import save_checkpoint as export_checkpoint  # Trainer has its own save_checkpoint
from stemrestore.models.conditional import is_conditional
from stemrestore.taxonomy import validate_class
from stemrestore.train import checkpointing as ckpt
from stemrestore.train import distributed as dist
from stemrestore.train.config import TrainConfig
from stemrestore.train.data import DatasetFactory, Position, make_loader, msr_dataset
from stemrestore.train.monitor import Monitor
from stemrestore.train.step import Learner
from stemrestore.train.validation import load_validation_set, validate

CONFIG_FILE = "config.yaml"


class TrainingError(StemRestoreError):
    """A run that cannot go on (e.g. the loss stayed non-finite)."""


@dataclass
class TrainResult:
    step: int  #: steps completed
    checkpoint: Path | None  #: newest checkpoint written (rank 0) or resumed from
    export: Path | None  #: inference checkpoint of the final generator (rank 0)
    best: dict[str, Any] | None  #: {"metric", "value", "step"} of the best validation so far


class Trainer:
    """Trains one U-Former for ``config.data.target`` into ``run_dir``.

    With ``model.kind: conditional`` it trains one conditional U-Former for every
    class the data draws (``data.target`` becomes its default class).

    ``dataset_factory`` builds the training dataset from the config (default:
    the online-protocol ``MSRDataset``); ``ctx`` is for callers that set up
    the processes themselves (default: from ``torchrun``'s environment).
    """

    def __init__(
        self,
        config: TrainConfig,
        run_dir: str | Path,
        *,
        resume: bool = False,
        dataset_factory: DatasetFactory = msr_dataset,
        ctx: dist.Context | None = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self._owns_ctx = ctx is None
        self.ctx = ctx or dist.setup(config.runtime.device)
        if config.runtime.threads:
            torch.set_num_threads(config.runtime.threads)
        self.learner = Learner(config, self.ctx)
        self.step = 0
        self.position = Position()
        self.best: dict[str, Any] | None = None
        self.origin: dict[str, str] | None = None  #: describe_origin() of checkpoint.init_from
        self.last_checkpoint: Path | None = None
        self.nonfinite = 0
        self.stopped_early = False  #: set when ``schedule.max_minutes`` ended the run
        resumed = self._resume() if resume else None
        if not resume and ckpt.step_checkpoints(self.run_dir):
            raise ConfigError(
                f"{self.run_dir}: already holds checkpoints; pass --resume to continue it or choose another --out"
            )
        kept = None
        if resumed is None and config.checkpoint.init_from:
            kept = init_weights(self.generator, config.checkpoint.init_from)
            self.origin = describe_origin(config.checkpoint.init_from)
        self.dataset = dataset_factory(config)
        self.monitor = Monitor(self.run_dir, config, self.step, self.ctx.is_main)
        if self.ctx.is_main:
            ckpt.remove_temporaries(self.run_dir)
            save_yaml(config, self.run_dir / CONFIG_FILE)
            if resumed:
                self.monitor.message(f"resumed from {resumed} at step {self.step}")
            elif kept is not None:
                fresh = f" (new or widened: {_name_list(kept)})" if kept else ""
                self.monitor.message(f"weights from {config.checkpoint.init_from}{fresh}")
            if self.ctx.device.type == "cpu" and config.runtime.cpu_precision == "bf16" and not _native_bf16():
                self.monitor.message(
                    "runtime.cpu_precision=bf16 on a CPU without native bf16 (AVX512-BF16 or AMX): "
                    "it is emulated and likely slower than fp32"
                )
        self.val_pairs = load_validation_set(config) if self.ctx.is_main else []

    @property
    def generator(self) -> nn.Module:
        return self.learner.generator

    @property
    def discriminator(self) -> nn.Module | None:
        return self.learner.discriminator

    # ----------------------------------------------------------------- state

    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint holds: plain tensors and containers only."""
        return {
            "format": ckpt.FORMAT_VERSION,
            "step": self.step,
            "position": {"epoch": self.position.epoch, "offset": self.position.offset},
            **self.learner.state_dict(),
            "rng": ckpt.rng_state(),
            "config": to_dict(self.config),
            "best": self.best,
            "init_from": self.origin,
        }

    def load_state_dict(self, state: dict[str, Any], source: str = "checkpoint") -> None:
        """Continue from ``state``: the next step is exactly the one the saved run would take."""
        # Fields added to the model section since the checkpoint was written take their defaults.
        saved_model = {**to_dict(type(self.config.model)()), **state["config"]["model"]}
        if saved_model != to_dict(self.config.model):
            raise ConfigError(f"{source}: was trained with another model config ({saved_model})")
        self.learner.load_state_dict(state, source)
        self.step = int(state["step"])
        self.position = Position(int(state["position"]["epoch"]), int(state["position"]["offset"]))
        self.best = state["best"]
        self.origin = origin_of(state)
        ckpt.restore_rng(state["rng"])

    def _resume(self) -> Path | None:
        found = ckpt.load_latest(self.run_dir)
        if found is None:
            return None  # nothing to resume yet: a fresh start (job scripts may always pass --resume)
        path, state = found
        self.load_state_dict(state, str(path))
        self.last_checkpoint = path
        return path

    def save_checkpoint(self) -> Path:
        """Write ``step_<step>.pt`` atomically, then keep only the newest ``keep_last``."""
        path = ckpt.atomic_save(self.state_dict(), ckpt.step_path(self.run_dir, self.step))
        ckpt.prune(self.run_dir, self.config.checkpoint.keep_last)
        self.last_checkpoint = path
        return path

    # ------------------------------------------------------------------ loop

    def train_step(
        self, mixture: torch.Tensor, target: torch.Tensor, cls: torch.Tensor | None = None
    ) -> dict[str, float] | None:
        """One step of the current stage on one batch (``step`` is not advanced); None = skipped.

        ``cls`` holds the class indices of a conditional model's batch.
        """
        return self.learner.step(mixture, target, gan=self.config.stage(self.step) == 2, cls=cls)

    def train(self) -> TrainResult:
        """Run until ``schedule.max_steps`` or ``schedule.max_minutes``; returns where it ended."""
        cfg, max_steps = self.config, self.config.schedule.max_steps
        batches, batch_size, stage = None, None, None
        sums: dict[str, float] = {}
        counted, waited, tick, export = 0, 0.0, time.perf_counter(), None
        deadline = _deadline(cfg.schedule.max_minutes)
        try:
            while self.step < max_steps and not self.stopped_early:
                if cfg.stage(self.step) != stage:
                    if stage is not None:
                        size = cfg.batch_size(self.step)
                        self.monitor.message(f"step {self.step}: stage 2 (GAN), batch size {size}")
                    stage = cfg.stage(self.step)
                if cfg.batch_size(self.step) != batch_size:  # start, resume, stage switch
                    batch_size = cfg.batch_size(self.step)
                    batches = iter(make_loader(self.dataset, cfg, self.ctx, self.position, batch_size))
                t0 = time.perf_counter()
                batch = next(batches)  # (mixture, target) or, for a conditional model, + class indices
                waited += time.perf_counter() - t0
                self.position = self.position.after(batch_size, len(self.dataset))
                values = self.train_step(*batch)
                self.step += 1
                if values is None:
                    self._on_nonfinite()
                else:
                    self.nonfinite, counted = 0, counted + 1
                    for key, value in values.items():
                        sums[key] = sums.get(key, 0.0) + value
                if deadline < math.inf and self.step < max_steps:
                    # Every rank must stop at the same step, so the ranks decide together.
                    self.stopped_early = not dist.all_ranks_agree(time.monotonic() < deadline, self.ctx)
                    if self.stopped_early:
                        self.monitor.message(
                            f"step {self.step}: time limit of {cfg.schedule.max_minutes:g} min reached; "
                            "stopping here (--resume goes on)"
                        )
                if self.step % cfg.logging.every == 0 or self.step == max_steps or self.stopped_early:
                    elapsed = max(time.perf_counter() - tick, 1e-9)
                    steps = (self.step - 1) % cfg.logging.every + 1
                    scalars = {k: v / max(counted, 1) for k, v in sums.items()}
                    scalars.update(self.learner.learning_rates(gan=stage == 2))
                    scalars["perf/steps_per_second"] = steps / elapsed
                    scalars["perf/examples_per_second"] = steps * batch_size / elapsed
                    scalars["perf/data_wait_fraction"] = min(waited / elapsed, 1.0)
                    self.monitor.scalars(self.step, scalars)
                    sums, counted, waited, tick = {}, 0, 0.0, time.perf_counter()
                self.monitor.progress(self.step, values["loss/total"] if values else None)
                self._validate_and_save()
            export = self._export("final") if self.ctx.is_main else None
        finally:
            self.monitor.close()
            if self._owns_ctx:
                dist.teardown(self.ctx)
        return TrainResult(self.step, self.last_checkpoint, export, self.best)

    def _on_nonfinite(self) -> None:
        self.nonfinite += 1
        self.monitor.message(f"step {self.step}: non-finite loss or gradient, step skipped")
        self.monitor.scalars(self.step, {"train/skipped_step": 1.0})
        limit = self.config.optim.max_nonfinite
        if self.nonfinite >= limit:
            first = self.step - self.nonfinite + 1
            last_good = self.last_checkpoint or "none (no checkpoint written yet)"
            raise TrainingError(
                f"stopped at step {self.step}: the loss was not finite for {limit} steps in a row "
                f"(steps {first}-{self.step}); last good checkpoint: {last_good}"
            )

    def _validate_and_save(self) -> None:
        """Rank 0: validate (before the checkpoint, so it records the new best) and checkpoint when due."""
        if not self.ctx.is_main:
            return
        cfg = self.config
        final = self.step == cfg.schedule.max_steps or self.stopped_early
        if self.val_pairs and (self.step % cfg.validation.every == 0 or final):
            self._validate()
        if self.step % cfg.checkpoint.every == 0 or final:
            path = self.save_checkpoint()
            self.monitor.message(f"step {self.step}: checkpoint {path.name}")

    def _validate(self) -> None:
        result = validate(self.generator, self.val_pairs, self.config, self.ctx.device, self.learner.autocast)
        self.monitor.scalars(self.step, {f"val/{k}": v for k, v in result.metrics.items()})
        self.monitor.examples(self.step, result.examples)
        name = self.config.checkpoint.best_metric
        value = result.metrics[name]
        text = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items())
        if self.best is None or value > self.best["value"]:
            self.best = {"metric": name, "value": value, "step": self.step}
            ckpt.atomic_save(self.state_dict(), ckpt.checkpoint_dir(self.run_dir) / ckpt.BEST)
            self._export("best")
            text += " (best so far)"
        self.monitor.message(f"step {self.step}: validation {text}")

    def _export(self, name: str) -> Path:
        """The generator in the inference format: ``export/<name>/<target>.safetensors`` + ``.json``.

        A conditional generator restores any class, so its files are ``conditional.*``.
        """
        training = training_summary(
            self.step, self.config.schedule.stage2_step, self.best, self.origin, run_dir=str(self.run_dir),
        )
        target = validate_class(self.config.data.target)
        path = self.run_dir / "export" / name / ("conditional" if is_conditional(self.generator) else target)
        return export_checkpoint(self.generator, path, target=target, training=training)


def _deadline(minutes: float | None) -> float:
    """The ``time.monotonic()`` reading at which ``schedule.max_minutes`` runs out (inf = no limit)."""
    return math.inf if minutes is None else time.monotonic() + 60.0 * minutes


def _name_list(names: list[str], limit: int = 8) -> str:
    """``names`` for a log line: a widened model changes dozens of tensors, so only the first few are named."""
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} and {len(names) - limit} more"


def _native_bf16() -> bool:
    """Whether oneDNN computes bf16 in hardware on this CPU (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False
