"""Streaming walking initial contacts (with stance side) from one pelvis IMU."""

from __future__ import annotations

import math

import numpy as np

from .kernels import pelvis_walk_events as _k

__all__ = ["PelvisWalkDetector"]

_SIDE = {_k.SIDE_LEFT: "left", _k.SIDE_RIGHT: "right", _k.SIDE_NONE: None}


class PelvisWalkDetector:
    """Walking ICs from a sacrum / lower-back accelerometer (:mod:`.kernels.pelvis_walk_events`).

    IC = peak of the Gaussian-derivative (sigma 20 ms) of ``a_vertical - 0.5 a_forward``, with a
    fixed look-ahead: ICs are emitted ~0.21 s after the event (plus the first ~4 ICs held back
    while forward is learnt). Steps after a flight phase (running) are not emitted; use
    :meth:`flight_before` to tell whether an event of another detector is a running step.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    sides : bool
        Assign stance sides (needs all three accelerometer axes).
    **params
        Overrides of :class:`~imustream.dsp.kernels.pelvis_walk_events.WalkParams` fields.
    """

    def __init__(self, fs: float, sides: bool = True, **params) -> None:
        if not (np.isfinite(fs) and fs > 0):
            raise ValueError(f"fs must be a positive number of Hz, got {fs!r}")
        self.fs = float(fs)
        self.params = _k.make_walk_params(self.fs, sides=sides, **params)
        self._state = _k.new_walk_state(self.params)

    def reset(self) -> None:
        """Forget everything; indices restart at 0."""
        self._state = _k.new_walk_state(self.params)

    def process(self, acc: np.ndarray) -> list[tuple[float, str | None, int]]:
        """Feed a finite (n, 3) float64 block in m/s^2 (missing axes as 0).

        Returns ``[(sample_index, side, emitted_index), ...]``; the caller validates input
        (:class:`~imustream.dsp.pelvis_events.PelvisEventDetector` does).
        """
        a = np.ascontiguousarray(acc, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 3:
            raise ValueError(f"acc must have shape (n, 3), got {np.shape(acc)}")
        out = self._out(a.shape[0] + _k.QUEUE)
        return self._events(out, _k.pelvis_walk_events(self.params, self._state, a, *out))

    def flush(self) -> list[tuple[float, str | None, int]]:
        """Emit ICs still held back (end of a recording)."""
        out = self._out(_k.QUEUE + 1)
        return self._events(out, _k.pelvis_walk_flush(self.params, self._state, *out))

    def flight_before(self, index: float, until: int | None = None, window_s: float = 0.5) -> bool:
        """Whether the vertical acceleration was in flight (20 Hz low-pass < 0.5 g) in samples
        ``[index - window_s, until]`` (``until`` defaults to ``index``; it must have been fed,
        and the span must be within the last ~9 s)."""
        a = math.floor(index) - round(window_s * self.fs)
        b = math.floor(index) if until is None else int(until)
        r = _k.flight_near(self.params, self._state, a, b)
        if r < 0:
            raise ValueError(f"samples {a}..{b} are not within the kept flight history")
        return r == 1

    @staticmethod
    def _out(cap: int):
        return np.empty(cap), np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)

    @staticmethod
    def _events(out, m: int) -> list[tuple[float, str | None, int]]:
        idx, side, emit = out
        return [(float(idx[j]), _SIDE[int(side[j])], int(emit[j])) for j in range(m)]
