"""Whole-system soak with fault injection: simulated BLE -> acquisition/DSP -> recorder -> HDF5.

Three simulated Movesense sensors (416 Hz, the profile rate nearest 400 Hz) stream the virtual
runner through the in-process bleak backend on a virtual clock (``--speed max`` = unpaced). The
live path is the one of ``imustream live``: :class:`imustream.cli._live.LiveWorker` (Acquisition
-> Pipeline -> LiveFeed, raw notifications and events -> io.Recorder), the pyqtgraph
Dashboard drawing the feed offscreen on the main thread, then conversion to HDF5.

Injected faults (seeded): out-of-range windows (disconnect + reconnect), loss bursts, single
lost packets, reordered packets, garbage notifications, one device clock reset, one sensor that
never comes back, and a slow disk (the session log's writes stall now and then). At the end the
script checks what the issue asks: memory trend, queue high-water marks, every fault accounted
for in the file (gaps, link states, decode failures, stats), every sample the devices sent is
in the file, and the live events == the events ``imustream analyze`` computes from the file.

Unpaced (``--speed max``) the simulated devices wait for the consumer: the virtual clock stops
while the BLE queue holds ``hold_at`` notifications (``imustream.ble.thread.BleThread``), so the
run goes as fast as the live pipeline takes the data. The harness's own ground truth (every
packet's fate, the dashboard feed's events) is spooled to files in the work folder, so the RSS
it reports is the live system's.

    python benchmarks/soak.py --hours 2          # the full soak
    python benchmarks/soak.py --minutes 3        # what tests/test_soak.py runs
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SENSORS = ("pelvis", "shoe_left", "shoe_right")
PROFILE = "movesense-imu6"
SAMPLES_PER_PACKET = 8  # 19 ms at 416 Hz, one 244-byte notification


@dataclass(frozen=True)
class FaultPlan:
    """Seeded fault schedule of one soak (device true times in s)."""

    disconnects: dict[str, tuple[tuple[float, float], ...]]
    lost_sensor: str
    lost_at: float
    clock_reset: tuple[str, float]
    burst_rate: float = 0.02  # loss bursts per s per sensor
    burst_mean_s: float = 0.25
    loss_rate: float = 0.0005
    reorder_prob: float = 0.0015
    garbage_prob: float = 0.0008
    slow_disk_every: int = 150  # every n-th log write stalls ...
    slow_disk_s: float = 0.15  # ... this long

    def link_faults(self, sensor: str):
        from imustream.sim.device import LinkFaults

        windows = self.disconnects[sensor]
        if sensor == self.lost_sensor:
            windows = (*windows, (self.lost_at, math.inf))
        resets = (self.clock_reset[1],) if self.clock_reset[0] == sensor else ()
        return LinkFaults(
            loss_rate=self.loss_rate,
            burst_rate=self.burst_rate,
            burst_mean_s=self.burst_mean_s,
            reorder_prob=self.reorder_prob,
            disconnects=windows,
            garbage_prob=self.garbage_prob,
            clock_resets=resets,
        )


def make_plan(duration: float, seed: int, disconnect_every_s: float = 20.0) -> FaultPlan:
    """Out-of-range windows of 0.5-3 s roughly every ``disconnect_every_s`` per sensor."""
    rng = np.random.default_rng(seed)
    disconnects = {}
    for sensor in SENSORS:
        windows, t = [], 8.0 + rng.uniform(0, disconnect_every_s)
        while t < duration - 10.0:
            length = rng.uniform(0.5, 3.0)
            windows.append((round(t, 3), round(t + length, 3)))
            # >= 5 s apart: a window that starts while the link is still reconnecting from the
            # previous one drops nothing (it only prolongs the outage)
            t += length + 5.0 + rng.exponential(max(disconnect_every_s - 5.0, 0.1))
        disconnects[sensor] = tuple(windows)
    lost_at = round(0.85 * duration, 3)
    # the lost sensor has no out-of-range windows after it is gone
    disconnects["shoe_right"] = tuple(w for w in disconnects["shoe_right"] if w[1] < lost_at - 2)
    return FaultPlan(disconnects, "shoe_right", lost_at, ("pelvis", round(0.4 * duration, 3)))


#: fate codes of the harness's packet spool
FATES = ("sent", "lost", "garbage")
PACKET_DTYPE = np.dtype(
    [("seq", "<i8"), ("first", "<i8"), ("n", "<i4"), ("t_first", "<f8"), ("fate", "u1")]
)
EVENT_DTYPE = np.dtype([("sensor", "u1"), ("kind", "u1"), ("time", "<f8")])  # kind 0 ic, 1 to


class PacketSpool:
    """Moves a simulated device's ground-truth packet log (``SimulatedDevice.log``) to a file.

    The harness must not be what grows: records older than the newest ``keep`` (whose fate
    can still change: a reordered packet held back) go to disk as 29-byte rows.
    """

    def __init__(self, device, path: Path, keep: int = 16) -> None:
        self.device, self.path, self.keep = device, Path(path), keep
        self.path.write_bytes(b"")
        self.count = 0

    def pump(self, final: bool = False) -> None:
        log = self.device.log
        n = len(log) - (0 if final else self.keep)
        if n <= 0:
            return
        chunk = log[:n]
        del log[:n]  # the BLE thread only appends: the first n are exactly ``chunk``
        rows = np.empty(n, PACKET_DTYPE)
        rows["seq"] = [p.seq for p in chunk]
        rows["first"] = [p.first for p in chunk]
        rows["n"] = [p.n for p in chunk]
        rows["t_first"] = [p.t_first for p in chunk]
        rows["fate"] = [FATES.index(p.fate) for p in chunk]
        with open(self.path, "ab") as f:
            f.write(rows.tobytes())
        self.count += n

    def load(self) -> np.ndarray:
        return np.fromfile(self.path, dtype=PACKET_DTYPE)


class EventSpool:
    """Reads the dashboard feed's IC/TO events as they come (a second reader next to the
    dashboard) into a file, and tracks how far behind the feed's record ring it ever was."""

    def __init__(self, feed, path: Path) -> None:
        self.feed, self.path = feed, Path(path)
        self.path.write_bytes(b"")
        self.count = 0
        self.max_lag = 0
        self.missed = 0
        self._sensors = {s: i for i, s in enumerate(feed.sensors)}

    def pump(self) -> None:
        from imustream.types import InitialContact, ToeOff

        records = self.feed.records
        self.max_lag = max(self.max_lag, records.write_count - self.count)
        items, end = records.since(self.count)
        self.missed += end - self.count - len(items)
        self.count = end
        ev = [
            (self._sensors[r.sensor], 0 if isinstance(r, InitialContact) else 1, r.time)
            for r in (x.record for x in items)
            if isinstance(r, InitialContact | ToeOff)
        ]
        if ev:
            with open(self.path, "ab") as f:
                f.write(np.array(ev, dtype=EVENT_DTYPE).tobytes())

    def load(self) -> list[tuple[str, str, float]]:
        rows = np.fromfile(self.path, dtype=EVENT_DTYPE)
        names = self.feed.sensors
        return [(names[r["sensor"]], ("ic", "to")[r["kind"]], float(r["time"])) for r in rows]


