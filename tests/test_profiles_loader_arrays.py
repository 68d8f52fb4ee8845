"""Arrays of tables in a profile (header/sample fields, [[start]]/[[stop]] writes) and the
header fields [time] refers to: a malformed one is a ProfileError naming the key."""

from __future__ import annotations

import re

import pytest

from imustream import ProfileError, profiles

HEADER = 'header = [\n    { name = "seq", type = "u16" },\n    { name = "t_us", type = "u32" },\n]'
STOP = '[[stop]]\nchar = "control"\ndata = "00"\n'


def _load(tmp_path, *edits: tuple[str, str]) -> str:
    text = (profiles.profile_dir() / "imustream-open.toml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "imustream-open.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as info:
        profiles.load(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("edits", "key", "message"),
    [
        (
            [(HEADER, 'header = "seq"')],
            "layout.header",
            r"must be an array of \{name, type\} tables",
        ),
        (
            [('{ name = "t_us", type = "u32" },', '{ name = "t_us", type = "u32", unit = "us" },')],
            r"layout.header\[1\].unit",
            "unknown key",
        ),
        (
            [(STOP, ""), ('name = "imustream-open"', 'name = "imustream-open"\nstop = 3')],
            "stop",
            r"must be an array of tables \(\[\[start\]\]",
        ),
        (
            [(STOP, STOP + '\n[[stop]]\nchar = "control"\nwait = 1\n')],
            r"stop\[1\].wait",
            "unknown key",
        ),
    ],
)
def test_malformed_arrays_of_tables_are_named(tmp_path, edits, key, message):
    msg = _load(tmp_path, *edits)
    assert re.search(rf"key '{key}'", msg), msg
    assert re.search(message, msg), msg


@pytest.mark.parametrize(
    ("edits", "key", "message"),
    [
        (
            [("tick_s = 1e-6", "tick_s = 1e-6\ntimestamp_bits = 33")],
            "time.timestamp_bits",
            "33 bits exceed the 32-bit field",
        ),
        (
            [('sequence = "seq"', 'sequence = "count"')],
            "time.sequence",
            "'count' is not a header field",
        ),
        (
            [('sequence = "seq"', 'sequence = "seq"\nsequence_bits = 17')],
            "time.sequence_bits",
            "17 bits exceed the 16-bit field",
        ),
    ],
)
def test_time_fields_must_fit_their_header_fields(tmp_path, edits, key, message):
    msg = _load(tmp_path, *edits)
    assert re.search(rf"key '{key}'", msg), msg
    assert message in msg, msg


def test_narrower_time_fields_are_kept(tmp_path):
    text = (profiles.profile_dir() / "imustream-open.toml").read_text()
    text = text.replace('sequence = "seq"', 'sequence = "seq"\nsequence_bits = 12')
    text = text.replace("tick_s = 1e-6", "tick_s = 1e-6\ntimestamp_bits = 24")
    path = tmp_path / "imustream-open.toml"
    path.write_text(text)
    p = profiles.load(path)
    assert p.seq_bits == 12 and p.timestamp_wrap_s == pytest.approx(2**24 * 1e-6)
    default = profiles.get("imustream-open")
    assert default.seq_bits == 16 and default.timestamp_wrap_s == pytest.approx(2**32 * 1e-6)
