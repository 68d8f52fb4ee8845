"""A simulated BLE IMU peripheral that speaks a real firmware profile.

The device advertises like the real one (a name matching ``profile.scan_name_pattern``, the
profile's advertised service UUIDs), exposes the profile's GATT characteristics, obeys its
configure/start/stop writes (it recognises ``profile.start_sequence(rate=r, ...)`` for every
supported option) and, once started and subscribed, sends notifications encoded with
:class:`imustream.sim.encoders.PacketEncoder` from the virtual runner's signals.

Time: the device's true time is ``loop.time() - power_on``; run it on a
:mod:`imustream.ble.clock` loop for unpaced (tests) or sped-up (demo) operation. Sample ``i``
leaves the device at the first connection event after ``signals.t[i]``.

Link faults (``LinkFaults``) are applied here, because the transports (in-process backend,
bumble's LocalLink) deliver every packet instantly: independent loss, loss bursts, pairwise
reordering and out-of-range windows that drop the connection. Every packet the device
generated is logged in :attr:`SimulatedDevice.log` with its fate, the ground truth the tests
compare the receiving side against.

Transports attach with :meth:`SimulatedDevice.connect`, passing an object with
``async notify(char_uuid, payload)`` and ``async drop()`` (an unsolicited disconnect).
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from bleak.uuids import normalize_uuid_str


def _uuid(value: str) -> str:
    return normalize_uuid_str(str(value))


class DeviceUnreachable(ConnectionError):
    """The simulated device is out of range, powered off or already connected."""


class Transport(Protocol):
    """What a backend gives a connected device."""

    async def notify(self, char_uuid: str, payload: bytes) -> None: ...

    async def drop(self) -> None: ...


class Signals(Protocol):
    """One sensor's simulated signals (``imustream.sim.SensorSignals``)."""

    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    t_device: np.ndarray


@dataclass(frozen=True)
class LinkFaults:
    """Faults of one device's radio link (the fields of ``imustream.sim.Scenario``).

    Parameters
    ----------
    loss_rate : float
        Probability that a packet is lost on its own.
    burst_rate : float
        Loss bursts per second.
    burst_mean_s : float
        Mean burst duration in s (exponential).
    reorder_prob : float
        Probability that a packet arrives after its successor.
    disconnects : tuple of (start, end)
        Windows (device true time, s) in which the device is out of range: the link drops at
        ``start`` and the device advertises again from ``end``.
    conn_interval : float
        Connection interval in s; packets leave at connection events.
    slip_prob : float
        Probability that a packet misses a connection event (radio retransmission) and
        leaves one interval later, taking the packets queued behind it along: one-sided
        delay jitter as on a real link (the link layer never reorders).
    garbage_prob : float
        Probability that a packet leaves as random bytes of random length (a corrupted
        notification); logged with fate ``"garbage"``.
    clock_resets : tuple of float
        Device true times (s) at which the device clock restarts from 0 (a firmware watchdog
        reset that keeps the link): later packets carry ``t_device`` relative to the reset.
    """

    loss_rate: float = 0.0
    burst_rate: float = 0.0
    burst_mean_s: float = 0.0
    reorder_prob: float = 0.0
    disconnects: tuple[tuple[float, float], ...] = ()
    conn_interval: float = 0.015
    slip_prob: float = 0.05
    garbage_prob: float = 0.0
    clock_resets: tuple[float, ...] = ()

    @classmethod
    def from_scenario(cls, scenario: Any, sensor: str) -> LinkFaults:
        """The link faults a sim ``Scenario`` gives ``sensor``."""
        return cls(
            loss_rate=float(scenario.loss_rate),
            burst_rate=float(scenario.burst_rate),
            burst_mean_s=float(scenario.burst_mean_s),
            reorder_prob=float(scenario.reorder_prob),
            disconnects=tuple(
                (float(a), float(b)) for a, b in scenario.disconnect_intervals(sensor)
            ),
        )


@dataclass
class PacketRecord:
    """Ground truth for one generated packet."""

    seq: int
    first: int  # index of its first sample in the signals
    n: int
    t_first: float  # true time of its first sample (s)
    fate: str  # "sent" | "lost" | "garbage"
    rate: float


@dataclass
class _Stream:
    rate: float
    options: dict
    started: bool = False
    subscribed: set = field(default_factory=set)


