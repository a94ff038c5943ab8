"""The after-sales desk: agents on shifts answering tickets first come, first served.

Two implementations of the same queue, and a test that they agree ticket by ticket:

- ``desk_simpy``: agents and tickets as SimPy processes. The reference: it reads like the
  real desk (an agent on duty takes the oldest waiting ticket; a chat customer leaves when
  their patience runs out; an agent finishes the ticket in hand when the shift ends).
- ``desk_fast``: the same FCFS multi-server queue as a recursion over tickets in arrival
  order, with a heap of the times each agent slot is next free. A Double 11 broadcast
  produces millions of tickets; the recursion handles them in seconds where one SimPy
  process per ticket would take minutes.

Agents are slots: slot ``i`` is on duty whenever the shift schedule has more than ``i``
agents. A chat that leaves is still owed a reply: its first reply is sent when an agent
reaches it in the queue (the agent spends no handling time on it). A ticket no agent reaches
before the horizon is unanswered (``start = inf``).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

INF = math.inf


@dataclass(frozen=True)
class DeskOutcome:
    start: np.ndarray  # when an agent reached the ticket (first reply); inf if never
    abandoned: np.ndarray  # bool: the customer left before an agent reached them
    busy_seconds: float  # handling time spent by agents while on duty
    on_duty_seconds: float  # agent-seconds on shift within the horizon


class Roster:
    """The shift schedule as per-slot duty intervals, merged where shifts touch."""

    def __init__(self, shifts: list[tuple[float, float, int]], horizon: float) -> None:
        self.horizon = horizon
        self.slots = max((n for _, _, n in shifts), default=0)
        self.on_duty_seconds = float(sum(
            n * max(0.0, min(e, horizon) - s) for s, e, n in shifts))
        ordered = sorted(shifts)
        self.intervals: list[tuple[list[float], list[float]]] = []
        for i in range(self.slots):
            starts: list[float] = []
            ends: list[float] = []
            for s, e, n in ordered:
                if n > i:
                    if ends and abs(ends[-1] - s) < 1e-9:
                        ends[-1] = e
                    else:
                        starts.append(s)
                        ends.append(e)
            self.intervals.append((starts, ends))

    def next_on(self, slot: int, t: float) -> float:
        """The first time >= t at which ``slot`` is on duty (inf if never again)."""
        starts, ends = self.intervals[slot]
        k = bisect.bisect_right(ends, t)
        while k < len(starts):
            if starts[k] <= t < ends[k]:
                return t
            if starts[k] > t:
                return starts[k]
            k += 1
        return INF

    def duty_end(self, slot: int, t: float) -> float:
        starts, ends = self.intervals[slot]
        k = bisect.bisect_right(ends, t)
        return ends[k] if k < len(ends) and starts[k] <= t else t

    def interval(self, slot: int, t: float) -> tuple[float, float]:
        """The duty interval of ``slot`` that contains ``t`` (``t`` must be on duty)."""
        starts, ends = self.intervals[slot]
        k = bisect.bisect_right(ends, t)
        return starts[k], ends[k]


def desk_fast(arrival: np.ndarray, handling: np.ndarray, patience: np.ndarray,
              roster: Roster) -> DeskOutcome:
    """FCFS c-server queue with impatience and shifts, by recursion (tickets sorted by time).

    The heap is keyed by the time each slot has been idle since (the end of its last ticket,
    or the start of its current duty interval, whichever is later), so that when several
    agents are free the one idle longest takes the ticket, as in ``desk_simpy``.
    """
    n = arrival.size
    start = np.full(n, INF)
    abandoned = np.zeros(n, dtype=bool)
    heap = [(roster.next_on(i, 0.0), i) for i in range(roster.slots)]
    heapq.heapify(heap)
    busy = 0.0
    horizon = roster.horizon
    replace = heapq.heapreplace
    # each slot's current duty interval, so the common case (on duty) costs two comparisons
    lo = [INF] * roster.slots
    hi = [-INF] * roster.slots
    a_list, h_list, p_list = arrival.tolist(), handling.tolist(), patience.tolist()
    for k in range(n):
        if not heap:
            break
        a = a_list[k]
        while True:
            f, i = heap[0]
            s = f if f > a else a
            if s == INF:
                break
            if not lo[i] <= s < hi[i]:
                on = roster.next_on(i, s)
                if on == INF:
                    replace(heap, (INF, i))
                    continue
                lo[i], hi[i] = roster.interval(i, on)
                if on != s:
                    replace(heap, (on, i))
                    continue
            if lo[i] > f:  # idle since it came on duty, not since its last ticket
                replace(heap, (lo[i], i))
                continue
            break
        if s >= horizon:
            continue
        if s - a > p_list[k]:
            abandoned[k] = True
            start[k] = s
            continue
        start[k] = s
        h = h_list[k]
        replace(heap, (s + h, i))
        busy += min(s + h, hi[i], horizon) - s
    never = ~np.isfinite(start)
    abandoned[never] = arrival[never] + patience[never] < horizon
    return DeskOutcome(start, abandoned, busy, roster.on_duty_seconds)


def desk_simpy(arrival: np.ndarray, handling: np.ndarray, patience: np.ndarray,
               roster: Roster) -> DeskOutcome:
    """The same desk as SimPy processes: a source, one process per agent slot and per ticket.

    Tickets and free agents meet in a dispatch that runs last at each instant (after every
    arrival, every agent freed and every agent coming on duty at that instant), so the
    waiting tickets go, oldest first, to the agent idle longest (ties: the lower slot), the
    rule of the recursion; a customer's patience is judged after that dispatch, since a
    customer leaves only if the wait exceeds the patience.
    """
    import simpy

    late, last = 2, 3  # after SimPy's URGENT (0) and NORMAL (1) events of the same instant
    env = simpy.Environment()
    n = arrival.size
    start = np.full(n, INF)
    abandoned = np.zeros(n, dtype=bool)
    started = [False] * n
    waiting: deque[int] = deque()
    idle: dict[int, float] = {}  # free agents on duty: slot -> idle since
    assigned: dict[int, simpy.Event] = {}
    state = {"busy": 0.0, "pending": False}

    def at_end_of_instant(priority: int, fn: Any) -> None:
        ev = env.event()
        ev._ok, ev._value = True, None  # a succeeded event, scheduled at a later priority
        ev.callbacks.append(lambda _ev: fn())
        env.schedule(ev, priority=priority)

    def dispatch() -> None:
        state["pending"] = False
        while waiting and idle:
            k = waiting.popleft()
            start[k] = env.now
            if abandoned[k]:
                continue  # a reply to a customer who left; the agent stays free
            slot = min(idle, key=lambda i: (idle[i], i))
            del idle[slot]
            started[k] = True
            assigned.pop(slot).succeed(k)

    def request_dispatch() -> None:
        if not state["pending"]:
            state["pending"] = True
            at_end_of_instant(late, dispatch)

    def customer(k: int):
        waiting.append(k)
        request_dispatch()
        if math.isfinite(patience[k]):
            yield env.timeout(float(patience[k]))

            def judge() -> None:
                if not started[k]:
                    abandoned[k] = True

            at_end_of_instant(last, judge)

    def source():
        for k in range(n):
            yield env.timeout(max(0.0, float(arrival[k]) - env.now))
            env.process(customer(k))

    def agent(slot: int):
        while True:
            on = roster.next_on(slot, env.now)
            if on == INF:
                return
            if on > env.now:
                yield env.timeout(on - env.now)
                continue
            idle[slot] = env.now
            assigned[slot] = got = env.event()
            request_dispatch()
            off = env.timeout(roster.duty_end(slot, env.now) - env.now)
            yield got | off
            if not got.triggered:  # the shift ended while idle
                idle.pop(slot, None)
                assigned.pop(slot, None)
                continue
            k = got.value
            h = float(handling[k])
            state["busy"] += min(env.now + h, roster.duty_end(slot, env.now),
                                 roster.horizon) - env.now
            yield env.timeout(h)

    env.process(source())
    for slot in range(roster.slots):
        env.process(agent(slot))
    env.run(until=roster.horizon)
    # the clock reaches an arrival by adding delays; snap float dust back onto the arrival
    close = np.abs(start - arrival) < 1e-9
    start[close] = arrival[close]
    start[start >= roster.horizon] = INF
    return DeskOutcome(start, abandoned, state["busy"], roster.on_duty_seconds)
