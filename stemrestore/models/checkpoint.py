"""stemrestore's checkpoint format and the single entry point for loading any checkpoint.

A checkpoint is a pair side by side: ``NAME.safetensors`` (the weights; its
metadata repeats the format name and version) and ``NAME.json`` (format
version, architecture and its config, target class, sample rate, training
summary). :func:`load_checkpoint` also accepts the paper's released ``.pth``
files. Every problem is a one-line :class:`CheckpointError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from stemrestore import __version__
from stemrestore.errors import CheckpointError, ConfigError
from stemrestore.fileio import atomic_path, write_atomic
from stemrestore.models.conditional import ARCHITECTURE as CONDITIONAL_ARCHITECTURE
from stemrestore.models.conditional import ConditionalUFormer, select_target
from stemrestore.models.device import resolve_device
from stemrestore.models.growth import can_widen, widen_state
from stemrestore.models.layers import TransformerBlock
from stemrestore.models.release import check_state_dict, load_release, read_release
from stemrestore.models.uformer import ARCHITECTURE, UFormer
from stemrestore.restore_settings import INFERENCE_KEYS
from stemrestore.taxonomy import validate_class

FORMAT_NAME = "stemrestore-checkpoint"
FORMAT_VERSION = 1
RELEASE_SUFFIXES = (".pth", ".pt")
#: Architecture name in a checkpoint's JSON -> the model class that loads it.
ARCHITECTURES: dict[str, type[UFormer]] = {
    ARCHITECTURE: UFormer,
    CONDITIONAL_ARCHITECTURE: ConditionalUFormer,
}
#: Where the demo checkpoint shipped with the package lives.
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "checkpoints"


def load_checkpoint(
    path: str | os.PathLike, device: str | torch.device = "cpu", *, target: str | None = None
) -> UFormer:
    """Load a ready model (eval mode, on ``device``) from any supported checkpoint.

    ``path`` is a ``.safetensors`` or ``.json`` file of a pair, their common
    stem, a folder holding exactly one pair, a paper-release ``.pth``, or a
    training checkpoint (``RUN_DIR/checkpoints/step_*.pt``, its generator).
    ``target`` names the class of a ``.pth`` (overriding the file name's), the
    class to restore for a conditional checkpoint, or confirms a one-class
    checkpoint's own class (asking one for another class is a :class:`ConfigError`).
    The model's ``meta`` holds target, sample rate, training summary and source.
    """
    path = Path(path)
    torch_device = resolve_device(device)
    if target is not None:
        target = validate_class(target)
    if path.suffix.lower() in RELEASE_SUFFIXES:
        if not path.is_file():
            raise CheckpointError(f"{path}: no such checkpoint file")
        state = read_release(path)
        if _is_training_state(state):
            model = _load_training_state(path, state)
            model.meta["target"] = select_target(model, target)
        else:
            model = load_release(path, target, state)
    else:
        model = _load_pair(*_find_pair(path))
        model.meta["target"] = select_target(model, target)
    model.meta["source"] = str(path)
    return model.to(torch_device).eval()


def init_weights(model: torch.nn.Module, path: str | os.PathLike) -> list[str]:
    """Copy the weights of any checkpoint :func:`load_checkpoint` reads into ``model``.

    For fine-tuning and for growing a model: parameters the checkpoint lacks (a
    conditional model's class embeddings, a ``mask_map`` head, transformer blocks
    beyond its ``n_layer``) keep ``model``'s own initialization, and their names
    are returned. Whole transformer blocks the checkpoint lacks start as identity
    maps (:meth:`TransformerBlock.start_as_identity`), so a deeper model starts
    out computing what the checkpoint did. A plain U-Former with wider conv
    channels than the checkpoint's gets its weights in the old channels and
    zeros from new channels into old ones (:mod:`stemrestore.models.growth`), so
    it too starts out computing the same; the widened tensors' names are
    returned as well. Any other parameter the model lacks or one of another
    shape is a :class:`CheckpointError`.
    """
    source = load_checkpoint(path)
    state, widened = widen_state(source, model, path) if can_widen(source, model) else (source.state_dict(), [])
    weights = check_state_dict(model, state, path, allow_missing=True)
    missing = set(model.load_state_dict(weights, strict=False).missing_keys)
    for prefix, module in model.named_modules():
        if isinstance(module, TransformerBlock) and {f"{prefix}.{n}" for n, _ in module.named_parameters()} <= missing:
            module.start_as_identity()
    return sorted(missing | set(widened))


def describe_origin(path: str | os.PathLike) -> dict[str, str]:
    """What a run grown from ``path`` records: the path as given and the SHA-256 of its weights file.

    The path alone stops naming the weights once the file is overwritten in
    place (``convert --overwrite`` onto the checkpoint a run was grown from), so
    the hash of the bytes actually read travels with it.
    """
    weights = Path(path)
    if weights.suffix.lower() not in RELEASE_SUFFIXES:
        weights = _find_pair(weights)[0]
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "sha256": digest.hexdigest()}


def training_summary(
    steps: int, stage2_step: int | None, best: dict[str, Any] | None, init_from: dict[str, str] | None,
    **where: str,
) -> dict[str, Any]:
    """The ``training`` record of an exported checkpoint's JSON; ``where`` names the run or file.

    ``init_from`` is the :func:`describe_origin` of the checkpoint the run started from.
    """
    training: dict[str, Any] = {"steps": steps, "stage2_step": stage2_step, "best": best, **where}
    if init_from:  # the steps above came on top of that checkpoint's
        training["init_from"] = init_from
    return training


def origin_of(state: dict[str, Any]) -> dict[str, str] | None:
    """The ``init_from`` a training state records; states written before the hash was kept name only the path."""
    if state.get("init_from"):
        return state["init_from"]
    path = state["config"].get("checkpoint", {}).get("init_from")
    return {"path": path} if path else None


def _is_training_state(state: dict[str, Any]) -> bool:
    return {"format", "generator", "config", "step"} <= set(state)


def _load_training_state(path: Path, state: dict[str, Any]) -> UFormer:
    """The generator of a stemrestore training checkpoint, built from the config it holds."""
    from stemrestore.config import from_dict
    from stemrestore.train.config import ModelConfig  # train builds on models: import when needed

    try:
        config = state["config"]
        model = from_dict(ModelConfig, config["model"]).build()
        model.load_state_dict(state["generator"])
        target = validate_class(config["data"]["target"])
    except (KeyError, TypeError, RuntimeError, ConfigError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: training checkpoint without a usable generator ({first})") from None
    training = training_summary(
        int(state["step"]), config["schedule"].get("stage2_step"), state.get("best"),
        origin_of(state), source="training checkpoint", file=path.name,
    )
    model.meta.update(target=target, training=training, format_version=None)
    return model.eval()


def save_checkpoint(
    model: UFormer,
    path: str | os.PathLike,
    *,
    target: str,
    training: dict[str, Any] | None = None,
    inference: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` as ``NAME.safetensors`` + ``NAME.json`` (atomically); returns the .safetensors path.

    ``target`` is the class a one-class model restores, or a conditional model's default class.
    ``inference`` is the Restorer settings the checkpoint recommends (:data:`INFERENCE_KEYS`).
    """
    if not isinstance(target, str) or not target.strip():
        raise CheckpointError("save_checkpoint: target must be a non-empty class id such as 'Voc'")
    base = _strip_suffix(Path(path))
    weights_path, meta_path = base.with_name(base.name + ".safetensors"), base.with_name(base.name + ".json")
    config = model.get_config()
    architecture = config.pop("architecture")
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "architecture": architecture,
        "config": config,
        "target": target,
        "sample_rate": model.config.sample_rate,
        "training": training or {},
        "stemrestore_version": __version__,
    }
    if inference:
        meta["inference"] = check_inference(inference, base)
    try:
        meta_text = json.dumps(meta, indent=2, default=_json_default)
    except TypeError as exc:
        raise CheckpointError(f"{base}: training summary is not JSON-serialisable ({exc})") from None
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    header = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "architecture": architecture}
    base.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(weights_path) as tmp:
        save_file(tensors, str(tmp), metadata=header)
    write_atomic(meta_path, meta_text + "\n")
    return weights_path


