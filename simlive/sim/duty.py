"""The desk's shift schedule as the desk engines read it: for each agent slot, when it is on
duty. Shared by ``desk`` (the recursion and its fast form) and ``desk_simpy``."""

from __future__ import annotations

import bisect
import math

import numpy as np

INF = math.inf


class Roster:
    """The shift schedule as a step function of slots on duty, and each slot's duty intervals.

    Slot ``i`` is on duty wherever more than ``i`` slots are (shifts that overlap are summed;
    shifts that touch make one interval). A slot's intervals are found the first time they
    are asked for: a roster of thousands of slots over hundreds of segments would otherwise
    spend seconds listing intervals for slots the desk never reaches.
    """

    def __init__(self, shifts: list[tuple[float, float, int]], horizon: float) -> None:
        self.horizon = horizon
        rows = [(float(s), float(e), int(n)) for s, e, n in shifts if n > 0 and e > s]
        self.on_duty_seconds = float(sum(
            n * max(0.0, min(e, horizon) - s) for s, e, n in rows))
        times = np.unique(np.asarray([t for s, e, _ in rows for t in (s, e)], dtype=float))
        delta = np.zeros(times.size + 1, dtype=np.int64)
        for s, e, n in rows:
            delta[np.searchsorted(times, s)] += n
            delta[np.searchsorted(times, e)] -= n
        self.times = times  # segment g is times[g] .. times[g + 1]
        self.heads = np.cumsum(delta)[:max(0, times.size - 1)]  # slots on duty in segment g
        self.slots = int(self.heads.max()) if self.heads.size else 0
        self._intervals: list[tuple[list[float], list[float]] | None] = [None] * self.slots

    def intervals(self, slot: int) -> tuple[list[float], list[float]]:
        """The starts and ends of ``slot``'s duty intervals, in order."""
        got = self._intervals[slot]
        if got is None:
            on = np.concatenate(([False], self.heads > slot, [False]))
            edge = np.flatnonzero(on[1:] != on[:-1])
            got = (self.times[edge[0::2]].tolist(), self.times[edge[1::2]].tolist())
            self._intervals[slot] = got
        return got

    def next_on(self, slot: int, t: float) -> float:
        """The first time >= t at which ``slot`` is on duty (inf if never again)."""
        starts, ends = self.intervals(slot)
        k = bisect.bisect_right(ends, t)
        if k < len(starts):
            return t if starts[k] <= t else starts[k]
        return INF

    def duty_end(self, slot: int, t: float) -> float:
        starts, ends = self.intervals(slot)
        k = bisect.bisect_right(ends, t)
        return ends[k] if k < len(ends) and starts[k] <= t else t

    def interval(self, slot: int, t: float) -> tuple[float, float]:
        """The duty interval of ``slot`` that contains ``t`` (``t`` must be on duty)."""
        starts, ends = self.intervals(slot)
        k = bisect.bisect_right(ends, t)
        return starts[k], ends[k]
