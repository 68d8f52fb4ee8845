"""Arrays of tables in a profile (header/sample fields, [[start]]/[[stop]] writes): a
malformed one is a ProfileError naming the key, checked table by table in order."""

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
