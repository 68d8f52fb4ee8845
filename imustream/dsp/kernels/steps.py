"""Step assembly kernels: sorted event stores, IC merge, TO search (see ``dsp/steps.py``).

State (arrays, mutated in place):

* ``ev`` (6, cap) float64: sorted event times per store, ``cnt`` (6,) int64 how many;
  stores: shoe IC left / right, shoe TO left / right, pelvis IC, pelvis TO;
* ``evs`` (6, cap) int64: side of each event (``-1`` unknown; shoe stores: their side);
* ``sc`` float64 ``[done_until, last_side]`` (last side -1 = none).

Sides are ``0`` (left), ``1`` (right), ``-1`` (unknown); ``shoe`` (2,) bool tells which
sides have a shoe. Same rules and order of operations as the former pure-Python assembler.
"""

from __future__ import annotations

import numpy as np
from numba import njit

S_IC = 0  # + side
S_TO = 2  # + side
S_PIC = 4
S_PTO = 5
SC_DONE = 0
SC_LAST = 1


@njit(cache=True, nogil=True)
def _left(a: np.ndarray, n: int, x: float) -> int:
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _right(a: np.ndarray, n: int, x: float) -> int:
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if x < a[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, nogil=True)
def insert(ev: np.ndarray, evs: np.ndarray, cnt: np.ndarray, store: int, t: float, side: int):
    """Insert ``t`` into ``store`` after equal times (``bisect.insort``); caller ensures room."""
    n = cnt[store]
    i = _right(ev[store], n, t)
    for j in range(n, i, -1):
        ev[store, j] = ev[store, j - 1]
        evs[store, j] = evs[store, j - 1]
    ev[store, i] = t
    evs[store, i] = side
    cnt[store] = n + 1


@njit(cache=True, nogil=True)
def _near(ev, cnt, store, t, tol):
    i = _left(ev[store], cnt[store], t - tol)
    return i < cnt[store] and ev[store, i] <= t + tol


@njit(cache=True, nogil=True)
def merged_ics(ev, evs, cnt, shoe, tol, sc, until, out_t, out_s) -> int:
    """ICs after the last emitted one and before ``until``, in time order, with sides."""
    m = 0
    for s in range(2):
        if shoe[s]:
            for j in range(cnt[S_IC + s]):
                t = ev[S_IC + s, j]
                if t < until:
                    out_t[m] = t
                    out_s[m] = s
                    m += 1
    n_shoes = int(shoe[0]) + int(shoe[1])
    if n_shoes < 2:
        sh = 0 if shoe[0] else 1
        for j in range(cnt[S_PIC]):
            t = ev[S_PIC, j]
            if t >= until:
                break
            side = evs[S_PIC, j]
            if n_shoes == 1:
                if _near(ev, cnt, S_IC + sh, t, tol):
                    continue
                side = 1 - sh
            out_t[m] = t
            out_s[m] = side
            m += 1
    # keep those after done_until, stable insertion sort by time
    done = sc[SC_DONE]
    k = 0
    for j in range(m):
        if out_t[j] > done:
            t = out_t[j]
            s = out_s[j]
            i = k
            while i > 0 and out_t[i - 1] > t:
                out_t[i] = out_t[i - 1]
                out_s[i] = out_s[i - 1]
                i -= 1
            out_t[i] = t
            out_s[i] = s
            k += 1
    # sides still unknown (pelvis alone, detector gave none): alternate
    last = int(sc[SC_LAST])
    for j in range(k):
        if out_s[j] < 0:
            out_s[j] = 1 - last if last >= 0 else 0
        last = out_s[j]
    return k


@njit(cache=True, nogil=True)
def to_for(ev, evs, cnt, shoe, side, ic, limit) -> float:
    """First TO of ``side`` after ``ic`` and before ``limit`` (NaN if none)."""
    if shoe[side]:
        st = S_TO + side
        i = _right(ev[st], cnt[st], ic)
        if i < cnt[st] and ev[st, i] < limit:
            return ev[st, i]
        return np.nan
    for j in range(cnt[S_PTO]):
        t = ev[S_PTO, j]
        if t <= ic:
            continue
        if t >= limit:
            break
        s = evs[S_PTO, j]
        if s < 0 or s == side:
            return t
    return np.nan


