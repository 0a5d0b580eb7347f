"""One optimisation step of either stage, and the state it changes.

:class:`Learner` owns the networks (wrapped in DDP when distributed), their
AdamW optimisers with linear warm-up, and the fp16 gradient scalers. A stage-2
step first updates the discriminator on (clean target, detached restoration),
then the generator on ``L1 + lambda_gen * L_gen + lambda_feat * L_feat``
through the just-updated discriminator, as HiFi-GAN does.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from stemrestore.errors import CheckpointError
from stemrestore.models import is_conditional
from stemrestore.models.discriminators import Discriminator
from stemrestore.taxonomy import validate_class
from stemrestore.train import distributed as dist
from stemrestore.train.config import TrainConfig
from stemrestore.train.losses import (
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
    generator_loss,
    l1_loss,
    log_mel_loss,
    si_sdr_loss,
)

#: Keys of the learner's part of a training checkpoint.
STATE_KEYS = ("generator", "discriminator", "optim_g", "optim_d", "sched_g", "sched_d", "scaler_g", "scaler_d")


def lr_factor(warmup: int, total: int, decay: str = "constant", min_ratio: float = 0.1) -> Callable[[int], float]:
    """Rate multiplier for optimiser step ``i``: linear warm-up over ``warmup`` steps, then
    constant (the paper) or a half-cosine from 1 down to ``min_ratio`` at step ``total``."""

    def factor(i: int) -> float:
        if warmup > 0 and i < warmup:
            return (i + 1) / warmup
        if decay == "constant":
            return 1.0
        progress = min(1.0, max(0.0, (i - warmup) / max(1, total - warmup)))
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def _apply_rate(opt: torch.optim.Optimizer, sched: torch.optim.lr_scheduler.LambdaLR, lr: float) -> None:
    """Make the configured rate the schedule's base, also after loading a checkpoint.

    A checkpoint's optimiser state carries the rate it was trained with; without this an
    ``optim.lr=...`` override on ``--resume`` would be silently ignored.
    """
    sched.base_lrs = [lr] * len(opt.param_groups)
    factor = sched.lr_lambdas[0](sched.last_epoch)
    for group in opt.param_groups:
        group["initial_lr"] = lr
        group["lr"] = lr * factor


def _buffers(*modules: nn.Module | None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(buffer, copy) pairs of every buffer: a few kB, cheap to keep for one step."""
    return [(b, b.detach().clone()) for m in modules if m is not None for b in m.buffers()]


