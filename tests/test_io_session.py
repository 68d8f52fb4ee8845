"""open_session: clear RecordingError for corrupt, truncated, foreign or newer files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_io_codec import TestCodec, header_for, synth_stream

import imustream
from imustream.errors import RecordingError
from imustream.io.convert import convert
from imustream.io.recorder import Recorder


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    d = tmp_path_factory.mktemp("good")
    notes, truth = synth_stream(duration=3.0, seed=11)
    rec = Recorder(d / "g.imulog", header_for(truth)).start()
    for n in notes:
        rec.notify(*n)
    rec.stop()
    c = TestCodec(200.0)
    return convert(d / "g.imulog", decoders={s: c.decode for s in truth}).h5_path


def test_public_entry_point(good):
    with imustream.open_session(good) as s:
        assert s.sensor_names == ["pelvis", "shoe_left", "shoe_right"]
        assert 2.5 < s.duration < 3.1
        s.check_all()


def _expect_error(path, words):
    with pytest.raises(RecordingError, match=words):
        with imustream.open_session(path) as s:
            s.check_all()


def test_missing_file(tmp_path):
    _expect_error(tmp_path / "nope.h5", "no such recording")


def test_not_hdf5(tmp_path):
    (tmp_path / "x.h5").write_bytes(b"hello world" * 100)
    _expect_error(tmp_path / "x.h5", "not a readable HDF5")


def test_foreign_hdf5(tmp_path):
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f["x"] = np.arange(3)
    _expect_error(tmp_path / "f.h5", "not an imustream recording")


def test_newer_schema(tmp_path, good):
    p = tmp_path / "new.h5"
    p.write_bytes(good.read_bytes())
    with h5py.File(p, "a") as f:
        f.attrs["schema_version"] = 99
    _expect_error(p, "schema version 99")


@pytest.mark.parametrize(
    "victim", ["gaps", "sensors/pelvis/acc", "sensors/shoe_left/raw/offsets", "steps/side"]
)
def test_missing_parts(tmp_path, good, victim):
    p = tmp_path / "m.h5"
    p.write_bytes(good.read_bytes())
    with h5py.File(p, "a") as f:
        del f[victim]
    _expect_error(p, f"missing {victim}")


@pytest.mark.parametrize("frac", [0.1, 0.5, 0.9, 0.99])
def test_truncated(tmp_path, good, frac):
    data = good.read_bytes()
    p = tmp_path / "t.h5"
    p.write_bytes(data[: int(len(data) * frac)])
    _expect_error(p, "HDF5|damaged|missing")


def test_byte_flips_in_data_are_caught(tmp_path, good):
    data = good.read_bytes()
    rng = np.random.default_rng(0)
    caught = 0
    trials = 30
    with imustream.open_session(good) as ref:
        expect = {k: (d.acc, d.gyr, d.raw_payload) for k, d in ref.sensors.items()}
    with h5py.File(good, "r") as f:
        ds = f["sensors/pelvis/acc"]
        lo = min(ds.id.get_chunk_info(i).byte_offset for i in range(ds.id.get_num_chunks()))
    for _ in range(trials):
        buf = bytearray(data)
        pos = int(rng.integers(lo, len(buf)))
        buf[pos] ^= int(rng.integers(1, 256))
        p = tmp_path / "flip.h5"
        p.write_bytes(bytes(buf))
        try:
            with imustream.open_session(p) as s:
                s.check_all()
                same = all(
                    np.array_equal(a, b)
                    for k, d in s.sensors.items()
                    for a, b in zip((d.acc, d.gyr, d.raw_payload), expect[k], strict=True)
                )
        except RecordingError:
            caught += 1
            continue
        assert same, f"byte flip at {pos} changed data without an error"
    assert caught > trials // 2


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.floats(0.05, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), min_size=1, max_size=6),
)
def test_fuzzed_files_give_recording_error_or_the_right_data(tmp_path, good, cut, flips):
    data = bytearray(good.read_bytes())
    data = data[: int(len(data) * cut)] if cut < 0.999 else data
    for where, x in flips:
        data[min(len(data) - 1, int(where * len(data)))] ^= x
    p = tmp_path / "fuzz.h5"
    p.write_bytes(bytes(data))
    try:
        with imustream.open_session(p) as s:
            s.check_all()
            got = {k: (d.acc, d.gyr, d.raw_payload, d.t_session) for k, d in s.sensors.items()}
            steps = s.steps
    except RecordingError:
        return
    with imustream.open_session(good) as ref:
        for k, d in ref.sensors.items():
            for a, b in zip(got[k], (d.acc, d.gyr, d.raw_payload, d.t_session), strict=True):
                np.testing.assert_array_equal(a, b)
        assert steps.keys() == ref.steps.keys()
