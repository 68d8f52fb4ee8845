"""``imustream live``: the live dashboard."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

COMMAND = "live"
HELP = "live dashboard: simulated sensors (default), real ones (--config) or a recording (--replay)"
DESCRIPTION = (
    "Open the live dashboard: scrolling traces with foot strikes and toe-offs, pelvic drop per "
    "step and over the session, contact-time balance and cadence in large numbers, the "
    "asymmetry warning, sensor status, record and marker buttons. Without options three "
    "simulated sensors run a virtual runner over the BLE stack; --config uses real sensors; "
    "--replay plays a recording through the same pipeline."
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``imustream live``."""
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        "--config",
        type=Path,
        metavar="SESSION.toml",
        help="real sensors described by a session file",
    )
    src.add_argument("--replay", type=Path, metavar="FILE.h5", help="replay a recording")
    sim = parser.add_argument_group("simulated sensors (default source)")
    sim.add_argument(
        "--scenario",
        default="symmetric-runner",
        help="virtual runner scenario (see `imustream.sim.scenario_names()`), "
        "e.g. right-hip-drop; default %(default)s",
    )
    sim.add_argument(
        "--rate",
        type=float,
        default=208.0,
        help="sample rate in Hz: 104, 208 (default) or 416 (movesense-imu6 rates)",
    )
    sim.add_argument("--duration", type=float, default=600.0, help="seconds to simulate")
    sim.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulation / replay speed (1 = real time; 0 = as fast as possible for --replay)",
    )
    parser.add_argument("--thresholds", default="runner", help="alert preset: runner or clinic")
    view = parser.add_argument_group("display")
    view.add_argument("--fps", type=float, default=30.0, help="frames per second")
    view.add_argument("--window", type=float, default=8.0, help="seconds of trace shown")
    view.add_argument("--steps", type=int, default=20, help="steps shown as pelvic-drop bars")
    view.add_argument("--beep", action="store_true", help="beep when an alert turns on")
    parser.add_argument(
        "--record-dir",
        type=Path,
        default=Path("."),
        help="where the Record button writes recordings (default: here)",
    )
    parser.add_argument(
        "--quit-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="close the window after this many seconds",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        metavar="PNG",
        help="save a screenshot of the window when it closes",
    )
    parser.set_defaults(func=run)


def _source(args: argparse.Namespace):
    from ._live import config_source, replay_source, simulated_source

    if args.replay is not None:
        return replay_source(args.replay, speed=args.speed or None)
    if args.config is not None:
        return config_source(args.config)
    if args.speed <= 0:
        from ..errors import ConfigError

        raise ConfigError("--speed must be > 0 for simulated sensors")
    return simulated_source(args.scenario, args.rate, args.duration, args.seed, args.speed)


def run(args: argparse.Namespace) -> int:
    """Run the dashboard until the window is closed; returns the exit code."""
    from ..errors import ConfigError

    if args.fps <= 0 or args.window <= 0 or args.steps < 1:
        raise ConfigError("--fps and --window must be > 0 and --steps >= 1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from pyqtgraph.Qt import QtCore

    from ..viz.dashboard import Dashboard
    from ..viz.feed import LiveFeed
    from ._live import LiveWorker
    from ._recording import RecordingControl

    source = _source(args)
    app = pg.mkQApp("imustream")
    feed = LiveFeed(
        list(source.profiles),
        keep_s=max(30.0, 2 * args.window),
        max_rate_hz=1.2 * max(source.rates.values()),
    )
    worker = LiveWorker(source, feed, thresholds=args.thresholds)
    control = (
        RecordingControl(worker, source.header, args.record_dir) if source.recordable else None
    )
    win = Dashboard(
        feed,
        markers=worker.markers,
        on_record=control.toggle if control is not None else None,
        fps=args.fps,
        window_s=args.window,
        n_steps=args.steps,
        beep=args.beep,
        title=f"imustream live — {source.description}",
    )
    win.resize(1600, 950)
    worker.warm_up()
    win.show()
    win.start()
    worker.start()
    source.start()
    if args.quit_after is not None:
        QtCore.QTimer.singleShot(int(args.quit_after * 1000), app.quit)
    try:
        app.exec()
    finally:
        if args.screenshot is not None:
            win.save_screenshot(args.screenshot)
        win.stop()
        try:
            source.stop()
        finally:
            worker.stop()
            if control is not None:
                control.close()
            win.close()
            win.deleteLater()
            app.processEvents()
    s = win.stats.summary()
    print(
        f"{s['frames']:.0f} frames, median frame {s['frame_ms_median']:.1f} ms, "
        f"median display latency {s['latency_ms_median']:.0f} ms",
        file=sys.stderr,
    )
    if control is not None:
        for p in control.converted:
            print(f"recording written to {p}", file=sys.stderr)
        for e in control.errors:
            print(f"imustream: recording error: {e}", file=sys.stderr)
    if args.screenshot is not None:
        print(f"screenshot written to {args.screenshot}", file=sys.stderr)
    if worker.error is not None:
        raise ConfigError(f"acquisition stopped: {worker.error!r}")
    return 1 if control is not None and control.errors else 0
