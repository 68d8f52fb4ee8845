"""Wiring of ``imustream live``: sources, the acquisition/DSP thread and recording control.

Threads: the BLE thread (or a replay iterator) produces queue items; :class:`LiveWorker`
turns them into blocks (stream.Acquisition), runs the dsp.Pipeline and pushes everything to
the dashboard's LiveFeed and, while recording, to an io.Recorder; the Qt main thread only
draws. Nothing here has logic of its own beyond routing.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..types import Gap, Marker, StateChange
from ._session import record_item

__all__ = ["LiveSource", "LiveWorker", "ble_source", "replay_source"]

#: firmware profile of the simulated sensors (offers 208 and 416 Hz)
SIM_PROFILE = "movesense-imu6"


@dataclass
class LiveSource:
    """Items for the worker plus what the worker and the recorder need to know."""

    items: Iterable[Any]
    header: dict
    rates: dict[str, float]
    profiles: dict[str, Any]
    #: host_ns of items is time.monotonic_ns (so display latency can be measured from it)
    monotonic_host_ns: bool
    start: Callable[[], None] = lambda: None
    stop: Callable[[], None] = lambda: None
    recordable: bool = True
    description: str = ""
    origin_ns: int | None = None
    extra: dict = field(default_factory=dict)


def queue_items(q: queue.SimpleQueue, alive: Callable[[], bool]) -> Iterator[Any]:
    while True:
        try:
            yield q.get(timeout=0.05)
        except queue.Empty:
            if not alive():
                return


def _header(profiles: dict[str, Any], rates: dict[str, float], **extra: Any) -> dict:
    return {
        "session_id": uuid.uuid4().hex,
        "sensors": list(profiles),
        "sensor_info": {s: {"profile": p.name, "rate": rates[s]} for s, p in profiles.items()},
        **extra,
    }


def ble_source(
    targets: list,
    backend: Any,
    *,
    speed: float | None,
    setup=None,
    teardown=None,
    stop_after: float | None = None,
    description: str = "",
    **header_extra,
) -> LiveSource:
    """Sensors over bleak (real adapters, or simulated devices on a virtual clock)."""
    from ..ble.thread import BleThread

    ble = BleThread(
        targets, backend, speed=speed, setup=setup, teardown=teardown, stop_after=stop_after
    )
    profiles = {
        t.sensor: t.profile.with_options(rate=t.rate) if t.rate else t.profile for t in targets
    }
    rates = {
        s: float(t.rate or p.default_rate)
        for (s, p), t in zip(profiles.items(), targets, strict=True)
    }

    def stop() -> None:
        ble.stop()
        if ble.error is not None:
            raise ConfigError(f"BLE thread failed: {ble.error!r}")

    return LiveSource(
        items=queue_items(ble.queue, lambda: ble.running),
        header=_header(profiles, rates, **header_extra),
        rates=rates,
        profiles=profiles,
        monotonic_host_ns=speed is None,
        start=ble.start,
        stop=stop,
        description=description,
        extra={"ble": ble},
    )


def simulated_source(
    scenario: str, rate: float, duration: float, seed: int, speed: float
) -> LiveSource:
    """Three simulated Movesense devices (pelvis, both shoes) at ``rate`` running a sim scenario
    with its link faults, over bleak (:func:`imustream.ble.simulated.simulated_setup`)."""
    from .. import profiles
    from ..ble.simulated import simulated_setup
    from ..types import Sensor

    offered = profiles.get(SIM_PROFILE).rates
    if rate not in offered:
        raise ConfigError(f"--rate {rate:g}: simulated sensors offer {offered} Hz")
    sim = simulated_setup(
        scenario,
        duration=duration,
        seed=seed,
        assignment={str(s): f"{SIM_PROFILE}@{rate:g}" for s in Sensor},
        samples_per_packet=None,  # as many as fit one 244-byte notification, as the device does
    )
    return ble_source(
        sim.targets,
        sim.backend,
        speed=speed,
        setup=sim.setup,
        teardown=sim.teardown,
        stop_after=duration,
        description=f"simulated: {scenario}",
        simulated=scenario,
        seed=seed,
    )


def config_source(path: Path) -> LiveSource:
    """Real sensors described by a session TOML file."""
    from .. import profiles
    from ..ble.config import load_config
    from ..ble.link import Backend, LinkTarget

    cfg = load_config(path)
    targets = [
        LinkTarget(
            s,
            profiles.get(c.profile),
            address=c.address,
            name=c.name,
            rate=c.rate,
            acc_range=c.acc_range,
            gyr_range=c.gyr_range,
        )
        for s, c in cfg.sensors.items()
    ]
    return ble_source(targets, Backend(), speed=None, description=f"sensors from {path.name}")


def replay_source(path: Path, speed: float | None) -> LiveSource:
    """A recording's raw notifications, re-fed exactly as they arrived."""
    from ..io.replay import ReplaySource
    from ._offline import build_acquisition

    src = ReplaySource(path, speed=speed)
    acq, rates = build_acquisition(src.header)
    profiles = {s: tr.profile for s, tr in acq.tracks.items()}
    return LiveSource(
        items=src.items(),
        header=src.header,
        rates=rates,
        profiles=profiles,
        monotonic_host_ns=False,
        recordable=False,
        description=f"replay: {path.name}",
        origin_ns=acq.origin_ns,
    )


