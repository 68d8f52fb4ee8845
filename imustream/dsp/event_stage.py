"""Event detection inside the Pipeline: the detector kernels called with reused outputs.

:class:`~imustream.dsp.shoe_events.ShoeEventDetector` and
:class:`~imustream.dsp.pelvis_events.PelvisEventDetector` validate and copy every block and
build a list of tuples; the Pipeline has validated its blocks already (shape, NaN/inf), so per
batch it only needs the kernel call. These stages run the same kernels with the same
parameters and state (results are identical, tested) into output arrays allocated once.
"""

from __future__ import annotations

import numpy as np

from .kernels import pelvis_events as _pk
from .kernels import shoe_events as _sk

__all__ = ["IC", "SIDE_LEFT", "SIDE_RIGHT", "TO", "PelvisEventStage", "ShoeEventStage"]

IC = _pk.IC
TO = _pk.TO
SIDE_LEFT = _pk.SIDE_LEFT
SIDE_RIGHT = _pk.SIDE_RIGHT
assert (_sk.IC, _sk.TO) == (IC, TO)


class _Outputs:
    """Event output arrays (kind, sample index, side, emitted index), grown on demand."""

    def __init__(self, cap: int) -> None:
        self.resize(cap)

    def resize(self, cap: int) -> None:
        self.kind = np.empty(cap, dtype=np.int64)
        self.idx = np.empty(cap)
        self.side = np.full(cap, -1, dtype=np.int64)
        self.emit = np.empty(cap, dtype=np.int64)

    def room(self, cap: int) -> None:
        if len(self.kind) < cap:
            self.resize(max(cap, 2 * len(self.kind)))


class ShoeEventStage(_Outputs):
    """Shoe IC/TO kernel of one foot; :meth:`process` returns the number of events written.

    Events ``j < count`` are ``(kind[j], idx[j], emit[j])`` as in
    :meth:`~imustream.dsp.shoe_events.ShoeEventDetector.process` (side: the shoe's).
    """

    def __init__(self, fs: float) -> None:
        self.params = _sk.make_params(float(fs))
        self.state = _sk.new_state()
        super().__init__(2 * 64 + _sk.PENDING)

    def reset(self) -> None:
        """Forget everything; sample indices restart at 0."""
        self.state = _sk.new_state()

    def process(self, acc: np.ndarray, gyr: np.ndarray) -> int:
        """Feed finite, C-contiguous float64 ``acc``, ``gyr`` (n, 3); return the event count."""
        self.room(2 * acc.shape[0] + _sk.PENDING)
        return _sk.shoe_events(self.params, self.state, acc, gyr, self.kind, self.idx, self.emit)

    def flush(self) -> int:
        """End of stream: events held back while the swing sign was unresolved."""
        self.room(_sk.PENDING)
        return _sk.shoe_flush(self.params, self.state, self.kind, self.idx, self.emit)


class PelvisEventStage(_Outputs):
    """Pelvis IC/TO/side kernel (all three accelerometer axes); see :class:`ShoeEventStage`.

    ``side[j]`` is ``SIDE_LEFT``, ``SIDE_RIGHT`` or ``-1`` (unknown).
    """

    def __init__(self, fs: float) -> None:
        self.params = _pk.make_params(float(fs), sides=True)
        self.state = _pk.new_state(self.params)
        super().__init__(2 * 64 + _pk.QUEUE)

    def reset(self) -> None:
        """Forget everything; sample indices restart at 0."""
        self.state = _pk.new_state(self.params)

    def process(self, acc: np.ndarray) -> int:
        """Feed finite, C-contiguous float64 ``acc`` (n, 3); return the event count."""
        self.room(2 * acc.shape[0] + _pk.QUEUE)
        return _pk.pelvis_events(
            self.params, self.state, acc, self.kind, self.idx, self.side, self.emit
        )

    def flush(self) -> int:
        """End of stream: every held-back event (sides unknown if forward was not learnt)."""
        self.room(_pk.QUEUE)
        return _pk.pelvis_flush(self.params, self.state, self.kind, self.idx, self.side, self.emit)
