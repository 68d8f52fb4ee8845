"""Shared wiring of ``imustream demo`` and ``imustream stream``: BLE thread -> live summary."""

from __future__ import annotations

import time
from typing import Any


def make_pipeline(rates: dict[str, float], profiles: dict[str, Any]):
    """The DSP pipeline for these sensors (accelerometer ranges from the profiles)."""
    from ..dsp.pipeline import Pipeline

    acc_range = {s: p.acc_full_scale for s, p in profiles.items() if p.acc_full_scale}
    gyro = {s: tuple(p.streams) != ("acc",) for s, p in profiles.items()}  # e.g. Polar H10
    return Pipeline(dict(rates), acc_range=acc_range, gyro=gyro)


def run_live(**kwargs: Any) -> int:
    """Run :func:`stream_live`; exit code 0, or 1 if no sensor delivered any sample."""
    session = stream_live(**kwargs)
    return 0 if any(st.samples for st in session.stats.values()) else 1


def stream_live(
    *,
    targets: list,
    backend: Any,
    profiles: dict[str, Any],
    rates: dict[str, float],
    speed: float | None,
    duration: float | None,
    setup: Any = None,
    teardown: Any = None,
    analysis: bool = True,
    interval_s: float = 5.0,
    title: str = "imustream",
    link_options: dict | None = None,
    console: Any = None,
):
    """Stream ``targets`` until ``duration`` loop seconds (or Ctrl-C) with a live summary.

    Returns the finished :class:`~imustream.stream.live.LiveSession`.
    """
    import math

    from rich.console import Console

    from ..ble.thread import BleThread
    from ..stream.acquisition import Acquisition
    from ..stream.live import LiveSession
    from ..viz.terminal import TerminalSummary

    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
    pipeline = None
    if analysis:
        try:
            pipeline = make_pipeline(rates, profiles)
        except Exception as exc:  # analysis is optional here; link statistics still work
            console.print(f"[yellow]analysis unavailable ({type(exc).__name__}: {exc})[/]")
            analysis = False
    if speed is not None and math.isfinite(speed):
        # a stall of a few real seconds (e.g. JIT compilation holding the GIL) is not a lost link
        link_options = {"stall_timeout": 2.0 * max(1.0, speed), **(link_options or {})}
    acquisition = Acquisition(profiles, rates, origin_ns=0 if speed is not None else None)
    session = LiveSession(acquisition, pipeline)
    ble = BleThread(
        targets,
        backend,
        speed=speed,
        setup=setup,
        teardown=teardown,
        stop_after=duration,
        link_options=link_options,
    )
    view = TerminalSummary(console, with_metrics=analysis, interval_s=interval_s)
    with view:
        ble.start()
        try:
            while ble.running or not ble.queue.empty():
                # small chunks: the summary advances smoothly even when data arrives in bursts
                if not session.drain(ble.queue, max_items=500):
                    time.sleep(0.05)
                view.update(session)
        except KeyboardInterrupt:
            view.console.print("stopping (Ctrl-C)...")
        finally:
            ble.stop()
        session.drain(ble.queue)
        session.finish()
        view.update(session)
    view.final(session, title=f"{title}: final summary")
    if ble.error is not None:
        raise ble.error
    session.ble = ble
    return session
