"""Bounded-memory HDF5 writing: checksummed datasets, appended in batches, with running CRCs."""

from __future__ import annotations

import zlib

import h5py
import numpy as np

#: rows read or written per slice when streaming through a dataset
STEP_BYTES = 8 * 1024 * 1024


def dataset(group: h5py.Group, name: str, data: np.ndarray) -> h5py.Dataset:
    """A chunked, fletcher32-checksummed (and, for numbers, shuffled + gzip) dataset."""
    data = np.asarray(data)
    return empty_dataset(group, name, data.dtype, data.shape[1:], data.shape[0], data)


def empty_dataset(
    group: h5py.Group,
    name: str,
    dtype: np.dtype | str,
    row_shape: tuple[int, ...] = (),
    rows_hint: int = 0,
    data: np.ndarray | None = None,
) -> h5py.Dataset:
    """A resizable dataset (first axis unlimited) with the options of :func:`dataset`."""
    dtype = np.dtype(dtype)
    row_bytes = max(1, dtype.itemsize * int(np.prod(row_shape, dtype=np.int64)))
    cap = max(1, (256 * 1024) // row_bytes)  # chunks of at most 256 kB
    rows = min(cap, rows_hint) if rows_hint > 0 else min(cap, 8192)
    kw = {}
    if dtype.kind != "S":
        kw = {"shuffle": True, "compression": "gzip", "compression_opts": 4}
    return group.create_dataset(
        name,
        shape=(0 if data is None else data.shape[0], *row_shape),
        dtype=dtype,
        data=data,
        chunks=(rows, *row_shape),
        maxshape=(None, *row_shape),
        fletcher32=True,
        **kw,
    )


def slices(ds: h5py.Dataset):
    """Yield consecutive row slices of ``ds`` of about ``STEP_BYTES`` each (bounded memory)."""
    row_bytes = max(1, ds.dtype.itemsize * int(np.prod(ds.shape[1:], dtype=np.int64)))
    step = max(1, STEP_BYTES // row_bytes)
    for i in range(0, ds.shape[0], step):
        yield ds[i : i + step]


def crc_of(ds: h5py.Dataset, crc: int = 0) -> int:
    """CRC-32 of a dataset's bytes (C order), read slice by slice."""
    for part in slices(ds):
        crc = zlib.crc32(np.ascontiguousarray(part).tobytes(), crc)
    return crc


class SampleSink:
    """Decoded samples of one sensor, appended to resizable datasets in batches.

    Keeps running CRC-32s of acc and gyr (compared with the file by the converter's
    verification) and never holds more than ``batch`` samples in memory.
    """

    FIELDS = (("acc", (3,), "f8"), ("gyr", (3,), "f8"), ("t_device", (), "f8"))
    FIELDS += (("t_session", (), "f8"), ("packet", (), "i8"))

    def __init__(self, group: h5py.Group, batch: int = 16384) -> None:
        self.group = group
        self.batch = int(batch)
        self.ds = {n: empty_dataset(group, n, dt, shape) for n, shape, dt in self.FIELDS}
        self.mag: h5py.Dataset | None = None
        self.n = 0
        self.crc_acc = 0
        self.crc_gyr = 0
        self._pending: list[dict[str, np.ndarray]] = []
        self._pending_n = 0

    def append(self, **cols: np.ndarray | None) -> None:
        """Queue samples: acc, gyr (k, 3), t_device, t_session, packet (k,), optional mag."""
        k = int(np.asarray(cols["acc"]).shape[0])
        if k == 0:
            return
        self._pending.append(cols)
        self._pending_n += k
        if self._pending_n >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Write the queued samples."""
        if not self._pending:
            return
        parts = self._pending
        k = self._pending_n
        self._pending, self._pending_n = [], 0
        for name, _, dt in self.FIELDS:
            arr = np.ascontiguousarray(np.concatenate([p[name] for p in parts]), dtype=dt)
            d = self.ds[name]
            d.resize(self.n + k, axis=0)
            d[self.n :] = arr
            if name == "acc":
                self.crc_acc = zlib.crc32(arr.tobytes(), self.crc_acc)
            elif name == "gyr":
                self.crc_gyr = zlib.crc32(arr.tobytes(), self.crc_gyr)
        mags = [p.get("mag") for p in parts]
        if any(m is not None for m in mags):
            if self.mag is None:
                self.mag = empty_dataset(self.group, "mag", "f8", (3,))
                self.mag.resize(self.n, axis=0)
                self.mag[:] = np.nan
            arr = np.concatenate(
                [
                    np.full((p["acc"].shape[0], 3), np.nan) if m is None else m
                    for p, m in zip(parts, mags, strict=True)
                ]
            )
            self.mag.resize(self.n + k, axis=0)
            self.mag[self.n :] = arr
        elif self.mag is not None:
            self.mag.resize(self.n + k, axis=0)
            self.mag[self.n :] = np.nan
        self.n += k
