"""Load and validate firmware profile TOML files into frozen :class:`FirmwareProfile` records.

Every problem raises :class:`~imustream.errors.ProfileError` naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import ProfileError
from .model import (
    FIELD_TYPES,
    UNIT_TO_SI,
    FieldSpec,
    FirmwareProfile,
    Layout,
    Scales,
    TimeSpec,
    WriteTemplate,
)
from .writes import parse_template

__all__ = ["build_decoder", "check_option", "load", "profile_dirs"]

BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
_UUID128 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_UUID16 = re.compile(r"^(0x)?[0-9a-f]{4}$")

_KEYS: dict[str, set[str]] = {
    "": {
        "name",
        "vendor",
        "description",
        "scan",
        "gatt",
        "options",
        "start",
        "stop",
        "layout",
        "time",
        "decoder_params",
    },
    "scan": {"name_pattern", "services"},
    "gatt": {"service", "notify", "control", "battery"},
    "options": {
        "rates",
        "default_rate",
        "acc_ranges",
        "default_acc_range",
        "gyr_ranges",
        "default_gyr_range",
        "acc_full_scale_g",
        "codes",
    },
    "options.codes": {"rate", "acc_range", "gyr_range"},
    "write": {"char", "data", "response"},
    "layout": {
        "decoder",
        "endianness",
        "samples_per_packet",
        "packet_size",
        "pad_to",
        "continuation_type",
        "continuation_strip",
        "notification_rate",
        "header",
        "sample",
        "sample_blocks",
        "acc",
        "gyr",
        "mag",
        "acc_unit",
        "gyr_unit",
        "mag_unit",
        "acc_scale",
        "gyr_scale",
        "mag_scale",
    },
    "field": {"name", "type", "value"},
    "time": {
        "source",
        "timestamp",
        "tick_s",
        "timestamp_bits",
        "timestamp_sample",
        "sequence",
        "sequence_bits",
        "epoch",
    },
}


class _Ctx:
    """Validation helpers that know which file they are reading."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, msg: str) -> ProfileError:
        return ProfileError(f"{self.path}: key '{key}': {msg}")

    def table(self, data: Any, key: str, schema: str) -> dict[str, Any]:
        if data is None:
            raise self.fail(key or "<top>", "missing table")
        if not isinstance(data, dict):
            raise self.fail(key or "<top>", "must be a table")
        for k in data:
            if k not in _KEYS[schema]:
                full = f"{key}.{k}" if key else k
                allowed = ", ".join(sorted(_KEYS[schema]))
                raise self.fail(full, f"unknown key (allowed: {allowed})")
        return data

    def tables(self, data: Any, key: str, schema: str, what: str) -> Iterator[tuple[str, dict]]:
        """``(key[i], table)`` for each table of an array of tables, checked as it is reached."""
        if not isinstance(data, list):
            raise self.fail(key, f"must be an array of {what}")
        for i, t in enumerate(data):
            k = f"{key}[{i}]"
            yield k, self.table(t, k, schema)

    def get(self, d: dict, key: str, prefix: str, typ: type | tuple, default: Any = ...) -> Any:
        full = f"{prefix}.{key}" if prefix else key
        if key not in d:
            if default is ...:
                raise self.fail(full, "missing")
            return default
        v = d[key]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if isinstance(v, bool) and typ is not bool:
            raise self.fail(full, f"must be {_tname(typ)}, got a boolean")
        if not isinstance(v, typ):
            raise self.fail(full, f"must be {_tname(typ)}, got {type(v).__name__}")
        return v

    def uuid(self, v: Any, key: str) -> str:
        if not isinstance(v, str):
            raise self.fail(key, f"UUID must be a string, got {type(v).__name__}")
        s = v.strip().lower()
        if _UUID16.match(s):
            return f"0000{s[-4:]}-0000-1000-8000-00805f9b34fb"
        if not _UUID128.match(s):
            raise self.fail(
                key, f"malformed UUID {v!r} (expected 128-bit 8-4-4-4-12 hex or 16-bit)"
            )
        return s

    def numbers(self, d: dict, key: str, prefix: str) -> tuple[float, ...]:
        v = self.get(d, key, prefix, list, [])
        full = f"{prefix}.{key}"
        out = []
        for i, x in enumerate(v):
            if isinstance(x, bool) or not isinstance(x, int | float) or x <= 0:
                raise self.fail(f"{full}[{i}]", f"must be a positive number, got {x!r}")
            out.append(float(x))
        return tuple(out)


