"""Exception hierarchy: every imustream error derives from :class:`ImustreamError`."""

from __future__ import annotations

__all__ = ["ConfigError", "DecodeError", "ImustreamError", "ProfileError", "RecordingError"]


class ImustreamError(Exception):
    """Base class of all imustream errors."""


class DecodeError(ImustreamError, ValueError):
    """A notification payload does not match its firmware profile's layout."""


class ProfileError(ImustreamError, ValueError):
    """A firmware profile file is invalid (names the file and the key)."""


class ConfigError(ImustreamError, ValueError):
    """A session configuration is invalid (names the file and the key)."""


class RecordingError(ImustreamError, OSError):
    """A recording or session log is unreadable, corrupt or could not be written."""
