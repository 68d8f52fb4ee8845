"""A bleak backend whose "radio" is a set of in-process simulated devices.

Use through bleak's own front end, so the code under test is the code that talks to real
hardware::

    radio = SimulatedRadio([device, ...]); radio.power_on()
    scanner = BleakScanner(backend=InProcessScanner, radio=radio)
    client = BleakClient(ble_device, backend=InProcessClient)   # ble_device.details = device

Notifications are delivered in the event loop that runs the simulated devices, at the time
the device sends them (see :class:`imustream.sim.device.SimulatedDevice`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from ...sim.device import DeviceUnreachable, SimulatedDevice

CCCD_UUID = "00002902-0000-1000-8000-00805f9a34fb"


class SimulatedRadio:
    """The simulated devices within range of the host."""

    def __init__(self, devices: Iterable[SimulatedDevice]) -> None:
        self.devices = list(devices)

    def power_on(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Power on every device (call inside the loop that will run them)."""
        for dev in self.devices:
            dev.power_on(loop)

    def power_off(self) -> None:
        """Stop every device."""
        for dev in self.devices:
            dev.power_off()

    def by_address(self, address: str) -> SimulatedDevice | None:
        """The device with this address, if any."""
        for dev in self.devices:
            if dev.address.upper() == address.upper():
                return dev
        return None


class InProcessScanner(BaseBleakScanner):
    """Scanner backend: reports every advertising simulated device each ``adv_interval``."""

    def __init__(
        self,
        detection_callback: Any,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        radio: SimulatedRadio,
        adv_interval: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._radio = radio
        self._interval = adv_interval
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _listen(self) -> None:
        while True:
            for dev in self._radio.devices:
                if not dev.advertising:
                    continue
                adv = AdvertisementData(
                    local_name=dev.name,
                    manufacturer_data={},
                    service_data={},
                    service_uuids=dev.advertised_services(),
                    tx_power=None,
                    rssi=dev.rssi(),
                    platform_data=(dev,),
                )
                if not self.is_allowed_uuid(adv.service_uuids):
                    continue
                ble = self.create_or_update_device(dev.address, dev.address, dev.name, dev, adv)
                self.call_detection_callbacks(ble, adv)
            await asyncio.sleep(self._interval)


class _ClientTransport:
    """What the device sees of this client."""

    def __init__(self, client: InProcessClient) -> None:
        self._client = client

    async def notify(self, char_uuid: str, payload: bytes) -> None:
        callback = self._client._notify.get(char_uuid)
        if callback is not None:
            callback(bytearray(payload))

    async def drop(self) -> None:
        self._client._link_lost()


class InProcessClient(BaseBleakClient):
    """Client backend talking to a :class:`SimulatedDevice` (``BLEDevice.details``)."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        radio: SimulatedRadio | None = None,
        mtu: int = 247,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.pop("disconnected_callback", None),
            timeout=kwargs.pop("timeout", 10.0),
        )
        if isinstance(address_or_ble_device, BLEDevice) and isinstance(
            address_or_ble_device.details, SimulatedDevice
        ):
            self._device: SimulatedDevice | None = address_or_ble_device.details
        else:
            self._device = radio.by_address(self.address) if radio is not None else None
        self._mtu = mtu
        self._connected = False
        self._notify: dict[str, NotifyCallback] = {}

    @property
    def name(self) -> str:
        return self._device.name if self._device else self.address

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self._device is None:
            raise BleakDeviceNotFoundError(self.address, f"Device {self.address} not found")
        await asyncio.sleep(0.02)  # a few connection events
        try:
            self._device.connect(_ClientTransport(self))
        except DeviceUnreachable as exc:
            raise BleakError(str(exc)) from None
        self._connected = True
        self.services = _services(self._device)

    async def disconnect(self) -> None:
        if self._connected:
            self._connected = False
            self._notify.clear()
            self._device.disconnected()

    def _link_lost(self) -> None:
        if not self._connected:
            return
        self._connected = False
        self._notify.clear()
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("simulated devices need no pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("simulated devices need no pairing")

    def _require(self) -> SimulatedDevice:
        if not self._connected:
            raise BleakError(f"Not connected to {self.address}")
        return self._device

    async def read_gatt_char(self, characteristic, **kwargs: Any) -> bytearray:
        return bytearray(self._require().read(characteristic.uuid))

    async def read_gatt_descriptor(self, descriptor, **kwargs: Any) -> bytearray:
        self._require()
        return bytearray(b"\x00\x00")

    async def write_gatt_char(self, characteristic, data, response: bool) -> None:
        self._require().write(characteristic.uuid, bytes(data))

    async def write_gatt_descriptor(self, descriptor, data) -> None:
        self._require()
        if descriptor.uuid == CCCD_UUID:
            char = descriptor.obj
            enabled = bytes(data)[:1] in (b"\x01", b"\x02")
            self._device.subscribe(char, enabled)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        device = self._require()
        if "notify" not in characteristic.properties:
            raise BleakError(f"characteristic {characteristic.uuid} does not notify")
        self._notify[characteristic.uuid] = callback
        device.subscribe(characteristic.uuid, True)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        device = self._require()
        self._notify.pop(characteristic.uuid, None)
        device.subscribe(characteristic.uuid, False)


def _services(device: SimulatedDevice) -> BleakGATTServiceCollection:
    """Bleak's view of the device's GATT table (handles as a real server would number them)."""
    collection = BleakGATTServiceCollection()
    handle = 1
    for service_uuid, chars in device.gatt_table():
        service = BleakGATTService(None, handle, service_uuid)
        collection.add_service(service)
        handle += 1
        for char_uuid, props in chars:
            char = BleakGATTCharacteristic(
                None, handle + 1, char_uuid, list(props), lambda: 244, service
            )
            collection.add_characteristic(char)
            handle += 2
            if "notify" in props:
                collection.add_descriptor(BleakGATTDescriptor(char_uuid, handle, CCCD_UUID, char))
                handle += 1
    return collection
