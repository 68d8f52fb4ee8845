"""``imustream profiles``: every firmware profile imustream can decode."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..profiles import FirmwareProfile, GattWrite

COMMAND = "profiles"
HELP = "list the supported sensors (firmware profiles)"
DESCRIPTION = (
    "List every firmware profile: name, vendor, sample rates, accelerometer / gyroscope "
    "ranges, where sample times come from (device clock or nominal rate + arrival), "
    "sequence counter, samples per notification and the notify characteristic. "
    "Profiles are TOML files in firmware_profiles/ (see its README.md); `--file` validates "
    "one of your own. With a NAME: the details of one profile, including the GATT writes "
    "that start and stop streaming."
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``imustream profiles``."""
    parser.add_argument("name", nargs="?", metavar="NAME", help="show one profile in detail")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument(
        "--file", metavar="TOML", help="validate this profile file and show it alone"
    )
    parser.set_defaults(func=run)


def _num(x: float) -> str:
    return f"{x:g}"


def describe(p: FirmwareProfile) -> dict:
    """JSON-ready facts about profile ``p``."""
    streams = {("imu",): "6-axis", ("acc",): "acc only", ("acc", "gyr"): "acc, gyr separately"}
    return {
        "name": p.name,
        "vendor": p.vendor,
        "description": p.description,
        "rates_hz": list(p.rates),
        "default_rate_hz": p.default_rate,
        "acc_ranges_g": list(p.acc_ranges),
        "gyr_ranges_dps": list(p.gyr_ranges),
        "time_source": p.time_source,
        "timestamp_tick_s": p.timestamp_tick_s,
        "timestamp_wrap_s": p.timestamp_wrap_s,
        "seq_bits": p.seq_bits,
        "samples_per_packet": p.samples_per_packet,
        "streams": streams[p.streams],
        "acc_full_scale_g": None
        if p.acc_full_scale is None
        else round(p.acc_full_scale / 9.80665, 6),
        "service_uuid": p.service_uuid,
        "notify_uuids": list(p.notify_uuids),
        "control_uuid": p.control_uuid,
        "battery": p.battery is not None,
        "scan_name_pattern": p.scan_name_pattern,
        "advertised_services": list(p.advertised_services),
        "start_writes": [_write(w) for w in p.start_sequence()],
        "stop_writes": [_write(w) for w in p.stop_sequence()],
        "file": p.source_file,
    }


def _write(w: GattWrite) -> dict:
    return {"char": w.char_uuid, "data": w.data.hex(" "), "response": w.response}


def run(args: argparse.Namespace) -> int:
    """Print the profile table (or JSON)."""
    from .. import profiles

    if args.file:
        items = [profiles.load(args.file)]
    elif args.name:
        items = [profiles.get(args.name)]
    else:
        items = [profiles.get(n) for n in profiles.names()]
    facts = [describe(p) for p in items]
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    if args.name or args.file:
        _details(facts[0])
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="imustream firmware profiles", title_justify="left")
    for col in ("name", "vendor", "rates (Hz)", "ranges", "time source", "seq", "samples/packet"):
        table.add_column(col, overflow="fold")
    for f in facts:
        ranges = []
        if not f["acc_ranges_g"] and f["acc_full_scale_g"]:
            ranges.append(f"±{_num(f['acc_full_scale_g'])} g (fixed)")
        if f["acc_ranges_g"]:
            ranges.append("±" + "/".join(map(_num, f["acc_ranges_g"])) + " g")
        if f["gyr_ranges_dps"]:
            ranges.append("±" + "/".join(map(_num, f["gyr_ranges_dps"])) + " °/s")
        if f["time_source"] == "device":
            tick = f["timestamp_tick_s"]
            unit = {1e-3: "ms", 1e-6: "µs", 1e-9: "ns"}.get(tick, f"{tick:g} s")
            time = f"device clock ({unit})"
        else:
            time = "rate + arrival"
        spp = "variable" if f["samples_per_packet"] is None else str(f["samples_per_packet"])
        if f["streams"] != "6-axis":
            spp += f" ({f['streams']})"
        rates = ", ".join(_num(r) for r in f["rates_hz"])
        table.add_row(
            f["name"],
            f["vendor"],
            rates,
            "\n".join(ranges) or "fixed (not stated)",
            time,
            f"u{f['seq_bits']}" if f["seq_bits"] else "none",
            spp,
        )
    Console().print(table)
    return 0


def _details(f: dict) -> None:
    """One profile, every fact, as a two-column table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{f['name']} ({f['vendor']})", title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in f.items():
        if key in ("start_writes", "stop_writes"):
            value = (
                "\n".join(
                    f"{w['char']}: {w['data']}" + ("" if w["response"] else " (no response)")
                    for w in value
                )
                or "(none)"
            )
        elif isinstance(value, list):
            value = ", ".join(_num(v) if isinstance(v, float) else str(v) for v in value) or "-"
        table.add_row(key, str(value))
    Console().print(table)
