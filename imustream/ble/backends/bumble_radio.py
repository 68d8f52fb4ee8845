"""A bleak backend over bumble's in-process virtual radio (real ATT/GATT traffic).

Each :class:`~imustream.sim.device.SimulatedDevice` becomes a bumble peripheral (its own
virtual controller, GATT server built from the device's table, advertising its name and
service UUIDs); the host side is one bumble central (the "adapter"). All controllers share a
``LocalLink``, so discovery, MTU exchange, CCCD writes, writes with response and notifications
are real ATT PDUs. Use through bleak's front end::

    radio = BumbleRadio(devices); await radio.start()
    await BleakScanner.find_device_by_filter(f, backend=BumbleScanner, radio=radio)
    BleakClient(ble_device, backend=BumbleClient, radio=radio)

bumble is pinned (``bumble==0.0.236``): its API moves between releases.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_str
from bumble import gatt
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Device, Peer
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from ...sim.device import DeviceUnreachable, SimulatedDevice

CENTRAL_ADDRESS = "F0:F1:F2:F3:F4:F5"
ADV_INTERVAL_MS = 100.0
MTU = 247


def _props(names: list[str]) -> gatt.Characteristic.Properties:
    flags = gatt.Characteristic.Properties(0)
    table = {
        "read": gatt.Characteristic.Properties.READ,
        "write": gatt.Characteristic.Properties.WRITE,
        "write-without-response": gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
        "notify": gatt.Characteristic.Properties.NOTIFY,
    }
    for name in names:
        flags |= table[name]
    return flags


def _bumble_uuid(value: str) -> UUID:
    u = normalize_uuid_str(value)
    short = u[4:8] if u.endswith("-0000-1000-8000-00805f9b34fb") and u.startswith("0000") else None
    return UUID(short if short else u)


def _bleak_uuid(value: UUID) -> str:
    return normalize_uuid_str(value.to_hex_str("-"))


class _Peripheral:
    """One simulated device on the virtual radio."""

    def __init__(self, sim: SimulatedDevice, link: LocalLink) -> None:
        self.sim = sim
        self.controller = Controller(f"sim-{sim.address}", link=link)
        self.device = Device(
            name=sim.name,
            address=Address(sim.address),
            host=Host(self.controller, AsyncPipeSink(self.controller)),
        )
        self.chars: dict[str, gatt.Characteristic] = {}
        for service_uuid, chars in sim.gatt_table():
            characteristics = []
            for char_uuid, props in chars:
                value = gatt.CharacteristicValue(
                    read=functools.partial(self._read, char_uuid),
                    write=functools.partial(self._write, char_uuid),
                )
                char = gatt.Characteristic(
                    _bumble_uuid(char_uuid),
                    _props(props),
                    gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
                    value,
                )
                self.chars[char_uuid] = char
                characteristics.append(char)
            self.device.add_service(gatt.Service(_bumble_uuid(service_uuid), characteristics))
        self.device.on("connection", self._on_connection)
        self.device.on("characteristic_subscription", self._on_subscription)
        self.connection = None
        self._task: asyncio.Task | None = None

    def _read(self, char_uuid: str, _connection: Any) -> bytes:
        return self.sim.read(char_uuid)

    def _write(self, char_uuid: str, _connection: Any, value: bytes) -> None:
        self.sim.write(char_uuid, bytes(value))

    def _on_subscription(self, _connection, characteristic, notify, indicate) -> None:
        uuid = _bleak_uuid(characteristic.uuid)
        self.sim.subscribe(uuid, bool(notify or indicate))

    def _on_connection(self, connection) -> None:
        self.connection = connection
        connection.on("disconnection", self._on_disconnection)
        try:
            self.sim.connect(_PeripheralTransport(self, connection))
        except DeviceUnreachable:
            asyncio.get_running_loop().create_task(connection.disconnect())

    def _on_disconnection(self, _reason: int) -> None:
        self.connection = None
        if self.sim.connected:
            self.sim.disconnected()

    def advertising_data(self) -> tuple[bytes, bytes]:
        uuids = [_bumble_uuid(u) for u in self.sim.advertised_services()]
        adv = AdvertisingData(
            [
                (AdvertisingData.FLAGS, bytes([0x06])),
                (
                    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                    b"".join(bytes(u.to_bytes(force_128=True)) for u in uuids),
                ),
            ]
        )
        scan = AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, self.sim.name.encode())])
        return bytes(adv), bytes(scan)

    async def run(self) -> None:
        """Power on, then keep advertising whenever the simulated device advertises."""
        await self.device.power_on()
        adv, scan = self.advertising_data()
        advertising = False
        while True:
            want = self.sim.advertising and self.connection is None
            if want and not advertising:
                await self.device.start_advertising(
                    advertising_data=adv,
                    scan_response_data=scan,
                    advertising_interval_min=ADV_INTERVAL_MS,
                    advertising_interval_max=ADV_INTERVAL_MS,
                )
                advertising = True
            elif advertising and (not want or not self.device.is_advertising):
                if self.device.is_advertising:
                    await self.device.stop_advertising()
                advertising = False
            await asyncio.sleep(ADV_INTERVAL_MS / 1000.0)


class _PeripheralTransport:
    def __init__(self, peripheral: _Peripheral, connection) -> None:
        self._p = peripheral
        self._connection = connection

    async def notify(self, char_uuid: str, payload: bytes) -> None:
        if self._p.connection is self._connection:
            await self._p.device.notify_subscriber(
                self._connection, self._p.chars[char_uuid], payload
            )

    async def drop(self) -> None:
        if self._p.connection is self._connection:
            await self._connection.disconnect()


class BumbleRadio:
    """The virtual radio: a central (host adapter) and one peripheral per simulated device."""

    def __init__(self, devices: list[SimulatedDevice]) -> None:
        self.sims = list(devices)
        self.central: Device | None = None
        self.peripherals: list[_Peripheral] = []
        self._tasks: list[asyncio.Task] = []
        self._listeners: list[Callable] = []
        self._scan_lock: asyncio.Lock | None = None
        self.connect_lock: asyncio.Lock | None = None

    @property
    def devices(self) -> list[SimulatedDevice]:
        """The simulated devices on this radio."""
        return self.sims

    async def start(self) -> None:
        """Create the controllers (needs the running loop), power on, start advertising."""
        self.link = LocalLink()
        controller = Controller("host", link=self.link)
        self.central = Device(
            name="imustream-host",
            address=Address(CENTRAL_ADDRESS),
            host=Host(controller, AsyncPipeSink(controller)),
        )
        self.peripherals = [_Peripheral(sim, self.link) for sim in self.sims]
        self._scan_lock = asyncio.Lock()
        self.connect_lock = asyncio.Lock()
        await self.central.power_on()
        loop = asyncio.get_running_loop()
        for sim in self.sims:
            sim.power_on(loop)
        self._tasks = [loop.create_task(p.run()) for p in self.peripherals]
        self.central.on("advertisement", self._on_advertisement)

    async def stop(self) -> None:
        """Stop advertising tasks and the simulated devices."""
        for task in self._tasks:
            task.cancel()
        for sim in self.sims:
            sim.power_off()

    def _on_advertisement(self, advertisement) -> None:
        for listener in list(self._listeners):
            listener(advertisement)

    async def add_scan_listener(self, listener: Callable) -> None:
        """Start scanning (shared by every scanner) and report advertisements to listener."""
        async with self._scan_lock:
            self._listeners.append(listener)
            if not self.central.is_scanning:
                await self.central.start_scanning(active=True, filter_duplicates=False)

    async def remove_scan_listener(self, listener: Callable) -> None:
        """Stop reporting to listener; stop scanning when nobody listens."""
        async with self._scan_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            if not self._listeners and self.central.is_scanning:
                await self.central.stop_scanning()

    def sim_by_address(self, address: str) -> SimulatedDevice | None:
        """The simulated device with this address."""
        for sim in self.sims:
            if sim.address.upper() == address.upper():
                return sim
        return None


class BumbleScanner(BaseBleakScanner):
    """Scanner backend over the bumble central."""

    def __init__(
        self,
        detection_callback: Any,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        radio: BumbleRadio,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._radio = radio
        self._names: dict[str, str] = {}
        self._uuids: dict[str, list[str]] = {}

    async def start(self) -> None:
        self.seen_devices = {}
        await self._radio.add_scan_listener(self._on_advertisement)

    async def stop(self) -> None:
        await self._radio.remove_scan_listener(self._on_advertisement)

    def _on_advertisement(self, advertisement) -> None:
        address = str(advertisement.address).split("/")[0].upper()
        data = advertisement.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME)
        if name is not None:
            self._names[address] = name if isinstance(name, str) else name.decode()
        uuids = data.get(AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS)
        if uuids:
            self._uuids[address] = [_bleak_uuid(u) for u in uuids]
        service_uuids = self._uuids.get(address, [])
        if not self.is_allowed_uuid(service_uuids):
            return
        adv = AdvertisementData(
            local_name=self._names.get(address),
            manufacturer_data={},
            service_data={},
            service_uuids=service_uuids,
            tx_power=None,
            rssi=int(advertisement.rssi),
            platform_data=(advertisement,),
        )
        device = self.create_or_update_device(
            address, address, self._names.get(address), self._radio.sim_by_address(address), adv
        )
        self.call_detection_callbacks(device, adv)


class BumbleClient(BaseBleakClient):
    """Client backend: a bumble GATT client on the radio's central."""

    def __init__(
        self, address_or_ble_device: BLEDevice | str, *, radio: BumbleRadio, **kwargs: Any
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.pop("disconnected_callback", None),
            timeout=kwargs.pop("timeout", 10.0),
        )
        self._radio = radio
        self._connection = None
        self._peer: Peer | None = None
        self._proxies: dict[int, Any] = {}
        self._subscribers: dict[int, Callable] = {}
        self._closing = False

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        return int(self._connection.att_mtu) if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        async with self._radio.connect_lock:  # a controller makes one connection at a time
            try:
                connection = await self._radio.central.connect(
                    Address(self.address), timeout=self._timeout
                )
            except Exception as exc:  # bumble raises several types; bleak callers expect one
                raise BleakError(f"connection to {self.address} failed: {exc!r}") from exc
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)
        try:
            peer = Peer(connection)
            self._peer = peer
            await peer.request_mtu(MTU)
            await peer.discover_all()
        except Exception as exc:
            await self.disconnect()
            raise BleakError(f"GATT discovery on {self.address} failed: {exc!r}") from exc
        self.services = self._collect(peer)

    def _collect(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in peer.services:
            bs = BleakGATTService(service, service.handle, _bleak_uuid(service.uuid))
            collection.add_service(bs)
            for char in service.characteristics:
                props = [
                    name
                    for flag, name in (
                        (gatt.Characteristic.Properties.READ, "read"),
                        (gatt.Characteristic.Properties.WRITE, "write"),
                        (
                            gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
                            "write-without-response",
                        ),
                        (gatt.Characteristic.Properties.NOTIFY, "notify"),
                        (gatt.Characteristic.Properties.INDICATE, "indicate"),
                    )
                    if char.properties & flag
                ]
                bc = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    _bleak_uuid(char.uuid),
                    props,
                    lambda: self.mtu_size - 3,
                    bs,
                )
                collection.add_characteristic(bc)
                self._proxies[char.handle] = char
                for desc in char.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, _bleak_uuid(desc.type), bc)
                    )
        return collection

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        try:
            await connection.disconnect()
        finally:
            self._connection = None
            self._peer = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("simulated devices need no pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("simulated devices need no pairing")

    def _require(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"Not connected to {self.address}")
        return self._peer

    async def read_gatt_char(self, characteristic, **kwargs: Any) -> bytearray:
        peer = self._require()
        return bytearray(await peer.read_value(self._proxies[characteristic.handle]))

    async def read_gatt_descriptor(self, descriptor, **kwargs: Any) -> bytearray:
        return bytearray(await self._require().read_value(descriptor.handle))

    async def write_gatt_char(self, characteristic, data, response: bool) -> None:
        peer = self._require()
        await peer.write_value(self._proxies[characteristic.handle], bytes(data), response)

    async def write_gatt_descriptor(self, descriptor, data) -> None:
        await self._require().write_value(descriptor.handle, bytes(data), True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._require()

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = on_value
        await peer.subscribe(self._proxies[characteristic.handle], on_value)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require()
        on_value = self._subscribers.pop(characteristic.handle, None)
        await peer.unsubscribe(self._proxies[characteristic.handle], on_value)
