"""The after-sales desk as SimPy processes: the reference ``desk_fast`` is checked against.

It reads like the real desk (an agent on duty takes the oldest waiting ticket; a chat
customer leaves when their patience runs out; an agent finishes the ticket in hand when the
shift ends); see ``desk`` for the queue's rules and the fast recursion.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from simlive.sim.desk import DeskOutcome
from simlive.sim.duty import INF, Roster


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
    from simpy.events import EventPriority

    # after SimPy's URGENT (0) and NORMAL (1) events of the same instant
    late, last = EventPriority(2), EventPriority(3)
    env = simpy.Environment()
    n = arrival.size
    start = np.full(n, INF)
    abandoned = np.zeros(n, dtype=bool)
    started = [False] * n
    waiting: deque[int] = deque()
    idle: dict[int, float] = {}  # free agents on duty: slot -> idle since
    assigned: dict[int, simpy.Event] = {}
    state = {"busy": 0.0, "pending": False}

    def at_end_of_instant(priority: EventPriority, fn: Any) -> None:
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
