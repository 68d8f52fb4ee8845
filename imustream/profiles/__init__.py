"""Firmware profiles: one TOML file per device family, validated into a frozen record.

Public API::

    imustream.profiles.names()            # -> ["imustream-open", "movesense-imu6", ...]
    p = imustream.profiles.get(name)      # -> FirmwareProfile (ProfileError if unknown)
    p.decode(payload)                     # -> SampleBlock (DecodeError if malformed)
    imustream.profiles.load(path)         # validate any TOML file

Profiles are looked up in the installed package (``imustream/firmware_profiles``) first and
in ``<checkout>/firmware_profiles`` otherwise.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ProfileError
from .loader import load, profile_dirs
from .model import FirmwareProfile, GattWrite

__all__ = ["FirmwareProfile", "GattWrite", "get", "load", "names", "profile_dir"]

_cache: dict[str, FirmwareProfile] = {}


def profile_dir() -> Path:
    """The folder the bundled profiles are read from."""
    for d in profile_dirs():
        if d.is_dir() and any(d.glob("*.toml")):
            return d
    tried = ", ".join(str(d) for d in profile_dirs())
    raise ProfileError(f"no firmware_profiles folder found (looked in {tried})")


def names() -> list[str]:
    """Names of every bundled profile, sorted."""
    return sorted(p.stem for p in profile_dir().glob("*.toml"))


def get(name: str) -> FirmwareProfile:
    """The bundled profile called ``name``.

    Raises
    ------
    ProfileError
        If there is no such profile or its file is invalid.
    """
    p = _cache.get(name) if isinstance(name, str) else None
    if p is None:
        path = profile_dir() / f"{name}.toml" if isinstance(name, str) else None
        if path is None or "/" in name or "\\" in name or not path.is_file():
            raise ProfileError(f"unknown firmware profile {name!r} (known: {', '.join(names())})")
        p = _cache[name] = load(path)
    return p
