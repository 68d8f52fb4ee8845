"""Cost of the live dashboard: frame rate, GUI-thread CPU and display latency.

Three simulated sensors (movesense-imu6 profile at 416 Hz, 9 samples per notification) run
the virtual runner's right-hip-drop scenario. A producer thread releases each notification
at its real-time due time as ``(time.monotonic_ns(), sensor, bytes)`` into a queue, exactly
as the BLE thread does; the acquisition/DSP worker of ``imustream live`` decodes, runs the
dsp.Pipeline and fills the dashboard's feed; the Qt main thread draws at a fixed frame rate
(offscreen). Measured:

* frames/s and GUI-thread CPU (``time.thread_time`` of the main thread, % of one core);
* the worker thread's CPU (its own per-thread clock);
* display latency: from a notification's arrival (queue put) to the first event-loop pass
  after the repaint of the frame showing the event/step it released (``Dashboard`` stamps it
  with a 0-ms timer), median and 95th percentile; for all IC/TO/steps and for steps only.

Reference, measured in the same run: a bare pyqtgraph window with the same 3x3 curves that
redraws the raw, undecimated 8-s windows every frame (no dashboard, no worker).

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_cost.py [--duration 20] [--fps 30]
"""

from __future__ import annotations

import argparse
import os
import queue
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore
from rich.console import Console
from rich.table import Table

from imustream import profiles
from imustream.cli._live import LiveSource, LiveWorker, queue_items
from imustream.sim import simulate
from imustream.sim.encoders import PacketEncoder
from imustream.types import LinkState, StateChange
from imustream.viz.dashboard import Dashboard
from imustream.viz.feed import LiveFeed

PROFILE = "movesense-imu6"


def packets(run, rate: float) -> list[tuple[float, str, bytes]]:
    """Every notification ``(due time s, sensor, payload)`` of the run, in time order."""
    prof = profiles.get(PROFILE).with_options(rate=rate)
    enc = PacketEncoder(prof, rate=rate)
    k = enc.samples_per_packet
    out = []
    for sensor, sig in run.sensors.items():
        for i in range(0, sig.n - k + 1, k):
            payload = enc.encode(sig.acc[i : i + k], sig.gyr[i : i + k], float(sig.t_device[i]))
            out.append((float(sig.t[i + k - 1]), sensor, payload))
    out.sort(key=lambda p: p[0])
    return out


def producer(items, q: queue.SimpleQueue, stop: threading.Event, done: threading.Event) -> None:
    """Release notifications at their real-time due times."""
    t0 = time.monotonic()
    for sensor in ("pelvis", "shoe_left", "shoe_right"):
        q.put(StateChange(sensor, LinkState.STREAMING, time.monotonic_ns(), "benchmark"))
    for due, sensor, payload in items:
        if stop.is_set():
            break
        wait = t0 + due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        q.put((time.monotonic_ns(), sensor, payload))
    done.set()


def thread_cpu(ident: int) -> float:
    """CPU seconds of another thread (Linux per-thread clock)."""
    return time.clock_gettime(time.pthread_getcpuclockid(ident))


def run_dashboard(app, rate: float, duration: float, fps: float) -> dict:
    run = simulate("right-hip-drop", duration=duration + 2.0, fs=rate, seed=0)
    items = packets(run, rate)
    q: queue.SimpleQueue = queue.SimpleQueue()
    stop, done = threading.Event(), threading.Event()
    prof = profiles.get(PROFILE).with_options(rate=rate)
    sensors = list(run.sensors)
    source = LiveSource(
        items=queue_items(q, lambda: not done.is_set()),
        header={},
        rates=dict.fromkeys(sensors, rate),
        profiles=dict.fromkeys(sensors, prof),
        monotonic_host_ns=True,
    )
    feed = LiveFeed(sensors, keep_s=30.0, max_rate_hz=1.2 * rate)
    worker = LiveWorker(source, feed)
    warm_up_s = worker.warm_up()
    win = Dashboard(feed, fps=fps)
    win.resize(1600, 950)
    win.show()
    prod = threading.Thread(target=producer, args=(items, q, stop, done), daemon=True)
    worker.start()
    prod.start()
    win.start()
    # let the pipeline warm up (numba compile/cache load), then measure
    warm = 3.0
    QtCore.QTimer.singleShot(int(warm * 1000), app.quit)
    app.exec()
    frames0, lat0 = win.stats.frames, len(win.stats.latency_ns)
    step_lat0 = len(win.stats.step_latency_ns)
    n_busy0 = len(win.stats.busy_frame_s)
    c0, w0, t0 = time.thread_time(), thread_cpu(worker._thread.ident), time.perf_counter()
    QtCore.QTimer.singleShot(int((duration - warm) * 1000), app.quit)
    app.exec()
    wall = time.perf_counter() - t0
    gui_cpu = time.thread_time() - c0
    worker_cpu = thread_cpu(worker._thread.ident) - w0
    win.stop()
    stop.set()
    worker.stop()
    lat = np.asarray(win.stats.latency_ns[lat0:]) / 1e6
    step_lat = np.asarray(win.stats.step_latency_ns[step_lat0:]) / 1e6
    ft = np.asarray(win.stats.busy_frame_s[n_busy0:]) * 1e3
    result = {
        "fps": (win.stats.frames - frames0) / wall,
        "gui_cpu_pct": 100 * gui_cpu / wall,
        "worker_cpu_pct": 100 * worker_cpu / wall,
        "frame_update_ms": float(np.median(ft)) if ft.size else float("nan"),
        "latency_ms_median": float(np.median(lat)) if lat.size else float("nan"),
        "latency_ms_p95": float(np.percentile(lat, 95)) if lat.size else float("nan"),
        "latency_n": int(lat.size),
        "step_latency_ms_median": float(np.median(step_lat)) if step_lat.size else float("nan"),
        "step_latency_ms_p95": float(np.percentile(step_lat, 95))
        if step_lat.size
        else float("nan"),
        "steps": win.model.n_steps,
        "warm_up_s": warm_up_s,
        "warning": win.banner.is_warning,
        "worker_error": repr(worker.error) if worker.error else "",
        "samples": {s: r.write_count for s, r in feed.samples.items()},
        "items": worker.items_done,
    }
    win.close()
    win.deleteLater()
    app.processEvents()
    return result


