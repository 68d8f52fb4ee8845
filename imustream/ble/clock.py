"""Event loops whose clock is virtual: unpaced (tests) or scaled real time (demo at ``--speed``).

Everything time-related on the BLE side (device pacing, connect timeouts, reconnect backoff,
host receive stamps) reads ``loop.time()``. Running the same code on one of these loops makes
a simulated minute take a fraction of a second (``speed=inf``: when nothing is ready the clock
jumps to the next timer) or run ``speed`` times faster than real time. Real hardware uses a
normal asyncio loop, whose ``time()`` is ``time.monotonic()``.
"""

from __future__ import annotations

import asyncio
import math
import selectors
import time
from collections.abc import Callable

#: real seconds between checks of a virtual loop's ``hold`` while it holds
HOLD_POLL_S = 0.002


class _DelegatingSelector(selectors.BaseSelector):
    """Wraps the default selector; subclasses change how ``select`` waits."""

    def __init__(self) -> None:
        self._real = selectors.DefaultSelector()

    def register(self, fileobj, events, data=None):
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj):
        return self._real.unregister(fileobj)

    def modify(self, fileobj, events, data=None):
        return self._real.modify(fileobj, events, data)

    def get_map(self):
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()


class _JumpingSelector(_DelegatingSelector):
    """Advances a virtual clock to the next timer instead of blocking."""

    def __init__(self, loop: VirtualTimeEventLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout=None):
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # nothing scheduled: only another thread can wake us
            return self._real.select(None)
        hold = self._loop.hold
        if hold is not None and hold():
            # backpressure: the consumer is behind, so the simulated world (devices, link
            # timers, the host clock) waits for it in real time instead of running ahead
            return self._real.select(min(timeout, HOLD_POLL_S))
        self._loop._advance(timeout)
        return []


class _ScaledSelector(_DelegatingSelector):
    """Waits ``timeout / speed`` real seconds (asyncio passes loop seconds)."""

    def __init__(self, speed: float) -> None:
        super().__init__()
        self._speed = speed

    def select(self, timeout=None):
        return self._real.select(None if timeout is None else timeout / self._speed)


class VirtualTimeEventLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on a virtual clock that jumps to the next timer when idle.

    Deterministic and as fast as the CPU allows: ``await asyncio.sleep(60)`` returns at once
    with ``loop.time()`` 60 s later. I/O and ``call_soon_threadsafe`` still work.

    ``hold``: optional callable; while it returns True the clock does not advance (the loop
    polls it every :data:`HOLD_POLL_S` real seconds). :class:`~imustream.ble.thread.BleThread`
    sets it to its queue's :meth:`~imustream.ble.notify_queue.NotificationQueue.holding`, so
    "unpaced" means "as fast as the consumer takes the notifications".
    """

    def __init__(self, start: float = 0.0, hold: Callable[[], bool] | None = None) -> None:
        self._virtual_now = float(start)
        self.hold = hold
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self._virtual_now

    def _advance(self, dt: float) -> None:
        self._virtual_now += max(0.0, float(dt))


class ScaledTimeEventLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose clock starts at 0 and runs ``speed`` times faster than real time."""

    def __init__(self, speed: float) -> None:
        valid = speed > 0 and math.isfinite(speed)
        self.speed = float(speed) if valid else 1.0
        self._t0 = time.monotonic()
        super().__init__(selector=_ScaledSelector(self.speed))
        if not valid:  # raise only once fully built, so the loop closes cleanly
            self.close()
            raise ValueError(f"speed must be a positive finite number, got {speed!r}")

    def time(self) -> float:
        return (time.monotonic() - self._t0) * self.speed


def new_event_loop(speed: float | None) -> asyncio.AbstractEventLoop:
    """Return an event loop for the given pacing.

    Parameters
    ----------
    speed : float or None
        ``None`` -> an ordinary loop (real hardware, real time); ``math.inf`` -> unpaced
        virtual time; a positive number -> real time sped up ``speed`` times.
    """
    if speed is None:
        return asyncio.new_event_loop()
    if math.isinf(speed):
        return VirtualTimeEventLoop()
    return ScaledTimeEventLoop(speed)