def _restore(saved: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    with torch.no_grad():
        for buffer, copy in saved:
            buffer.copy_(copy)


class Learner:
    """Generator, discriminator (when the run reaches stage 2), optimisers, schedulers, scalers."""

    def __init__(self, config: TrainConfig, ctx: dist.Context) -> None:
        self.config, self.ctx = config, ctx
        # Initial weights from the config's seed, on a forked RNG so the caller's stream is untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.generator = config.model.build().to(ctx.device)
            if is_conditional(self.generator):  # its default class: for pairs that name none
                self.generator.meta["target"] = validate_class(config.data.target)
            self.discriminator = None
            if config.uses_gan:
                self.discriminator = Discriminator(config.gan.discriminator).to(ctx.device)
        sch = config.schedule
        factor_g = lr_factor(sch.warmup_steps, sch.max_steps, sch.decay, sch.min_lr_ratio)
        # The discriminator's schedule counts its own steps, which start at the stage switch.
        factor_d = lr_factor(sch.warmup_steps, sch.max_steps - (sch.stage2_step or 0), sch.decay, sch.min_lr_ratio)
        fp16 = ctx.device.type == "cuda" and config.runtime.precision == "fp16"
        self.opt_g = torch.optim.AdamW(
            self.generator.parameters(), lr=config.optim.lr, betas=config.optim.betas,
            weight_decay=config.optim.weight_decay,
        )
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, factor_g)
        self.scaler_g = torch.amp.GradScaler(ctx.device.type, enabled=fp16)
        self.opt_d = self.sched_d = self.scaler_d = None
        if self.discriminator is not None:
            self.opt_d = torch.optim.AdamW(
                self.discriminator.parameters(), lr=config.gan.lr, betas=config.gan.betas, weight_decay=0.0
            )
            self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, factor_d)
            self.scaler_d = torch.amp.GradScaler(ctx.device.type, enabled=fp16)
        self.g_model = dist.wrap(self.generator, ctx)
        self.d_model = dist.wrap(self.discriminator, ctx) if self.discriminator is not None else None

    # ----------------------------------------------------------------- state

    def state_dict(self) -> dict[str, Any]:
        parts = dict(zip(STATE_KEYS, (self.generator, self.discriminator, self.opt_g, self.opt_d,
                                      self.sched_g, self.sched_d, self.scaler_g, self.scaler_d)))
        return {key: part.state_dict() if part is not None else None for key, part in parts.items()}

    def load_state_dict(self, state: dict[str, Any], source: str) -> None:
        """Load a checkpoint's networks and optimiser states (a discriminator only if both have one)."""
        try:
            self.generator.load_state_dict(state["generator"])
            self.opt_g.load_state_dict(state["optim_g"])
            self.sched_g.load_state_dict(state["sched_g"])
            self.scaler_g.load_state_dict(state["scaler_g"])
            if self.discriminator is not None and state["discriminator"] is not None:
                self.discriminator.load_state_dict(state["discriminator"])
                self.opt_d.load_state_dict(state["optim_d"])
                self.sched_d.load_state_dict(state["sched_d"])
                self.scaler_d.load_state_dict(state["scaler_d"])
        except (RuntimeError, ValueError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(f"{source}: does not fit this run ({first})") from None
        # The config, not the checkpoint, decides the rates: a resumed run may change them.
        _apply_rate(self.opt_g, self.sched_g, self.config.optim.lr)
        if self.opt_d is not None:
            _apply_rate(self.opt_d, self.sched_d, self.config.gan.lr)

    def learning_rates(self, gan: bool) -> dict[str, float]:
        rates = {"lr/generator": self.opt_g.param_groups[0]["lr"]}
        if gan and self.opt_d is not None:
            rates["lr/discriminator"] = self.opt_d.param_groups[0]["lr"]
        return rates

    # ------------------------------------------------------------------ step

    def autocast(self) -> contextlib.AbstractContextManager:
        """Mixed precision as configured for the device (``precision`` on CUDA, ``cpu_precision`` on the CPU)."""
        device = self.ctx.device.type
        runtime = self.config.runtime
        precision = runtime.precision if device == "cuda" else runtime.cpu_precision
        if precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)

    def step(
        self, mixture: torch.Tensor, target: torch.Tensor, gan: bool, cls: torch.Tensor | None = None
    ) -> dict[str, float] | None:
        """One optimisation step; returns the logged values, or None when it was skipped.

        ``cls`` (class indices, one per example) is passed to a conditional generator.

        A skipped step leaves the networks as they were: weights are not
        stepped, schedules do not advance, and the buffers a forward pass
        updates (BatchNorm statistics, spectral-norm vectors) are put back,
        since a NaN input would poison them.
        """
        mixture = mixture.to(self.ctx.device, non_blocking=True)
        target = target.to(self.ctx.device, non_blocking=True)
        saved = _buffers(self.generator, self.discriminator if gan else None)
        with self.autocast():
            estimate = self.g_model(mixture) if cls is None else self.g_model(mixture, cls.to(self.ctx.device))
        l1 = l1_loss(estimate, target)
        values = {"loss/l1": l1}
        total = l1  # the reconstruction term; stage 2 adds the GAN terms to it
        weights = self.config.loss
        if weights.si_sdr_weight > 0:
            values["loss/si_sdr"] = si_sdr_loss(estimate, target)
            total = total + weights.si_sdr_weight * values["loss/si_sdr"]
        if weights.mel_weight > 0:
            values["loss/mel"] = log_mel_loss(estimate, target, self.config.model.sample_rate)
            total = total + weights.mel_weight * values["loss/mel"]
        if gan:
            d_loss = self._discriminator_loss(target, estimate.detach())
            d_norm = self._update(d_loss, self.opt_d, self.scaler_d, self.discriminator)
            if d_norm is None:
                _restore(saved)
                return None
            self.sched_d.step()
            adversarial, feature = self._adversarial_terms(target, estimate)
            cfg = self.config.gan
            total = generator_loss(total, adversarial, feature, cfg.lambda_gen, cfg.lambda_feat)
            values.update({"loss/discriminator": d_loss, "loss/adversarial": adversarial,
                           "loss/feature": feature, "grad_norm/discriminator": d_norm})
        g_norm = self._update(total, self.opt_g, self.scaler_g, self.generator)
        if g_norm is None:
            _restore(saved)
            return None
        self.sched_g.step()
        values.update({"loss/total": total, "grad_norm/generator": g_norm})
        return {k: float(v.detach()) for k, v in values.items()}

    def _discriminator_loss(self, target: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
        n = target.shape[0] * target.shape[1]  # the discriminator folds channels into the batch
        with self.autocast():
            scores, _ = self.d_model(torch.cat([target, estimate]))
        return discriminator_loss([s[:n] for s in scores], [s[n:] for s in scores])

    def _adversarial_terms(
        self, target: torch.Tensor, estimate: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # The plain module, not the DDP wrapper: no discriminator gradient is wanted here, and
        # the generator's backward is restricted to the generator's parameters (see _update).
        n = target.shape[0] * target.shape[1]
        with self.autocast():
            scores, fmaps = self.discriminator(torch.cat([target, estimate]))
        adversarial = generator_adversarial_loss([s[n:] for s in scores])
        real = [[f[:n] for f in maps] for maps in fmaps]
        fake = [[f[n:] for f in maps] for maps in fmaps]
        feature = feature_matching_loss(real, fake)
        return adversarial, feature

    def _update(
        self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, module: nn.Module
    ) -> torch.Tensor | None:
        """Backward, clip, step; returns the gradient norm, or None when the step was skipped.

        All ranks decide together whether the loss is finite, so that they skip
        (and run their gradient all-reduce) in lock-step. Gradients are already
        averaged over ranks when the norm is taken, so that test agrees too.
        """
        if not dist.all_ranks_agree(bool(torch.isfinite(loss)), self.ctx):
            return None
        params = list(module.parameters())
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward(inputs=params)
        scaler.unscale_(optimizer)
        norm = torch.nn.utils.clip_grad_norm_(params, self.config.optim.grad_clip)
        if not scaler.is_enabled() and not torch.isfinite(norm):
            return None
        scaler.step(optimizer)  # with fp16 the scaler itself skips steps that overflowed
        scaler.update()
        return norm