def run_reference(app, rate: float, duration: float, fps: float) -> dict:
    """A bare pyqtgraph window redrawing 3x3 raw 8-s curves per frame."""
    n = int(8.0 * rate)
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3, 3, n + int(duration * rate) + 10)).cumsum(axis=2)
    glw = pg.GraphicsLayoutWidget()
    glw.resize(1600, 950)
    curves = []
    for i in range(3):
        p = glw.addPlot(row=i, col=0)
        curves.append([p.plot(pen=pg.mkPen(c, width=1)) for c in ("r", "g", "b")])
    x = np.arange(n) / rate - 8.0
    glw.show()
    state = {"frames": 0, "t0": time.perf_counter()}

    def frame() -> None:
        k = int((time.perf_counter() - state["t0"]) * rate)
        for i in range(3):
            for j in range(3):
                curves[i][j].setData(x, data[i, j, k : k + n])
        state["frames"] += 1

    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.PreciseTimer)
    timer.setInterval(round(1000 / fps))
    timer.timeout.connect(frame)
    timer.start()
    c0, t0 = time.thread_time(), time.perf_counter()
    QtCore.QTimer.singleShot(int(duration * 1000), app.quit)
    app.exec()
    wall = time.perf_counter() - t0
    timer.stop()
    out = {"fps": state["frames"] / wall, "gui_cpu_pct": 100 * (time.thread_time() - c0) / wall}
    glw.close()
    glw.deleteLater()
    app.processEvents()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds (+3 warm-up)")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=416.0)
    args = ap.parse_args()
    app = pg.mkQApp("gui_cost")
    dash = run_dashboard(app, args.rate, args.duration + 3.0, args.fps)
    ref = run_reference(app, args.rate, min(args.duration, 10.0), args.fps)
    load = os.getloadavg()[0]
    con = Console()
    t = Table(
        title=f"Dashboard cost: 3 sensors at {args.rate:g} Hz, target {args.fps:g} fps, "
        f"offscreen, 1600x950 (load average {load:.1f} on {os.cpu_count()} CPUs)"
    )
    t.add_column("measure")
    t.add_column("dashboard", justify="right")
    t.add_column("reference: bare pyqtgraph, raw curves", justify="right")
    t.add_column("target", justify="right")
    t.add_row("frames/s", f"{dash['fps']:.1f}", f"{ref['fps']:.1f}", ">= 30")
    t.add_row(
        "GUI-thread CPU (% of one core)",
        f"{dash['gui_cpu_pct']:.0f}",
        f"{ref['gui_cpu_pct']:.0f}",
        "< 30",
    )
    t.add_row(
        "GUI CPU ratio dashboard / reference",
        f"{dash['gui_cpu_pct'] / ref['gui_cpu_pct']:.2f}",
        "1",
        "",
    )
    t.add_row("acquisition+DSP thread CPU (%)", f"{dash['worker_cpu_pct']:.0f}", "", "")
    t.add_row(
        "update of a frame with new data, median ms", f"{dash['frame_update_ms']:.1f}", "", ""
    )
    t.add_row(
        "latency arrival -> frame, IC/TO/steps, median ms",
        f"{dash['latency_ms_median']:.0f}",
        "",
        "<= 100",
    )
    t.add_row("latency arrival -> frame, IC/TO/steps, p95 ms", f"{dash['latency_ms_p95']:.0f}")
    t.add_row(
        "latency arrival -> frame, steps only, median ms",
        f"{dash['step_latency_ms_median']:.0f}",
        "",
        "<= 100",
    )
    t.add_row("latency arrival -> frame, steps only, p95 ms", f"{dash['step_latency_ms_p95']:.0f}")
    t.add_row("steps shown / latency samples", f"{dash['steps']} / {dash['latency_n']}", "", "")
    t.add_row("asymmetry warning shown (right-hip-drop)", str(dash["warning"]), "", "True")
    con.print(t)
    con.print(
        f"samples pushed per sensor: {dash['samples']}, queue items: {dash['items']}, "
        f"pipeline warm-up before start (numba load): {dash['warm_up_s']:.2f} s"
    )
    if dash["worker_error"]:
        con.print(f"[red]worker error: {dash['worker_error']}")


if __name__ == "__main__":
    main()