@dataclass
class SoakResult:
    """What a soak measured (see :func:`run_soak`)."""

    duration: float
    wall_s: float
    h5_path: Path
    samples: list[dict] = field(default_factory=list)  # wall, t_virtual, rss_mb, queues
    high_water: dict[str, int] = field(default_factory=dict)
    bounds: dict[str, int] = field(default_factory=dict)  # capacity of each queue / ring
    fault_counts: dict[str, int] = field(default_factory=dict)
    accounted: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    live_events: int = 0
    analyze_events: int = 0
    live_steps: int = 0
    frames: int = 0
    recorder_dropped: dict = field(default_factory=dict)
    ble_dropped: dict = field(default_factory=dict)
    feed_missed: int = 0  # feed records the harness's reader found overwritten (a problem)
    dashboard_missed: int = 0  # ... the dashboard's model found overwritten (display only)
    slow_writes: int = 0
    speed: float = math.inf
    origin_s: float = 0.0
    rss_after_convert_mb: float = float("nan")
    harness_packets: int = 0

    @property
    def x_real_time(self) -> float:
        return self.duration / self.wall_s

    def rss_trend(self, warm_up: float = 0.25, blocks: int = 20) -> tuple[float, float]:
        """RSS slope over virtual time after the first ``warm_up`` of the live run, in MB per
        hour, and the half-width of its 95 % confidence interval.

        Samples are averaged in ``blocks`` equal stretches of virtual time first, so the
        correlated sample-to-sample noise does not make the interval look narrower than it is.
        """
        from scipy import stats

        t = np.array([s["t_virtual"] for s in self.samples])
        r = np.array([s["rss_mb"] for s in self.samples])
        ok = (t >= warm_up * self.duration) & (t < self.duration)
        t, r = t[ok], r[ok]
        blocks = min(blocks, t.size // 2)
        if blocks < 4:
            return float("nan"), float("nan")
        edges = np.linspace(t[0], t[-1], blocks + 1)
        which = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, blocks - 1)
        keep = [b for b in range(blocks) if np.any(which == b)]
        tb = np.array([t[which == b].mean() for b in keep]) / 3600.0
        rb = np.array([r[which == b].mean() for b in keep])
        fit = stats.linregress(tb, rb)
        half = stats.t.ppf(0.975, len(tb) - 2) * fit.stderr
        return float(fit.slope), float(half)


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _quiet_offscreen_warnings() -> None:
    """Drop the offscreen platform's per-frame 'propagateSizeHints' warning."""
    from pyqtgraph.Qt import QtCore

    def handler(mode, context, message):
        if "propagateSizeHints" not in message:
            sys.stderr.write(message + "\n")

    QtCore.qInstallMessageHandler(handler)


