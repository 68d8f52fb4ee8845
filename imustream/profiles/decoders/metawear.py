"""MbientLab MetaWear / MetaMotion packed accelerometer and gyroscope notifications.

Every notification is ``[module, register, payload]`` (MetaWear-SDK-Cpp). In packed mode
the BMI160/BMI270 accelerometer (module 0x03, register 0x1C ``PACKED_ACC_DATA``) and the
gyroscope (module 0x13, register 0x07 ``PACKED_GYRO_DATA`` on the BMI160, 0x05 on the
BMI270) each send 3 samples of int16 x, y, z per 20-byte notification, separately. A decoded
block therefore carries 3 samples of one quantity; the other quantity is all NaN (see
:class:`imustream.sync.QuantityPairer` to merge them). Streamed packets carry no time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import DecodeError
from ...types import SampleBlock
from .fields import as_bytes, quantity_scale

if TYPE_CHECKING:
    from ..model import FirmwareProfile

__all__ = ["ACC_MODULE", "GYRO_MODULE", "MetaWearPackedDecoder"]

ACC_MODULE, ACC_PACKED = 0x03, 0x1C
GYRO_MODULE = 0x13
SAMPLES = 3
SIZE = 2 + SAMPLES * 6


class MetaWearPackedDecoder:
    """Decoder for ``layout.decoder = "metawear_packed"``.

    Decoder parameter ``gyro_packed_register``: 0x07 (BMI160 boards, default) or 0x05
    (BMI270 boards).
    """

    PARAMS = ("gyro_packed_register",)

    def __init__(self, p: FirmwareProfile) -> None:
        self.name = p.name
        self.gyro_reg = int(p.decoder_params.get("gyro_packed_register", 0x07))
        self.acc_scale = quantity_scale(p, "acc")
        self.gyr_scale = quantity_scale(p, "gyr")
        self._nan = np.full((SAMPLES, 3), np.nan)
        self._nan.flags.writeable = False  # shared by every block: the quantity not sent

    def __call__(self, payload: bytes | bytearray | memoryview) -> SampleBlock:
        buf = as_bytes(payload)
        if len(buf) != SIZE:
            what = "empty payload" if not buf else f"{len(buf)} bytes, expected {SIZE}"
            raise DecodeError(f"{self.name}: {what}")
        head = (buf[0], buf[1])
        raw = np.frombuffer(buf, "<i2", count=SAMPLES * 3, offset=2).reshape(SAMPLES, 3)
        if head == (ACC_MODULE, ACC_PACKED):
            return SampleBlock.trusted(raw * self.acc_scale, self._nan)
        if head == (GYRO_MODULE, self.gyro_reg):
            return SampleBlock.trusted(self._nan, raw * self.gyr_scale)
        raise DecodeError(
            f"{self.name}: header {buf[0]:#04x} {buf[1]:#04x} is neither packed acc "
            f"({ACC_MODULE:#04x} {ACC_PACKED:#04x}) nor packed gyro "
            f"({GYRO_MODULE:#04x} {self.gyro_reg:#04x})"
        )
