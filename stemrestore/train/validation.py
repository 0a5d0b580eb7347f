"""Validation during training: SI-SDR and mel-SSIM on the first pairs of an offline test set.

The pairs are read once (resampled to the model's rate, made stereo, cropped
to ``validation.max_seconds``) and each is restored in one forward pass, in
eval mode. Only rank 0 validates; the others wait at their next collective.
A conditional model restores each pair's class (its default class for pairs
that name none).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from stemrestore.audio import load_audio, to_stereo
from stemrestore.models import is_conditional
from stemrestore.train.config import TrainConfig


@dataclass
class ValidationPair:
    id: str
    mixture: np.ndarray  #: float32 (2, samples) at the model's rate
    target: np.ndarray
    stem_class: str | None = None  #: the pair's class, when the test set names it


@dataclass
class ValidationResult:
    metrics: dict[str, float]  #: mean SI-SDR (dB) and mel-SSIM over the pairs
    examples: list[tuple[str, dict[str, np.ndarray]]]  #: (id, {mixture, restored, target}) to log


def load_validation_set(config: TrainConfig) -> list[ValidationPair]:
    """The first ``max_examples`` pairs of ``validation.testset`` (empty when none is set)."""
    settings = config.validation
    if settings.testset is None:
        return []
    from stemrestore.evaluate import load_pairs

    sr = config.model.sample_rate
    n = int(round(settings.max_seconds * sr))
    pairs = []
    for pair in load_pairs(settings.testset)[: settings.max_examples]:
        mixture = to_stereo(load_audio(pair.mixture, sr)[0])[:, :n]
        target = to_stereo(load_audio(pair.target, sr)[0])[:, :n]
        length = min(mixture.shape[1], target.shape[1])
        pairs.append(ValidationPair(pair.id, mixture[:, :length], target[:, :length], pair.stem_class))
    return pairs


def validate(
    model: nn.Module,
    pairs: list[ValidationPair],
    config: TrainConfig,
    device: torch.device,
    autocast: Callable[[], AbstractContextManager],
) -> ValidationResult:
    """Restore every pair and score it; the model is returned to training mode afterwards."""
    from stemrestore.metrics import mel_ssim, si_sdr

    sr = config.model.sample_rate
    scores: dict[str, list[float]] = {"si_sdr": [], "mel_ssim": []}
    examples = []
    was_training = model.training
    conditional = is_conditional(model)
    model.eval()
    try:
        with torch.inference_mode():
            for i, pair in enumerate(pairs):
                x = torch.from_numpy(pair.mixture)[None].to(device)
                with autocast():
                    out = model(x, pair.stem_class) if conditional else model(x)
                restored = out[0].float().cpu().numpy()
                scores["si_sdr"].append(si_sdr(restored, pair.target))
                scores["mel_ssim"].append(mel_ssim(restored, pair.target, sr))
                if i < config.validation.audio_examples:
                    signals = {"mixture": pair.mixture, "restored": restored, "target": pair.target}
                    examples.append((pair.id, signals))
    finally:
        model.train(was_training)
    return ValidationResult({k: float(np.mean(v)) for k, v in scores.items()}, examples)
