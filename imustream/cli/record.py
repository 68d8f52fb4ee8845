"""``imustream record``: record a session (real or simulated sensors) to a crash-safe file."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..types import Marker

COMMAND = "record"
HELP = "record a session from real sensors (--config) or the virtual runner (--scenario)"
DESCRIPTION = (
    "Record raw notifications, link events, detected steps and alerts into a crash-safe "
    "session log (CRC per record, fsync every 0.5 s), then convert it into a verified HDF5 "
    "file. Ctrl-C or SIGTERM end the recording with a finished, valid file; after a crash or "
    "power loss, `imustream recover DIR` converts what was written (at most ~1 s is lost). "
    "Recording stops by itself, with a clear message, while enough disk space remains to "
    "convert. Logs left by a crash in the output folder are recovered first. Without "
    "--config the three sensors are simulated devices running a "
    "virtual-runner --scenario through the real bleak client code."
)


def _speed(text: str) -> float:
    if text == "max":
        return math.inf
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--speed must be > 0 or 'max', got {text!r}")
    return value


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``imustream record``."""
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        "--config", type=Path, metavar="SESSION.toml", help="real sensors described by a TOML file"
    )
    src.add_argument(
        "--scenario",
        default="symmetric-runner",
        help="virtual-runner scenario for simulated sensors (default symmetric-runner)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="FILE.h5",
        help="output file (default recordings/session-<time>.h5 in the current folder)",
    )
    parser.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    parser.add_argument("--subject", default="", help="subject id stored in the file")
    parser.add_argument("--notes", default="", help="free text stored in the file")
    parser.add_argument(
        "--thresholds", default="runner", choices=("runner", "clinic"), help="alert preset"
    )
    sim = parser.add_argument_group("simulated sensors")
    sim.add_argument("--rate", type=float, default=208.0, help="sample rate in Hz (208 or 416)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (0)")
    sim.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        help="simulated time speed: 1 = real time, 4 = four times faster, max = unpaced",
    )
    parser.add_argument(
        "--keep-log", action="store_true", help="keep the session log after conversion"
    )
    parser.add_argument(
        "--markers",
        action="store_true",
        help="read markers from stdin while recording, one per line: KIND [VALUE] [TEXT], "
        "e.g. 'pain 4 left knee' or 'changed shoes'",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Record until the duration ends, Ctrl-C or SIGTERM; returns the exit code."""
    import dataclasses
    import signal
    import time

    from rich.console import Console

    from ..dsp.pipeline import Pipeline
    from ..errors import ConfigError, RecordingError
    from ..io.convert import convert, h5_path_for
    from ..io.diskguard import DiskGuard
    from ..io.logformat import LOG_SUFFIX
    from ..io.recorder import Recorder
    from ..io.recover import recover
    from ..stream.acquisition import Acquisition
    from ._live import config_source, simulated_source
    from ._session import LiveSession, session_header

    con = Console(stderr=True)
    if args.duration is not None and not args.duration > 0:
        raise ConfigError(f"--duration must be > 0 s, got {args.duration}")
    out = args.output or Path("recordings") / time.strftime("session-%Y%m%d-%H%M%S.h5")
    if out.suffix != ".h5":
        raise ConfigError(f"--output must end in .h5, got {out}")
    log = out.with_name(out.name.removesuffix(".h5") + LOG_SUFFIX)
    for p in (out, log):
        if p.exists():
            raise RecordingError(f"{p} already exists; choose another --output")
    out.parent.mkdir(parents=True, exist_ok=True)
    for o in recover(out.parent):  # logs left by an earlier crash in the same folder
        if o.action != "in_use":
            con.print(f"recovered {o.log_path.name}: {o.action} {o.message}".rstrip())
    guard = DiskGuard(out.parent)
    if args.config is not None:
        source = config_source(args.config)
    else:
        source = simulated_source(
            args.scenario, args.rate, args.duration or 24 * 3600.0, args.seed, args.speed
        )

    stop_reason = ["duration"]

    def on_term(signum, frame):  # SIGTERM ends like Ctrl-C: a finished, valid file
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term)
    rec = live = None
    acq = Acquisition(source.profiles, source.rates, origin_ns=source.origin_ns)
    pipe = Pipeline(source.rates, thresholds=args.thresholds)
    t_wall = time.monotonic()
    last_print = 0.0
    try:
        source.start()
        for item in source.items:
            if rec is None:
                t0 = item.host_ns if not isinstance(item, tuple) else item[0]
                if acq.origin_ns is None:  # 0 is a valid origin (virtual clocks)
                    acq.origin_ns = t0
                info = source.header.get("sensor_info", {})
                header = session_header(
                    info,
                    t0_ns=acq.origin_ns,
                    subject=args.subject,
                    notes=args.notes,
                    extra={
                        "source": source.description,
                        "dsp": {
                            "thresholds_preset": args.thresholds,
                            "thresholds": dataclasses.asdict(pipe.thresholds),
                            "latency_margin_s": pipe.latency_margin,
                        },
                        **{k: v for k, v in source.header.items() if k not in ("sensor_info",)},
                        "sensors": list(info),
                    },
                )
                rec = Recorder(log, header, disk_guard=guard).start()
                live = LiveSession(rec, acq, pipe)
                if args.markers:
                    _start_marker_reader(rec, _clock(source), acq.origin_ns, con)
                con.print(f"recording {source.description} -> {out} (Ctrl-C to stop)")
            live.handle(item)
            if rec.error is not None:
                stop_reason[0] = "error"
                break
            now = time.monotonic()
            if args.config is not None and args.duration and now - t_wall >= args.duration:
                break  # simulated sensors stop by themselves after --duration (their clock)
            if now - last_print >= 2.0:
                last_print = now
                con.print(
                    f"  {now - t_wall:6.0f} s  {live.samples} samples  {live.n_steps} steps  "
                    f"{live.n_alerts} alert changes",
                    highlight=False,
                )
    except KeyboardInterrupt:
        stop_reason[0] = "interrupted"
    finally:
        signal.signal(signal.SIGTERM, old_term)
        try:
            source.stop()
        except Exception as exc:
            con.print(f"[yellow]stopping the sensors: {exc}[/yellow]")
        if live is not None:
            live.finish()
        if rec is not None:
            rec.stop(stop_reason[0])
    if rec is None:
        raise RecordingError("no data arrived from the sensors; nothing was recorded")
    if rec.error is not None:
        con.print(f"[red]recording stopped early: {rec.error}[/red]")
    res = convert(log, out, remove_log=not args.keep_log)
    assert h5_path_for(log) == res.h5_path or args.output is not None
    n = sum(res.samples.values())
    con.print(
        f"wrote {res.h5_path}: {n} samples, {live.n_steps} steps"
        + (f", dropped by the recorder: {rec.stats.dropped}" if rec.stats.dropped else "")
    )
    for w in res.warnings:
        con.print(f"[yellow]{w}[/yellow]")
    return 1 if rec.error is not None else 0


def parse_marker(line: str, time_s: float) -> Marker | None:
    """A Marker from a line ``KIND [VALUE] [TEXT]`` (``None`` for an empty line)."""
    from ..types import Marker

    words = line.split()
    if not words:
        return None
    value = float("nan")
    rest = words[1:]
    if rest:
        try:
            value = float(rest[0])
            rest = rest[1:]
        except ValueError:
            pass
    if math.isnan(value) and rest:  # "changed shoes": a kind of several words
        return Marker(time_s, " ".join(words), value, "")
    return Marker(time_s, words[0], value, " ".join(rest))


def _clock(source):
    """The clock of the source's ``host_ns`` (the BLE loop's clock, virtual for simulations)."""
    import time

    ble = source.extra.get("ble")
    return ble.now_ns if ble is not None else time.monotonic_ns


def _start_marker_reader(rec, now_ns, origin_ns: int, con) -> None:
    import sys
    import threading

    def read() -> None:
        for line in sys.stdin:
            m = parse_marker(line, (now_ns() - origin_ns) / 1e9)
            if m is not None and rec.running:
                rec.record(m)
                con.print(f"  marker at {m.time:.1f} s: {m.kind} {m.value:g} {m.text}".rstrip())

    threading.Thread(target=read, name="imustream-markers", daemon=True).start()
