"""``imustream scan``: list supported IMUs in range (name, address, RSSI, profile, battery)."""

from __future__ import annotations

import argparse

COMMAND = "scan"
HELP = "find supported IMUs in range"
DESCRIPTION = (
    "Scan for Bluetooth LE devices and show the ones imustream supports: name, address, "
    "RSSI, firmware profile and (with --battery) battery level. --simulated scans the "
    "demo's simulated sensors instead of the radio."
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the scan options."""
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to scan (5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--all", action="store_true", help="also list unsupported devices")
    parser.add_argument(
        "--battery", action="store_true", help="connect briefly to read battery levels"
    )
    parser.add_argument(
        "--simulated", action="store_true", help="scan the simulated demo sensors (no radio)"
    )
    parser.add_argument(
        "--backend",
        choices=("inprocess", "bumble"),
        default="inprocess",
        help="simulated radio for --simulated",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan and print the result."""
    import asyncio
    import json

    from ..ble.clock import new_event_loop
    from ..ble.link import Backend
    from ..ble.scanner import scan

    if args.timeout <= 0:
        from ..errors import ConfigError

        raise ConfigError(f"--timeout must be > 0, got {args.timeout}")
    if args.simulated:
        from ..ble.simulated import simulated_setup

        setup = simulated_setup(duration=args.timeout + 5.0, backend=args.backend)
        backend, loop = setup.backend, new_event_loop(float("inf"))

        async def job():
            await setup.setup()
            try:
                return await scan(backend, args.timeout, args.battery, not args.all)
            finally:
                await setup.teardown()

    else:
        backend, loop = Backend(), asyncio.new_event_loop()

        async def job():
            return await scan(backend, args.timeout, args.battery, not args.all)

    try:
        found = loop.run_until_complete(job())
    finally:
        loop.close()
    if args.json:
        print(json.dumps([d.as_dict() for d in found], indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(found)} device(s) found via {backend.name}", title_justify="left")
    for col in ("name", "address", "RSSI", "profile", "battery %"):
        table.add_column(col, justify="right" if col in ("RSSI", "battery %") else "left")
    for d in found:
        table.add_row(
            d.name or "?",
            d.address,
            "-" if d.rssi is None else str(d.rssi),
            d.profile or "(unsupported)",
            "-" if d.battery is None else str(d.battery),
        )
    Console().print(table)
    return 0
