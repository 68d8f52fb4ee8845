"""Conversion speed: session log -> verified HDF5, in samples per second.

    python benchmarks/convert_speed.py [--seconds 60] [--rate 833]

Builds a log of three movesense-imu6 sensors (8 samples per notification, 2 % packet loss)
with the real recorder, then converts it: decoding through stream.Acquisition (the live
path), writing with fletcher32 + gzip, reading every dataset back to verify, fsync, rename.
References measured in the same run: reading the log alone, and writing the same decoded
arrays with plain h5py (no checksums, no compression, no verification).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imustream import profiles
from imustream.io.convert import convert
from imustream.io.logreader import read_log
from imustream.io.recorder import Recorder
from imustream.io.session import open_session
from imustream.sim.encoders import PacketEncoder

SENSORS = ("pelvis", "shoe_left", "shoe_right")
PER = 8
PROFILE = "movesense-imu6"


def make_log(path: Path, seconds: float, rate: float) -> int:
    """Write a log of ``seconds`` of three sensors at ``rate``; returns the sample count."""
    prof = profiles.get(PROFILE)
    enc = PacketEncoder(prof, rate=rate, samples_per_packet=PER)
    rng = np.random.default_rng(1)
    n_pk = int(seconds * rate / PER)
    t0 = 10**12
    header = {
        "t0_ns": t0,
        "sensors": list(SENSORS),
        "sensor_info": {s: {"profile": PROFILE, "rate": rate} for s in SENSORS},
    }
    rec = Recorder(path, header, queue_size=10**7, batch_interval=0.01).start()
    items = []
    for s in SENSORS:
        acc = rng.normal(0, 20, (n_pk * PER, 3))
        gyr = rng.normal(0, 3, (n_pk * PER, 3))
        for i in range(n_pk):
            if i and rng.random() < 0.02:
                continue
            sl = slice(i * PER, (i + 1) * PER)
            host = t0 + int(((i + 1) * PER / rate + 0.01) * 1e9)
            items.append((host, s, enc.encode(acc[sl], gyr[sl], 5.0 + i * PER / rate, i)))
    items.sort(key=lambda x: x[0])
    for it in items:
        rec.notify(*it)
    rec.stop()
    return len(items) * PER


def _peak_rss_of_conversion(log: Path) -> float:
    """Peak resident memory (MB) of a fresh process converting ``log`` (to a second file)."""
    import resource
    import subprocess

    out = log.with_name("peak.h5")
    code = (
        "import sys; sys.path.insert(0, sys.argv[3]); from imustream.io.convert import convert; "
        "convert(sys.argv[1], sys.argv[2], remove_log=False)"
    )
    repo = str(Path(__file__).resolve().parents[1])
    subprocess.run([sys.executable, "-c", code, str(log), str(out), repo], check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description="log -> HDF5 conversion speed")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=833.0)
    args = ap.parse_args()
    import h5py

    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "speed.imulog"
        n = make_log(log, args.seconds, args.rate)
        t = time.perf_counter()
        read_log(log)
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        res = convert(log, remove_log=False)
        t_conv = time.perf_counter() - t
        peak_mb = _peak_rss_of_conversion(log)
        if sum(res.samples.values()) != n:
            raise SystemExit(f"conversion decoded {res.samples}, expected {n}: {res.warnings}")
        log_size = log.stat().st_size
        with open_session(res.h5_path) as s:
            arrays = {k: (v.acc, v.gyr, v.t_session) for k, v in s.sensors.items()}
            size = res.h5_path.stat().st_size
        t = time.perf_counter()
        with h5py.File(Path(d) / "plain.h5", "w") as f:
            for k, (acc, gyr, ts) in arrays.items():
                f[f"{k}/acc"], f[f"{k}/gyr"], f[f"{k}/t"] = acc, gyr, ts
        t_plain = time.perf_counter() - t
    print(
        f"log of {args.seconds:g} s, 3 sensors x {args.rate:g} Hz: {n} samples, "
        f"log {log_size / 1e6:.2f} MB"
    )
    print(
        f"convert (decode + write + verify + fsync): {t_conv:.2f} s = {n / t_conv:,.0f} samples/s"
    )
    print(f"  reference, read_log only:       {t_read:.3f} s = {n / t_read:,.0f} samples/s")
    print(f"  reference, plain h5py write:    {t_plain:.3f} s = {n / t_plain:,.0f} samples/s")
    print(f"  convert / read_log time ratio:  {t_conv / t_read:.1f}")
    print(f"HDF5 size {size / 1e6:.2f} MB = {size / n:.1f} B per sample")
    print(f"peak memory of a conversion in its own process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
