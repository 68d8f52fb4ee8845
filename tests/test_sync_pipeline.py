"""Encoder -> decoder -> sync for imustream-open across a u16 sequence wrap and a u32 µs
timestamp wrap at once, with lost, duplicated and reordered packets."""

from __future__ import annotations

import numpy as np

from imustream import profiles
from imustream.sim.encoders import PacketEncoder
from imustream.sync import ClockMapper, SequenceTracker, TimestampUnwrapper


def test_wraps_losses_and_reordering_end_to_end():
    rng = np.random.default_rng(21)
    p = profiles.get("imustream-open").with_options(rate=200)
    enc = PacketEncoder(p, samples_per_packet=4)
    period = 4 / 200.0
    n_packets = 3000  # 60 s
    t0 = p.timestamp_wrap_s - 20.0  # the µs clock wraps 20 s in
    seq0 = 65536 - 1000  # the counter wraps after 1000 packets
    drift = 1 + 30e-6
    payloads = []
    for k in range(n_packets):
        acc = rng.normal(0, 5, (4, 3))
        payloads.append((k, enc.encode(acc, acc * 0.1, t0 + k * period, seq0 + k)))
    sent = [x for x in payloads if rng.random() > 0.02]  # 2% lost
    for i in rng.choice(len(sent) - 1, 30, replace=False):  # 30 swapped neighbours
        sent[i], sent[i + 1] = sent[i + 1], sent[i]
    sent += [sent[i] for i in rng.choice(len(sent), 10, replace=False)]  # 10 late duplicates
    seq = SequenceTracker(p.seq_bits)
    unwrap = TimestampUnwrapper(p.timestamp_wrap_s)
    clock = ClockMapper()
    host0 = 100.0
    for k, payload in sent:
        b = p.decode(payload)
        r = seq.update(b.seq)
        if r.duplicate:
            continue
        t = unwrap.update(b.t_device)
        assert r.unwrapped - (seq0 % 65536) == k  # the counter unwraps to the packet index
        np.testing.assert_allclose(
            t - t0 % p.timestamp_wrap_s, k * period + np.arange(4) / 200, atol=2e-6
        )
        true_arrival = host0 + (k * period + 3 / 200) * drift
        clock.observe(t[-1], true_arrival + rng.uniform(0, 0.03))
    lost = n_packets - len({k for k, _ in sent})
    assert seq.missing == lost and seq.duplicates == 10
    assert seq.reordered > 0 and unwrap.wraps == 1
    d = t0 % p.timestamp_wrap_s + np.arange(n_packets) * period
    truth = host0 + np.arange(n_packets) * period * drift
    assert np.abs(clock.to_host(d) - truth).max() < 1e-3
