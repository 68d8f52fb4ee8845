"""Fixed-capacity ring buffer with a monotonically increasing write counter."""

from __future__ import annotations

import threading

import numpy as np
from numpy.typing import ArrayLike, NDArray


class RingBuffer:
    """Thread-safe ring of rows; readers ask for "everything since write count N".

    Writes copy into place at ``write_count % capacity`` (no ``np.roll``, no reset on read).
    A reader that falls more than ``capacity`` rows behind gets the newest ``capacity`` rows
    and can tell how many it missed from ``new_count - n - len(rows)``.

    Parameters
    ----------
    capacity : int
        Number of rows kept.
    width : int
        Number of columns per row.
    dtype : numpy dtype, default float64
    """

    def __init__(self, capacity: int, width: int, dtype: np.dtype | type = np.float64) -> None:
        if capacity < 1 or width < 1:
            raise ValueError(f"capacity and width must be >= 1, got {capacity}, {width}")
        self.capacity = int(capacity)
        self.width = int(width)
        self._data = np.zeros((self.capacity, self.width), dtype=dtype)
        self._count = 0
        self._lock = threading.Lock()

    @property
    def write_count(self) -> int:
        """Total number of rows ever pushed."""
        return self._count

    def push(self, rows: ArrayLike) -> int:
        """Append rows (shape ``(k, width)`` or ``(width,)``); returns the new write count."""
        arr = np.asarray(rows, dtype=self._data.dtype)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.width:
            raise ValueError(f"RingBuffer.push expects shape (k, {self.width}), got {arr.shape}")
        k = arr.shape[0]
        with self._lock:
            if k > self.capacity:  # only the newest capacity rows can survive
                arr = arr[k - self.capacity :]
                self._count += k - self.capacity
                k = self.capacity
            start = self._count % self.capacity
            first = min(k, self.capacity - start)
            self._data[start : start + first] = arr[:first]
            self._data[: k - first] = arr[first:]
            self._count += k
            return self._count

    def since(self, n: int) -> tuple[NDArray, int]:
        """Return a copy of the rows written after write count ``n`` and the current count."""
        with self._lock:
            count = self._count
            n = max(int(n), count - self.capacity, 0)
            k = count - n
            if k <= 0:
                return self._data[:0].copy(), count
            start = n % self.capacity
            if start + k <= self.capacity:
                out = self._data[start : start + k].copy()
            else:
                out = np.concatenate((self._data[start:], self._data[: start + k - self.capacity]))
            return out, count

    def latest(self, k: int) -> NDArray:
        """Return a copy of the newest ``k`` rows (fewer if fewer were written)."""
        return self.since(self._count - int(k))[0]
