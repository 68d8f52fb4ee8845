"""Core types: shapes are validated, records are frozen and slotted."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imustream.types import STEP_FIELDS, Gap, SampleBlock, Sensor, Step


def test_sample_block_shapes():
    b = SampleBlock(acc=np.zeros((4, 3)), gyr=np.zeros((4, 3)), t_device=np.arange(4.0))
    assert b.n == 4
    with pytest.raises(ValueError, match="gyr"):
        SampleBlock(acc=np.zeros((4, 3)), gyr=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="t_device"):
        SampleBlock(acc=np.zeros((4, 3)), gyr=np.zeros((4, 3)), t_device=np.zeros(5))


def test_records_frozen_and_slotted():
    s = Step(side="left", ic_time=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.ic_time = 2.0  # type: ignore[misc]
    assert not hasattr(s, "__dict__")
    assert np.isnan(s.pelvic_drop_deg)
    assert [f.name for f in dataclasses.fields(Step)] == list(STEP_FIELDS)
    g = Gap(sensor=Sensor.PELVIS, start=1.0, end=2.0, n_missing=10)
    assert g.reason == "loss"


def test_sensor_sides():
    assert Sensor.SHOE_LEFT.side == "left"
    assert Sensor.SHOE_RIGHT.side == "right"
    assert Sensor.PELVIS.side is None
    assert Sensor("pelvis") is Sensor.PELVIS


def test_trusted_constructor_equals_checked_one():
    acc, gyr, t = np.ones((5, 3)), np.zeros((5, 3)), np.arange(5.0)
    a = SampleBlock(acc=acc, gyr=gyr, t_device=t, seq=7, sensor="pelvis", host_ns=3)
    b = SampleBlock.trusted(acc, gyr, t, None, 7, "pelvis", 3)
    for f in dataclasses.fields(SampleBlock):
        assert getattr(a, f.name) is getattr(b, f.name) or getattr(a, f.name) == getattr(b, f.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.seq = 8  # type: ignore[misc]
