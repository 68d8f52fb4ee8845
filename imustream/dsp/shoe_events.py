"""Streaming foot-strike / toe-off detection for one shoe IMU."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .kernels import shoe_events as _k

__all__ = ["ShoeEventDetector"]

_KIND = {_k.IC: "ic", _k.TO: "to"}


def _block(name: str, x, n: int | None = None) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3 or (n is not None and arr.shape[0] != n):
        want = "(n, 3)" if n is None else f"({n}, 3)"
        raise ValueError(f"{name} must have shape {want}, got {np.shape(x)}")
    return np.ascontiguousarray(arr)


class ShoeEventDetector:
    """Initial contacts and toe-offs of one foot from a shoe-mounted IMU, in any mounting.

    Events come from the sagittal angular rate of the foot: IC at the ``+ -> -`` zero
    crossing after the mid-swing peak (emitted one sample later), TO where the push-off lobe
    turns up most sharply after its minimum (emitted when the swing starts). The swing axis
    is learnt causally from the gyro, its sign from which candidate ICs are followed by an
    impact and a stance; until the sign is resolved (after two strides) events are held
    back, then emitted with their true sample positions.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    **params
        Overrides of :class:`imustream.dsp.kernels.shoe_events.ShoeParams` fields.
    """

    def __init__(self, fs: float, **params) -> None:
        if not (np.isfinite(fs) and fs > 0):
            raise ValueError(f"fs must be a positive number of Hz, got {fs!r}")
        self.fs = float(fs)
        self.params = _k.make_params(self.fs, **params)
        self._state = _k.new_state()

    def reset(self) -> None:
        """Forget everything (axis, sign, pending events); indices restart at 0."""
        self._state = _k.new_state()

    @property
    def samples_seen(self) -> int:
        """Number of samples fed since construction or :meth:`reset`."""
        return int(self._state.i[_k._I_N])

    @property
    def swing_axis(self) -> np.ndarray | None:
        """Unit swing axis in the sensor frame (positive = toe up), ``None`` until resolved."""
        sign = int(self._state.i[_k._I_SIGN])
        if sign < 0:
            return None
        return self._state.v.copy() * (1.0 if sign == 0 else -1.0)

    def process(self, acc: ArrayLike | None, gyr: ArrayLike) -> list[tuple[str, float, int]]:
        """Feed a block; return ``[(kind "ic"|"to", sample_index, emitted_index), ...]``.

        Parameters
        ----------
        acc : array_like, shape (n, 3), or None
            Acceleration in m/s^2. Timing uses the gyroscope only; the impacts in the
            accelerometer help to learn which way the swing axis points (None: gyro only).
        gyr : array_like, shape (n, 3)
            Angular rate in rad/s, sensor frame.
        """
        if gyr is None:
            raise ValueError("a shoe detector needs a gyroscope: gyr is None")
        g = _block("gyr", gyr)
        a = np.zeros_like(g) if acc is None else _block("acc", acc, g.shape[0])
        if not np.isfinite(g).all():
            raise ValueError("gyr contains NaN or inf; split the stream at gaps instead")
        if not np.isfinite(a).all():
            raise ValueError("acc contains NaN or inf; pass 0 for an axis not recorded")
        n = g.shape[0]
        cap = 2 * n + _k.PENDING
        kind = np.empty(cap, dtype=np.int64)
        idx = np.empty(cap)
        emit = np.empty(cap, dtype=np.int64)
        m = _k.shoe_events(self.params, self._state, a, g, kind, idx, emit)
        return [(_KIND[int(kind[j])], float(idx[j]), int(emit[j])) for j in range(m)]

    def flush(self) -> list[tuple[str, float, int]]:
        """End of a recording: events still held back while learning the sign (short runs).

        The sign is taken from the better-scoring direction if both were seen at least once;
        otherwise nothing can be told apart and nothing is returned.
        """
        kind = np.empty(_k.PENDING, dtype=np.int64)
        idx = np.empty(_k.PENDING)
        emit = np.empty(_k.PENDING, dtype=np.int64)
        m = _k.shoe_flush(self.params, self._state, kind, idx, emit)
        return [(_KIND[int(kind[j])], float(idx[j]), int(emit[j])) for j in range(m)]
