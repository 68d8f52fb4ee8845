"""Scoring detected gait events against reference events (tolerance matching, bouts)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["MatchResult", "in_bouts", "match_events"]


def in_bouts(t: ArrayLike, bouts: ArrayLike, tol: float = 0.0) -> np.ndarray:
    """Boolean mask: which times lie inside any closed interval of ``bouts`` widened by ``tol``."""
    t = np.asarray(t, dtype=float).reshape(-1, 1)
    b = np.asarray(bouts, dtype=float).reshape(-1, 2)
    if len(b) == 0:
        return np.zeros(len(t), dtype=bool)
    return ((t >= b[:, 0] - tol) & (t <= b[:, 1] + tol)).any(axis=1)


@dataclass
class MatchResult:
    """One-to-one matches of detections to references.

    ``pairs`` holds (detection index, reference index) in the arrays given to
    :func:`match_events`; ``errors`` are detection minus reference times (s) for each pair.
    """

    tp: int
    fp: int
    fn: int
    pairs: list[tuple[int, int]] = field(default_factory=list)
    errors: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __add__(self, other: MatchResult) -> MatchResult:
        return MatchResult(
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
            [],
            np.concatenate([self.errors, other.errors]),
        )

    @property
    def precision(self) -> float:
        """tp / (tp + fp); NaN without detections."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        """tp / (tp + fn); NaN without references."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def f1(self) -> float:
        """2 tp / (2 tp + fp + fn)."""
        den = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / den if den else float("nan")

    @property
    def median_abs_error(self) -> float:
        """Median absolute timing error of the matches, s."""
        return float(np.median(np.abs(self.errors))) if len(self.errors) else float("nan")

    @property
    def mean_abs_error(self) -> float:
        """Mean absolute timing error of the matches, s."""
        return float(np.mean(np.abs(self.errors))) if len(self.errors) else float("nan")

    @property
    def bias(self) -> float:
        """Mean signed error (detection - reference), s."""
        return float(np.mean(self.errors)) if len(self.errors) else float("nan")


def match_events(detected: ArrayLike, reference: ArrayLike, tol: float) -> MatchResult:
    """Match detections to references one-to-one within ``tol`` seconds.

    Pairs are made greedily by smallest absolute time difference first, so a detection
    can never be claimed by two references.
    """
    det = np.asarray(detected, dtype=float).ravel()
    ref = np.asarray(reference, dtype=float).ravel()
    cand = []
    for j, r in enumerate(ref):
        for i in np.flatnonzero(np.abs(det - r) <= tol):
            cand.append((abs(det[i] - r), int(i), j))
    cand.sort()
    used_d: set[int] = set()
    used_r: set[int] = set()
    pairs = []
    for _, i, j in cand:
        if i not in used_d and j not in used_r:
            used_d.add(i)
            used_r.add(j)
            pairs.append((i, j))
    pairs.sort(key=lambda p: p[1])
    errors = np.array([det[i] - ref[j] for i, j in pairs], dtype=float)
    tp = len(pairs)
    return MatchResult(tp, len(det) - tp, len(ref) - tp, pairs, errors)
