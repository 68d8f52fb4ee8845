"""Numba biquad cascade vs scipy.signal.sosfilt: bit-identical, whatever the chunking."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream.dsp.filters import StreamingFilter, butter_sos
from imustream.dsp.kernels.filters import sos_filter, sos_step


def _chunks(rng: np.random.Generator, n: int, max_len: int) -> list[slice]:
    out, i = [], 0
    while i < n:
        k = int(rng.integers(0, max_len + 1))  # empty chunks too
        out.append(slice(i, min(n, i + k)))
        i += k
    return out


@pytest.mark.parametrize(
    ("order", "cutoff", "btype"),
    [(1, 10.0, "low"), (2, 20.0, "low"), (4, 20.0, "low"), (4, 0.5, "high"), (3, (1, 8), "band")],
)
def test_whole_array_bit_identical_to_sosfilt(order, cutoff, btype):
    rng = np.random.default_rng(order)
    x = rng.normal(size=(3000, 6)) * 5 + 9.81
    sos = butter_sos(order, cutoff, 200.0, btype)
    y = StreamingFilter(sos, 6).process(x)
    assert np.array_equal(y, ss.sosfilt(sos, x, axis=0))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), max_len=st.sampled_from([1, 7, 64, 1000]))
def test_random_chunking_bit_identical(seed, max_len):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(700, 3))
    sos = butter_sos(4, 15.0, 104.0)
    f = StreamingFilter(sos, 3)
    y = np.concatenate([f.process(x[s]) for s in _chunks(rng, len(x), max_len)])
    assert np.array_equal(y, ss.sosfilt(sos, x, axis=0))


def test_carried_state_matches_sosfilt_zi():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 2))
    sos = butter_sos(2, 5.0, 100.0)
    f = StreamingFilter(sos, 2)
    f.process(x[:123])
    # scipy zi layout for axis=0 is (sections, 2, channels); ours (channels, sections, 2)
    _, zf = ss.sosfilt(sos, x[:123], axis=0, zi=np.zeros((sos.shape[0], 2, 2)))
    assert np.array_equal(np.transpose(f.zi, (1, 2, 0)), zf)


def test_sos_step_equals_block_kernel():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 1))
    sos = butter_sos(4, 30.0, 500.0)
    z1, z2 = np.zeros((1, 2, 2)), np.zeros((1, 2, 2))
    y = np.empty_like(x)
    sos_filter(sos, z1, x, y)
    y2 = np.array([sos_step(sos, z2, 0, v) for v in x[:, 0]])
    assert np.array_equal(y[:, 0], y2)
    assert np.array_equal(z1, z2)


def test_reset_and_one_dimensional_input():
    sos = butter_sos(2, 5.0, 100.0)
    f = StreamingFilter(sos, 1)
    x = np.sin(np.arange(300) / 7.0)
    a = f.process(x)
    f.reset()
    assert a.shape == (300,)
    assert np.array_equal(f.process(x), a)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((4, 0.0, 100.0), "cutoff"),
        ((4, 50.0, 100.0), "cutoff"),
        ((4, 10.0, 0.0), "fs"),
        ((0, 10.0, 100.0), "order"),
    ],
)
def test_design_errors_name_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        butter_sos(*args)


def test_filter_errors():
    sos = butter_sos(2, 5.0, 100.0)
    with pytest.raises(ValueError, match="sos"):
        StreamingFilter(np.zeros((2, 5)), 1)
    with pytest.raises(ValueError, match="normalised"):
        StreamingFilter(sos * 2, 1)
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        StreamingFilter(sos, 3).process(np.zeros((10, 2)))