def convert_checkpoint(
    source: str | os.PathLike, out: str | os.PathLike, *, target: str | None = None, overwrite: bool = False
) -> Path:
    """Convert any loadable checkpoint (typically a released ``.pth``) into the project's format."""
    source, out = Path(source), Path(out)
    base = writable_pair_name(out / source.stem if out.is_dir() else out, overwrite=overwrite)
    model = load_checkpoint(source, "cpu", target=target)
    training = dict(model.meta.get("training") or {})
    return save_checkpoint(
        model, base, target=model.meta["target"], training=training, inference=model.meta.get("inference")
    )


def check_inference(inference: Any, where: str | os.PathLike) -> dict[str, Any]:
    """``inference`` if it is a dict of known Restorer settings of the right types, else a :class:`CheckpointError`."""
    if not isinstance(inference, dict):
        raise CheckpointError(f"{where}: 'inference' must be an object of Restorer settings")
    for key, value in inference.items():
        if key not in INFERENCE_KEYS:
            raise CheckpointError(f"{where}: unknown inference setting '{key}' (known: {', '.join(INFERENCE_KEYS)})")
        types = INFERENCE_KEYS[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise CheckpointError(f"{where}: inference setting '{key}' has the wrong type ({value!r})")
    return dict(inference)


def writable_pair_name(out: str | os.PathLike, *, overwrite: bool) -> Path:
    """The NAME of the pair to write at ``out`` (a suffix dropped); an existing pair is an error unless ``overwrite``."""
    base = _strip_suffix(Path(out))
    existing = [
        p
        for p in (base.with_name(base.name + ".safetensors"), base.with_name(base.name + ".json"))
        if p.exists()
    ]
    if existing and not overwrite:
        raise CheckpointError(f"{existing[0]}: already exists (pass --overwrite to replace it)")
    return base


def read_checkpoint_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON metadata of a checkpoint pair, validated, without loading the weights."""
    return _read_meta(_find_pair(Path(path))[1])


def default_checkpoint() -> Path:
    """The demo checkpoint shipped in ``stemrestore/assets/checkpoints/``."""
    if not ASSETS_DIR.is_dir() or not any(ASSETS_DIR.glob("*.safetensors")):
        raise CheckpointError("no checkpoint is shipped with this installation; pass --checkpoint PATH")
    return _find_pair(ASSETS_DIR)[0]


def _find_pair(path: Path) -> tuple[Path, Path]:
    """Resolve a user's path to the (.safetensors, .json) pair it names."""
    if path.is_dir():
        stems = sorted(
            p.with_suffix("") for p in path.glob("*.safetensors") if p.with_suffix(".json").is_file()
        )
        if len(stems) != 1:
            found = "no" if not stems else f"{len(stems)}"
            raise CheckpointError(
                f"{path}: folder holds {found} checkpoint pairs (NAME.safetensors + NAME.json); name one file"
            )
        base = stems[0]
    else:
        base = _strip_suffix(path)
    weights_path, meta_path = base.with_name(base.name + ".safetensors"), base.with_name(base.name + ".json")
    if not weights_path.is_file() and not meta_path.is_file():
        if path.is_file():  # e.g. an audio file passed where the checkpoint goes
            raise CheckpointError(
                f"{path}: not a checkpoint (give a NAME.safetensors + NAME.json pair, a .pth/.pt file or a folder)"
            )
        raise CheckpointError(f"{path}: no such checkpoint (expected {weights_path.name} + {meta_path.name})")
    if not weights_path.is_file():
        raise CheckpointError(f"{meta_path}: its weights file {weights_path.name} is missing")
    if not meta_path.is_file():
        raise CheckpointError(f"{weights_path}: its metadata file {meta_path.name} is missing")
    return weights_path, meta_path


def _strip_suffix(path: Path) -> Path:
    return path.with_suffix("") if path.suffix.lower() in (".safetensors", ".json") else path


def _read_meta(meta_path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{meta_path}: not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise CheckpointError(f'{meta_path}: not a stemrestore checkpoint (no "format": "{FORMAT_NAME}")')
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{meta_path}: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{meta_path}: format version {version} is newer than this stemrestore reads ({FORMAT_VERSION}); upgrade"
        )
    if meta.get("architecture") not in ARCHITECTURES:
        known = "' or '".join(ARCHITECTURES)
        raise CheckpointError(f"{meta_path}: checkpoint for architecture '{meta.get('architecture')}', not '{known}'")
    for field in ("config", "target"):
        if field not in meta:
            raise CheckpointError(f"{meta_path}: missing field '{field}'")
    return meta


def _load_pair(weights_path: Path, meta_path: Path) -> UFormer:
    meta = _read_meta(meta_path)
    try:
        model = ARCHITECTURES[meta["architecture"]].from_config(meta["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{meta_path}: bad config ({exc})") from None
    if meta.get("sample_rate", model.config.sample_rate) != model.config.sample_rate:
        raise CheckpointError(
            f"{meta_path}: sample_rate {meta['sample_rate']} disagrees with config ({model.config.sample_rate})"
        )
    try:
        state = load_file(str(weights_path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{weights_path}: truncated or not a safetensors file ({reason[:160]})"
        ) from None
    model.load_state_dict(check_state_dict(model, state, weights_path))
    model.meta.update(
        target=meta["target"],
        sample_rate=model.config.sample_rate,
        training=meta.get("training") or {},
        format_version=meta["format_version"],
        inference=check_inference(meta.get("inference", {}), meta_path),
    )
    return model


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, torch.device)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