def _tname(typ: type | tuple) -> str:
    if isinstance(typ, tuple):
        return " or ".join(t.__name__ for t in typ)
    return {float: "a number", int: "an integer", str: "a string", bool: "true/false"}.get(
        typ, typ.__name__
    )


def check_option(p: FirmwareProfile, name: str, value: float, allowed: tuple[float, ...]) -> float:
    """Return ``value`` as float if the profile offers it, else ProfileError."""
    v = float(value)
    if v not in allowed:
        opts = ", ".join(f"{a:g}" for a in allowed) or "none"
        raise ProfileError(f"profile {p.name!r}: {name}={value!r} is not offered (options: {opts})")
    return v


def _fields(ctx: _Ctx, v: Any, key: str) -> tuple[FieldSpec, ...]:
    out = []
    for k, f in ctx.tables(v, key, "field", "{name, type} tables"):
        name = ctx.get(f, "name", k, str)
        typ = ctx.get(f, "type", k, str)
        if typ not in FIELD_TYPES:
            raise ctx.fail(f"{k}.type", f"unknown type {typ!r} (types: {', '.join(FIELD_TYPES)})")
        value = ctx.get(f, "value", k, int, None)
        out.append(FieldSpec(name, typ, value))
    return tuple(out)


def _axes(ctx: _Ctx, lay: dict, key: str) -> tuple[str, str, str] | None:
    v = lay.get(key)
    if v is None:
        return None
    if not (isinstance(v, list) and len(v) == 3 and all(isinstance(x, str) for x in v)):
        raise ctx.fail(f"layout.{key}", "must be 3 field names (prefix '-' to flip an axis)")
    return (v[0], v[1], v[2])


def _scale(ctx: _Ctx, lay: dict, key: str, per_range: bool = True) -> float | Mapping[float, float]:
    v = lay.get(key, 1.0)
    full = f"layout.{key}"
    if isinstance(v, dict) and not per_range:
        raise ctx.fail(full, "must be a number (there are no magnetometer range options)")
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            try:
                rng = float(k)
            except ValueError:
                raise ctx.fail(f"{full}.{k}", "range keys must be numbers") from None
            if isinstance(x, bool) or not isinstance(x, int | float):
                raise ctx.fail(f"{full}.{k}", "must be a number")
            out[rng] = float(x)
        return MappingProxyType(out)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ctx.fail(full, "must be a number or a table {range = scale}")
    return float(v)


