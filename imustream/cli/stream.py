"""``imustream stream --config session.toml``: stream real sensors with a live summary."""

from __future__ import annotations

import argparse

COMMAND = "stream"
HELP = "stream the sensors of a session config (real devices) with a live summary"
DESCRIPTION = (
    "Connect to the devices named in a session config (TOML: which device plays pelvis, "
    "shoe_left, shoe_right, with profile options), stream them with reconnects and print "
    "the live summary (rate, loss, gaps; cadence, contact time, pelvic drop, alerts). "
    "--identify instead reports which configured sensor you tap."
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the stream options."""
    parser.add_argument("--config", required=True, help="session TOML file")
    parser.add_argument(
        "--duration", type=float, default=None, help="stop after this many seconds (Ctrl-C)"
    )
    parser.add_argument("--no-analysis", action="store_true", help="link statistics only")
    parser.add_argument(
        "--identify",
        action="store_true",
        help="hold the sensors still and tap one: prints which configured role it plays",
    )
    parser.add_argument(
        "--simulated",
        action="store_true",
        help="serve the configured sensors from simulated devices (to try a config)",
    )
    parser.add_argument("--interval", type=float, default=5.0, help="s between lines (no TTY)")
    parser.set_defaults(func=run)


def targets_from_config(cfg) -> tuple[list, dict, dict]:
    """LinkTargets, profiles (with options) and rates of a SessionConfig."""
    from .. import profiles
    from ..ble.link import LinkTarget

    targets, profs, rates = [], {}, {}
    for sensor, sc in cfg.sensors.items():
        p = profiles.get(sc.profile)
        rate = sc.rate or float(p.default_rate)
        targets.append(
            LinkTarget(sensor, p, sc.address, sc.name, sc.rate, sc.acc_range, sc.gyr_range)
        )
        profs[sensor] = p.with_options(rate=rate, acc_range=sc.acc_range, gyr_range=sc.gyr_range)
        rates[sensor] = rate
    return targets, profs, rates


def run(args: argparse.Namespace) -> int:
    """Stream (or identify) the configured sensors."""
    from ..ble.config import load_config
    from ..ble.link import Backend
    from ._live_summary import run_live

    cfg = load_config(args.config)
    targets, profs, rates = targets_from_config(cfg)
    speed, setup, teardown, backend = None, None, None, Backend()
    if not args.simulated:
        import asyncio

        asyncio.run(_probe_adapter())  # fail with a clear message before any live output
    else:
        from ..ble.simulated import simulated_setup

        assignment = {t.sensor: f"{t.profile.name}@{rates[t.sensor]:g}" for t in targets}
        sim = simulated_setup(
            duration=(args.duration or 60.0) + 10.0, assignment=assignment, seed=0
        )
        # the config names real devices: let the simulated ones answer to those names
        for dev, t in zip(sim.devices, sim.targets, strict=True):
            conf = next(x for x in targets if x.sensor == t.sensor)
            if conf.address:
                dev.address = conf.address
            elif conf.name:
                dev.name = _name_matching(conf.name, dev.name)
        speed, setup, teardown, backend = 1.0, sim.setup, sim.teardown, sim.backend
    link_options = {"connect_timeout": cfg.connect_timeout, "scan_window": 1.0}
    if args.identify:
        return _identify(targets, backend, profs, rates, speed, setup, teardown, args)
    return run_live(
        targets=targets,
        backend=backend,
        profiles=profs,
        rates=rates,
        speed=speed,
        duration=args.duration,
        setup=setup,
        teardown=teardown,
        analysis=not args.no_analysis,
        interval_s=args.interval,
        title=f"imustream stream: {args.config}",
        link_options=link_options,
    )


def _name_matching(pattern: str, fallback: str) -> str:
    import re

    literal = re.sub(r"[\^\$\\]|\.\*|\.\+", "", pattern)
    return literal if re.search(pattern, literal) else fallback


async def _probe_adapter() -> None:
    from bleak import BleakScanner
    from bleak.exc import BleakError

    from ..ble.scanner import bluetooth_unavailable

    try:
        scanner = BleakScanner()
        await scanner.start()
        await scanner.stop()
    except (BleakError, OSError) as exc:
        raise bluetooth_unavailable(exc) from exc


def _identify(targets, backend, profs, rates, speed, setup, teardown, args) -> int:
    import time

    from ..ble.identify import TapDetector
    from ..ble.thread import BleThread
    from ..stream.acquisition import Acquisition
    from ..types import SampleBlock

    acq = Acquisition(profs, rates, origin_ns=0 if speed is not None else None)
    taps = TapDetector()
    ble = BleThread(targets, backend, speed=speed, setup=setup, teardown=teardown)
    by_sensor = {t.sensor: t for t in targets}
    print("connecting... hold all sensors still, then tap one firmly (Ctrl-C to stop)")
    ble.start()
    deadline = None if args.duration is None else time.monotonic() + args.duration
    try:
        while ble.running and (deadline is None or time.monotonic() < deadline):
            while not ble.queue.empty():
                item = ble.queue.get()
                for out in acq.handle(item):
                    if isinstance(out, SampleBlock):
                        for tap in taps.process(out):
                            st = acq.stats[tap.sensor]
                            where = st.name or by_sensor[tap.sensor].address or "?"
                            print(
                                f"tap on {tap.sensor}: {where} ({st.address}) "
                                f"at t={tap.time:.2f} s, peak {tap.peak_g:.1f} g"
                            )
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        ble.stop()
    if ble.error is not None:
        raise ble.error
    return 0
