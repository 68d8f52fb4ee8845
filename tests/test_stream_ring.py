"""RingBuffer: monotonically increasing write counter, readers ask for everything since N."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream.stream.ring import RingBuffer


def test_push_and_since():
    rb = RingBuffer(5, 2)
    assert rb.write_count == 0
    rows, n = rb.since(0)
    assert rows.shape == (0, 2) and n == 0
    rb.push([[1, 1], [2, 2], [3, 3]])
    rows, n = rb.since(0)
    assert n == 3 and rows[:, 0].tolist() == [1, 2, 3]
    rb.push([[4, 4], [5, 5], [6, 6]])  # wraps
    rows, n = rb.since(3)
    assert n == 6 and rows[:, 0].tolist() == [4, 5, 6]
    rows, n = rb.since(0)  # fell behind: newest capacity rows
    assert rows[:, 0].tolist() == [2, 3, 4, 5, 6]
    assert n - 0 - len(rows) == 1  # one row missed, and the reader can tell
    assert rb.latest(2)[:, 0].tolist() == [5, 6]


def test_push_more_than_capacity_keeps_newest():
    rb = RingBuffer(4, 1)
    rb.push(np.arange(10.0)[:, None])
    assert rb.write_count == 10
    assert rb.since(0)[0][:, 0].tolist() == [6, 7, 8, 9]


def test_bad_shape_is_an_error():
    rb = RingBuffer(4, 3)
    with pytest.raises(ValueError, match=r"shape \(k, 3\)"):
        rb.push(np.zeros((2, 2)))
    with pytest.raises(ValueError):
        RingBuffer(0, 3)


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 40),
    chunks=st.lists(st.integers(0, 30), min_size=1, max_size=30),
    read_every=st.integers(1, 4),
)
def test_matches_plain_list(capacity, chunks, read_every):
    """Against a plain Python list as reference; readers never see a row twice."""
    rb = RingBuffer(capacity, 1)
    ref: list[float] = []
    cursor, seen = 0, []
    for i, k in enumerate(chunks):
        block = np.arange(len(ref), len(ref) + k, dtype=float)[:, None]
        rb.push(block)
        ref += block[:, 0].tolist()
        if i % read_every == 0:
            rows, cursor_new = rb.since(cursor)
            assert rows[:, 0].tolist() == ref[max(cursor, len(ref) - capacity) :]
            seen += rows[:, 0].tolist()
            cursor = cursor_new
    assert seen == sorted(set(seen))
    assert rb.since(0)[0][:, 0].tolist() == ref[-capacity:] if ref else True


def test_concurrent_reader_sees_each_row_once_in_order():
    rb = RingBuffer(10_000, 1)
    total = 50_000
    got: list[np.ndarray] = []

    def writer():
        for start in range(0, total, 37):
            rb.push(np.arange(start, min(start + 37, total), dtype=float)[:, None])

    t = threading.Thread(target=writer)
    t.start()
    cursor = 0
    while t.is_alive() or cursor < rb.write_count:
        rows, cursor = rb.since(cursor)
        got.append(rows[:, 0])
    t.join()
    values = np.concatenate(got)
    assert np.all(np.diff(values) > 0)
    assert values[-1] == total - 1
