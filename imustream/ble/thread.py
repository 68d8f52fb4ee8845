"""The BLE side on its own thread with its own asyncio loop."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .clock import VirtualTimeEventLoop, new_event_loop
from .link import Backend, LinkTarget, SensorLink
from .notify_queue import NotificationQueue


class BleThread:
    """Run one :class:`SensorLink` per target on a background thread.

    Consumers read ``(host_ns, sensor, bytes)`` tuples, ``StateChange`` records and
    :class:`~imustream.ble.notify_queue.QueueOverflow` records from :attr:`queue` (a bounded
    :class:`~imustream.ble.notify_queue.NotificationQueue`, thread-safe). ``host_ns`` is the
    BLE loop's clock: ``time.monotonic_ns`` for real hardware, the virtual clock for simulated
    devices (``speed``).

    Backpressure: real sensors (and simulations paced at ``speed`` x real time) cannot wait, so
    a consumer ``queue_size`` notifications behind makes the queue drop and count them (an
    explicit ``QueueOverflow`` record, then an ``"overflow"`` gap downstream). On the unpaced
    virtual clock (``speed=math.inf``) the clock stops while ``hold_at`` items are queued:
    the simulated devices wait for the consumer, and "unpaced" means "as fast as the
    pipeline takes it".

    Parameters
    ----------
    targets : sequence of LinkTarget
    backend : Backend
    speed : float or None
        Loop pacing (see :func:`imustream.ble.clock.new_event_loop`): ``None`` for real devices.
    setup : async callable, optional
        Awaited in the loop before the links start (e.g. powering on simulated devices);
        ``teardown`` is awaited after they stop.
    link_options : dict
        Extra keyword arguments for every :class:`SensorLink`.
    stop_after : float, optional
        Stop by itself after this many loop seconds (virtual seconds on a simulated clock).
    queue_size : int
        Bound of :attr:`queue` (notifications; ~2 min of three sensors at 416 Hz by default).
    hold_at : int or None
        Queued items at which an unpaced virtual clock waits for the consumer (``None``: it
        never waits; the queue then drops like for real sensors).
    """

    def __init__(
        self,
        targets: Sequence[LinkTarget],
        backend: Backend,
        *,
        speed: float | None = None,
        setup: Callable[[], Awaitable[Any]] | None = None,
        teardown: Callable[[], Awaitable[Any]] | None = None,
        link_options: dict[str, Any] | None = None,
        stop_after: float | None = None,
        queue_size: int = 20_000,
        hold_at: int | None = 1_000,
    ) -> None:
        self.loop = new_event_loop(speed)
        virtual = isinstance(self.loop, VirtualTimeEventLoop)
        self.queue = NotificationQueue(queue_size, hold_at if virtual else None)
        if virtual:
            self.loop.hold = self.queue.holding
        self.links = [SensorLink(t, self.queue, backend, **(link_options or {})) for t in targets]
        self._stop_after = stop_after
        self._setup = setup
        self._teardown = teardown
        self._thread = threading.Thread(target=self._main, name="imustream-ble", daemon=True)
        self._started = threading.Event()
        self._stop_requested: asyncio.Event | None = None
        self.error: BaseException | None = None

    def now_ns(self) -> int:
        """The BLE loop's clock in ns (the clock of every ``host_ns`` in the queue)."""
        return int(self.loop.time() * 1e9)

    def start(self) -> BleThread:
        """Start the thread; returns self."""
        self._thread.start()
        self._started.wait(5.0)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every link (stop sequences run), then the loop; waits up to ``timeout`` s."""
        self.loop.hold = None  # a consumer that stopped reading must not stall the shutdown
        if self._thread.is_alive() and self._stop_requested is not None:
            self.loop.call_soon_threadsafe(self._stop_requested.set)
        self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end by itself (``stop_after``); True if it has ended.

        On the unpaced virtual clock the devices wait for the consumer (``hold_at``): read
        the queue meanwhile, or use :meth:`collect`.
        """
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def collect(self, timeout: float | None = None) -> list:
        """Start if needed, read the queue until the thread ends by itself (``stop_after``) and
        return every item in order. Raises ``TimeoutError`` after ``timeout`` wall seconds."""
        if not self._thread.is_alive() and not self._started.is_set():
            self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        items: list = []
        while self._thread.is_alive():
            try:
                items.append(self.queue.get(timeout=0.01))
            except queue.Empty:
                pass
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"BLE session still running after {timeout} s")
            items += self.drain()
        return items + self.drain()

    def drain(self) -> list:
        """Everything queued so far, in order, without blocking."""
        items = []
        while True:
            try:
                items.append(self.queue.get_nowait())
            except queue.Empty:
                return items

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def __enter__(self) -> BleThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._run())
        except BaseException as exc:  # reported to the consumer, never lost silently
            self.error = exc
        finally:
            self._started.set()
            self.loop.close()

    async def _run(self) -> None:
        self._stop_requested = asyncio.Event()
        self._started.set()
        if self._setup is not None:
            await self._setup()
        tasks = [asyncio.create_task(link.run(), name=link.sensor) for link in self.links]
        try:
            try:
                await asyncio.wait_for(self._stop_requested.wait(), self._stop_after)
            except TimeoutError:
                pass
        finally:
            for link in self.links:
                await link.stop()
            await asyncio.wait(tasks, timeout=5.0)
            if self._teardown is not None:
                await self._teardown()
            self.queue.flush_overflow()