class LiveWorker:
    """The acquisition/DSP thread: items -> Acquisition -> Pipeline -> feed (+ recorder).

    Parameters
    ----------
    source : LiveSource
    feed : LiveFeed
    thresholds : str
        Alert preset of the pipeline.
    """

    def __init__(self, source: LiveSource, feed: Any, thresholds: str = "runner") -> None:
        from ..dsp.pipeline import Pipeline
        from ..stream.acquisition import Acquisition

        self.source = source
        self.feed = feed
        self.acq = Acquisition(source.profiles, source.rates, origin_ns=source.origin_ns)
        self.pipeline = Pipeline(source.rates, thresholds=thresholds)
        #: markers from the GUI; written to the recording (kept until one starts)
        self.markers: queue.SimpleQueue[Marker] = queue.SimpleQueue()
        self._pending_markers: list[Marker] = []
        self._recorder = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="imustream-dsp", daemon=True)
        self.error: BaseException | None = None
        self.items_done = 0

    def warm_up(self, seconds: float = 4.0) -> float:
        """Run a throwaway pipeline over a few simulated seconds so numba kernels are compiled
        or loaded from cache before the first notification (else the first blocks wait ~1 s).
        Returns the seconds it took."""
        from ..dsp.pipeline import Pipeline
        from ..sim import simulate
        from ..types import SampleBlock

        t0 = time.perf_counter()
        for fs in sorted(set(self.source.rates.values())):
            run = simulate("symmetric-runner", duration=seconds, fs=fs, seed=0)
            pipe = Pipeline(dict.fromkeys(self.source.rates, fs))
            for i in range(0, min(v.n for v in run.sensors.values()), 16):
                for sensor in self.source.rates:
                    sig = run.sensors[sensor]
                    pipe.process(
                        SampleBlock(
                            acc=sig.acc[i : i + 16],
                            gyr=sig.gyr[i : i + 16],
                            sensor=sensor,
                            t_session=sig.t[i : i + 16],
                        )
                    )
            pipe.finish()
        return time.perf_counter() - t0

    def set_recorder(self, recorder: Any | None) -> None:
        """Start (a Recorder) or stop (None) writing to a recording."""
        self._recorder = recorder

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to finish and wait for it."""
        self._stop.set()
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def _main(self) -> None:
        try:
            for item in self.source.items:
                if self._stop.is_set():
                    break
                self._handle(item)
            self._route(self.acq.flush(), None)
            self._push_output(self.pipeline.finish(), None)
        except BaseException as exc:  # shown to the user at exit, never swallowed
            self.error = exc
        finally:
            self._drain_markers()

    def _handle(self, item: Any) -> None:
        rec = self._recorder
        self._drain_markers()
        if rec is not None:
            record_item(rec, item)
        if isinstance(item, tuple):
            host_ns = item[0]
            arrival = host_ns if self.source.monotonic_host_ns else time.monotonic_ns()
        else:
            if isinstance(item, StateChange):
                self.feed.push_records([item])
            arrival = time.monotonic_ns()
        self._route(self.acq.handle(item), arrival)
        self.items_done += 1

    def _route(self, outs: list, arrival: int | None) -> None:
        for out in outs:
            if isinstance(out, Gap):
                self.pipeline.gap(out)
                # not recorded: the converter re-derives gaps from the raw log (as `record`)
                self.feed.push_records([out], source_host_ns=arrival)
            else:
                self.feed.push_block(out)
                self._push_output(self.pipeline.process(out), arrival)

    def _push_output(self, output: Any, arrival: int | None) -> None:
        self.feed.push_output(output, source_host_ns=arrival)
        rec = self._recorder
        if rec is not None:
            for r in (*output.events, *output.steps, *output.alerts):
                rec.record(r)

    def _drain_markers(self) -> None:
        while True:
            try:
                self._pending_markers.append(self.markers.get_nowait())
            except queue.Empty:
                break
        rec = self._recorder
        if rec is not None and self._pending_markers:
            for m in self._pending_markers:
                rec.record(m)
            self._pending_markers.clear()
