"""Restoration models: the U-Former, its conditional variant, its STFT front end and its checkpoints."""

from stemrestore.models.averaging import average_checkpoints
from stemrestore.models.checkpoint import (
    FORMAT_VERSION,
    convert_checkpoint,
    default_checkpoint,
    load_checkpoint,
    read_checkpoint_meta,
    save_checkpoint,
)
from stemrestore.models.conditional import ConditionalConfig, ConditionalUFormer, is_conditional, select_target
from stemrestore.models.device import resolve_device
from stemrestore.models.release import RELEASE_TARGETS, target_from_filename
from stemrestore.models.stft import STFT
from stemrestore.models.uformer import UFormer, UFormerConfig, count_parameters

__all__ = [
    "ConditionalConfig",
    "ConditionalUFormer",
    "FORMAT_VERSION",
    "RELEASE_TARGETS",
    "STFT",
    "UFormer",
    "UFormerConfig",
    "average_checkpoints",
    "convert_checkpoint",
    "count_parameters",
    "default_checkpoint",
    "is_conditional",
    "load_checkpoint",
    "read_checkpoint_meta",
    "resolve_device",
    "save_checkpoint",
    "select_target",
    "target_from_filename",
]
