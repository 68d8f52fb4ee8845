"""``imustream demo``: the virtual runner as three simulated BLE sensors, analysed live."""

from __future__ import annotations

import argparse
import math

COMMAND = "demo"
HELP = "run the virtual runner through the full BLE path (no hardware needed)"
DESCRIPTION = (
    "Start the virtual runner as three simulated BLE sensors (pelvis: movesense-imu6, shoes: "
    "imustream-open by default), connect to them through bleak exactly as to real devices, "
    "decode, analyse and print a live summary: per-sensor rate and loss, cadence, contact "
    "time, pelvic drop left/right and asymmetry alerts. Ends with a summary table."
)


def _speed(text: str) -> float:
    if text.lower() in ("max", "inf"):
        return math.inf
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--speed must be > 0 or 'max', got {text!r}")
    return value


def _assignment(text: str) -> tuple[str, str]:
    sensor, sep, profile = text.partition("=")
    if not sep or not profile:
        raise argparse.ArgumentTypeError(f"expected SENSOR=PROFILE[@RATE], got {text!r}")
    return sensor, profile


def register(parser: argparse.ArgumentParser) -> None:
    """Add the demo options."""
    parser.add_argument("--duration", type=float, default=30.0, help="session seconds (30)")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        help="times faster than real time (1); 'max' runs unpaced on a virtual clock",
    )
    parser.add_argument("--scenario", default="symmetric-runner", help="virtual-runner scenario")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument(
        "--sensor",
        type=_assignment,
        action="append",
        default=[],
        metavar="SENSOR=PROFILE[@RATE]",
        help="firmware profile a simulated sensor speaks, e.g. pelvis=movesense-imu6@104",
    )
    parser.add_argument(
        "--backend",
        choices=("inprocess", "bumble"),
        default="inprocess",
        help="simulated radio: in-process bleak backend or bumble's virtual controllers",
    )
    parser.add_argument(
        "--no-analysis", action="store_true", help="link statistics only (no DSP pipeline)"
    )
    parser.add_argument(
        "--interval", type=float, default=5.0, help="session s between lines without a TTY"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns the exit code."""
    from ..ble.simulated import simulated_setup
    from ..errors import ConfigError
    from ..sim import scenario_names
    from ._live_summary import run_live

    if args.duration <= 0:
        raise ConfigError(f"--duration must be > 0, got {args.duration}")
    if args.scenario not in scenario_names():
        raise ConfigError(
            f"unknown scenario {args.scenario!r}; choose one of {', '.join(scenario_names())}"
        )
    setup = simulated_setup(
        args.scenario,
        duration=args.duration + 10.0,  # margin for connecting and reconnects
        seed=args.seed,
        assignment=dict(args.sensor),
        backend=args.backend,
    )
    return run_live(
        targets=setup.targets,
        backend=setup.backend,
        profiles=setup.profiles,
        rates=setup.rates,
        speed=args.speed,
        duration=args.duration,
        setup=setup.setup,
        teardown=setup.teardown,
        analysis=not args.no_analysis,
        interval_s=args.interval,
        title=f"imustream demo: {args.scenario} via {setup.backend.name}",
    )
