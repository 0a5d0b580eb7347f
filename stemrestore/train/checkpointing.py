"""Training checkpoints that survive ``kill -9`` at any moment.

``RUN_DIR/checkpoints/step_000010.pt`` holds everything needed to continue
exactly (weights, optimisers, schedulers, step, data position, RNG states,
config) as plain tensors and containers, so it loads with ``weights_only=True``.
Each file is written to a temporary name in the same folder, flushed, fsynced
and renamed over its final name; the folder is fsynced too. A reader therefore
sees either the previous complete file or the new complete one, never half of
one. The newest ``step_*.pt`` is found by scanning, so no "latest" pointer can
go stale; ``best.pt`` is written the same way.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import torch

from stemrestore.errors import CheckpointError

FORMAT_VERSION = 1
FOLDER = "checkpoints"
BEST = "best.pt"
_STEP_FILE = re.compile(r"^step_(\d+)\.pt$")
_TEMP_PREFIX = "."


def checkpoint_dir(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / FOLDER


def step_path(run_dir: str | os.PathLike, step: int) -> Path:
    return checkpoint_dir(run_dir) / f"step_{step:06d}.pt"


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to ``path`` through a temporary file, fsync and rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{_TEMP_PREFIX}{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (a power cut must not resurrect the old name)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def step_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """Complete step checkpoints of a run, oldest first."""
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_FILE.match(p.name))]
    return sorted(found)


def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The newest step checkpoint of a run, or None when it has none."""
    found = step_checkpoints(run_dir)
    return found[-1][1] if found else None


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    """A checkpoint's contents on the CPU; any problem is a one-line :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated or foreign files
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable training checkpoint ({message})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: not a stemrestore training checkpoint (format {FORMAT_VERSION})")
    return state


def load_latest(run_dir: str | os.PathLike) -> tuple[Path, dict[str, Any]] | None:
    """Newest readable checkpoint of a run; unreadable newer ones are skipped with a warning."""
    for _, path in reversed(step_checkpoints(run_dir)):
        try:
            return path, load_state(path)
        except CheckpointError as exc:
            warnings.warn(f"skipping {exc}", stacklevel=2)
    return None


def prune(run_dir: str | os.PathLike, keep: int) -> None:
    """Delete all but the newest ``keep`` step checkpoints (after the newest is safely written)."""
    for _, path in step_checkpoints(run_dir)[:-keep]:
        path.unlink(missing_ok=True)


def remove_temporaries(run_dir: str | os.PathLike) -> list[Path]:
    """Delete half-written files that a killed run left behind; returns what was removed."""
    folder = checkpoint_dir(run_dir)
    stale = [p for p in folder.glob(f"{_TEMP_PREFIX}*.tmp")] if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def rng_state() -> dict[str, Any]:
    """The global torch random states a step can touch (weight init, dropout, CUDA kernels).

    Data order and examples come from seeded numpy Generators derived from
    (seed, epoch, index), so they need no saved state.
    """
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
