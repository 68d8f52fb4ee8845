"""Packet decoders. ``fields`` covers fixed layouts; the others are named by a profile's
``layout.decoder`` key for layouts fixed fields cannot describe."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...errors import ProfileError

if TYPE_CHECKING:
    from ...types import SampleBlock
    from ..model import FirmwareProfile

__all__ = ["DECODERS", "make_decoder"]

#: decoder name -> "module:class"; the class takes a FirmwareProfile and is callable on payloads
DECODERS: dict[str, str] = {
    "fields": "fields:FieldsDecoder",
    "polar_pmd": "polar_pmd:PolarPmdDecoder",
    "metawear_packed": "metawear:MetaWearPackedDecoder",
}


def make_decoder(p: FirmwareProfile) -> Callable[[bytes], SampleBlock]:
    """Build the decoder named by ``p.decoder_name`` for profile ``p``."""
    mod_name, cls_name = DECODERS[p.decoder_name].split(":")
    cls = getattr(importlib.import_module(f"{__name__}.{mod_name}"), cls_name)
    unknown = sorted(set(p.decoder_params) - set(cls.PARAMS))
    if unknown:
        allowed = ", ".join(cls.PARAMS) or "none"
        raise ProfileError(f"key 'decoder_params.{unknown[0]}': unknown (allowed: {allowed})")
    return cls(p)