def _layout(ctx: _Ctx, lay: dict, decoder: str) -> tuple[Layout | None, int | None, Scales]:
    units = {}
    for q, default in (("acc", "m/s^2"), ("gyr", "rad/s"), ("mag", "uT")):
        u = ctx.get(lay, f"{q}_unit", "layout", str, default)
        if u not in UNIT_TO_SI:
            raise ctx.fail(f"layout.{q}_unit", f"unknown unit {u!r}")
        units[q] = u
    scales = Scales(
        acc_unit=units["acc"],
        gyr_unit=units["gyr"],
        mag_unit=units["mag"],
        acc=_scale(ctx, lay, "acc_scale"),
        gyr=_scale(ctx, lay, "gyr_scale"),
        mag=_scale(ctx, lay, "mag_scale", per_range=False),
    )
    spp_raw = lay.get("samples_per_packet")
    if spp_raw == "variable":
        spp = None
    elif isinstance(spp_raw, int) and not isinstance(spp_raw, bool) and spp_raw >= 1:
        spp = spp_raw
    else:
        raise ctx.fail("layout.samples_per_packet", 'must be an integer >= 1 or "variable"')
    if decoder != "fields":
        return None, spp, scales
    endian = ctx.get(lay, "endianness", "layout", str, "little")
    if endian not in ("little", "big"):
        raise ctx.fail("layout.endianness", 'must be "little" or "big"')
    header = _fields(ctx, lay.get("header", []), "layout.header")
    if "sample" in lay and "sample_blocks" in lay:
        raise ctx.fail("layout.sample_blocks", "give either 'sample' or 'sample_blocks', not both")
    if "sample" in lay:
        blocks = (_fields(ctx, lay["sample"], "layout.sample"),)
    elif "sample_blocks" in lay:
        sb = lay["sample_blocks"]
        if not isinstance(sb, list) or not sb:
            raise ctx.fail("layout.sample_blocks", "must be a non-empty array of field arrays")
        blocks = tuple(_fields(ctx, b, f"layout.sample_blocks[{i}]") for i, b in enumerate(sb))
    else:
        raise ctx.fail("layout.sample", "missing (the fields of one sample)")
    if any(not b for b in blocks):
        raise ctx.fail("layout.sample", "a sample block has no fields")
    names = [f.name for f in header] + [f.name for b in blocks for f in b]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ctx.fail("layout", f"duplicate field names {sorted(dup)}")
    acc, gyr, mag = _axes(ctx, lay, "acc"), _axes(ctx, lay, "gyr"), _axes(ctx, lay, "mag")
    if acc is None and gyr is None:
        raise ctx.fail("layout.acc", "a layout needs acc and/or gyr field names")
    for q, axes in (("acc", acc), ("gyr", gyr), ("mag", mag)):
        if axes is None:
            continue
        bare = [a.lstrip("+-") for a in axes]
        where = [bi for bi, b in enumerate(blocks) for f in b if f.name in bare]
        if len(where) != 3:
            missing = [a for a in bare if not any(f.name == a for b in blocks for f in b)]
            raise ctx.fail(f"layout.{q}", f"fields {missing} are not sample fields")
        if len(set(where)) != 1:
            raise ctx.fail(f"layout.{q}", "the 3 axes must lie in the same sample block")
    layout = Layout(
        endianness=endian,  # type: ignore[arg-type]
        header=header,
        blocks=blocks,
        samples_per_packet=spp,
        pad_to=ctx.get(lay, "pad_to", "layout", int, None),
        acc=acc,
        gyr=gyr,
        mag=mag,
        continuation_type=ctx.get(lay, "continuation_type", "layout", int, None),
        continuation_strip=ctx.get(lay, "continuation_strip", "layout", int, 0),
        notification_rate=ctx.get(lay, "notification_rate", "layout", float, None),
    )
    if layout.continuation_type is not None:
        if not header or header[0].type != "u8" or header[0].value is None:
            raise ctx.fail(
                "layout.continuation_type", "needs a first header field of type u8 with a value"
            )
        if spp is not None or layout.notification_rate is None:
            raise ctx.fail(
                "layout.continuation_type",
                'needs samples_per_packet = "variable" and layout.notification_rate',
            )
        if not 1 <= layout.continuation_strip <= layout.header_size:
            raise ctx.fail("layout.continuation_strip", "must be 1..header size bytes")
    if layout.notification_rate is not None and not layout.notification_rate > 0:
        raise ctx.fail("layout.notification_rate", "must be positive")
    psize = ctx.get(lay, "packet_size", "layout", int, None)
    if spp is not None:
        computed = layout.header_size + spp * layout.sample_size
        if psize is not None and psize != computed:
            raise ctx.fail(
                "layout.packet_size",
                f"is {psize} but header ({layout.header_size} B) + {spp} x sample "
                f"({layout.sample_size} B) = {computed} B",
            )
        if layout.pad_to is not None and layout.pad_to < computed:
            raise ctx.fail(
                "layout.pad_to", f"{layout.pad_to} is smaller than the packet ({computed} B)"
            )
    elif psize is not None:
        raise ctx.fail("layout.packet_size", "only for a fixed samples_per_packet")
    return layout, spp, scales


def _field_bits(ctx: _Ctx, hfields: dict, name: str, bits: int | None, key: str) -> int:
    """Bits used of the header field ``name`` (``key``; ``key_bits`` may narrow it)."""
    if name not in hfields:
        raise ctx.fail(key, f"{name!r} is not a header field")
    width = hfields[name].size * 8
    if bits is None:
        return width
    if bits > width:
        raise ctx.fail(f"{key}_bits", f"{bits} bits exceed the {width}-bit field")
    return bits