class SimulatedDevice:
    """A simulated peripheral for one sensor.

    Parameters
    ----------
    profile : FirmwareProfile
        The firmware it speaks (advertising, GATT table, start/stop sequences).
    signals : callable
        ``signals(rate) -> SensorSignals`` (``.t``, ``.acc``, ``.gyr``, ``.t_device``) sampled
        at ``rate`` Hz; called once per configured rate.
    address : str
        Bluetooth address it advertises.
    name : str, optional
        Advertised name; default derived from the profile's scan name pattern.
    faults : LinkFaults
    seed : int
        Seeds the fault draws and RSSI.
    wire_profile : FirmwareProfile, optional
        Encode notifications with another profile (a device that matches the wrong profile).
    garbage : bool
        Send random bytes instead of packets.
    stop_at : float, optional
        Stop sending (while staying connected) at this device true time.
    battery : int
        Battery level in percent reported by the battery characteristic.
    samples_per_packet : int, optional
        For profiles with variable-size packets (default: as many as fit 244 bytes).
    """

    def __init__(
        self,
        profile: Any,
        signals: Callable[[float], Signals],
        *,
        address: str,
        name: str | None = None,
        faults: LinkFaults | None = None,
        seed: int = 0,
        wire_profile: Any | None = None,
        garbage: bool = False,
        stop_at: float | None = None,
        battery: int = 87,
        tx_rssi: int = -55,
        samples_per_packet: int | None = None,
    ) -> None:
        self.profile = profile
        self.address = address
        self.name = name or advertised_name(profile, address)
        self.faults = faults or LinkFaults()
        self.wire_profile = wire_profile
        self.garbage = garbage
        self.stop_at = stop_at
        self.battery = int(battery)
        self.samples_per_packet = samples_per_packet
        self._signals_fn = signals
        self._signals: dict[float, Signals] = {}
        self._rng = np.random.default_rng(seed)
        self._rssi_base = int(tx_rssi)
        self._power_on: float | None = None
        self._transport: Transport | None = None
        self._stream: _Stream | None = None
        self._task: asyncio.Task | None = None
        self._watch: asyncio.Task | None = None
        self._writes: list[tuple[str, bytes]] = []
        self._burst_end = -math.inf
        self._seq = 0
        self.log: list[PacketRecord] = []
        self.unknown_writes: list[tuple[str, bytes]] = []
        self.connections = 0
        self._start_table = _start_table(profile)
        self._stop = [(_uuid(w.char_uuid), bytes(w.data)) for w in profile.stop_sequence()]

    # ------------------------------------------------------------------ lifetime
    def power_on(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start the device clock (true time 0) and its out-of-range schedule."""
        loop = loop or asyncio.get_running_loop()
        self._power_on = loop.time()
        if self.faults.disconnects:
            self._watch = loop.create_task(self._range_watch())

    def power_off(self) -> None:
        """Stop all device activity."""
        for task in (self._task, self._watch):
            if task is not None:
                task.cancel()
        self._task = self._watch = None
        self._transport = None
        self._stream = None

    def now(self) -> float:
        """Device true time in s since power-on."""
        if self._power_on is None:
            raise RuntimeError(f"simulated device {self.name} is not powered on")
        return asyncio.get_running_loop().time() - self._power_on

    def in_range(self, t: float | None = None) -> bool:
        """False inside one of the out-of-range windows."""
        t = self.now() if t is None else t
        return not any(a <= t < b for a, b in self.faults.disconnects)

    @property
    def advertising(self) -> bool:
        """True while the device can be discovered and connected."""
        return self._power_on is not None and self._transport is None and self.in_range()

    @property
    def connected(self) -> bool:
        """True while a central is connected."""
        return self._transport is not None

    def rssi(self) -> int:
        """A plausible, slowly varying RSSI in dBm."""
        return int(self._rssi_base + self._rng.integers(-4, 5))

    # ------------------------------------------------------------------ GATT
    def advertised_services(self) -> list[str]:
        """Service UUIDs in the advertising data."""
        return [_uuid(u) for u in self.profile.advertised_services]

    def gatt_table(self) -> list[tuple[str, list[tuple[str, list[str]]]]]:
        """``[(service_uuid, [(char_uuid, properties), ...]), ...]``."""
        p = self.profile
        writes = {uuid for seq in self._start_table for uuid, _ in seq}
        writes |= {uuid for uuid, _ in self._stop}
        if p.control_uuid:
            writes.add(_uuid(p.control_uuid))
        chars: list[tuple[str, list[str]]] = [
            (u, ["write", "write-without-response"]) for u in sorted(writes)
        ]
        chars += [(_uuid(u), ["read", "notify"]) for u in p.notify_uuids if _uuid(u) not in writes]
        table = [(_uuid(p.service_uuid), chars)]
        if p.battery is not None:
            table.append((_uuid(p.battery[0]), [(_uuid(p.battery[1]), ["read", "notify"])]))
        return table

    def read(self, char_uuid: str) -> bytes:
        """Value of a readable characteristic."""
        if self.profile.battery is not None and _uuid(char_uuid) == _uuid(self.profile.battery[1]):
            return bytes([self.battery])
        return b""

    # ------------------------------------------------------------------ connection
    def connect(self, transport: Transport) -> None:
        """Accept a connection; raises DeviceUnreachable when not advertising."""
        if not self.advertising:
            state = "connected to another central" if self.connected else "out of range"
            raise DeviceUnreachable(f"{self.name} ({self.address}) is {state}")
        self._transport = transport
        self._writes = []
        self._stream = None
        self.connections += 1

    def disconnected(self) -> None:
        """The central closed the connection (or the link dropped): stop streaming."""
        self._transport = None
        self._stream = None
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def write(self, char_uuid: str, data: bytes) -> None:
        """A GATT write from the central: configure/start/stop commands."""
        item = (_uuid(char_uuid), bytes(data))
        if item in self._stop and not any(seq[:1] == (item,) for seq in self._start_table):
            self._stop_stream()
            return
        self._writes.append(item)
        matched = self._start_table.get(tuple(self._writes))
        if matched is not None:
            rate, options = matched
            subscribed = self._stream.subscribed if self._stream else set()
            self._stream = _Stream(rate=rate, options=options, subscribed=subscribed)
            self._writes = []
            self._stream.started = True
            self._maybe_start()
        elif not any(seq[: len(self._writes)] == tuple(self._writes) for seq in self._start_table):
            self.unknown_writes.append(item)
            self._writes = []

    def subscribe(self, char_uuid: str, enabled: bool) -> None:
        """CCCD write from the central."""
        if self._stream is None:
            self._stream = _Stream(rate=float(self.profile.default_rate), options={})
        uuid = _uuid(char_uuid)
        if enabled:
            self._stream.subscribed.add(uuid)
        else:
            self._stream.subscribed.discard(uuid)
        if () in self._start_table and not self._stream.started:
            # profiles without a start command stream as soon as notifications are enabled
            self._stream.rate, self._stream.options = self._start_table[()]
            self._stream.started = True
        self._maybe_start()

    def _maybe_start(self) -> None:
        s = self._stream
        data_uuid = _uuid(self.profile.notify_uuids[0])
        if s and s.started and data_uuid in s.subscribed and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(s))

    def _stop_stream(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._stream is not None:
            self._stream.started = False
        self._writes = []

    def signals(self, rate: float) -> Signals:
        """The (cached) signals at ``rate`` Hz."""
        if rate not in self._signals:
            self._signals[rate] = self._signals_fn(rate)
        return self._signals[rate]

    # ------------------------------------------------------------------ streaming
    async def _range_watch(self) -> None:
        loop = asyncio.get_running_loop()
        for start, _end in sorted(self.faults.disconnects):
            delay = self._power_on + start - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            transport = self._transport
            if transport is not None:
                self.disconnected()
                await transport.drop()

    def _fate(self, t: float, dt: float) -> str:
        """Fate of a packet sent at true time ``t``, ``dt`` after the previous one."""
        f = self.faults
        if t < self._burst_end:
            return "lost"
        if f.burst_rate > 0 and self._rng.random() < f.burst_rate * dt:
            self._burst_end = t + self._rng.exponential(f.burst_mean_s)
            return "lost"
        if f.loss_rate > 0 and self._rng.random() < f.loss_rate:
            return "lost"
        return "sent"

    async def _run(self, stream: _Stream) -> None:
        from .encoders import PacketEncoder

        loop = asyncio.get_running_loop()
        sig = self.signals(stream.rate)
        wire = self.wire_profile or self.profile
        opts = stream.options if self.wire_profile is None else {}
        enc = PacketEncoder(
            wire,
            rate=stream.rate if self.wire_profile is None else None,
            samples_per_packet=self.samples_per_packet,
            **opts,
        )
        k = int(enc.samples_per_packet)
        ci = self.faults.conn_interval
        i = int(np.searchsorted(sig.t, self.now(), side="left"))
        held: list[bytes] | None = None
        held_rec: PacketRecord | None = None
        last_send = -math.inf
        n_total = len(sig.t)
        try:
            while i + k <= n_total:
                t_last = float(sig.t[i + k - 1])
                if self.stop_at is not None and t_last >= self.stop_at:
                    return
                t_send = math.ceil(t_last / ci) * ci if ci > 0 else t_last
                while ci > 0 and self._rng.random() < self.faults.slip_prob:
                    t_send += ci
                t_send = max(t_send, last_send)  # queued behind a slipped packet
                last_send = t_send
                # always yield, so a device that fell behind cannot starve the loop
                await asyncio.sleep(max(0.0, self._power_on + t_send - loop.time()))
                if self._transport is None or self._stream is not stream:
                    return
                seq = self._seq
                self._seq += 1
                garbled = self.garbage or (
                    self.faults.garbage_prob > 0 and self._rng.random() < self.faults.garbage_prob
                )
                if garbled:
                    size = int(self._rng.integers(1, 40))
                    payloads = [self._rng.integers(0, 256, size, dtype=np.uint8).tobytes()]
                else:
                    t_dev = float(sig.t_device[i]) - self._clock_offset(sig, float(sig.t[i]))
                    payloads = enc.encode_all(sig.acc[i : i + k], sig.gyr[i : i + k], t_dev, seq)
                fate = self._fate(t_send, k / stream.rate)
                if fate == "sent" and garbled and not self.garbage:
                    fate = "garbage"
                rec = PacketRecord(seq, i, k, float(sig.t[i]), fate, stream.rate)
                self.log.append(rec)
                i += k
                if fate == "lost":
                    continue
                if held is None and self.faults.reorder_prob > 0:
                    if self._rng.random() < self.faults.reorder_prob:
                        held, held_rec = payloads, rec  # goes out right after the next packet
                        continue
                if not await self._send_all(payloads):
                    rec.fate = "lost"
                if held is not None:
                    if not await self._send_all(held):
                        held_rec.fate = "lost"
                    held = held_rec = None
            if held is not None:
                if not await self._send_all(held):
                    held_rec.fate = "lost"
                held = held_rec = None
        finally:
            if held_rec is not None:  # still in flight when the link dropped or sending stopped
                held_rec.fate = "lost"

    def _clock_offset(self, sig: Signals, t: float) -> float:
        """Device clock value at the last clock reset before true time ``t`` (0 if none)."""
        resets = [r for r in self.faults.clock_resets if r <= t]
        if not resets:
            return 0.0
        return float(np.interp(max(resets), sig.t, sig.t_device))

    async def _send_all(self, payloads: list[bytes]) -> bool:
        """Notify ``payloads``; False if the link was gone (the packet never left)."""
        for payload in payloads:
            transport = self._transport
            if transport is None:
                return False
            await transport.notify(_uuid(self.profile.notify_uuids[0]), payload)
        return True


def advertised_name(profile: Any, address: str) -> str:
    """A device name that matches ``profile.scan_name_pattern`` (tries common shapes)."""
    import re

    pattern = re.compile(profile.scan_name_pattern)
    tail = address.replace(":", "")[-4:]
    candidates = []
    body = profile.scan_name_pattern.lstrip("^")
    group = re.match(r"\(([^|)]*)[^)]*\)([A-Za-z0-9 _\-]*)", body)  # "(A|B) C" -> "A C"
    plain = re.match(r"[A-Za-z0-9 _\-]+", body)
    stem = group.group(1) + group.group(2) if group else (plain.group(0) if plain else None)
    if stem:
        candidates += [f"{stem}{tail}" if not stem[-1].isalnum() else f"{stem} {tail}", stem]
    candidates += [f"{profile.name} {tail}", profile.name, f"{profile.vendor} {tail}"]
    for name in candidates:
        if pattern.search(name):
            return name
    raise ValueError(
        f"cannot derive an advertised name matching {profile.scan_name_pattern!r} for profile "
        f"{profile.name!r}: pass name= explicitly"
    )


def _start_table(profile: Any) -> dict[tuple, tuple[float, dict]]:
    """Every start sequence the profile can produce -> (rate, options)."""
    table: dict[tuple, tuple[float, dict]] = {}

    def key(writes: list) -> tuple:
        return tuple((_uuid(w.char_uuid), bytes(w.data)) for w in writes)

    rates = sorted(set(map(float, profile.rates)) | {float(profile.default_rate)})
    for rate in rates:  # default ranges first: options {} lets the encoder use its defaults
        table.setdefault(key(profile.start_sequence(rate=rate)), (rate, {}))
    accs = tuple(profile.acc_ranges) or (None,)
    gyrs = tuple(profile.gyr_ranges) or (None,)
    for rate, acc, gyr in itertools.product(rates, accs, gyrs):
        options = {}
        if acc is not None:
            options["acc_range"] = acc
        if gyr is not None:
            options["gyr_range"] = gyr
        writes = profile.start_sequence(rate=rate, acc_range=acc, gyr_range=gyr)
        table.setdefault(key(writes), (rate, options))
    return table