@njit(cache=True, nogil=True)
def advance(
    ev, evs, cnt, shoe, cfg, sc, watermark, final, buf_t, buf_s, out
) -> tuple[int, float, float]:
    """Emit complete steps into ``out`` rows ``[side, ic, to, next_ic]``; return
    ``(count, blocked, next)``: ``blocked`` is the TO deadline that stopped the merge (inf),
    ``next`` the :func:`next_ic` at ``watermark`` after the pass.

    ``cfg`` = ``[max_contact, max_step, match_tol]``; ``buf_t``/``buf_s`` scratch of
    ``sum(cnt)`` rows; ``out`` needs as many rows. ``final``: also emit the last steps
    (no next IC), as ``finish``.
    """
    max_contact = cfg[0]
    max_step = cfg[1]
    tol = cfg[2]
    k = merged_ics(ev, evs, cnt, shoe, tol, sc, watermark, buf_t, buf_s)
    n_out = 0
    blocked = np.inf
    for j in range(k - 1):
        t = buf_t[j]
        side = buf_s[j]
        t_next = buf_t[j + 1]
        side_next = buf_s[j + 1]
        same_next = np.inf
        for u in range(j + 1, k):
            if buf_s[u] == side:
                same_next = buf_t[u]
                break
        limit = min(t + max_contact, same_next)
        to = to_for(ev, evs, cnt, shoe, side, t, limit)
        if np.isnan(to) and t + max_contact >= watermark:
            blocked = t + max_contact
            break  # TO may still arrive (e.g. walking: TO after the contralateral IC)
        if side_next == side or t_next - t > max_step:
            t_next = np.nan
        out[n_out, 0] = side
        out[n_out, 1] = t
        out[n_out, 2] = to
        out[n_out, 3] = t_next
        n_out += 1
        sc[SC_DONE] = t
        sc[SC_LAST] = side
    prune(ev, evs, cnt, sc[SC_DONE] - 2.0 * max_step)
    if final:
        k = merged_ics(ev, evs, cnt, shoe, tol, sc, np.inf, buf_t, buf_s)
        for j in range(k):
            t = buf_t[j]
            side = buf_s[j]
            out[n_out, 0] = side
            out[n_out, 1] = t
            out[n_out, 2] = to_for(ev, evs, cnt, shoe, side, t, t + max_contact)
            out[n_out, 3] = np.nan
            n_out += 1
            sc[SC_DONE] = t
            sc[SC_LAST] = side
    return n_out, blocked, next_ic(ev, cnt, watermark)


@njit(cache=True, nogil=True)
def prune(ev, evs, cnt, keep: float) -> None:
    """Drop the events before ``keep`` from every store."""
    for st in range(ev.shape[0]):
        n = cnt[st]
        i = _left(ev[st], n, keep)
        if i:
            for j in range(n - i):
                ev[st, j] = ev[st, j + i]
                evs[st, j] = evs[st, j + i]
            cnt[st] = n - i


@njit(cache=True, nogil=True)
def next_ic(ev, cnt, watermark: float) -> float:
    """Earliest stored IC (shoe or pelvis) at or after ``watermark`` (inf if none)."""
    nxt = np.inf
    for st in (S_IC, S_IC + 1, S_PIC):
        i = _left(ev[st], cnt[st], watermark)
        if i < cnt[st] and ev[st, i] < nxt:
            nxt = ev[st, i]
    return nxt


@njit(cache=True, nogil=True)
def pelvis_side(ev, cnt, shoe, tol: float, time: float, to: bool) -> int:
    """Side of a pelvis IC (TO) at ``time`` from the nearest shoe IC (TO) within ``tol``;
    with one shoe, events not matching it belong to the other side; -1 if unknown."""
    best_d = np.inf
    best = -1
    for s in range(2):
        if not shoe[s]:
            continue
        st = (S_TO if to else S_IC) + s
        n = cnt[st]
        i = _left(ev[st], n, time)
        for j in (i - 1, i):
            if 0 <= j < n:
                d = abs(ev[st, j] - time)
                if d <= tol and (best < 0 or d < best_d):
                    best_d = d
                    best = s
    if best >= 0:
        return best
    if shoe[0] != shoe[1]:
        return 1 if shoe[0] else 0
    return -1


@njit(cache=True, nogil=True)
def insert_shoe_events(
    ev: np.ndarray,
    evs: np.ndarray,
    cnt: np.ndarray,
    side: int,
    kinds: np.ndarray,
    times: np.ndarray,
    n: int,
) -> int:
    """Insert ``n`` shoe events (``kinds`` 0 = IC, 1 = TO; ``times[j, 0]``, NaN = skipped)
    of ``side``; return how many were inserted, or -1 (nothing inserted) without room."""
    cap = ev.shape[1]
    if cnt[S_IC + side] + n > cap or cnt[S_TO + side] + n > cap:
        return -1
    added = 0
    for j in range(n):
        t = times[j, 0]
        if t != t:
            continue
        insert(ev, evs, cnt, (S_IC if kinds[j] == 0 else S_TO) + side, t, side)
        added += 1
    return added
