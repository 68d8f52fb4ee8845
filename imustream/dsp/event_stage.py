"""Event detection inside the Pipeline, events in arrays (kind, sample index, side, emitted).

:class:`~imustream.dsp.shoe_events.ShoeEventDetector` validates and copies every block and
builds a list of tuples around one kernel call; the Pipeline has validated its blocks already
(shape, NaN/inf), so :class:`ShoeEventStage` calls that kernel itself with the same parameters
and state into output arrays allocated once (identical events, tested); likewise
:class:`PelvisEventStage` with the pelvis detector's flat-buffer kernel entry.
"""

from __future__ import annotations

import numpy as np

from .kernels import pelvis_events as _pk
from .kernels import sensor_block as _sb
from .kernels import shoe_events as _sk
from .kernels import timeline as _tl
from .timeline import Timeline

__all__ = ["IC", "SIDE_LEFT", "SIDE_RIGHT", "TO", "PelvisEventStage", "ShoeEventStage"]

IC = _sk.IC
TO = _sk.TO
SIDE_LEFT = 0
SIDE_RIGHT = 1
_NO_GYR = np.zeros((0, 3))


class _Outputs:
    """Event output arrays (kind, sample index, side, emitted index), grown on demand."""

    def __init__(self, cap: int) -> None:
        self.resize(cap)

    def resize(self, cap: int) -> None:
        self.kind = np.empty(cap, dtype=np.int64)
        self.idx = np.empty(cap)
        self.side = np.full(cap, -1, dtype=np.int64)
        self.emit = np.empty(cap, dtype=np.int64)
        self.times = np.empty((cap, 2))  # session time of the event and of its emission

    def room(self, cap: int) -> None:
        if len(self.kind) < cap:
            self.resize(max(cap, 2 * len(self.kind)))

    def times_from(self, timeline: Timeline, base: int, count: int) -> None:
        """Fill ``times[:count]`` from ``timeline`` (history index = event index + ``base``)."""
        _tl.times_at(
            timeline.tb,
            timeline.meta,
            base,
            self.idx[:count],
            self.emit[:count],
            self.times[:count],
        )


class ShoeEventStage(_Outputs):
    """Shoe IC/TO kernel of one foot; :meth:`process` returns the number of events written.

    Events ``j < count`` are ``(kind[j], idx[j], emit[j])`` as in
    :meth:`~imustream.dsp.shoe_events.ShoeEventDetector.process` (side: the shoe's).
    """

    def __init__(self, fs: float) -> None:
        self.params = _sk.make_params(float(fs))
        self.params_array = _sb.shoe_params_array(self.params)  # for the per-block kernel
        self.reset()
        super().__init__(2 * 64 + _sk.PENDING)

    def reset(self) -> None:
        """Forget everything; sample indices restart at 0."""
        # the state's arrays are views of two flat buffers that the block kernel takes
        self.fbuf, self.ibuf, self.state = _sb.shoe_state_buffers(_sk.new_state())

    def process(self, acc: np.ndarray, gyr: np.ndarray) -> int:
        """Feed finite, C-contiguous float64 ``acc``, ``gyr`` (n, 3); return the event count."""
        self.room(2 * acc.shape[0] + _sk.PENDING)
        return _sk.shoe_events(self.params, self.state, acc, gyr, self.kind, self.idx, self.emit)

    def flush(self) -> int:
        """End of stream: events held back while the swing sign was unresolved."""
        self.room(_sk.PENDING)
        return _sk.shoe_flush(self.params, self.state, self.kind, self.idx, self.emit)


class PelvisEventStage(_Outputs):
    """The pelvis detector's events in the same arrays as :class:`ShoeEventStage`.

    Calls the kernel entry of :class:`~imustream.dsp.pelvis_events.PelvisEventDetector`
    (:func:`~imustream.dsp.kernels.pelvis_events.pelvis_events_flat`) with the same parameters
    and state layout, writing straight into this stage's arrays (identical events, tested).
    ``side[j]`` is ``SIDE_LEFT``, ``SIDE_RIGHT`` or ``-1`` (unknown).
    """

    def __init__(self, fs: float, has_gyr: bool = True) -> None:
        self.has_gyr = bool(has_gyr)
        self.params = _pk.make_params(float(fs))  # PelvisEventDetector(fs)'s parameters
        self.pb = _pk.params_buffer(self.params)
        self.fb, self.ib, self.state = _pk.state_buffers(self.params)
        super().__init__(2 * 64 + _pk.QUEUE)

    def resize(self, cap: int) -> None:
        # kind, side and emitted index are rows of the kernel's (3, cap) int64 output
        self.out_i = np.empty((3, cap), dtype=np.int64)
        self.kind, self.side, self.emit = self.out_i
        self.idx = np.empty(cap)
        self.times = np.empty((cap, 2))

    def reset(self) -> None:
        """Forget everything; sample indices restart at 0."""
        self.fb[:] = 0.0  # a fresh state is all zeros
        self.ib[:] = 0

    def process(self, acc: np.ndarray, gyr: np.ndarray) -> int:
        """Feed finite, C-contiguous float64 ``acc``, ``gyr`` (n, 3) (``gyr`` unused without a
        gyro); return the event count."""
        need = 2 * acc.shape[0] + _pk.QUEUE
        if need > self.idx.shape[0]:
            self.room(need)
        g = gyr if self.has_gyr else _NO_GYR
        m = _pk.pelvis_events_flat(self.pb, self.fb, self.ib, acc, g, self.out_i, self.idx)
        if m < 0:  # the Pipeline checks its blocks first: nothing was fed
            raise ValueError(f"{'acc' if m == -1 else 'gyr'} contains NaN or inf")
        return m

    def flush(self) -> int:
        """End of stream: every held-back event (sides unknown if forward was not learnt)."""
        self.room(_pk.QUEUE)
        return _pk.pelvis_flush_flat(self.pb, self.fb, self.ib, self.out_i, self.idx)