def _time(ctx: _Ctx, t: dict, layout: Layout | None, decoder: str) -> TimeSpec:
    source = ctx.get(t, "source", "time", str)
    if source not in ("device", "none"):
        raise ctx.fail("time.source", 'must be "device" or "none"')
    hfields = {f.name: f for f in layout.header} if layout else {}
    ts = ctx.get(t, "timestamp", "time", str, None)
    tick = ctx.get(t, "tick_s", "time", float, None)
    tbits = ctx.get(t, "timestamp_bits", "time", int, None)
    seq = ctx.get(t, "sequence", "time", str, None)
    sbits = ctx.get(t, "sequence_bits", "time", int, None)
    ref = ctx.get(t, "timestamp_sample", "time", str, "first")
    if ref not in ("first", "last"):
        raise ctx.fail("time.timestamp_sample", 'must be "first" or "last"')
    if source == "device":
        if tick is None or tick <= 0:
            raise ctx.fail("time.tick_s", 'a positive tick is required when source = "device"')
        if decoder == "fields":
            if ts is None:
                raise ctx.fail("time.timestamp", "missing (name of the header timestamp field)")
            tbits = _field_bits(ctx, hfields, ts, tbits, "time.timestamp")
        elif tbits is None:
            raise ctx.fail("time.timestamp_bits", "required for a custom decoder")
    elif ts is not None or tick is not None:
        raise ctx.fail("time.timestamp", 'given although source = "none"')
    if seq is not None and decoder == "fields":
        sbits = _field_bits(ctx, hfields, seq, sbits, "time.sequence")
    if sbits is not None and not 2 <= sbits <= 64:
        raise ctx.fail("time.sequence_bits", "must be 2..64")
    return TimeSpec(
        source=source,  # type: ignore[arg-type]
        timestamp_field=ts,
        tick_s=tick,
        timestamp_bits=tbits,
        timestamp_sample=ref,  # type: ignore[arg-type]
        sequence_field=seq,
        sequence_bits=sbits,
        epoch=ctx.get(t, "epoch", "time", str, None),
    )


def _writes(
    ctx: _Ctx, v: Any, key: str, aliases: dict[str, str | None]
) -> tuple[WriteTemplate, ...]:
    out = []
    for k, w in ctx.tables(v, key, "write", "tables ([[start]] / [[stop]])"):
        char = ctx.get(w, "char", k, str)
        if char in aliases:
            if aliases[char] is None:
                raise ctx.fail(f"{k}.char", f"alias {char!r} but the profile defines no such char")
            uuid = aliases[char]
        else:
            uuid = ctx.uuid(char, f"{k}.char")
        data = ctx.get(w, "data", k, str)
        parse_template(data, f"{ctx.path}: key '{k}.data'")
        out.append(WriteTemplate(uuid, data, ctx.get(w, "response", k, bool, True)))  # type: ignore[arg-type]
    return tuple(out)


def _codes(ctx: _Ctx, opts: dict) -> Mapping[str, Mapping[float, int]]:
    raw = ctx.table(opts.get("codes", {}), "options.codes", "options.codes")
    out = {}
    for opt, table in raw.items():
        if not isinstance(table, dict):
            raise ctx.fail(f"options.codes.{opt}", "must be a table {value = code}")
        t = {}
        for k, code in table.items():
            try:
                t[float(k)] = int(code)
            except (TypeError, ValueError):
                raise ctx.fail(
                    f"options.codes.{opt}.{k}", "keys are numbers, codes integers"
                ) from None
        out[opt] = MappingProxyType(t)
    return MappingProxyType(out)


def build_decoder(p: FirmwareProfile):
    """Compile the decoder of profile ``p`` (ProfileError if its parameters are invalid)."""
    from .decoders import make_decoder

    return make_decoder(p)


