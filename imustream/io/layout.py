"""HDF5 session layout: schema name/version, table columns, dataset creation options.

See recordings/README.md for the documented layout.
"""

from __future__ import annotations

SCHEMA = "imustream.session"
SCHEMA_VERSION = 1
LIBVER = ("v110", "latest")

#: table name -> ordered (column, kind) with kind "f" float64, "i" int64, "b" int8 (0/1), "s" str
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "gaps": (
        ("sensor", "s"),
        ("start", "f"),
        ("end", "f"),
        ("n_missing", "i"),
        ("reason", "s"),
        ("source", "s"),
    ),
    "events": (
        ("sensor", "s"),
        ("kind", "s"),
        ("side", "s"),
        ("time", "f"),
        ("emitted_time", "f"),
        ("confidence", "f"),
    ),
    "steps": (
        ("side", "s"),
        ("ic_time", "f"),
        ("to_time", "f"),
        ("contact_time", "f"),
        ("flight_time", "f"),
        ("step_time", "f"),
        ("cadence", "f"),
        ("impact_peak", "f"),
        ("pelvic_drop_deg", "f"),
        ("has_gap", "b"),
        ("clipped", "b"),
    ),
    "alerts": (
        ("time", "f"),
        ("metric", "s"),
        ("side", "s"),
        ("active", "b"),
        ("value", "f"),
        ("threshold", "f"),
        ("message", "s"),
    ),
    "markers": (("time", "f"), ("kind", "s"), ("value", "f"), ("text", "s")),
    "states": (
        ("sensor", "s"),
        ("state", "s"),
        ("host_ns", "i"),
        ("time", "f"),
        ("message", "s"),
        ("extra_json", "s"),
    ),
}

#: per-sensor sample datasets (name, columns or 0 for 1-D, dtype)
SAMPLE_DATASETS = (
    ("acc", 3, "f8"),
    ("gyr", 3, "f8"),
    ("t_device", 0, "f8"),
    ("t_session", 0, "f8"),
    ("packet", 0, "i8"),
)
#: per-sensor raw notification datasets (in group ``raw``)
RAW_DATASETS = (
    ("payload", "u1"),
    ("offsets", "i8"),
    ("host_ns", "i8"),
    ("seq", "i8"),
    ("decode_ok", "i1"),
)
