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
PACKET_RECORD_BYTES = 224  # tracemalloc of one sim.device.PacketRecord


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


@dataclass
class SoakResult:
    """What a soak measured (see :func:`run_soak`)."""

    duration: float
    wall_s: float
    h5_path: Path
    samples: list[dict] = field(default_factory=list)  # wall, t_virtual, rss_mb, queues
    high_water: dict[str, int] = field(default_factory=dict)
    fault_counts: dict[str, int] = field(default_factory=dict)
    accounted: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    live_events: int = 0
    analyze_events: int = 0
    live_steps: int = 0
    frames: int = 0
    recorder_dropped: dict = field(default_factory=dict)
    slow_writes: int = 0
    speed: float = math.inf
    origin_s: float = 0.0
    rss_after_convert_mb: float = float("nan")

    @property
    def x_real_time(self) -> float:
        return self.duration / self.wall_s

    def rss_trend_mb_per_hour(self, net: bool = False) -> float:
        """Least-squares slope of RSS over virtual time, second half of the live run (MB/h);
        ``net``: minus the harness's own packet logs."""
        pts = [
            (s["t_virtual"], s["rss_mb"] - (s["harness_mb"] if net else 0.0))
            for s in self.samples
            if s["t_virtual"] > 0
        ]
        pts = pts[len(pts) // 2 :]
        if len(pts) < 3:
            return float("nan")
        t, r = np.array(pts).T
        return float(np.polyfit(t / 3600.0, r, 1)[0])


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
    log=print,
) -> SoakResult:
    """Run the whole live system for ``duration`` simulated seconds; returns the measurements."""
    from imustream import profiles
    from imustream.ble.backends.inprocess import InProcessClient, InProcessScanner, SimulatedRadio
    from imustream.ble.link import Backend, LinkTarget
    from imustream.cli._live import LiveWorker, RecordingControl, ble_source
    from imustream.sim import simulate
    from imustream.sim.device import SimulatedDevice
    from imustream.viz.feed import LiveFeed

    workdir = Path(workdir or tempfile.mkdtemp(prefix="imustream-soak-"))
    plan = plan or make_plan(duration, seed)
    rate = 416.0
    profile = profiles.get(PROFILE)
    run = simulate(scenario, duration=duration + 2.0, fs=rate, seed=seed)
    devices = [
        SimulatedDevice(
            profile,
            lambda r, s=s: run.sensors[s],
            address=f"C0:FF:EE:00:00:{i + 1:02X}",
            faults=plan.link_faults(s),
            seed=seed * 7919 + i,
            samples_per_packet=SAMPLES_PER_PACKET,
        )
        for i, s in enumerate(SENSORS)
    ]
    radio = SimulatedRadio(devices)

    async def setup() -> None:
        radio.power_on()

    async def teardown() -> None:
        radio.power_off()

    targets = [
        LinkTarget(s, profile, address=d.address, rate=rate)
        for s, d in zip(SENSORS, devices, strict=True)
    ]
    backend = Backend(InProcessScanner, InProcessClient, {"radio": radio}, "soak")
    source = ble_source(
        targets, backend, speed=speed, setup=setup, teardown=teardown, stop_after=duration
    )
    ble = source.extra["ble"]
    # session origin: now on the BLE loop's clock (virtual, starts at 0; t0_ns = 0 would read
    # as "unset" in the offline tools, so never 0)
    source = dataclasses.replace(source, origin_ns=max(1, ble.now_ns()))
    feed = LiveFeed(SENSORS, keep_s=30.0, max_rate_hz=rate)
    worker = LiveWorker(source, feed)
    worker.warm_up()
    control = RecordingControl(worker, source.header, workdir)
    control.toggle(True)
    rec = control.recorder
    slow = _slow_disk(rec, plan.slow_disk_every, plan.slow_disk_s)

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
    hw = {"ble_queue": 0, "recorder_queue": 0}
    t0 = time.perf_counter()
    source.start()
    worker.start()
    next_sample = 0.0
    while worker.running:
        if app is not None:
            app.processEvents()
        hw["ble_queue"] = max(hw["ble_queue"], ble.queue.qsize())
        hw["recorder_queue"] = max(hw["recorder_queue"], len(rec._q))
        now = time.perf_counter() - t0
        if now >= next_sample:
            next_sample = now + sample_every_s
            res.samples.append(
                {
                    "wall": now,
                    "t_virtual": ble.now_ns() / 1e9 if ble.running else duration,
                    "rss_mb": rss_mb(),
                    "ble_queue": ble.queue.qsize(),
                    "recorder_queue": len(rec._q),
                    "items": worker.items_done,
                    # ground truth kept by this harness, not by imustream (~224 B a packet)
                    "harness_mb": sum(len(d.log) for d in devices) * PACKET_RECORD_BYTES / 1e6,
                }
            )
        time.sleep(0.01 if app is None else 0.005)
    res.wall_s = time.perf_counter() - t0
    res.speed = speed
    source.stop()
    if worker.error is not None:
        raise RuntimeError(f"live worker failed: {worker.error!r}") from worker.error
    if win is not None:
        res.frames = int(win.stats.frames)
        win.stop()
        win.close()
    control.toggle(False)
    control.close()
    if control.errors:
        raise RuntimeError(f"conversion failed: {control.errors}")
    res.h5_path = control.converted[0]
    res.slow_writes = slow[1]
    res.recorder_dropped = dict(rec.stats.dropped)
    res.high_water = hw
    log(f"live run: {duration:.0f} s simulated in {res.wall_s:.1f} s wall")
    res.origin_s = source.origin_ns / 1e9
    account(res, devices, plan, feed, log)
    res.rss_after_convert_mb = rss_mb()
    return res


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start/stop indices of the runs of True in ``mask``."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _missing_packets(sensor: str, dev, d, states) -> list[str]:
    """Describe the sent packets whose samples are not in the file (by device time)."""
    sig = dev.signals(next(iter(dev._signals)))
    have = np.sort(d.t_device * 1000.0)
    out = []
    for p in dev.log:
        if p.fate != "sent":
            continue
        t_dev = float(sig.t_device[p.first]) - dev._clock_offset(sig, p.t_first)
        k = np.searchsorted(have, t_dev * 1000.0)
        near_ms = have[max(k - 1, 0) : k + 1] - t_dev * 1000.0
        if not np.any(np.abs(near_ms) <= 1.5):
            st = states["sensor"] == sensor
            near = np.argmin(np.abs(states["time"][st] - p.t_first)) if np.any(st) else None
            what = (
                f"{states['state'][st][near]} at {states['time'][st][near]:.3f} s"
                if near is not None
                else "no state"
            )
            out.append(
                f"{sensor}: packet seq {p.seq} (true time {p.t_first:.3f} s, {p.n} samples) "
                f"sent but not in the file; nearest link state: {what}"
            )
    return out[:10]


