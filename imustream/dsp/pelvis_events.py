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
        # the kernel runs on flat buffers: the params, and the state (self._state's arrays
        # are views of _fb, _ib), so that a call unboxes a few arrays, not two NamedTuples
        self._pb = _k.params_buffer(self.params)
        self._fb, self._ib, self._state = _k.state_buffers(self.params)
        self._missing = list(self.missing_acc_axes)
        self._grow(2 * 256 + _k.QUEUE)

    def reset(self) -> None:
        """Forget everything (gravity, forward, filters, side sequence); indices restart."""
        self._fb[:] = 0.0  # a fresh state is all zeros
        self._ib[:] = 0

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
        if self._missing:
            a = np.array(acc, dtype=np.float64, copy=True, order="C")
        else:  # the kernel only reads it: no copy when it is C-contiguous float64 already
            a = np.ascontiguousarray(acc, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 3:
            raise ValueError(f"acc must have shape (n, 3), got {np.shape(acc)}")
        if self._missing:
            a[:, self._missing] = 0.0
        g = _NO_GYR
        if gyr is None:
            if self.has_gyr:
                raise ValueError("gyr is None but the detector was made with has_gyr=True")
        else:
            g = np.ascontiguousarray(gyr, dtype=np.float64)
            if g.shape != a.shape:
                raise ValueError(f"gyr must have shape {a.shape}, got {np.shape(gyr)}")
        if 2 * a.shape[0] + _k.QUEUE > self._out_idx.shape[0]:
            self._grow(2 * a.shape[0] + _k.QUEUE)
        m = _k.pelvis_events_flat(self._pb, self._fb, self._ib, a, g, self._out_i, self._out_idx)
        if m < 0:  # nothing was fed
            if m == -1:
                raise ValueError(
                    "acc contains NaN or inf outside missing_acc_axes; split the stream at gaps"
                )
            raise ValueError("gyr contains NaN or inf; split the stream at gaps")
        return self._events(m) if m else []

    def flush(self) -> list[tuple[str, float, str | None, int]]:
        """Emit events still held back (end of a recording); sides None if not learnt yet."""
        return self._events(
            _k.pelvis_flush_flat(self._pb, self._fb, self._ib, self._out_i, self._out_idx)
        )

    def _grow(self, cap: int) -> None:
        """Output buffers (reused by every call): kind, side, emitted index; sample index."""
        self._out_i = np.empty((3, cap), dtype=np.int64)
        self._out_idx = np.empty(cap)

    def _events(self, m: int) -> list[tuple[str, float, str | None, int]]:
        kind, side, emit = self._out_i[:, :m].tolist()
        idx = self._out_idx[:m].tolist()
        return [
            (_KIND[k], x, _SIDE[s], e) for k, x, s, e in zip(kind, idx, side, emit, strict=True)
        ]
