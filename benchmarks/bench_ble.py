"""BLE layer figures: acquisition cost per packet, simulated end-to-end throughput, reconnect
and release latency. Prints figures and ratios against references measured in the same run.

    python benchmarks/bench_ble.py
"""

from __future__ import annotations

import math
import queue
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imustream.ble.simulated import simulated_setup
from imustream.stream.acquisition import Acquisition
from imustream.types import Gap, LinkState, StateChange


def collect(
    scenario: str, duration: float, backend: str, seed: int = 0, assignment: dict | None = None
):
    """Run a simulated session on a virtual clock; returns (setup, queue items, wall s)."""
    setup = simulated_setup(
        scenario, duration=duration + 10, seed=seed, backend=backend, assignment=assignment
    )
    ble = setup.ble_thread(math.inf, stop_after=duration)
    wall = time.perf_counter()
    items = ble.collect()
    wall = time.perf_counter() - wall
    return setup, items, wall


def bench_transport(duration: float = 60.0) -> None:
    print(f"== simulated end to end: 3 sensors, {duration:.0f} s session, virtual clock")
    for backend in ("inprocess", "bumble"):
        _, items, wall = collect("symmetric-runner", duration, backend)
        packets = sum(isinstance(i, tuple) for i in items)
        print(
            f"  {backend:9s}: {packets} notifications in {wall:.2f} s wall = "
            f"{packets / wall:,.0f} notifications/s, {duration / wall:.0f}x real time"
        )


def bench_acquisition(duration: float = 60.0) -> None:
    setup, items, _ = collect("flaky-connection", duration, "inprocess")
    packets = [i for i in items if isinstance(i, tuple)]
    reps = 3
    t_dec = []
    for _ in range(reps):
        t = time.perf_counter()
        for _host, sensor, payload in packets:
            setup.profiles[sensor].decode(payload)
        t_dec.append(time.perf_counter() - t)
    t_acq = []
    for _ in range(reps):
        acq = Acquisition(setup.profiles, setup.rates, origin_ns=0)
        t = time.perf_counter()
        for item in items:
            acq.handle(item)
        acq.flush()
        t_acq.append(time.perf_counter() - t)
    dec, full = min(t_dec) / len(packets) * 1e6, min(t_acq) / len(packets) * 1e6
    print(f"== acquisition ({len(packets)} packets of flaky-connection, {duration:.0f} s)")
    print(f"  decode only (reference)      : {dec:6.1f} us/packet")
    print(f"  full acquisition per packet  : {full:6.1f} us/packet  ({full / dec:.1f}x decode)")
    print(f"  capacity on one core         : {1e6 / full:,.0f} packets/s")


def bench_latency(duration: float = 60.0) -> None:
    """Release latency (host time a packet waits in the reorder window) and reconnect time."""
    setup, items, _ = collect("flaky-connection", duration, "inprocess", seed=1)
    acq = Acquisition(setup.profiles, setup.rates, origin_ns=0)
    waits = []
    for item in items:
        out = acq.handle(item)
        if isinstance(item, tuple):
            now = item[0]
            waits += [(now - b.host_ns) * 1e-9 for b in out if not isinstance(b, Gap)]
    waits = np.array(waits)
    print("== release latency in the reorder window (host time, flaky-connection)")
    p99 = 1e3 * np.quantile(waits, 0.99)
    print(
        f"  released on arrival: {100 * np.mean(waits == 0):.1f} %, p99 {p99:.0f} ms, "
        f"max {1e3 * waits.max():.0f} ms"
    )
    back = {}
    for dev, target in zip(setup.devices, setup.targets, strict=True):
        back[target.sensor] = [b for _a, b in dev.faults.disconnects if b < duration]
    delays = []
    for sensor, ends in back.items():
        streaming = [
            i.host_ns * 1e-9
            for i in items
            if isinstance(i, StateChange) and i.sensor == sensor and i.state is LinkState.STREAMING
        ]
        for end in ends:
            after = [t for t in streaming if t >= end]
            if after:
                delays.append(after[0] - end)
    print(
        f"  reconnect after the device is back: {len(delays)} reconnects, "
        f"mean {np.mean(delays):.2f} s, max {np.max(delays):.2f} s (virtual time)"
    )


def bench_live_latency(seconds: float = 10.0) -> None:
    """Real time (speed 1): notification stamp -> decoded block on the consumer thread."""
    from imustream.stream.live import LiveSession

    setup = simulated_setup("symmetric-runner", duration=seconds + 10)
    ble = setup.ble_thread(1.0, stop_after=seconds)
    lat = []
    session = LiveSession(Acquisition(setup.profiles, setup.rates, origin_ns=0))
    ble.start()
    while ble.running:
        try:
            item = ble.queue.get(timeout=0.05)
        except queue.Empty:
            continue
        session.handle(item)
        if isinstance(item, tuple):
            lat.append(ble.loop.time() - item[0] * 1e-9)
    lat = np.array(lat) * 1e3
    print(f"== live latency at real time ({len(lat)} notifications, 3 sensors, no DSP)")
    print(
        f"  stamp -> decoded block on the consumer: median {np.median(lat):.2f} ms, "
        f"p99 {np.quantile(lat, 0.99):.2f} ms, max {lat.max():.1f} ms"
    )


if __name__ == "__main__":
    bench_live_latency()
    bench_transport()
    bench_acquisition()
    bench_latency()
