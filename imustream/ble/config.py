"""Session configuration (TOML): which device plays which role, with which options.

Example ``session.toml``::

    [session]
    connect_timeout = 10.0     # s per connection attempt
    scan_timeout = 10.0        # s to find all devices before giving up

    [sensors.pelvis]
    profile = "movesense-imu6"
    name = "Movesense 2140.*"  # regex on the advertised name, or:
    # address = "0C:8C:DC:11:22:33"
    rate = 104                 # Hz, one of the profile's rates (default: profile default)

    [sensors.shoe_left]
    profile = "imustream-open"
    address = "C0:FF:EE:00:00:01"
    acc_range = 16             # g, one of the profile's ranges
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, ProfileError
from ..types import Sensor

_SESSION_KEYS = {"connect_timeout": float, "scan_timeout": float}
_SENSOR_KEYS = {"profile", "address", "name", "rate", "acc_range", "gyr_range"}
_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")


@dataclass(frozen=True)
class SensorConfig:
    """How to find and configure the device that plays ``sensor``."""

    sensor: str
    profile: str
    address: str | None = None
    name: str | None = None
    rate: float | None = None
    acc_range: float | None = None
    gyr_range: float | None = None

    def matches(self, address: str, name: str | None) -> bool:
        """True if an advertised device (address, name) is this sensor's device."""
        if self.address is not None:
            return address.upper() == self.address.upper()
        return name is not None and re.search(self.name or "", name) is not None


@dataclass(frozen=True)
class SessionConfig:
    """A validated session configuration."""

    sensors: dict[str, SensorConfig]
    connect_timeout: float = 10.0
    scan_timeout: float = 10.0
    source: str = "<memory>"
    extra: dict = field(default_factory=dict)


def _number(where: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{where}: key {key!r} must be a positive number, got {value!r}")
    return float(value)


def _check_option(where: str, key: str, value: float, allowed: tuple) -> None:
    if allowed and not any(abs(value - float(a)) < 1e-9 for a in allowed):
        raise ConfigError(
            f"{where}: key {key!r} = {value:g} is not supported by this profile "
            f"(choose one of {', '.join(f'{float(a):g}' for a in allowed)})"
        )


def parse_config(data: dict, source: str = "<memory>") -> SessionConfig:
    """Validate a parsed TOML document; raises ConfigError naming ``source`` and the key."""
    from .. import profiles

    unknown = set(data) - {"session", "sensors"}
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key {sorted(unknown)[0]!r}")
    session = data.get("session", {})
    if not isinstance(session, dict):
        raise ConfigError(f"{source}: [session] must be a table")
    opts = {}
    for key, value in session.items():
        if key not in _SESSION_KEYS:
            raise ConfigError(f"{source}: unknown key 'session.{key}'")
        opts[key] = _number(source, f"session.{key}", value)
    sensors_raw = data.get("sensors")
    if not isinstance(sensors_raw, dict) or not sensors_raw:
        raise ConfigError(f"{source}: needs at least one [sensors.<role>] table")
    sensors: dict[str, SensorConfig] = {}
    roles = [s.value for s in Sensor]
    for role, table in sensors_raw.items():
        where = f"{source}: [sensors.{role}]"
        if role not in roles:
            raise ConfigError(f"{where}: unknown sensor role {role!r} (use {', '.join(roles)})")
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        bad = set(table) - _SENSOR_KEYS
        if bad:
            raise ConfigError(f"{where}: unknown key {sorted(bad)[0]!r}")
        if "profile" not in table:
            raise ConfigError(f"{where}: missing key 'profile' (one of {profiles.names()})")
        try:
            profile = profiles.get(str(table["profile"]))
        except ProfileError as exc:
            raise ConfigError(f"{where}: key 'profile': {exc}") from None
        address, name = table.get("address"), table.get("name")
        if (address is None) == (name is None):
            raise ConfigError(f"{where}: give exactly one of 'address' or 'name'")
        if address is not None and (not isinstance(address, str) or not _ADDRESS.match(address)):
            raise ConfigError(f"{where}: key 'address' is not a Bluetooth address: {address!r}")
        if name is not None:
            try:
                re.compile(str(name))
            except re.error as exc:
                raise ConfigError(f"{where}: key 'name' is not a valid regex: {exc}") from None
        values = {}
        for key, allowed in (
            ("rate", profile.rates),
            ("acc_range", profile.acc_ranges),
            ("gyr_range", profile.gyr_ranges),
        ):
            if key in table:
                values[key] = _number(where, key, table[key])
                _check_option(where, key, values[key], tuple(allowed))
        sensors[role] = SensorConfig(
            sensor=role, profile=profile.name, address=address, name=name, **values
        )
    return SessionConfig(sensors=sensors, source=source, **opts)


def load_config(path: str | Path) -> SessionConfig:
    """Read and validate a session TOML file (ConfigError names the file and the key)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: session config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, source=str(path))