def _slow_disk(recorder, every: int, stall_s: float) -> list[int]:
    """Make every ``every``-th write of the recorder's session log stall ``stall_s`` s."""
    writer = recorder._writer
    inner = writer._write
    count = [0, 0]  # writes, stalls

    def slow_write(data: bytes) -> None:
        count[0] += 1
        if count[0] % every == 0:
            count[1] += 1
            time.sleep(stall_s)
        inner(data)

    writer._write = slow_write
    return count


def run_soak(
    duration: float,
    seed: int = 0,
    workdir: Path | None = None,
    speed: float = math.inf,
    dashboard: bool = True,
    sample_every_s: float = 1.0,
    plan: FaultPlan | None = None,
    scenario: str = "symmetric-runner",
    keep_records: int = 8192,
    on_sample=None,
    log=print,
) -> SoakResult:
    """Run the whole live system for ``duration`` simulated seconds; returns the measurements.

    ``on_sample(result)`` is called after each RSS sample (e.g. to take memory snapshots).
    """
    from imustream.ble.simulated import simulated_setup
    from imustream.cli._live import LiveWorker, ble_source
    from imustream.cli._recording import RecordingControl
    from imustream.viz.feed import LiveFeed

    workdir = Path(workdir or tempfile.mkdtemp(prefix="imustream-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    plan = plan or make_plan(duration, seed)
    rate = 416.0
    sim = simulated_setup(
        scenario,
        duration=duration + 2.0,
        seed=seed,
        assignment=dict.fromkeys(SENSORS, f"{PROFILE}@{rate:g}"),
        faults={s: plan.link_faults(s) for s in SENSORS},
        samples_per_packet=SAMPLES_PER_PACKET,
    )
    devices = sim.devices
    source = ble_source(
        sim.targets,
        sim.backend,
        speed=speed,
        setup=sim.setup,
        teardown=sim.teardown,
        stop_after=duration,
    )
    ble = source.extra["ble"]
    # session origin: now on the BLE loop's clock (virtual, starts at 0)
    source = dataclasses.replace(source, origin_ns=max(1, ble.now_ns()))
    feed = LiveFeed(SENSORS, keep_s=30.0, max_rate_hz=rate, keep_records=keep_records)
    worker = LiveWorker(source, feed)
    worker.warm_up()
    control = RecordingControl(worker, source.header, workdir)
    control.toggle(True)
    rec = control.recorder
    slow = _slow_disk(rec, plan.slow_disk_every, plan.slow_disk_s)
    spools = [
        PacketSpool(d, workdir / f"truth-{s}.packets")
        for d, s in zip(devices, SENSORS, strict=True)
    ]
    events = EventSpool(feed, workdir / "feed-events.bin")

    app = win = None
    if dashboard:
        from pyqtgraph.Qt import QtWidgets

        from imustream.viz.dashboard import Dashboard

        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
        _quiet_offscreen_warnings()
        win = Dashboard(feed, fps=30)
        win.show()
        win.start()

    res = SoakResult(duration, 0.0, workdir)
    hw = {"recorder_queue": 0, "dashboard_records_behind": 0, "dashboard_samples_behind": 0}
    t0 = time.perf_counter()
    # virtual time of the run: a paced loop's clock starts when the BleThread is built
    ns0 = ble.now_ns()
    source.start()
    worker.start()
    next_sample = 0.0
    while worker.running:
        if app is not None:
            app.processEvents()
            behind = win.model.backlog()
            hw["dashboard_records_behind"] = max(hw["dashboard_records_behind"], behind[0])
            hw["dashboard_samples_behind"] = max(hw["dashboard_samples_behind"], behind[1])
        events.pump()
        hw["recorder_queue"] = max(hw["recorder_queue"], len(rec._q))
        now = time.perf_counter() - t0
        if now >= next_sample:
            next_sample = now + sample_every_s
            for sp in spools:
                sp.pump()
            res.samples.append(
                {
                    "wall": now,
                    "t_virtual": (ble.now_ns() - ns0) / 1e9 if ble.running else duration,
                    "rss_mb": rss_mb(),
                    "ble_queue": ble.queue.qsize(),
                    "recorder_queue": len(rec._q),
                    "items": worker.items_done,
                    "feed_records": feed.records.write_count,
                }
            )
            if on_sample is not None:
                on_sample(res)
        time.sleep(0.01 if app is None else 0.005)
    res.wall_s = time.perf_counter() - t0
    res.speed = speed
    source.stop()
    events.pump()
    for sp in spools:
        sp.pump(final=True)
    if worker.error is not None:
        raise RuntimeError(f"live worker failed: {worker.error!r}") from worker.error
    if win is not None:
        res.frames = int(win.stats.frames)
        res.dashboard_missed = win.model.records_missed
        win.stop()
        win.close()
    control.toggle(False)
    control.close()
    if control.errors:
        raise RuntimeError(f"conversion failed: {control.errors}")
    res.h5_path = control.converted[0]
    res.slow_writes = slow[1]
    res.recorder_dropped = dict(rec.stats.dropped)
    res.ble_dropped = dict(ble.queue.dropped)
    res.high_water = {
        "ble_queue": ble.queue.high_water,
        **hw,
        "harness_records_behind": events.max_lag,
    }
    res.bounds = {
        "ble_queue": ble.queue.maxsize,
        "ble_queue_hold_at": ble.queue.hold_at or 0,
        "recorder_queue": rec._queue_size,
        "dashboard_records_behind": feed.records.capacity,
        "dashboard_samples_behind": feed.samples[SENSORS[0]].capacity,
        "harness_records_behind": feed.records.capacity,
    }
    res.feed_missed = events.missed
    res.harness_packets = sum(sp.count for sp in spools)
    log(f"live run: {duration:.0f} s simulated in {res.wall_s:.1f} s wall")
    res.origin_s = source.origin_ns / 1e9
    account(res, devices, [sp.load() for sp in spools], plan, events.load(), log)
    res.rss_after_convert_mb = rss_mb()
    return res


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start/stop indices of the runs of True in ``mask``."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _missing_packets(sensor: str, dev, pk: np.ndarray, d, states) -> list[str]:
    """Describe the sent packets whose samples are not in the file (by device time)."""
    sig = dev.signals(next(iter(dev._signals)))
    have = np.sort(d.t_device * 1000.0)
    out = []
    for p in pk[pk["fate"] == FATES.index("sent")]:
        t_first = float(p["t_first"])
        t_dev = float(sig.t_device[p["first"]]) - dev._clock_offset(sig, t_first)
        k = np.searchsorted(have, t_dev * 1000.0)
        near_ms = have[max(k - 1, 0) : k + 1] - t_dev * 1000.0
        if not np.any(np.abs(near_ms) <= 1.5):
            st = states["sensor"] == sensor
            near = np.argmin(np.abs(states["time"][st] - t_first)) if np.any(st) else None
            what = (
                f"{states['state'][st][near]} at {states['time'][st][near]:.3f} s"
                if near is not None
                else "no state"
            )
            out.append(
                f"{sensor}: packet seq {p['seq']} (true time {t_first:.3f} s, {p['n']} samples) "
                f"sent but not in the file; nearest link state: {what}"
            )
            if len(out) == 10:
                break
    return out


def account(
    res: SoakResult,
    devices,
    packets: list[np.ndarray],
    plan: FaultPlan,
    feed_ev: list[tuple[str, str, float]],
    log=print,
) -> None:
    """Compare the device packet logs (``packets``: the spooled ground truth per device) and
    the fault plan with the file, and the dashboard feed's events with the file's; fill
    ``res``."""
    import json

    from imustream import open_session
    from imustream.cli._offline import run_recording
    from imustream.types import InitialContact

    counts: dict[str, int] = {}
    acc_text: dict[str, str] = {}
    problems = res.problems
    sent_code, lost_code, garbage_code = (FATES.index(f) for f in FATES)
    with open_session(res.h5_path) as s:
        s.check_all()
        gaps, states, events = s.gaps, s.states, s.events
        stats = {
            n: json.loads(d._g.attrs.get("acquisition_stats_json", "{}"))
            for n, d in s.sensors.items()
        }
        for dev, sensor, pk in zip(devices, SENSORS, packets, strict=True):
            d = s.sensors[sensor]
            fates = pk["fate"]
            n_sent = int(np.sum(fates == sent_code))
            n_garbage = int(np.sum(fates == garbage_code))
            sent_samples = int(pk["n"][fates == sent_code].sum())
            dropped = res.ble_dropped.get(sensor, 0)
            ok = d.raw_decode_ok.astype(bool)
            # nothing recorded is lost: every notification the device sent is in the file (or
            # counted as dropped by a full BLE queue: an 'overflow' gap)
            if d.n_notifications + dropped != n_sent + n_garbage:
                problems.append(
                    f"{sensor}: device sent {n_sent + n_garbage} notifications, file has "
                    f"{d.n_notifications} (+ {dropped} dropped by the BLE queue)"
                )
            if dropped == 0 and d.n != sent_samples:
                problems.append(f"{sensor}: device sent {sent_samples} samples, file has {d.n}")
                problems += _missing_packets(sensor, dev, pk, d, states)
            if int(np.sum(~ok)) < n_garbage:
                problems.append(
                    f"{sensor}: {n_garbage} garbage packets, {int(np.sum(~ok))} undecoded"
                )
            counts["garbage"] = counts.get("garbage", 0) + n_garbage
            # loss runs (isolated losses, bursts, garbage) must each lie inside a recorded gap
            g = gaps["sensor"] == sensor
            g_start, g_end = gaps["start"][g], gaps["end"][g]
            bad = (fates == lost_code) | (fates == garbage_code)
            # device true time -> session time (BLE loop clock - origin)
            t_first = pk["t_first"] + dev._power_on - res.origin_s
            for a, b in _runs(bad):
                t_mid = 0.5 * (t_first[a] + t_first[b - 1])
                counts["loss_run"] = counts.get("loss_run", 0) + 1
                # session time ~ true time (+ BLE delay, clock fit): allow 0.1 s
                if not np.any((g_start <= t_mid + 0.1) & (g_end >= t_mid - 0.1)):
                    problems.append(f"{sensor}: lost packets at {t_mid:.2f} s have no gap")
            counts["reordered"] = counts.get("reordered", 0) + int(
                stats[sensor].get("reordered", 0)
            )
            st = states["sensor"] == sensor
            windows = [w for w in dev.faults.disconnects if w[0] < res.duration]
            t_lost = states["time"][st & (states["state"] == "lost")]
            counts["disconnect"] = counts.get("disconnect", 0) + len(windows)
            shift = dev._power_on - res.origin_s
            for a, b in windows:
                if not np.any((t_lost >= a + shift - 0.2) & (t_lost <= b + shift + 0.2)):
                    problems.append(f"{sensor}: out of range {a:.2f}-{b:.2f} s, no 'lost' state")
            if sensor == plan.lost_sensor:
                gone = plan.lost_at + dev._power_on - res.origin_s
                after = d.t_session[d.t_session > gone + 0.5]
                if after.size:
                    problems.append(f"{sensor}: samples after it was gone ({after.size})")
            if plan.clock_reset[0] == sensor:
                counts["clock_reset"] = 1
                resets = gaps["reason"][g] == "reset"
                if not np.any(resets):
                    problems.append(
                        f"{sensor}: device clock reset at {plan.clock_reset[1]} s not a 'reset' gap"
                    )
            t = d.t_session
            if np.any(np.diff(t) <= 0):
                problems.append(f"{sensor}: session time not increasing")
        counts["lost_sensor"] = 1
        counts["slow_disk_stall"] = res.slow_writes
        live_ev = [
            (str(n), str(k), float(t))
            for n, k, t in zip(events["sensor"], events["kind"], events["time"], strict=True)
        ]
    acc_text["disconnect"] = "'lost' link state per out-of-range window (+ 'disconnect' gap)"
    acc_text["loss_run"] = "each run of lost/garbage packets inside a recorded gap"
    acc_text["garbage"] = "raw bytes kept with decode_ok = 0, counted in decode_errors"
    acc_text["reordered"] = "acquisition stats 'reordered' (samples put back in order, no gap)"
    acc_text["clock_reset"] = "a 'reset' gap of the pelvis"
    acc_text["lost_sensor"] = "last 'lost' state, no samples afterwards, session continues"
    acc_text["slow_disk_stall"] = "recorder queue absorbs it; samples in file == samples sent"
    # live events == analyze events on the file
    off = run_recording(res.h5_path)
    ana = sorted(
        (e.sensor, "ic" if isinstance(e, InitialContact) else "to", float(e.time))
        for e in off.events
    )
    live_ev.sort()
    feed_ev = sorted(feed_ev)
    res.live_events, res.analyze_events = len(live_ev), len(ana)
    res.live_steps = len(off.steps)
    if live_ev != ana:
        n_diff = len(set(live_ev) ^ set(ana))
        problems.append(
            f"live events ({len(live_ev)}) != analyze events ({len(ana)}): {n_diff} differ"
        )
    if res.feed_missed:
        problems.append(f"{res.feed_missed} feed records overwritten before they were read")
    if feed_ev != live_ev:
        problems.append(
            f"dashboard feed events ({len(feed_ev)}) != recorded events ({len(live_ev)})"
        )
    res.fault_counts, res.accounted = counts, acc_text
    log(f"faults: {counts}  (total {sum(counts.values())})")


def report(res: SoakResult) -> None:
    """Print the soak figures as rich tables."""
    from rich.console import Console
    from rich.table import Table

    con = Console()
    t = Table(title="RSS and queues over the run")
    for c in ("wall s", "virtual s", "RSS MB", "BLE queue", "recorder q", "items"):
        t.add_column(c, justify="right")
    step = max(1, len(res.samples) // 12)
    for s in res.samples[::step] + res.samples[-1:]:
        t.add_row(
            f"{s['wall']:.0f}", f"{s['t_virtual']:.0f}", f"{s['rss_mb']:.0f}",
            str(s["ble_queue"]), str(s["recorder_queue"]), str(s["items"]),
        )  # fmt: skip
    con.print(t)
    q = Table(title="Queue high-water marks (most items ever waiting) and bounds")
    q.add_column("queue")
    q.add_column("high-water", justify="right")
    q.add_column("bound", justify="right")
    for k, v in res.high_water.items():
        q.add_row(k, f"{v:,}", f"{res.bounds.get(k, 0):,}")
    con.print(q)
    f = Table(title="Injected faults and how the file accounts for them")
    f.add_column("fault")
    f.add_column("count", justify="right")
    f.add_column("accounted as")
    for k, v in res.fault_counts.items():
        f.add_row(k, str(v), res.accounted.get(k, ""))
    con.print(f)
    live = [s for s in res.samples if 0.25 * res.duration <= s["t_virtual"] < res.duration]
    slope, half = res.rss_trend()
    rss = [s["rss_mb"] for s in res.samples]
    con.print(
        f"simulated {res.duration:.0f} s in {res.wall_s:.1f} s wall = {res.x_real_time:.1f}x real "
        f"time; {res.harness_packets:,} ground-truth packet records spooled to disk"
    )
    con.print(
        f"RSS: start of the live run {rss[0]:.0f} MB, after warm-up (25 %) "
        f"{live[0]['rss_mb'] if live else float('nan'):.0f} MB, end of the live run "
        f"{rss[-1]:.0f} MB, max {max(rss):.0f} MB; slope after warm-up {slope:+.1f} "
        f"+/- {half:.1f} MB/h (95 % CI, {len(live)} samples in <= 20 blocks); after conversion "
        f"+ analyze {res.rss_after_convert_mb:.0f} MB"
    )
    con.print(
        f"BLE queue dropped {res.ble_dropped}; recorder dropped {res.recorder_dropped}; "
        f"feed records missed: harness {res.feed_missed}, dashboard {res.dashboard_missed}; "
        f"slow-disk stalls {res.slow_writes}; dashboard frames {res.frames}; events live "
        f"{res.live_events} / analyze {res.analyze_events}; steps {res.live_steps}"
    )
    if res.problems:
        con.print("[red]PROBLEMS:[/red]")
        for p in res.problems:
            con.print(f"  - {p}")
    else:
        con.print("[green]every fault accounted for, nothing lost, live == analyze[/green]")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=None)
    ap.add_argument("--minutes", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--speed", default="max", help="virtual clock speed: max (unpaced) or x")
    ap.add_argument("--no-dashboard", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="folder for the recording")
    ap.add_argument(
        "--trace",
        action="store_true",
        help="tracemalloc: print what grew between 30 %% and 95 %% of the run, by traceback "
        "(slows the run 10x or more; unpaced, that changes nothing else, but RSS then includes "
        "tracemalloc's own traces and snapshot and means nothing)",
    )
    a = ap.parse_args(argv)
    duration = 3600.0 * a.hours if a.hours else 60.0 * (a.minutes or 3.0)
    speed = math.inf if a.speed == "max" else float(a.speed)
    tracer = GrowthTracer(duration) if a.trace else None
    res = run_soak(duration, a.seed, a.out, speed, dashboard=not a.no_dashboard, on_sample=tracer)
    report(res)
    if tracer is not None:
        tracer.report()
    return 1 if res.problems else 0


class GrowthTracer:
    """tracemalloc snapshots at 30 % and 95 % of the live run; :meth:`report` prints the
    allocations still alive that grew in between, by traceback."""

    def __init__(self, duration: float, frames: int = 10) -> None:
        import tracemalloc

        self.duration = duration
        self.snaps: dict[float, tuple] = {}
        tracemalloc.start(frames)

    def __call__(self, res: SoakResult) -> None:
        import tracemalloc

        s = res.samples[-1]
        for frac in (0.3, 0.95):
            if frac not in self.snaps and s["t_virtual"] >= frac * self.duration:
                self.snaps[frac] = (s["t_virtual"], s["rss_mb"], tracemalloc.take_snapshot())

    def report(self, top: int = 15) -> None:
        if len(self.snaps) < 2:
            print("tracemalloc: run too short for two snapshots")
            return
        (t1, r1, s1), (t2, r2, s2) = self.snaps[0.3], self.snaps[0.95]
        stats = s2.compare_to(s1, "traceback")
        total = sum(st.size_diff for st in stats)
        print(
            f"tracemalloc, {t1:.0f} -> {t2:.0f} simulated s: traced Python memory "
            f"{total / 1e6:+.3f} MB ({total / 1e6 / (t2 - t1) * 3600:+.2f} MB/h; rings that are "
            f"still filling count as growth in a short run); RSS {r1:.1f} -> {r2:.1f} MB "
            f"(includes tracemalloc's own memory)"
        )
        for st in stats[:top]:
            print(f"{st.size_diff / 1e3:+9.1f} kB {st.count_diff:+7d} blocks")
            for line in st.traceback.format()[-6:]:
                print("    " + line)


if __name__ == "__main__":
    threading.current_thread().name = "soak-main"
    sys.exit(main())
