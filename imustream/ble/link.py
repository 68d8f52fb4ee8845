"""One link per device: find, connect, configure, stream, and reconnect after a loss.

The notification callback does one thing: ``out.put_nowait((host_ns, sensor, bytes))``.
Decoding happens elsewhere (:class:`imustream.stream.Acquisition`). State changes go into the
same queue as :class:`imustream.types.StateChange` records, so a consumer sees a reconnect
before the first packet of the new connection.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from ..types import LinkState, StateChange
from .backoff import Backoff


@dataclass(frozen=True)
class Backend:
    """Which bleak backend classes to use (``None`` = the platform's real Bluetooth stack).

    ``kwargs`` are passed to both ``BleakScanner`` and ``BleakClient`` (e.g. ``radio=``).
    """

    scanner: type | None = None
    client: type | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str = "bluetooth"

    def scanner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakScanner``."""
        return {"backend": self.scanner, **self.kwargs} if self.scanner else {}

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakClient``."""
        return {"backend": self.client, **self.kwargs} if self.client else {}


@dataclass(frozen=True)
class LinkTarget:
    """Which device plays ``sensor`` and how to configure it."""

    sensor: str
    profile: Any  # FirmwareProfile
    address: str | None = None
    name: str | None = None  # regex on the advertised name
    rate: float | None = None
    acc_range: float | None = None
    gyr_range: float | None = None

    def matches(self, address: str, name: str | None, service_uuids: list[str]) -> bool:
        """True if an advertisement belongs to this sensor's device."""
        if self.address is not None:
            return address.upper() == self.address.upper()
        pattern = self.name or self.profile.scan_name_pattern
        return name is not None and re.search(pattern, name) is not None


class LinkLost(Exception):
    """The connection ended (unsolicited disconnect or a stalled stream)."""


class SensorLink:
    """Keeps one sensor streaming into ``out`` until :meth:`stop`.

    Parameters
    ----------
    target : LinkTarget
    out : queue-like
        Anything with ``put_nowait`` (``queue.SimpleQueue``); receives
        ``(host_ns, sensor, bytes)`` tuples and ``StateChange`` records.
    backend : Backend
    connect_timeout : float
        Seconds per connection attempt (connect + discovery + start sequence).
    scan_window : float
        Seconds to look for the device per attempt.
    stall_timeout : float
        A connected device that sends nothing for this long is disconnected and reconnected.
    backoff : Backoff
        Delays between failed attempts (capped exponential).
    """

    def __init__(
        self,
        target: LinkTarget,
        out: Any,
        backend: Backend,
        *,
        connect_timeout: float = 10.0,
        scan_window: float = 1.0,
        stall_timeout: float = 2.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.target = target
        self.sensor = target.sensor
        self.out = out
        self.backend = backend
        self.connect_timeout = connect_timeout
        self.scan_window = scan_window
        self.stall_timeout = stall_timeout
        self.backoff = backoff or Backoff()
        self.state = LinkState.IDLE
        self.connections = 0
        self._stopping = asyncio.Event()
        self._lost: asyncio.Event | None = None
        self._last_rx = 0.0
        self._rx_count = 0
        self._client: BleakClient | None = None

    # ------------------------------------------------------------------ reporting
    def _now_ns(self) -> int:
        return int(asyncio.get_running_loop().time() * 1e9)

    def _set(self, state: LinkState, message: str = "", **extra: Any) -> None:
        self.state = state
        self.out.put_nowait(StateChange(self.sensor, state, self._now_ns(), message, extra))

    # ------------------------------------------------------------------ main loop
    async def run(self) -> None:
        """Connect and stream until :meth:`stop`; never raises for link problems."""
        try:
            while not self._stopping.is_set():
                first = self.connections == 0
                self._set(LinkState.SCANNING if first else LinkState.RECONNECTING)
                try:
                    await self._session()
                except LinkLost as exc:
                    await self._close()
                    if self._stopping.is_set():
                        break
                    self._set(LinkState.LOST, str(exc))
                    if self._rx_count:
                        continue  # it streamed: reconnect at once
                    # connected but silent: retry with backoff
                except (BleakError, TimeoutError, OSError, ValueError) as exc:
                    await self._close()
                    if self._stopping.is_set():
                        break
                    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                    self._set(LinkState.RECONNECTING, message)
                await self._sleep(self.backoff.next_delay())
        finally:
            await self._close()
            self._set(LinkState.STOPPED)

    async def stop(self) -> None:
        """Stop streaming (runs the profile's stop sequence when connected)."""
        self._stopping.set()
        if self._lost is not None:
            self._lost.set()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def _find(self):
        found: dict[str, Any] = {}

        def accept(device, adv) -> bool:
            if self.target.matches(
                device.address, adv.local_name or device.name, adv.service_uuids
            ):
                found["rssi"] = adv.rssi
                return True
            return False

        device = await BleakScanner.find_device_by_filter(
            accept, timeout=self.scan_window, **self.backend.scanner_kwargs()
        )
        return device, found.get("rssi")

    async def _session(self) -> None:
        device, rssi = await self._find()
        if device is None:
            where = self.target.address or self.target.name or self.target.profile.scan_name_pattern
            raise BleakError(f"no advertising device matches {where!r}")
        if self._stopping.is_set():
            return
        self._set(LinkState.CONNECTING, address=device.address, name=device.name, rssi=rssi)
        loop = asyncio.get_running_loop()
        self._lost = lost = asyncio.Event()
        self._rx_count = 0

        def on_disconnect(_client: BleakClient) -> None:
            lost.set()

        client = BleakClient(
            device,
            disconnected_callback=on_disconnect,
            timeout=self.connect_timeout,
            **self.backend.client_kwargs(),
        )
        self._client = client
        profile = self.target.profile
        sensor = self.sensor
        put = self.out.put_nowait

        def on_notify(_char, data: bytearray) -> None:
            now = loop.time()
            self._last_rx = now
            self._rx_count += 1
            put((int(now * 1e9), sensor, bytes(data)))

        async with asyncio.timeout(self.connect_timeout):
            await client.connect()
            await self._negotiate_mtu(client)
            battery = await self._read_battery(client)
            self._last_rx = loop.time()
            for uuid in profile.notify_uuids[:1]:
                await client.start_notify(uuid, on_notify)
            writes = profile.start_sequence(
                rate=self.target.rate,
                acc_range=self.target.acc_range,
                gyr_range=self.target.gyr_range,
            )
            for w in writes:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
        self.connections += 1
        self._set(
            LinkState.STREAMING,
            f"connection {self.connections}",
            address=device.address,
            name=device.name,
            rssi=rssi,
            battery=battery,
            mtu=client.mtu_size,
            connection=self.connections,
        )
        self._last_rx = loop.time()
        while not lost.is_set():
            if self._rx_count:
                self.backoff.reset()
            try:
                await asyncio.wait_for(lost.wait(), self.stall_timeout / 4)
            except TimeoutError:
                idle = loop.time() - self._last_rx
                if idle > self.stall_timeout:
                    await self._close()
                    raise LinkLost(f"no data for {idle:.1f} s; reconnecting") from None
        if self._stopping.is_set():
            return
        self._client = None
        raise LinkLost("device disconnected")

    @staticmethod
    async def _negotiate_mtu(client: BleakClient) -> None:
        """BlueZ negotiates lazily; bleak's documented work-around asks for it explicitly."""
        backend = client._backend
        acquire = getattr(backend, "_acquire_mtu", None)
        if acquire is not None and type(backend).__module__.startswith("bleak.backends.bluez"):
            try:
                await acquire()
            except (BleakError, OSError, AttributeError):
                pass  # keep the default MTU; packets just get smaller

    async def _read_battery(self, client: BleakClient) -> int | None:
        battery = self.target.profile.battery
        if battery is None:
            return None
        try:
            value = await client.read_gatt_char(battery[1])
        except (BleakError, OSError, ValueError):
            return None
        return int(value[0]) if value else None

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            if self._stopping.is_set():
                for w in self.target.profile.stop_sequence():
                    await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
            await client.disconnect()
        except (BleakError, OSError, TimeoutError):
            pass
