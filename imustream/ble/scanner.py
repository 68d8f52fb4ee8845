"""Scanning: find supported devices and tell which firmware profile each one speaks."""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_str

from ..errors import ImustreamError
from .link import Backend


@dataclass
class FoundDevice:
    """One advertising device."""

    address: str
    name: str | None
    rssi: int | None
    profile: str | None  # matching firmware profile, None if unsupported
    battery: int | None = None
    service_uuids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for ``--json``)."""
        return asdict(self)


def match_profile(name: str | None, service_uuids: list[str], candidates: list[Any]) -> Any:
    """The first profile whose advertised services or name pattern match, else None."""
    uuids = {normalize_uuid_str(u) for u in service_uuids}
    for p in candidates:
        if uuids & {normalize_uuid_str(u) for u in p.advertised_services}:
            return p
    for p in candidates:
        if name and re.search(p.scan_name_pattern, name):
            return p
    return None


def bluetooth_unavailable(exc: BaseException) -> ImustreamError:
    """A clear error for a host without a usable Bluetooth adapter."""
    return ImustreamError(
        f"no usable Bluetooth adapter ({type(exc).__name__}: {exc or 'no details'}); check that "
        "the adapter is present and powered (Linux: bluetoothd running, `bluetoothctl show`), "
        "or try the simulated devices with --simulated"
    )


async def scan(
    backend: Backend,
    timeout: float = 5.0,
    read_battery: bool = False,
    only_supported: bool = True,
) -> list[FoundDevice]:
    """Scan for ``timeout`` s and return the devices found, strongest signal first.

    Parameters
    ----------
    backend : Backend
        Which bleak backend to scan with (the platform's by default).
    read_battery : bool
        Connect briefly to each supported device to read its battery level.
    only_supported : bool
        Leave out devices that match no firmware profile.
    """
    from .. import profiles

    candidates = [profiles.get(n) for n in profiles.names()]
    try:
        seen = await BleakScanner.discover(
            timeout=timeout, return_adv=True, **backend.scanner_kwargs()
        )
    except (BleakError, OSError) as exc:
        raise bluetooth_unavailable(exc) from exc
    found = []
    for device, adv in seen.values():
        name = adv.local_name or device.name
        p = match_profile(name, adv.service_uuids, candidates)
        if p is None and only_supported:
            continue
        item = FoundDevice(
            device.address, name, adv.rssi, p.name if p else None, None, list(adv.service_uuids)
        )
        if read_battery and p is not None and p.battery is not None:
            item.battery = await _battery(device, p, backend, timeout)
        found.append(item)
    found.sort(key=lambda d: -(d.rssi if d.rssi is not None else -999))
    return found


async def _battery(device: Any, profile: Any, backend: Backend, timeout: float) -> int | None:
    try:
        async with asyncio.timeout(timeout):
            async with BleakClient(device, **backend.client_kwargs()) as client:
                value = await client.read_gatt_char(profile.battery[1])
    except (BleakError, OSError, TimeoutError):
        return None
    return int(value[0]) if value else None
