"""Conversion of imustream records (gaps, link states, events, steps, ...) to log JSON."""

from __future__ import annotations

import dataclasses

from ..types import Alert, Gap, InitialContact, Marker, StateChange, Step, ToeOff
from .logformat import Kind

Record = Gap | StateChange | InitialContact | ToeOff | Step | Alert | Marker


def _clean(value: object) -> object:
    """A JSON-safe copy (NaN/inf floats are kept: the log's JSON allows them)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def to_log_record(item: Record) -> tuple[Kind, dict]:
    """Map a record object to its log kind and a JSON-safe dict.

    Raises
    ------
    TypeError
        If ``item`` is not one of the record types of :mod:`imustream.types`.
    """
    kinds = {
        Gap: Kind.GAP,
        StateChange: Kind.STATE,
        InitialContact: Kind.EVENT,
        ToeOff: Kind.EVENT,
        Step: Kind.STEP,
        Alert: Kind.ALERT,
        Marker: Kind.MARKER,
    }
    kind = kinds.get(type(item))
    if kind is None:
        raise TypeError(f"cannot record an object of type {type(item).__name__}")
    obj = {f.name: _clean(getattr(item, f.name)) for f in dataclasses.fields(item)}
    if kind is Kind.EVENT:
        obj["kind"] = "ic" if isinstance(item, InitialContact) else "to"
    return kind, obj
