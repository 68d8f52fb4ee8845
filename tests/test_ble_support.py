"""Shared set-up for the BLE tests (no tests here): simulated devices on a virtual clock."""

from __future__ import annotations

import asyncio
import queue
from dataclasses import dataclass

import numpy as np

import imustream.profiles as profiles
from imustream.ble.clock import VirtualTimeEventLoop
from imustream.ble.link import Backend, LinkTarget, SensorLink
from imustream.sim.device import LinkFaults, SimulatedDevice
from imustream.stream.acquisition import Acquisition
from imustream.types import Gap, SampleBlock, StateChange

PROFILES = {
    "pelvis": "movesense-imu6",
    "shoe_left": "imustream-open",
    "shoe_right": "imustream-open",
}


@dataclass(frozen=True)
class Clock:
    """A device clock: t_device = offset + t * (1 + drift)."""

    offset: float
    drift_ppm: float

    def device(self, t: np.ndarray) -> np.ndarray:
        return self.offset + t * (1.0 + self.drift_ppm * 1e-6)

    def true_index(self, t_device: np.ndarray, rate: float) -> np.ndarray:
        t = (np.asarray(t_device) - self.offset) / (1.0 + self.drift_ppm * 1e-6)
        return np.rint(t * rate).astype(np.int64)


def signals_for(clock: Clock, duration: float, seed: int):
    """Deterministic 6-axis signals at any rate (the BLE path does not look at the values)."""

    def make(rate: float):
        n = int(duration * rate)
        t = np.arange(n) / rate
        rng = np.random.default_rng(seed)
        acc = np.column_stack([np.sin(2 * np.pi * 2.8 * t), np.cos(t), np.full(n, 9.81)])
        acc = acc + rng.normal(0, 0.05, (n, 3))
        gyr = np.column_stack([np.sin(2 * np.pi * 1.4 * t), np.zeros(n), np.zeros(n)])

        class S:
            pass

        s = S()
        s.t, s.acc, s.gyr, s.t_device = t, acc, gyr, clock.device(t)
        return s

    return make


def address(i: int) -> str:
    return f"C0:FF:EE:00:00:{i:02X}"


def make_devices(
    duration: float,
    faults: dict[str, LinkFaults] | None = None,
    clocks: dict[str, Clock] | None = None,
    profile_names: dict[str, str] | None = None,
    device_kw: dict[str, dict] | None = None,
) -> dict[str, SimulatedDevice]:
    names = profile_names or PROFILES
    devices = {}
    for i, (sensor, name) in enumerate(names.items()):
        clock = (clocks or {}).get(sensor, Clock(10.0 * (i + 1), 0.0))
        kw = dict((device_kw or {}).get(sensor, {}))
        devices[sensor] = SimulatedDevice(
            kw.pop("profile", profiles.get(name)),
            signals_for(clock, duration, seed=i),
            address=address(i + 1),
            faults=(faults or {}).get(sensor, LinkFaults()),
            seed=100 + i,
            samples_per_packet=kw.pop("samples_per_packet", 4),
            **kw,
        )
    return devices


def run_links(
    devices: dict[str, SimulatedDevice],
    backend_name: str,
    duration: float,
    targets: dict[str, LinkTarget] | None = None,
    **link_kw,
) -> list:
    """Run one SensorLink per device for ``duration`` virtual seconds; return the queue items."""
    out: queue.SimpleQueue = queue.SimpleQueue()
    loop = VirtualTimeEventLoop()

    async def main() -> None:
        if backend_name == "bumble":
            from imustream.ble.backends.bumble_radio import BumbleClient, BumbleRadio, BumbleScanner

            radio = BumbleRadio(list(devices.values()))
            await radio.start()
            backend = Backend(BumbleScanner, BumbleClient, {"radio": radio}, "bumble")
        else:
            from imustream.ble.backends.inprocess import (
                InProcessClient,
                InProcessScanner,
                SimulatedRadio,
            )

            radio = SimulatedRadio(list(devices.values()))
            radio.power_on()
            backend = Backend(InProcessScanner, InProcessClient, {"radio": radio}, "sim")
        links = [
            SensorLink(
                (targets or {}).get(s)
                or LinkTarget(s, dev.profile, address=dev.address, rate=None),
                out,
                backend,
                **link_kw,
            )
            for s, dev in devices.items()
        ]
        tasks = [asyncio.create_task(link.run()) for link in links]
        await asyncio.sleep(duration)
        for link in links:
            await link.stop()
        await asyncio.gather(*tasks)
        await radio.stop() if backend_name == "bumble" else radio.power_off()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    items = []
    while not out.empty():
        items.append(out.get())
    return items


def acquire(items: list, devices: dict[str, SimulatedDevice], rates=None):
    """Feed queue items through an Acquisition; return (acq, blocks, gaps, states)."""
    acq = Acquisition({s: d.profile for s, d in devices.items()}, rates=rates)
    out = []
    for item in items:
        out += acq.handle(item)
    out += acq.flush()
    blocks = [x for x in out if isinstance(x, SampleBlock)]
    gaps = [x for x in out if isinstance(x, Gap)]
    states = [x for x in items if isinstance(x, StateChange)]
    return acq, blocks, gaps, states
