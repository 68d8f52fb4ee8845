"""Regenerate the demo recordings in this folder with the virtual runner.

    python recordings/make_demo.py            # writes recordings/demo_*.h5

Each recording is 12 s of three imustream-open sensors (pelvis, shoe_left, shoe_right) at
100 Hz, 5 samples per notification, sent through the real session-log recorder, the live
acquisition and pipeline (so events, steps and alerts are in the file), then converted to HDF5.
The BLE link is modelled by a one-sided delay (7.5 ms + exponential 4 ms, in order) and, for
``demo_lossy``, 3 % independent packet loss.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from imustream import profiles  # noqa: E402
from imustream.cli._session import LiveSession, session_header  # noqa: E402
from imustream.dsp.pipeline import Pipeline  # noqa: E402
from imustream.io.convert import convert  # noqa: E402
from imustream.io.recorder import Recorder  # noqa: E402
from imustream.sim import simulate  # noqa: E402
from imustream.sim.encoders import PacketEncoder  # noqa: E402
from imustream.stream.acquisition import Acquisition  # noqa: E402
from imustream.types import LinkState, Marker, StateChange  # noqa: E402

DEMOS = {
    "demo_symmetric": ("symmetric-runner", 0.0),
    "demo_right_hip_drop": ("right-hip-drop", 0.0),
    "demo_lossy": ("symmetric-runner", 0.03),
}
PROFILE = "imustream-open"
RATE = 100.0
PER_PACKET = 5
T0_NS = 10**12


def notifications(scenario: str, duration: float, seed: int, loss: float) -> list:
    """Queue items ``(host_ns, sensor, bytes)`` of the three simulated sensors, by arrival."""
    run = simulate(scenario, duration=duration, fs=RATE, seed=seed)
    prof = profiles.get(PROFILE).with_options(rate=RATE)
    enc = PacketEncoder(prof, rate=RATE, samples_per_packet=PER_PACKET)
    rng = np.random.default_rng(seed)
    items = []
    for name, sig in run.sensors.items():
        n_pk = len(sig.t) // PER_PACKET
        last = 0
        for p in range(n_pk):
            sl = slice(p * PER_PACKET, (p + 1) * PER_PACKET)
            payload = enc.encode(sig.acc[sl], sig.gyr[sl], float(sig.t_device[sl][0]), p)
            delay = 0.0075 + rng.exponential(0.004)
            host = max(T0_NS + int((sig.t[sl][-1] + delay) * 1e9), last + 1000)
            last = host
            if p > 0 and rng.random() < loss:
                continue
            items.append((host, name, payload))
    items.sort(key=lambda x: x[0])
    return items


def make(path: Path, scenario: str, loss: float, duration: float = 12.0, seed: int = 1) -> Path:
    """Record one demo session to ``path`` (an .h5 file)."""
    info = {s: {"profile": PROFILE, "rate": RATE} for s in ("pelvis", "shoe_left", "shoe_right")}
    header = session_header(
        info,
        t0_ns=T0_NS,
        subject="virtual runner",
        notes=f"imustream demo: scenario {scenario!r}, seed {seed}, packet loss {loss:.0%}",
        extra={"scenario": scenario, "seed": seed, "dsp": {"thresholds": "runner"}},
    )
    log = path.with_suffix(".imulog")
    for p in (log, path):
        p.unlink(missing_ok=True)
    prof = profiles.get(PROFILE).with_options(rate=RATE)
    acq = Acquisition(dict.fromkeys(info, prof), dict.fromkeys(info, RATE), origin_ns=T0_NS)
    rec = Recorder(log, header).start()
    live = LiveSession(rec, acq, Pipeline(dict.fromkeys(info, RATE)))
    for s in info:
        live.handle(StateChange(s, LinkState.STREAMING, T0_NS, "connected"))
    rec.record(Marker(6.0, "pain", 2.0, "demo marker: runner reports pain 2/10"))
    for item in notifications(scenario, duration, seed, loss):
        live.handle(item)
    live.finish()
    rec.stop()
    return convert(log, path).h5_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    for name, (scenario, loss) in DEMOS.items():
        p = make(args.out / f"{name}.h5", scenario, loss)
        print(f"{p}: {p.stat().st_size / 1000:.0f} kB")


if __name__ == "__main__":
    main()
