"""stemrestore: Music Source Restoration toolkit."""

from stemrestore.errors import AudioError, CheckpointError, ConfigError, StemRestoreError

__version__ = "0.1.0"

__all__ = ["AudioError", "CheckpointError", "ConfigError", "StemRestoreError", "__version__"]
