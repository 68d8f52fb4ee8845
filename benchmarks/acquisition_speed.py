"""Per-packet cost of stream.Acquisition and of the sim PacketEncoder, against references
measured in the same run.

    python benchmarks/acquisition_speed.py [--seconds 40] [--rounds 5]

Acquisition: the notifications of a simulated 3-sensor session (flaky-connection: loss,
reordering, reconnects; and a clean symmetric-runner session; one mix of profiles that
notify acc and gyro separately) are pushed through ``Acquisition.handle``; the reference is
decoding the same payloads with the profiles alone. Encoder: ``PacketEncoder.encode_all``
for every profile at its default packet size; the reference is ``profile.decode`` of the
bytes it produced. All timings are the fastest of ``--rounds`` interleaved rounds of CPU
time (the least disturbed estimate on a shared machine); compare the ratios across machines.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from imustream import profiles
from imustream.sim.encoders import PacketEncoder
from imustream.stream.acquisition import Acquisition

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling benchmark scripts
from bench_ble import collect

CASES = {
    "flaky-connection (default sensors)": ("flaky-connection", None),
    "symmetric-runner (default sensors)": ("symmetric-runner", None),
    "flaky-connection, polar-pmd + metamotion + xsens-dot": (
        "flaky-connection",
        {"pelvis": "polar-pmd", "shoe_left": "metamotion", "shoe_right": "xsens-dot"},
    ),
}


def session_items(scenario: str, assignment: dict | None, seconds: float):
    """Profiles, rates and queue items of a simulated session (virtual clock)."""
    setup, items, _ = collect(scenario, seconds, "inprocess", assignment=assignment)
    return setup.profiles, setup.rates, items


def cpu_s(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def bench_acquisition(seconds: float, rounds: int) -> None:
    print("== acquisition per notification (CPU time, fastest of interleaved rounds)")
    print(f"  {'session':55s} {'packets':>7s} {'decode':>9s} {'acquisition':>12s} {'ratio':>6s}")
    for label, (scenario, assignment) in CASES.items():
        profs, rates, items = session_items(scenario, assignment, seconds)
        packets = [i for i in items if isinstance(i, tuple)]

        def decode_all(profs=profs, packets=packets) -> None:
            for _host, sensor, payload in packets:
                profs[sensor].decode(payload)

        def acquire_all(profs=profs, rates=rates, items=items) -> None:
            acq = Acquisition(profs, rates, origin_ns=0)
            for item in items:
                acq.handle(item)
            acq.flush()

        t_dec = t_acq = math.inf
        for _ in range(rounds):
            t_dec = min(t_dec, cpu_s(decode_all))
            t_acq = min(t_acq, cpu_s(acquire_all))
        dec, acq = t_dec / len(packets) * 1e6, t_acq / len(packets) * 1e6
        print(
            f"  {label:55s} {len(packets):7d} {dec:6.1f} us {acq:9.1f} us {acq / dec:5.1f}x"
            f"   (acquisition minus decode {acq - dec:.1f} us)"
        )


def bench_encoder(rounds: int, packets: int = 300) -> None:
    print("== sim PacketEncoder.encode_all per notification, vs decoding the same bytes")
    print(f"  {'profile':18s} {'samples':>7s} {'encode':>9s} {'decode':>9s} {'ratio':>6s}")
    rng = np.random.default_rng(0)
    for name in profiles.names():
        prof = profiles.get(name)
        enc = PacketEncoder(prof)
        dec = enc.profile
        k = enc.samples_per_packet
        acc = rng.normal(0, 20, (packets * k, 3))
        gyr = rng.normal(0, 3, (packets * k, 3))
        args = [
            (acc[i * k : (i + 1) * k], gyr[i * k : (i + 1) * k], 1.0 + i * k / dec.rate, i)
            for i in range(packets)
        ]
        payloads = [p for a in args for p in enc.encode_all(*a)]

        def encode_all(enc=enc, args=args) -> None:
            for a in args:
                enc.encode_all(*a)

        def decode_all(dec=dec, payloads=payloads) -> None:
            for p in payloads:
                dec.decode(p)

        t_enc = t_dec = math.inf
        for _ in range(rounds):
            t_enc = min(t_enc, cpu_s(encode_all))
            t_dec = min(t_dec, cpu_s(decode_all))
        e, d = t_enc / len(payloads) * 1e6, t_dec / len(payloads) * 1e6
        print(f"  {name:18s} {k:7d} {e:6.1f} us {d:6.1f} us {e / d:5.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description="acquisition and encoder cost per packet")
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    bench_encoder(args.rounds)
    bench_acquisition(args.seconds, args.rounds)


if __name__ == "__main__":
    main()
