"""Checkpoint averaging: one model whose weights are the mean of several checkpoints' weights.

Averaging the last checkpoints of one run (as fairseq's ``average_checkpoints`` and
stochastic weight averaging do) lands nearer the centre of the region the optimiser
was circling than any single step, and can score a little better at no cost at
inference time (docs/training.md has what it measured on the demo model). It only
makes sense for checkpoints of one run (or runs from a common start): the average of
two independently trained networks is not a network that computes anything useful,
and nothing here can tell the two cases apart.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import torch

from stemrestore.errors import CheckpointError
from stemrestore.models.checkpoint import describe_origin, load_checkpoint, save_checkpoint, writable_pair_name


def average_checkpoints(
    sources: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
) -> Path:
    """Write the uniform average of ``sources``' weights as a checkpoint pair at ``out``; returns its .safetensors.

    Every source must hold the same architecture, config and target class
    (anything :func:`load_checkpoint` reads). Floating-point tensors are averaged
    in float64 and stored in their own dtype; integer buffers (BatchNorm's
    ``num_batches_tracked``) are the last source's. BatchNorm running statistics
    are averaged like the weights rather than re-estimated on data: for
    checkpoints of one run they are close to one another, so the mean is a
    close estimate. The JSON's ``training`` record is the last source's, with
    ``averaged_from`` listing each source's path, SHA-256 and step.
    """
    if len(sources) < 2:
        raise CheckpointError(f"average: needs at least two checkpoints, got {len(sources)}")
    base = writable_pair_name(out, overwrite=overwrite)
    sums: dict[str, torch.Tensor] = {}
    origins: list[dict[str, Any]] = []
    # No progress bar: loading is the whole cost, and small next to any other command's.
    for source in sources:
        model = load_checkpoint(source, "cpu")
        if not origins:
            first = model
        elif (model.get_config(), model.meta["target"]) != (first.get_config(), first.meta["target"]):
            raise CheckpointError(
                f"{source}: another architecture, config or target than {sources[0]}; "
                "only checkpoints of one model can be averaged"
            )
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                sums[name] = sums[name] + tensor.double() if name in sums else tensor.double()
        origins.append({**describe_origin(source), "steps": model.meta.get("training", {}).get("steps")})
    # Integer buffers are counters (BatchNorm's num_batches_tracked), not weights: the last model's stand.
    state = model.state_dict()
    state.update({name: (total / len(sources)).to(state[name].dtype) for name, total in sums.items()})
    model.load_state_dict(state)
    training = {**(model.meta.get("training") or {}), "averaged_from": origins}
    return save_checkpoint(model, base, target=model.meta["target"], training=training)
