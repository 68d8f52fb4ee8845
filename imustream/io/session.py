"""Read-only access to an HDF5 recording: ``imustream.open_session(path)``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import h5py
import numpy as np

from ..errors import RecordingError
from .h5sink import slices
from .layout import RAW_DATASETS, SAMPLE_DATASETS, SCHEMA, SCHEMA_VERSION, TABLES


def _read(path: Path, obj: h5py.Group, name: str) -> np.ndarray:
    try:
        return obj[name][()]
    except KeyError:
        raise RecordingError(f"{path}: missing dataset {obj.name}/{name}") from None
    except Exception as exc:  # h5py raises OSError/RuntimeError/ValueError on damaged data
        raise RecordingError(
            f"{path}: dataset {obj.name}/{name} is damaged or unreadable ({exc})"
        ) from None


class SensorData:
    """Arrays of one sensor in a recording (read lazily, cached).

    Samples: ``acc`` (n, 3) m/s^2, ``gyr`` (n, 3) rad/s, ``t_device`` (n,) s (NaN if the device
    sends no time), ``t_session`` (n,) session s, ``packet`` (n,) index of the notification each
    sample came from. Raw notifications: ``raw_payload`` (bytes back to back), ``raw_offsets``
    (n_notifications + 1), ``raw_host_ns`` arrival times, ``raw_seq`` (-1 = none),
    ``raw_decode_ok``.
    """

    def __init__(self, path: Path, group: h5py.Group):
        self._path = path
        self._g = group
        self.name = group.name.rsplit("/", 1)[-1]
        at = group.attrs
        self.profile = str(at.get("profile", ""))
        self.rate = float(at.get("rate", np.nan))
        self.decoded = bool(at.get("decoded", False))
        self.decode_problem = str(at.get("decode_problem", ""))
        self.mounting = np.asarray(at["mounting"]) if "mounting" in at else None

    def _get(self, name: str) -> np.ndarray:
        return _read(self._path, self._g, name)

    acc = cached_property(lambda self: self._get("acc"))
    gyr = cached_property(lambda self: self._get("gyr"))
    t_device = cached_property(lambda self: self._get("t_device"))
    t_session = cached_property(lambda self: self._get("t_session"))
    packet = cached_property(lambda self: self._get("packet"))
    raw_payload = cached_property(lambda self: self._get("raw/payload"))
    raw_offsets = cached_property(lambda self: self._get("raw/offsets"))
    raw_host_ns = cached_property(lambda self: self._get("raw/host_ns"))
    raw_seq = cached_property(lambda self: self._get("raw/seq"))
    raw_decode_ok = cached_property(lambda self: self._get("raw/decode_ok"))

    @property
    def mag(self) -> np.ndarray | None:
        """Magnetic field (n, 3) uT, or None when the device sends none."""
        try:
            has = "mag" in self._g
        except Exception as exc:
            raise RecordingError(f"{self._path}: {self._g.name} is damaged ({exc})") from None
        return self._get("mag") if has else None

    def _len(self, name: str) -> int:
        try:
            return int(self._g[name].shape[0])
        except Exception as exc:
            raise RecordingError(
                f"{self._path}: {self._g.name}/{name} is damaged ({exc})"
            ) from None

    @property
    def n(self) -> int:
        """Number of decoded samples."""
        return self._len("acc")

    @property
    def n_notifications(self) -> int:
        """Number of raw notifications."""
        return self._len("raw/host_ns")

    def payload(self, i: int) -> bytes:
        """Raw bytes of notification ``i``."""
        o = self.raw_offsets
        return self.raw_payload[o[i] : o[i + 1]].tobytes()

    def dataset(self, name: str) -> h5py.Dataset:
        """The h5py dataset ``name`` of this sensor (e.g. ``"acc"``, ``"raw/payload"``)."""
        try:
            return self._g[name]
        except KeyError:
            raise RecordingError(f"{self._path}: missing dataset {self._g.name}/{name}") from None
        except Exception as exc:
            raise RecordingError(
                f"{self._path}: {self._g.name}/{name} is damaged ({exc})"
            ) from None

    def check(self) -> None:
        """Read every dataset of this sensor slice by slice (fletcher32 verification)."""
        names = [n for n, _, _ in SAMPLE_DATASETS] + [f"raw/{n}" for n, _ in RAW_DATASETS]
        if "mag" in self._g:
            names.append("mag")
        for name in names:
            ds = self.dataset(name)
            try:
                for _ in slices(ds):
                    pass
            except Exception as exc:
                raise RecordingError(
                    f"{self._path}: dataset {ds.name} is damaged or unreadable ({exc})"
                ) from None


class Session:
    """A read-only recording opened with :func:`open_session`; use as a context manager.

    Attributes
    ----------
    sensors : dict[str, SensorData]
        Per-sensor arrays.
    metadata : dict
        Session metadata as recorded (subject, sensors, profiles, firmware, DSP parameters...).
    gaps, events, steps, alerts, markers, states : dict[str, ndarray]
        Tables as columns (strings as ``str`` arrays).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise RecordingError(f"no such recording: {self.path}")
        try:
            self._f = h5py.File(self.path, "r")
        except Exception as exc:
            raise RecordingError(
                f"{self.path} is not a readable HDF5 recording ({exc}); if a session log "
                f"(*.imulog) is next to it, run `imustream recover`"
            ) from None
        try:
            self._validate()
            self.attrs = {k: _attr(v) for k, v in self._f.attrs.items()}
            self.metadata = json.loads(self.attrs.get("metadata_json", "{}"))
            self.sensor_names = [str(s) for s in self.attrs["sensors"]]
            self.sensors = {
                n: SensorData(self.path, self._f["sensors"][n]) for n in self.sensor_names
            }
        except RecordingError:
            self._f.close()
            raise
        except Exception as exc:  # damaged metadata: h5py raises many kinds of errors
            self._f.close()
            raise RecordingError(f"{self.path}: damaged recording ({exc})") from None

    def _validate(self) -> None:
        f = self._f
        schema = _attr(f.attrs.get("schema", ""))
        if schema != SCHEMA:
            raise RecordingError(
                f"{self.path} is not an imustream recording (schema attribute {schema!r})"
            )
        version = int(f.attrs.get("schema_version", -1))
        if version > SCHEMA_VERSION or version < 1:
            raise RecordingError(
                f"{self.path}: schema version {version} is not supported "
                f"(this imustream reads versions 1..{SCHEMA_VERSION}); upgrade imustream"
            )
        missing = [g for g in ("sensors", *TABLES) if g not in f]
        for s in f.attrs.get("sensors", []):
            g = f"sensors/{_attr(s)}"
            names = [n for n, _, _ in SAMPLE_DATASETS] + [f"raw/{n}" for n, _ in RAW_DATASETS]
            missing += [f"{g}/{n}" for n in names if f"{g}/{n}" not in f]
        for table, cols in TABLES.items():
            if table in f:
                missing += [f"{table}/{c}" for c, _ in cols if c not in f[table]]
        if missing:
            raise RecordingError(f"{self.path}: damaged recording, missing {', '.join(missing)}")

    # -- tables -----------------------------------------------------------------------------
    def table(self, name: str) -> dict[str, np.ndarray]:
        """A table (``gaps``, ``events``, ``steps``, ``alerts``, ``markers``, ``states``)."""
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
        try:
            g = self._f[name]
        except Exception as exc:
            raise RecordingError(f"{self.path}: table {name!r} is damaged ({exc})") from None
        out = {}
        for col, kind in TABLES[name]:
            arr = _read(self.path, g, col)
            out[col] = np.char.decode(arr, "utf-8").astype(str) if kind == "s" else arr
        return out

    gaps = cached_property(lambda self: self.table("gaps"))
    events = cached_property(lambda self: self.table("events"))
    steps = cached_property(lambda self: self.table("steps"))
    alerts = cached_property(lambda self: self.table("alerts"))
    markers = cached_property(lambda self: self.table("markers"))
    states = cached_property(lambda self: self.table("states"))

    # -- summary ----------------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        """True if the recording was stopped normally (not recovered after a crash)."""
        return bool(self.attrs.get("complete", False))

    @property
    def recovered(self) -> bool:
        """True if the recording was recovered from a log without an end record."""
        return bool(self.attrs.get("recovered", False))

    @property
    def duration(self) -> float:
        """Seconds from the first to the last sample of any sensor (0 if empty)."""
        lo, hi = np.inf, -np.inf
        for s in self.sensors.values():
            if s.n:
                t = s.t_session
                lo, hi = min(lo, t[0]), max(hi, t[-1])
        return float(hi - lo) if hi >= lo else 0.0

    def check_all(self) -> None:
        """Read every dataset (verifies every fletcher32 checksum); RecordingError if damaged."""
        for s in self.sensors.values():
            s.check()
        for name in TABLES:
            self.table(name)

    def notifications(self) -> Iterator[tuple[int, str, bytes]]:
        """All raw notifications ``(host_ns, sensor, bytes)`` in arrival order (for replay)."""
        host = [s.raw_host_ns for s in self.sensors.values()]
        names = list(self.sensors)
        who = np.concatenate([np.full(h.size, i) for i, h in enumerate(host)]).astype(int)
        idx = np.concatenate([np.arange(h.size) for h in host]).astype(int)
        allh = np.concatenate(host) if host else np.zeros(0, np.int64)
        for k in np.argsort(allh, kind="stable"):
            s = self.sensors[names[who[k]]]
            yield int(allh[k]), names[who[k]], s.payload(int(idx[k]))

    def close(self) -> None:
        """Close the file."""
        self._f.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Session({str(self.path)!r}, sensors={self.sensor_names})"


def _attr(v: object) -> object:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.dtype.kind in "OSU":
        return [_attr(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return v.item()
    return v


def open_session(path: str | os.PathLike) -> Session:
    """Open an HDF5 recording read-only.

    Parameters
    ----------
    path : path-like
        A ``*.h5`` file written by imustream.

    Returns
    -------
    Session
        Arrays per sensor (``session.sensors["pelvis"].acc``), tables (``session.steps``,
        ``session.gaps``...), metadata. Close it or use ``with``.

    Raises
    ------
    RecordingError
        If the file is missing, not HDF5, not an imustream recording, from a newer schema, or
        damaged (every dataset carries a fletcher32 checksum).
    """
    return Session(path)
