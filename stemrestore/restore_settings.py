"""The settings of how a model is run over a song, in one place.

A checkpoint's JSON may recommend them under ``"inference"`` (checked by
:func:`stemrestore.models.checkpoint.check_inference`), :class:`~stemrestore.restore.Restorer`
falls back to :data:`DEFAULT_SETTINGS`, and the ``restore``, ``evaluate`` and ``demo``
commands pass on the flags given. This module imports nothing heavy, so the
command line can read it without loading torch.
"""

from __future__ import annotations

#: Each setting's accepted JSON types and its value when neither the caller nor the checkpoint names it.
_SETTINGS: dict[str, tuple[tuple[type, ...], float | int | bool]] = {
    "chunk_seconds": ((int, float), 10.0),
    "overlap": ((int, float), 0.25),
    "shifts": ((int,), 1),
    "tta": ((bool,), False),
}
#: Restorer settings a checkpoint's JSON may recommend under "inference", with their types: the
#: settings it was measured with, used by :class:`~stemrestore.restore.Restorer` unless overridden.
INFERENCE_KEYS: dict[str, tuple[type, ...]] = {name: types for name, (types, _) in _SETTINGS.items()}
#: Restorer settings when neither the caller nor the checkpoint (its "inference") names them.
DEFAULT_SETTINGS: dict[str, float | int | bool] = {name: value for name, (_, value) in _SETTINGS.items()}
