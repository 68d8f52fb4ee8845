"""numba kernel for Polar PMD delta-compressed frames (imported on the first compressed frame).

Layout (polar-ble-sdk ``BlePMDClient.parseDeltaFramesAll``): a reference sample of
``channels x ref_bytes`` signed little-endian integers, then blocks ``[bit width u8,
sample count u8, count x channels deltas of `width` bits, two's complement, LSB first,
padded to a whole byte]``; each sample is the previous one plus its delta.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["DELTA_ERRORS", "decode_delta_frames", "delta_frames_kernel"]

#: kernel error codes -> messages
DELTA_ERRORS = {
    -1: "delta frame has no complete reference sample",
    -2: "delta frame ends inside a block header",
    -3: "delta frame block with bit width 0 or above 32",
    -4: "delta frame block is truncated",
    -5: "delta frame holds more samples than its size allows",
}


@njit(cache=True, nogil=True)
def delta_frames_kernel(data, channels, ref_bytes, out):
    """Decode ``data`` (uint8) into ``out`` (int64, rows x channels); return the sample count
    or a negative error code (see ``DELTA_ERRORS``)."""
    size = data.shape[0]
    off = channels * ref_bytes
    if size < off:
        return -1
    top = np.int64(1) << (8 * ref_bytes - 1)
    for c in range(channels):
        v = np.int64(0)
        for b in range(ref_bytes):
            v |= np.int64(data[c * ref_bytes + b]) << (8 * b)
        if v >= top:
            v -= top << 1
        out[0, c] = v
    n = 1
    while off < size:
        if off + 2 > size:
            return -2
        width = np.int64(data[off])
        count = np.int64(data[off + 1])
        off += 2
        if width < 1 or width > 32:
            return -3
        nbytes = (width * count * channels + 7) // 8
        if off + nbytes > size:
            return -4
        if n + count > out.shape[0]:
            return -5
        sign = np.int64(1) << (width - 1)
        bit = off * 8
        for _ in range(count):
            for c in range(channels):
                v = np.int64(0)
                for i in range(width):
                    v |= ((np.int64(data[bit >> 3]) >> (bit & 7)) & 1) << i
                    bit += 1
                if v >= sign:
                    v -= sign << 1
                out[n, c] = out[n - 1, c] + v
            n += 1
        off += nbytes
    return n


def decode_delta_frames(data: np.ndarray, channels: int, resolution: int) -> np.ndarray | int:
    """Samples (n, channels) int64 of a delta-compressed payload, or a negative error code."""
    out = np.empty((1 + (8 * data.shape[0]) // channels, channels), np.int64)
    n = delta_frames_kernel(data, channels, (resolution + 7) // 8, out)
    return n if n < 0 else out[:n]
