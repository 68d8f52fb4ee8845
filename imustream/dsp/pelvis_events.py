"""Streaming initial-contact / toe-off / side detection for one pelvis IMU."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .kernels import pelvis_events as _k

__all__ = ["PelvisEventDetector"]

_KIND = {_k.IC: "ic", _k.TO: "to"}
_NO_GYR = np.zeros((0, 3))
_SIDE = {_k.SIDE_LEFT: "left", _k.SIDE_RIGHT: "right", _k.SIDE_NONE: None}


class PelvisEventDetector:
    """Initial contacts (with stance side) and toe-offs from a sacrum / lower-back IMU.

    Works in any fixed mounting: it uses the vertical acceleration (along the learnt gravity
    direction, turned with the gyroscope when there is one so that it follows the trunk when
    bending, sitting down or turning) and, for sides, the lateral acceleration along
    ``up x forward``, where forward is learnt from the braking at each foot strike. Sides need
    all three accelerometer axes (``None`` otherwise); no gyroscope is needed. Toe-offs are
    detected in running (flight phases) only. Until forward is first known (2 walking ICs, or 4
    once an IC was a running one) events are held back, then emitted; afterwards it is kept.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    has_gyr : bool
        Whether a gyroscope will be passed to :meth:`process` (checked; it turns the
        gravity estimate used for IC detection, unless ``use_gyro=False``).
    missing_acc_axes : sequence of int
        Accelerometer columns that the sensor does not record (NaN); they are treated as 0
        and sides are not assigned.
    **params
        Overrides of :class:`imustream.dsp.kernels.pelvis_events.PelvisParams` fields.
    """

    def __init__(
        self, fs: float, has_gyr: bool = True, missing_acc_axes: tuple[int, ...] = (), **params
    ) -> None:
        if not (np.isfinite(fs) and fs > 0):
            raise ValueError(f"fs must be a positive number of Hz, got {fs!r}")
        bad = [a for a in missing_acc_axes if a not in (0, 1, 2)]
        if bad:
            raise ValueError(f"missing_acc_axes must be column numbers 0..2, got {bad}")
        self.fs = float(fs)
        self.has_gyr = bool(has_gyr)
        self.missing_acc_axes = tuple(sorted(set(missing_acc_axes)))
        params.setdefault("sides", not self.missing_acc_axes)
        self.params = _k.make_params(self.fs, **params)
        self._state = _k.new_state(self.params)

    def reset(self) -> None:
        """Forget everything (gravity, forward, filters, side sequence); indices restart."""
        self._state = _k.new_state(self.params)

    @property
    def samples_seen(self) -> int:
        """Number of samples fed since construction or :meth:`reset`."""
        return int(self._state.i[_k._I_N])

    def process(
        self, acc: ArrayLike, gyr: ArrayLike | None = None
    ) -> list[tuple[str, float, str | None, int]]:
        """Feed a block; return ``[(kind, sample_index, side, emitted_index), ...]``.

        Parameters
        ----------
        acc : array_like, shape (n, 3)
            Acceleration in m/s^2; the ``missing_acc_axes`` columns may be NaN.
        gyr : array_like, shape (n, 3), or None
            Angular rate in rad/s, checked when given (required if ``has_gyr``).
        """
        a = np.array(acc, dtype=np.float64, copy=True)
        if a.ndim != 2 or a.shape[1] != 3:
            raise ValueError(f"acc must have shape (n, 3), got {np.shape(acc)}")
        if self.missing_acc_axes:
            a[:, list(self.missing_acc_axes)] = 0.0
        if not np.isfinite(a).all():
            raise ValueError(
                "acc contains NaN or inf outside missing_acc_axes; split the stream at gaps"
            )
        if gyr is None and self.has_gyr:
            raise ValueError("gyr is None but the detector was made with has_gyr=True")
        g = _NO_GYR
        if gyr is not None:
            g = np.ascontiguousarray(gyr, dtype=np.float64)
            if g.shape != a.shape:
                raise ValueError(f"gyr must have shape {a.shape}, got {np.shape(gyr)}")
            if not np.isfinite(g).all():
                raise ValueError("gyr contains NaN or inf; split the stream at gaps")
        cap = 2 * a.shape[0] + _k.QUEUE
        out = self._out(cap)
        m = _k.pelvis_events(self.params, self._state, a, g, *out)
        return self._events(out, m)

    def flush(self) -> list[tuple[str, float, str | None, int]]:
        """Emit events still held back (end of a recording); sides None if not learnt yet."""
        out = self._out(_k.QUEUE)
        return self._events(out, _k.pelvis_flush(self.params, self._state, *out))

    @staticmethod
    def _out(cap: int):
        return (
            np.empty(cap, dtype=np.int64),
            np.empty(cap),
            np.empty(cap, dtype=np.int64),
            np.empty(cap, dtype=np.int64),
        )

    @staticmethod
    def _events(out, m: int) -> list[tuple[str, float, str | None, int]]:
        kind, idx, side, emit = out
        return [
            (_KIND[int(kind[j])], float(idx[j]), _SIDE[int(side[j])], int(emit[j]))
            for j in range(m)
        ]
