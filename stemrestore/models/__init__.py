"""Restoration models: the U-Former, its STFT front end and its checkpoints."""

from stemrestore.models.checkpoint import (
    FORMAT_VERSION,
    convert_checkpoint,
    default_checkpoint,
    load_checkpoint,
    read_checkpoint_meta,
    save_checkpoint,
)
from stemrestore.models.device import resolve_device
from stemrestore.models.release import RELEASE_TARGETS, target_from_filename
from stemrestore.models.stft import STFT
from stemrestore.models.uformer import UFormer, UFormerConfig, count_parameters

__all__ = [
    "FORMAT_VERSION",
    "RELEASE_TARGETS",
    "STFT",
    "UFormer",
    "UFormerConfig",
    "convert_checkpoint",
    "count_parameters",
    "default_checkpoint",
    "load_checkpoint",
    "read_checkpoint_meta",
    "resolve_device",
    "save_checkpoint",
    "target_from_filename",
]
