"""GATT write templates: hex bytes, quoted ASCII and ``{option:format}`` placeholders.

A template such as ``'01 7F "/Meas/IMU6/" {rate:ascii}'`` renders to bytes for the
profile's current options. Tokens, separated by spaces:

- two hex digits: one literal byte (``01``, ``ff``);
- ``"text"``: the ASCII bytes of ``text``;
- ``{name:fmt}``: an option value. ``name`` is ``rate``, ``acc_range``, ``gyr_range`` (the
  value itself) or ``rate_code``, ``acc_range_code``, ``gyr_range_code`` (looked up in the
  profile's ``[options.codes]`` tables); ``fmt`` is ``u8``, ``u16``, ``u32``, ``f32``
  (little-endian; append ``be`` for big-endian, e.g. ``u16be``) or ``ascii`` (decimal text).
"""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING

from ..errors import ProfileError
from .model import GattWrite, WriteTemplate

if TYPE_CHECKING:
    from .model import FirmwareProfile

__all__ = ["parse_template", "render"]

_TOKEN = re.compile(r'\s*(?:(?P<hex>[0-9A-Fa-f]{2})|"(?P<text>[^"]*)"|\{(?P<ph>[^}]*)\})')
_NAMES = ("rate", "acc_range", "gyr_range", "rate_code", "acc_range_code", "gyr_range_code")
_FORMATS = {"u8": "B", "u16": "H", "u32": "I", "f32": "f", "ascii": None}


def parse_template(template: str, where: str) -> list[tuple[str, object]]:
    """Split a template into tokens; ProfileError naming ``where`` if it is malformed."""
    tokens: list[tuple[str, object]] = []
    pos = 0
    text = template.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ProfileError(f"{where}: cannot parse write template at {text[pos:]!r}")
        pos = m.end()
        if m.group("hex") is not None:
            tokens.append(("bytes", bytes([int(m.group("hex"), 16)])))
        elif m.group("text") is not None:
            try:
                tokens.append(("bytes", m.group("text").encode("ascii")))
            except UnicodeEncodeError as exc:
                raise ProfileError(f"{where}: non-ASCII text in write template") from exc
        else:
            ph = m.group("ph")
            name, _, fmt = ph.partition(":")
            big = fmt.endswith("be") and fmt != "be"
            base = fmt[:-2] if big else fmt
            if name not in _NAMES:
                raise ProfileError(
                    f"{where}: unknown placeholder {{{ph}}} (names: {', '.join(_NAMES)})"
                )
            if base not in _FORMATS or (big and base == "ascii"):
                raise ProfileError(
                    f"{where}: unknown format in {{{ph}}} (formats: u8, u16, u32, f32, ascii)"
                )
            tokens.append(("option", (name, base, big)))
    if not tokens:
        raise ProfileError(f"{where}: empty write template")
    return tokens


def _option_value(p: FirmwareProfile, name: str) -> float:
    if name.endswith("_code"):
        opt = name[: -len("_code")]
        value = getattr(p, opt)
        table = p.codes.get(opt, {})
        if value not in table:
            raise ProfileError(
                f"{p.source_file}: key 'options.codes.{opt}' has no code for {opt}={value}"
            )
        return table[value]
    value = getattr(p, name)
    if value is None:
        raise ProfileError(f"{p.source_file}: write template uses {name} but the profile has none")
    return value


def render(w: WriteTemplate, p: FirmwareProfile) -> GattWrite:
    """Render a write template with the options of profile ``p``."""
    out = bytearray()
    for kind, tok in parse_template(w.template, p.source_file):
        if kind == "bytes":
            out += tok  # type: ignore[operator]
            continue
        name, fmt, big = tok  # type: ignore[misc]
        value = _option_value(p, name)
        if fmt == "ascii":
            out += str(round(value)).encode("ascii")
        elif fmt == "f32":
            out += struct.pack(">f" if big else "<f", value)
        else:
            try:
                out += struct.pack((">" if big else "<") + _FORMATS[fmt], round(value))
            except struct.error as exc:
                raise ProfileError(
                    f"{p.source_file}: {name}={value} does not fit {fmt} in a write template"
                ) from exc
    return GattWrite(w.char_uuid, bytes(out), w.response)
