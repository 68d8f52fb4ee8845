"""Profile loading: every bundled profile validates; broken files give ProfileError naming
the file and the key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import imustream
from imustream import ProfileError, profiles
from imustream.profiles import FirmwareProfile, GattWrite

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
REQUIRED = {
    "imustream-open",
    "movesense-imu6",
    "xsens-dot",
    "metamotion",
    "witmotion-bwt901",
    "thingy52",
    "polar-pmd",
}


def test_names_cover_the_required_profiles():
    assert REQUIRED <= set(profiles.names())
    assert profiles.names() == sorted(profiles.names())


@pytest.mark.parametrize("name", profiles.names())
def test_bundled_profile_contract(name):
    p = profiles.get(name)
    assert isinstance(p, FirmwareProfile) and p.name == name
    assert profiles.get(name) is p  # cached
    for u in (p.service_uuid, *p.notify_uuids, *p.advertised_services):
        assert UUID.match(u)
    assert p.control_uuid is None or UUID.match(p.control_uuid)
    assert p.default_rate in p.rates and p.rate == p.default_rate
    assert p.time_source in ("device", "none")
    if p.time_source == "device":
        assert p.timestamp_tick_s > 0 and p.timestamp_wrap_s > 0
    assert p.samples_per_packet is None or p.samples_per_packet >= 1
    for rate in p.rates:
        writes = p.start_sequence(rate=rate)
        assert all(isinstance(w, GattWrite) and w.data for w in writes)
    assert all(isinstance(w, GattWrite) for w in p.stop_sequence())
    re.compile(p.scan_name_pattern)
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]


def test_unknown_profile_and_option():
    with pytest.raises(ProfileError, match="unknown firmware profile"):
        profiles.get("no-such-device")
    with pytest.raises(ProfileError, match="rate=123"):
        profiles.get("imustream-open").with_options(rate=123)
    with pytest.raises(ProfileError, match="acc_range"):
        profiles.get("metamotion").start_sequence(acc_range=3)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def _base() -> str:
    return (profiles.profile_dir() / "imustream-open.toml").read_text()


def test_a_copy_loads(tmp_path):
    p = profiles.load(_write(tmp_path, "imustream-open", _base()))
    assert p.decode(bytes(6 + 12)).n == 1


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('vendor = "', 'colour = "red"\nvendor = "', "colour", "unknown key"),
        ("[time]\n", "[time]\nwrap = 3\n", "time.wrap", "unknown key"),
        (
            '{ name = "ax", type = "i16" }',
            '{ name = "ax", type = "i16", scale = 2 }',
            r"layout.sample\[0\].scale",
            "unknown key",
        ),
        (
            'service = "4e5a0001-1b2c-4d3e-9f40-696d75737472"',
            'service = "4e5a0001-1b2c-4d3e-9f40-696d7573747"',
            "gatt.service",
            "malformed UUID",
        ),
        (
            'notify = ["4e5a0002-1b2c-4d3e-9f40-696d75737472"]',
            'notify = ["xyz"]',
            r"gatt.notify\[0\]",
            "malformed UUID",
        ),
        (
            'char = "control"\ndata = "00"',
            'char = "1234-5678"\ndata = "00"',
            r"stop\[0\].char",
            "malformed UUID",
        ),
        (
            'samples_per_packet = "variable"',
            "samples_per_packet = 2\npacket_size = 31",
            "layout.packet_size",
            r"is 31 but header \(6 B\) \+ 2 x sample \(12 B\) = 30 B",
        ),
        (
            'samples_per_packet = "variable"',
            "samples_per_packet = 2\npad_to = 20",
            "layout.pad_to",
            "smaller",
        ),
        (
            '{ name = "ax", type = "i16" }',
            '{ name = "ax", type = "i17" }',
            r"layout.sample\[0\].type",
            "unknown type",
        ),
        ('acc = ["ax", "ay", "az"]', 'acc = ["ax", "ay", "aq"]', "layout.acc", "not sample"),
        ("default_rate = 100", "default_rate = 99", "options.default_rate", "not in"),
        ('data = "01 {rate:u16}"', 'data = "01 {rate:u12}"', r"start\[0\].data", "format"),
        ('data = "01 {rate:u16}"', 'data = "01 {speed:u16}"', r"start\[0\].data", "placeholder"),
        ('timestamp = "t_us"', 'timestamp = "t_ms"', "time.timestamp", "not a header field"),
        ('name = "imustream-open"', 'name = "other"', "name", "does not match"),
        ('acc_unit = "g"', 'acc_unit = "furlong"', "layout.acc_unit", "unknown unit"),
        ("rates = [50, 100, 200]", "rates = [50, 100, -200]", r"options.rates\[2\]", "positive"),
    ],
)
def test_validation_errors_name_file_and_key(tmp_path, old, new, key, message):
    text = _base()
    assert old in text, old
    path = _write(tmp_path, "imustream-open", text.replace(old, new, 1))
    with pytest.raises(ProfileError) as info:
        profiles.load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert re.search(rf"key '{key}'", msg), msg
    assert re.search(message, msg), msg


def test_sequence_bits_wider_than_field(tmp_path):
    text = _base().replace('sequence = "seq"', 'sequence = "seq"\nsequence_bits = 17')
    with pytest.raises(ProfileError, match=r"key 'time\.sequence_bits'"):
        profiles.load(_write(tmp_path, "imustream-open", text))


def test_missing_code_and_scale_tables(tmp_path):
    base = (profiles.profile_dir() / "metamotion.toml").read_text()
    text = base.replace(", 400 = 0x2A }", " }", 1)
    with pytest.raises(ProfileError, match=r"key 'options.codes.rate'.*400"):
        profiles.load(_write(tmp_path, "metamotion", text))
    text = base.replace("2 = 6.103515625e-05, ", "", 1)
    with pytest.raises(ProfileError, match=r"key 'layout.acc_scale'"):
        profiles.load(_write(tmp_path, "metamotion", text))
    text = base.replace('decoder = "metawear_packed"', 'decoder = "magic"')
    with pytest.raises(ProfileError, match=r"key 'layout.decoder'.*magic"):
        profiles.load(_write(tmp_path, "metamotion", text))
    text = base + "\n[decoder_params]\nspeed = 1\n"
    with pytest.raises(ProfileError, match=r"decoder_params.speed"):
        profiles.load(_write(tmp_path, "metamotion", text))


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ProfileError, match="not valid TOML"):
        profiles.load(_write(tmp_path, "x", "name = = 3"))
    with pytest.raises(ProfileError, match="cannot read"):
        profiles.load(tmp_path / "absent.toml")


def test_every_key_in_bundled_files_is_documented():
    readme = (profiles.profile_dir() / "README.md").read_text()
    for name in profiles.names():
        data = tomllib.loads((profiles.profile_dir() / f"{name}.toml").read_text())
        for table, value in data.items():
            keys = value.keys() if isinstance(value, dict) else [table]
            for k in keys:
                assert f"`{k}`" in readme, f"{name}: key {k!r} missing from README.md"


def test_public_reexports():
    assert imustream.profiles is profiles
    assert issubclass(imustream.DecodeError, ValueError)


def test_profiles_are_hashable_and_compare_by_content():
    p = profiles.get("metamotion")
    assert {p: 1}[p.with_options(rate=p.default_rate)] == 1
    q = p.with_options(rate=200)
    assert q != p and q.rate == 200 and p.rate == p.default_rate  # the original is unchanged
    assert q.with_options(rate=p.default_rate) == p


def test_get_rejects_odd_names():
    for bad in (None, 3, "../imustream-open", "sub/imustream-open"):
        with pytest.raises(ProfileError, match="unknown firmware profile"):
            profiles.get(bad)  # type: ignore[arg-type]
