"""imustream: live running-gait analysis from clip-on IMUs over Bluetooth LE.

Stable public API (see README.md)::

    imustream.profiles.names(); imustream.profiles.get(name).decode(payload)
    imustream.detect_events(acc, gyr, fs, placement="shoe" | "pelvis")
    imustream.analyze_run(fs, pelvis=..., shoe_left=..., shoe_right=...)
    imustream.open_session(path)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import profiles
from .errors import ConfigError, DecodeError, ImustreamError, ProfileError, RecordingError
from .types import Sensor

try:
    __version__ = version("imustream")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+checkout"

__all__ = [
    "ConfigError",
    "DecodeError",
    "ImustreamError",
    "ProfileError",
    "RecordingError",
    "Sensor",
    "__version__",
    "profiles",
]


def __getattr__(name: str):  # lazy: keep `import imustream` light (no numba, h5py, Qt)
    if name == "detect_events":
        from .dsp.api import detect_events

        return detect_events
    if name == "analyze_run":
        from .dsp.api import analyze_run

        return analyze_run
    if name == "open_session":
        from .io.session import open_session

        return open_session
    raise AttributeError(f"module 'imustream' has no attribute {name!r}")
