"""The paper's released U-Former checkpoints (plain ``.pth`` state_dicts) and key checking.

A released file carries weights only: the architecture is the paper's default
:class:`UFormerConfig`, the rate 44.1 kHz, and the target class comes from the
user or from the file name (``vocals.pth`` -> ``Voc``).
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch

from stemrestore.errors import CheckpointError
from stemrestore.models.uformer import UFormer, UFormerConfig

#: File names of the paper's nine released checkpoints -> RawStems class ids.
RELEASE_TARGETS: dict[str, str] = {
    "acoustic_guitar": "Gtr_AG",
    "bass": "Bass",
    "electric_guitar": "Gtr_EG",
    "guitars": "Gtr",
    "keyboards": "Kbs",
    "orchestra": "Orch",
    "rhythm_section": "Rhy",
    "synth": "Synth",
    "vocals": "Voc",
}

#: Derived rotary tables stored by the reference network; accepted, checked, not used.
ROPE_KEYS = ("t_rope", "f_rope")


def target_from_filename(path: str | Path) -> str:
    """Class id implied by a released file's name (longest known name inside it), else ``unknown``."""
    stem = Path(path).stem.lower().replace("-", "_").replace(" ", "_")
    found = [name for name in RELEASE_TARGETS if name in stem]
    return RELEASE_TARGETS[max(found, key=len)] if found else "unknown"


def check_state_dict(
    model: UFormer, state: Mapping[str, object], source: str | Path, *, allow_missing: bool = False
) -> dict[str, torch.Tensor]:
    """Validate ``state`` against ``model`` key by key; return it without the rope tables.

    Raises a one-line :class:`CheckpointError` naming ``source`` and the first
    problem: an unexpected key, a shape mismatch, then (unless ``allow_missing``,
    for a model grown from a smaller one) a missing key.
    """
    expected = model.state_dict()
    head_dim = model.config.head_dim
    weights: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{source}: entry '{key}' is a {type(value).__name__}, not a tensor")
        if key in ROPE_KEYS:
            if value.ndim != 3 or tuple(value.shape[1:]) != (head_dim // 2, 2):
                raise CheckpointError(
                    f"{source}: '{key}' has shape {tuple(value.shape)}, expected (positions, {head_dim // 2}, 2)"
                )
            continue
        if key not in expected:
            raise CheckpointError(f"{source}: unexpected key '{key}' (not part of this U-Former)")
        if tuple(value.shape) != tuple(expected[key].shape):
            raise CheckpointError(
                f"{source}: '{key}' has shape {tuple(value.shape)}, the model expects {tuple(expected[key].shape)}"
            )
        weights[key] = value
    missing = [key for key in expected if key not in weights]
    if missing and not allow_missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(f"{source}: missing key '{missing[0]}'{more}")
    return weights


def read_release(path: Path) -> dict[str, torch.Tensor]:
    """Load a ``.pth`` state_dict safely (``weights_only=True``) or raise CheckpointError."""
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: file is empty")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "unpickling failed"
        raise CheckpointError(f"{path}: not a plain weights file ({reason[:160]})") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: truncated or not a PyTorch checkpoint ({reason[:160]})") from None
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{path}: holds a {type(state).__name__}, not a state_dict")
    return dict(state)


def load_release(path: Path, target: str | None = None, state: Mapping | None = None) -> UFormer:
    """Build the paper's U-Former from a released ``.pth`` (CPU, eval mode, ``meta`` filled in).

    ``state`` is the file's contents when the caller has already read them.
    """
    model = UFormer(UFormerConfig())
    weights = check_state_dict(model, dict(state) if state is not None else read_release(path), path)
    model.load_state_dict(weights)
    model.meta.update(
        target=target or target_from_filename(path),
        training={"source": "paper release", "file": path.name},
        format_version=None,
    )
    return model.eval()
