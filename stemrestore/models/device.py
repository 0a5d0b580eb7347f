"""Turn a user's device choice (``auto``, ``cpu``, ``cuda``, ``mps``) into a torch device."""

from __future__ import annotations

import torch

from stemrestore.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then the CPU; an unavailable choice is a ConfigError."""
    if isinstance(device, torch.device):
        return device
    name = str(device).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = name.split(":", 1)[0]
    if kind not in DEVICE_CHOICES:
        raise ConfigError(f"device '{device}': unknown (choose from {', '.join(DEVICE_CHOICES)})")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{device}': CUDA is not available on this machine (use --device cpu)")
    if kind == "mps" and not _mps_available():
        raise ConfigError(f"device '{device}': Apple MPS is not available on this machine (use --device cpu)")
    try:
        return torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device '{device}': not a valid device name") from None


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
