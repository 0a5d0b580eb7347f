"""One error hierarchy for everything a user can get wrong.

The CLI turns any :class:`StemRestoreError` into a one-line message and a
non-zero exit; anything else is a bug and shows a traceback with ``--verbose``.
"""


class StemRestoreError(Exception):
    """Base class: a problem with the user's input, files or settings."""


class AudioError(StemRestoreError):
    """An audio file or array that cannot be used (empty, truncated, NaN, ...)."""


class ConfigError(StemRestoreError):
    """An invalid configuration value or an unknown field."""


class CheckpointError(StemRestoreError):
    """A checkpoint that cannot be loaded into the requested model."""