def account(res: SoakResult, devices, plan: FaultPlan, feed, log=print) -> None:
    """Compare the device packet logs and the fault plan with the file; fill ``res``."""
    import json

    from imustream import open_session
    from imustream.cli._offline import run_recording
    from imustream.types import InitialContact, ToeOff

    counts: dict[str, int] = {}
    acc_text: dict[str, str] = {}
    problems = res.problems
    with open_session(res.h5_path) as s:
        s.check_all()
        gaps, states, events = s.gaps, s.states, s.events
        stats = {
            n: json.loads(d._g.attrs.get("acquisition_stats_json", "{}"))
            for n, d in s.sensors.items()
        }
        for dev, sensor in zip(devices, SENSORS, strict=True):
            d = s.sensors[sensor]
            logp = dev.log
            fates = np.array([p.fate for p in logp])
            n_sent = int(np.sum(fates == "sent"))
            n_garbage = int(np.sum(fates == "garbage"))
            sent_samples = sum(p.n for p in logp if p.fate == "sent")
            ok = d.raw_decode_ok.astype(bool)
            # nothing recorded is lost: every notification the device sent is in the file
            if d.n_notifications != n_sent + n_garbage:
                problems.append(
                    f"{sensor}: device sent {n_sent + n_garbage} notifications, file has "
                    f"{d.n_notifications}"
                )
            if d.n != sent_samples:
                problems.append(f"{sensor}: device sent {sent_samples} samples, file has {d.n}")
                problems += _missing_packets(sensor, dev, d, states)
            if int(np.sum(~ok)) < n_garbage:
                problems.append(
                    f"{sensor}: {n_garbage} garbage packets, {int(np.sum(~ok))} undecoded"
                )
            counts["garbage"] = counts.get("garbage", 0) + n_garbage
            # loss runs (isolated losses, bursts, garbage) must each lie inside a recorded gap
            g = gaps["sensor"] == sensor
            g_start, g_end = gaps["start"][g], gaps["end"][g]
            bad = (fates == "lost") | (fates == "garbage")
            # device true time -> session time (BLE loop clock - origin)
            t_first = np.array([p.t_first for p in logp]) + dev._power_on - res.origin_s
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
    feed_ev = sorted(
        (
            r.record.sensor,
            "ic" if isinstance(r.record, InitialContact) else "to",
            float(r.record.time),
        )
        for r in feed.records.since(0)[0]
        if isinstance(r.record, InitialContact | ToeOff)
    )
    res.live_events, res.analyze_events = len(live_ev), len(ana)
    res.live_steps = len(off.steps)
    if live_ev != ana:
        n_diff = len(set(live_ev) ^ set(ana))
        problems.append(
            f"live events ({len(live_ev)}) != analyze events ({len(ana)}): {n_diff} differ"
        )
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
    for c in ("wall s", "virtual s", "RSS MB", "harness MB", "BLE queue", "recorder q", "items"):
        t.add_column(c, justify="right")
    step = max(1, len(res.samples) // 12)
    for s in res.samples[::step] + res.samples[-1:]:
        t.add_row(
            f"{s['wall']:.0f}", f"{s['t_virtual']:.0f}", f"{s['rss_mb']:.0f}",
            f"{s['harness_mb']:.0f}",
            str(s["ble_queue"]), str(s["recorder_queue"]), str(s["items"]),
        )  # fmt: skip
    con.print(t)
    f = Table(title="Injected faults and how the file accounts for them")
    f.add_column("fault")
    f.add_column("count", justify="right")
    f.add_column("accounted as")
    for k, v in res.fault_counts.items():
        f.add_row(k, str(v), res.accounted.get(k, ""))
    con.print(f)
    rss = [s["rss_mb"] for s in res.samples]
    con.print(
        f"simulated {res.duration:.0f} s in {res.wall_s:.1f} s wall = {res.x_real_time:.1f}x real "
        f"time; RSS start {rss[0]:.0f} MB, max {max(rss):.0f} MB, end of live run {rss[-1]:.0f} "
        f"MB (after conversion + analyze {res.rss_after_convert_mb:.0f} MB), trend (2nd half) "
        f"{res.rss_trend_mb_per_hour():+.1f} MB/h, net of the harness's packet logs "
        f"{res.rss_trend_mb_per_hour(net=True):+.1f} MB/h; queue high-water {res.high_water}; "
        f"recorder dropped {res.recorder_dropped}; slow-disk stalls {res.slow_writes}; dashboard "
        f"frames {res.frames}; events live {res.live_events} / analyze {res.analyze_events}; "
        f"steps {res.live_steps}"
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
    a = ap.parse_args(argv)
    duration = 3600.0 * a.hours if a.hours else 60.0 * (a.minutes or 3.0)
    speed = math.inf if a.speed == "max" else float(a.speed)
    res = run_soak(duration, a.seed, a.out, speed, dashboard=not a.no_dashboard)
    report(res)
    return 1 if res.problems else 0


if __name__ == "__main__":
    threading.current_thread().name = "soak-main"
    sys.exit(main())
