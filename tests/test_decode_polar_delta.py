"""Polar delta-frame numba kernel against a plain-numpy reference, on random frames."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream.profiles.decoders.polar_delta import decode_delta_frames
from imustream.sim.encoders import encode_delta_frames


def numpy_reference(data: bytes, channels: int, resolution: int) -> np.ndarray | None:
    """Vectorised numpy decoder (unpackbits + weights); None where the frame is malformed."""
    ref_bytes = (resolution + 7) // 8
    buf = np.frombuffer(data, np.uint8)
    off = channels * ref_bytes
    if buf.size < off:
        return None

    def signed(raw, bits):
        raw = raw.astype(np.int64)
        return np.where(raw >= (1 << (bits - 1)), raw - (1 << bits), raw)

    w8 = np.left_shift(np.int64(1), 8 * np.arange(ref_bytes, dtype=np.int64))
    parts = [signed(buf[:off].reshape(-1, ref_bytes).astype(np.int64) @ w8, 8 * ref_bytes)[None]]
    while off < buf.size:
        if off + 2 > buf.size:
            return None
        width, count = int(buf[off]), int(buf[off + 1])
        off += 2
        if not 1 <= width <= 32:
            return None
        nbits = width * count * channels
        nbytes = (nbits + 7) // 8
        if off + nbytes > buf.size:
            return None
        bits = np.unpackbits(buf[off : off + nbytes], bitorder="little")[:nbits].astype(np.int64)
        w = np.left_shift(np.int64(1), np.arange(width, dtype=np.int64))
        parts.append(
            signed(bits.reshape(count * channels, width) @ w, width).reshape(count, channels)
        )
        off += nbytes
    return np.cumsum(np.concatenate(parts), axis=0)


@settings(max_examples=300, deadline=None)
@given(
    samples=st.lists(st.tuples(*[st.integers(-32768, 32767)] * 3), min_size=1, max_size=300),
    channels_resolution=st.sampled_from([(3, 16), (3, 8), (1, 24), (3, 32)]),
)
def test_kernel_equals_reference_on_valid_frames(samples, channels_resolution):
    channels, resolution = channels_resolution
    arr = np.array(samples, dtype=np.int64)[:, :channels]
    lim = 1 << (min(resolution, 31) - 1)  # deltas must fit the 32-bit maximum width
    arr = np.clip(arr * (lim // 32768 or 1), -lim, lim - 1)
    data = encode_delta_frames(arr, resolution)
    out = decode_delta_frames(np.frombuffer(data, np.uint8), channels, resolution)
    np.testing.assert_array_equal(out, numpy_reference(data, channels, resolution))
    np.testing.assert_array_equal(out, arr)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=120), channels=st.sampled_from([1, 3]))
def test_kernel_equals_reference_on_arbitrary_bytes(data, channels):
    out = decode_delta_frames(np.frombuffer(data, np.uint8), channels, 16)
    ref = numpy_reference(data, channels, 16)
    if ref is None:
        assert isinstance(out, int) and out < 0
    else:
        np.testing.assert_array_equal(out, ref)


def test_frames_split_at_block_boundaries_continue_exactly():
    """Streaming: decoding frames one by one (each with its own reference) equals one pass."""
    rng = np.random.default_rng(4)
    sig = np.cumsum(rng.integers(-300, 300, (1000, 3)), axis=0)
    whole = decode_delta_frames(np.frombuffer(encode_delta_frames(sig), np.uint8), 3, 16)
    pieces, i = [], 0
    while i < len(sig):
        k = int(rng.integers(1, 60))
        frame = encode_delta_frames(sig[i : i + k])
        pieces.append(decode_delta_frames(np.frombuffer(frame, np.uint8), 3, 16))
        i += k
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
