"""Coverage-guided fuzzing (atheris / libFuzzer) of the three parsers that meet untrusted bytes.

Targets
-------
decode
    ``profiles.get(name).decode(payload)`` for every firmware profile (the fuzzer picks the
    profile and its rate option): must return a well-formed SampleBlock or raise DecodeError.
log
    Session-log recovery (``io.logreader.read_log``) on a real log truncated and byte-flipped
    where the fuzzer says: RecordingError, or only notifications that were written, in order.
h5
    ``imustream.open_session`` + ``check_all`` on a real recording with fuzzer-chosen byte
    flips and truncation: RecordingError, or exactly the original data (never wrong data,
    never a crash of the process).

atheris is not a project dependency; install it next to imustream for a run::

    pip install atheris
    python benchmarks/fuzz_atheris.py decode -atheris_runs=200000
    python benchmarks/fuzz_atheris.py log -max_total_time=3600 corpus_log/
    python benchmarks/fuzz_atheris.py h5 -max_total_time=600

Everything after the target name goes to libFuzzer (``-help=1`` lists the flags). A crash
writes ``crash-<sha1>`` with the input; re-run it with ``python benchmarks/fuzz_atheris.py
TARGET crash-<sha1>``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris
import numpy as np

with atheris.instrument_imports():
    import imustream
    from imustream import profiles
    from imustream.errors import DecodeError, RecordingError
    from imustream.io.logreader import read_log

WORK = Path(tempfile.mkdtemp(prefix="imustream-fuzz-"))


# ----------------------------------------------------------------------------- decode
def _decoders() -> list:
    out = []
    for name in profiles.names():
        p = profiles.get(name)
        for rate in p.rates:
            try:
                out.append(p.with_options(rate=rate))
            except Exception:  # options a profile cannot take are not a decode bug
                continue
    return out


def fuzz_decode(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    decoders = DECODERS
    p = decoders[fdp.ConsumeIntInRange(0, len(decoders) - 1)]
    payload = fdp.ConsumeBytes(fdp.remaining_bytes())
    try:
        b = p.decode(payload)
    except DecodeError:
        return
    n = b.acc.shape[0]
    assert b.acc.shape == (n, 3) and b.gyr.shape == (n, 3), (p.name, b.acc.shape)
    assert n >= 1, p.name
    assert b.t_device is None or b.t_device.shape == (n,)


# ----------------------------------------------------------------------------- log
def _reference_log() -> tuple[bytes, dict[str, list[tuple[int, bytes]]]]:
    from imustream.io.logwriter import SessionLogWriter

    rng = np.random.default_rng(0)
    sensors = ["pelvis", "shoe_left", "shoe_right"]
    path = WORK / "ref.imulog"
    w = SessionLogWriter(path, {"sensors": sensors})
    written: dict[str, list[tuple[int, bytes]]] = {s: [] for s in sensors}
    for k in range(12):
        names, hosts, payloads = [], [], []
        for j in range(int(rng.integers(1, 6))):
            s = sensors[int(rng.integers(0, 3))]
            h = 1_000_000 * (10 * k + j)
            pl = rng.integers(0, 256, int(rng.integers(1, 60)), dtype=np.uint8).tobytes()
            names.append(s)
            hosts.append(h)
            payloads.append(pl)
            written[s].append((h, pl))
        w.write_notifications(names, hosts, payloads)
    w.close({"reason": "stopped"})
    return path.read_bytes(), written


def _mutate(fdp, ref: bytes) -> bytes:
    data = bytearray(ref[: fdp.ConsumeIntInRange(0, len(ref))])
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        if not data:
            break
        data[fdp.ConsumeIntInRange(0, len(data) - 1)] ^= fdp.ConsumeIntInRange(1, 255)
    return bytes(data)


def fuzz_log(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    path = WORK / "fuzz.imulog"
    path.write_bytes(_mutate(fdp, LOG_REF))
    try:
        c = read_log(path)
    except RecordingError:
        return
    for sensor, stream in c.streams.items():
        it = iter(LOG_WRITTEN.get(sensor, []))
        for i in range(stream.n):
            got = (int(stream.host_ns[i]), bytes(stream.payload(i)))
            assert any(got == w for w in it), f"{sensor}: notification {i} was never written"


# ----------------------------------------------------------------------------- h5
def _reference_h5() -> tuple[bytes, dict]:
    from imustream.cli._session import session_header
    from imustream.io.convert import convert
    from imustream.io.recorder import Recorder
    from imustream.sim.encoders import PacketEncoder

    prof = profiles.get("imustream-open")
    enc = PacketEncoder(prof, rate=200.0)
    k = enc.samples_per_packet
    rng = np.random.default_rng(1)
    info = {"pelvis": {"profile": prof.name, "rate": 200.0}}
    rec = Recorder(WORK / "ref.imulog", session_header(info, t0_ns=0)).start()
    for i in range(30):
        acc = rng.normal(0, 5, (k, 3))
        pl = enc.encode(acc, rng.normal(0, 1, (k, 3)), 3.0 + i * k / 200.0, i)
        rec.notify(int((i + 1) * k / 200.0 * 1e9), "pelvis", pl)
    rec.stop()
    res = convert(WORK / "ref.imulog", WORK / "ref.h5")
    with imustream.open_session(res.h5_path) as s:
        ref = {n: (d.acc.copy(), d.gyr.copy(), d.raw_payload.copy()) for n, d in s.sensors.items()}
    return res.h5_path.read_bytes(), ref


def fuzz_h5(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    path = WORK / "fuzz.h5"
    path.write_bytes(_mutate(fdp, H5_REF))
    try:
        with imustream.open_session(path) as s:
            s.check_all()
            got = {n: (d.acc, d.gyr, d.raw_payload) for n, d in s.sensors.items()}
    except RecordingError:
        return
    assert got.keys() == H5_DATA.keys()
    for n, arrays in got.items():
        for a, b in zip(arrays, H5_DATA[n], strict=True):
            assert np.array_equal(a, b), f"{n}: wrong data passed the checks"


TARGETS = {"decode": fuzz_decode, "log": fuzz_log, "h5": fuzz_h5}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer flags] [corpus]")
    target = sys.argv.pop(1)
    DECODERS = _decoders() if target == "decode" else []
    LOG_REF, LOG_WRITTEN = _reference_log() if target == "log" else (b"", {})
    H5_REF, H5_DATA = _reference_h5() if target == "h5" else (b"", {})
    atheris.instrument_all()  # decoders, h5py wrappers etc. are imported lazily above
    atheris.Setup(sys.argv, TARGETS[target])
    atheris.Fuzz()
