"""The BLE side on its own thread with its own asyncio loop."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .clock import new_event_loop
from .link import Backend, LinkTarget, SensorLink


class BleThread:
    """Run one :class:`SensorLink` per target on a background thread.

    Consumers read ``(host_ns, sensor, bytes)`` tuples and ``StateChange`` records from
    :attr:`queue` (thread-safe). ``host_ns`` is the BLE loop's clock: ``time.monotonic_ns``
    for real hardware, the virtual clock for simulated devices (``speed``).

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
    ) -> None:
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.loop = new_event_loop(speed)
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
        if self._thread.is_alive() and self._stop_requested is not None:
            self.loop.call_soon_threadsafe(self._stop_requested.set)
        self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end by itself (``stop_after``); True if it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

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
