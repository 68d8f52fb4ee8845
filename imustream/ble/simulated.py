"""The virtual runner as three simulated BLE sensors, ready for a :class:`BleThread`.

The one builder of simulated sessions: ``imustream demo``, ``scan --simulated``, ``stream``,
``live`` / ``record`` with ``--simulate`` (:func:`imustream.cli._live.simulated_source`) and
``benchmarks/soak.py`` all call :func:`simulated_setup`. The devices are reached through bleak's
front end with the in-process backend or bumble's virtual radio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .link import Backend, LinkTarget

#: Default firmware profile and rate per sensor role in the demo.
DEFAULT_SETUP: dict[str, tuple[str, float]] = {
    "pelvis": ("movesense-imu6", 208.0),
    "shoe_left": ("imustream-open", 200.0),
    "shoe_right": ("imustream-open", 200.0),
}
#: Samples per notification for profiles with variable-size packets (20 ms at 200 Hz).
SAMPLES_PER_PACKET = 4


@dataclass
class SimulatedSetup:
    """Simulated devices, the backend that reaches them and the link targets."""

    devices: list[Any]
    backend: Backend
    targets: list[LinkTarget]
    setup: Any  # async callable: power on inside the BLE loop
    teardown: Any
    rates: dict[str, float]
    profiles: dict[str, Any]
    run: Any = None  # the SimRun at the first rate (truth for reports)

    def ble_thread(self, speed: float | None, stop_after: float | None = None, **kw: Any) -> Any:
        """A :class:`~imustream.ble.thread.BleThread` over these devices (not started).

        ``speed`` as for ``BleThread`` (``math.inf`` = unpaced virtual clock); other keywords
        (``queue_size``, ``hold_at``, ``link_options``) are passed on.
        """
        from .thread import BleThread

        return BleThread(
            self.targets,
            self.backend,
            speed=speed,
            setup=self.setup,
            teardown=self.teardown,
            stop_after=stop_after,
            **kw,
        )


def _parse_assignment(spec: dict[str, str] | None) -> dict[str, tuple[str, float | None]]:
    setup = {k: (p, r) for k, (p, r) in DEFAULT_SETUP.items()}
    for sensor, value in (spec or {}).items():
        if sensor not in setup:
            raise ConfigError(f"unknown sensor role {sensor!r} (use {', '.join(setup)})")
        name, _, rate = value.partition("@")
        setup[sensor] = (name, float(rate) if rate else None)
    return setup


def simulated_setup(
    scenario: str = "symmetric-runner",
    duration: float = 30.0,
    seed: int = 0,
    assignment: dict[str, str] | None = None,
    backend: str = "inprocess",
    *,
    faults: dict[str, Any] | None = None,
    samples_per_packet: int | None = SAMPLES_PER_PACKET,
) -> SimulatedSetup:
    """Build the three simulated sensors of a virtual-runner scenario.

    Parameters
    ----------
    scenario : str
        Virtual-runner scenario name (``imustream.sim.scenario_names()``); its link faults
        (loss, bursts, reordering, disconnects) are applied by the devices.
    duration : float
        Seconds of signal each device can send.
    seed : int
        Seeds the runner and the link faults.
    assignment : dict, optional
        ``{sensor: "profile"}`` or ``{sensor: "profile@rate"}`` overriding :data:`DEFAULT_SETUP`.
    backend : {"inprocess", "bumble"}
    faults : dict, optional
        ``{sensor: sim.device.LinkFaults}`` replacing the scenario's link faults of a sensor
        (fault-injection runs such as the soak).
    samples_per_packet : int or None
        Samples per notification for profiles with variable-size packets (default
        :data:`SAMPLES_PER_PACKET`, 20 ms at 200 Hz; ``None``: as many as fit 244 bytes);
        fixed-size profiles ignore it.

    Device ``i`` (in :data:`DEFAULT_SETUP` order) has address ``C0:FF:EE:00:00:0i`` and its
    link faults are seeded with ``seed * 7919 + i``.
    """
    from .. import profiles
    from ..sim import get_scenario, simulate
    from ..sim.device import LinkFaults, SimulatedDevice

    sc = get_scenario(scenario)
    setup = _parse_assignment(assignment)
    unknown = set(faults or {}) - set(setup)
    if unknown:
        raise ConfigError(
            f"faults for unknown sensor roles {sorted(unknown)} (use {', '.join(setup)})"
        )
    runs: dict[float, Any] = {}

    def run_at(rate: float):
        if rate not in runs:
            runs[rate] = simulate(sc, duration=duration, fs=rate, seed=seed)
        return runs[rate]

    devices, targets, rates, profs = [], [], {}, {}
    for i, (sensor, (name, rate)) in enumerate(setup.items()):
        profile = profiles.get(name)
        rate = float(rate or profile.default_rate)
        if not any(abs(rate - r) < 1e-9 for r in profile.rates):
            raise ConfigError(f"{sensor}: profile {name!r} does not support {rate:g} Hz")
        dev = SimulatedDevice(
            profile,
            lambda r, s=sensor: run_at(r).sensors[s],
            address=f"C0:FF:EE:00:00:{i + 1:02X}",
            faults=(faults or {}).get(sensor) or LinkFaults.from_scenario(sc, sensor),
            seed=seed * 7919 + i,
            samples_per_packet=samples_per_packet if profile.samples_per_packet is None else None,
        )
        dev.signals(rate)  # simulate now, not inside the BLE loop
        devices.append(dev)
        targets.append(LinkTarget(sensor, profile, address=dev.address, rate=rate))
        rates[sensor] = rate
        profs[sensor] = profile.with_options(rate=rate)
    if backend == "bumble":
        try:
            from .backends.bumble_radio import BumbleClient, BumbleRadio, BumbleScanner
        except ImportError as exc:
            raise ConfigError(
                f"the bumble backend needs bumble ({exc}): pip install 'imustream[bumble]'"
            ) from None

        radio = BumbleRadio(devices)
        be = Backend(BumbleScanner, BumbleClient, {"radio": radio}, "bumble virtual radio")
        start, stop = radio.start, radio.stop
    elif backend == "inprocess":
        from .backends.inprocess import InProcessClient, InProcessScanner, SimulatedRadio

        radio = SimulatedRadio(devices)
        be = Backend(InProcessScanner, InProcessClient, {"radio": radio}, "in-process simulation")

        async def start() -> None:
            radio.power_on()

        async def stop() -> None:
            radio.power_off()

    else:
        raise ConfigError(f"unknown simulated backend {backend!r} (use inprocess or bumble)")
    first_rate = next(iter(rates.values()))
    return SimulatedSetup(
        devices, be, targets, start, stop, rates, profs, run=lambda: run_at(first_rate)
    )