def parse(data: dict[str, Any], path: str, expected_name: str | None = None) -> FirmwareProfile:
    """Validate parsed TOML ``data`` read from ``path`` into a FirmwareProfile."""
    from .decoders import DECODERS

    ctx = _Ctx(path)
    top = ctx.table(data, "", "")
    name = ctx.get(top, "name", "", str)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ctx.fail("name", f"{name!r}: use lower-case letters, digits and '-'")
    if expected_name is not None and name != expected_name:
        raise ctx.fail("name", f"{name!r} does not match the file name {expected_name!r}")
    scan = ctx.table(top.get("scan", {}), "scan", "scan")
    pattern = ctx.get(scan, "name_pattern", "scan", str)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ctx.fail("scan.name_pattern", f"invalid regular expression: {exc}") from None
    services = tuple(
        ctx.uuid(u, f"scan.services[{i}]")
        for i, u in enumerate(ctx.get(scan, "services", "scan", list, []))
    )
    gatt = ctx.table(top.get("gatt"), "gatt", "gatt")
    service = ctx.uuid(ctx.get(gatt, "service", "gatt", str), "gatt.service")
    notify_raw = ctx.get(gatt, "notify", "gatt", list)
    if not notify_raw:
        raise ctx.fail("gatt.notify", "needs at least one characteristic UUID")
    notify = tuple(ctx.uuid(u, f"gatt.notify[{i}]") for i, u in enumerate(notify_raw))
    control_raw = ctx.get(gatt, "control", "gatt", str, None)
    control = ctx.uuid(control_raw, "gatt.control") if control_raw is not None else None
    battery = (
        (BATTERY_SERVICE, BATTERY_LEVEL) if ctx.get(gatt, "battery", "gatt", bool, False) else None
    )

    opts = ctx.table(top.get("options"), "options", "options")
    rates = ctx.numbers(opts, "rates", "options")
    if not rates:
        raise ctx.fail("options.rates", "needs at least one rate in Hz")
    default_rate = ctx.get(opts, "default_rate", "options", float)
    if default_rate not in rates:
        raise ctx.fail("options.default_rate", f"{default_rate:g} is not in options.rates")
    acc_ranges = ctx.numbers(opts, "acc_ranges", "options")
    gyr_ranges = ctx.numbers(opts, "gyr_ranges", "options")
    defaults = {}
    for q, ranges in (("acc", acc_ranges), ("gyr", gyr_ranges)):
        key = f"default_{q}_range"
        d = ctx.get(opts, key, "options", float, None)
        if ranges and d is None:
            raise ctx.fail(f"options.{key}", f"missing (options.{q}_ranges is given)")
        if d is not None and d not in ranges:
            raise ctx.fail(f"options.{key}", f"{d:g} is not in options.{q}_ranges")
        defaults[q] = d
    fs_g = ctx.get(opts, "acc_full_scale_g", "options", float, None)
    codes = _codes(ctx, opts)
    for opt, table in codes.items():
        allowed = {"rate": rates, "acc_range": acc_ranges, "gyr_range": gyr_ranges}[opt]
        missing = [a for a in allowed if a not in table]
        if missing:
            raise ctx.fail(
                f"options.codes.{opt}", f"no code for {', '.join(f'{m:g}' for m in missing)}"
            )

    aliases = {"control": control, "notify": notify[0]}
    start = _writes(ctx, top.get("start", []), "start", aliases)
    stop = _writes(ctx, top.get("stop", []), "stop", aliases)

    lay = ctx.table(top.get("layout"), "layout", "layout")
    decoder = ctx.get(lay, "decoder", "layout", str, "fields")
    if decoder not in DECODERS:
        raise ctx.fail(
            "layout.decoder", f"unknown decoder {decoder!r} (known: {', '.join(DECODERS)})"
        )
    layout, spp, scales = _layout(ctx, lay, decoder)
    for q, rng in (("acc", acc_ranges), ("gyr", gyr_ranges)):
        sc = getattr(scales, q)
        if isinstance(sc, Mapping):
            missing = [r for r in rng if r not in sc]
            if missing or not rng:
                raise ctx.fail(f"layout.{q}_scale", f"no scale for range(s) {missing or 'none'}")
    time = _time(ctx, ctx.table(top.get("time"), "time", "time"), layout, decoder)
    params = top.get("decoder_params", {})
    if not isinstance(params, dict):
        raise ctx.fail("decoder_params", "must be a table")

    p = FirmwareProfile(
        name=name,
        vendor=ctx.get(top, "vendor", "", str),
        description=ctx.get(top, "description", "", str, ""),
        source_file=path,
        scan_name_pattern=pattern,
        advertised_services=services,
        service_uuid=service,
        notify_uuids=notify,
        control_uuid=control,
        battery=battery,
        rates=rates,
        default_rate=default_rate,
        acc_ranges=acc_ranges,
        gyr_ranges=gyr_ranges,
        rate=default_rate,
        acc_range=defaults["acc"],
        gyr_range=defaults["gyr"],
        codes=codes,
        start_writes=start,
        stop_writes=stop,
        decoder_name=decoder,
        layout=layout,
        scales=scales,
        time=time,
        samples_per_packet=spp,
        acc_full_scale_fixed=None if fs_g is None else fs_g * 9.80665,
        decoder_params=MappingProxyType(dict(params)),
    )
    try:
        dec = build_decoder(p)
    except ProfileError as exc:
        raise ProfileError(f"{path}: {exc}") from None
    p = replace(p, _decode=dec)
    # every write must render with the defaults (catches missing codes early)
    p.start_sequence()
    p.stop_sequence()
    return p


def load(path: str | Path) -> FirmwareProfile:
    """Read and validate one profile TOML file.

    Raises
    ------
    ProfileError
        If the file cannot be read, is not TOML, or breaks the schema (names file and key).
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read profile: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, str(path), expected_name=path.stem)


def profile_dirs() -> list[Path]:
    """Folders searched for profiles: the installed package data first, then the checkout."""
    here = Path(__file__).resolve().parent
    return [here.parent / "firmware_profiles", here.parents[1] / "firmware_profiles"]
