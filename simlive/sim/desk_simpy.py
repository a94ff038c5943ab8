"""The after-sales desk as SimPy processes: the reference ``desk_fast`` is checked against.

It reads like the real desk (an agent on duty takes the oldest waiting ticket; a chat
customer leaves when their patience runs out; an agent finishes the ticket in hand when the
shift ends); see ``desk`` for the queue's rules and the fast recursion.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from simlive.sim.desk import DeskOutcome
from simlive.sim.duty import INF, Roster

if TYPE_CHECKING:
    import simpy
    from simpy.events import EventPriority


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

    env = simpy.Environment()
    desk = _Desk(env, arrival, handling, patience, roster)
    env.process(desk.source())
    for slot in range(roster.slots):
        env.process(desk.agent(slot))
    env.run(until=roster.horizon)
    # the clock reaches an arrival by adding delays; snap float dust back onto the arrival
    start = desk.start
    close = np.abs(start - arrival) < 1e-9
    start[close] = arrival[close]
    start[start >= roster.horizon] = INF
    return DeskOutcome(start, desk.abandoned, desk.busy, roster.on_duty_seconds)


class _Desk:
    """What the source, the customers and the agents share: the queue, the idle agents and
    the outcome so far, so each process reads as its actor's story (SimPy's examples)."""

    def __init__(self, env: simpy.Environment, arrival: np.ndarray, handling: np.ndarray,
                 patience: np.ndarray, roster: Roster) -> None:
        from simpy.events import EventPriority

        # after SimPy's URGENT (0) and NORMAL (1) events of the same instant
        self.late, self.last = EventPriority(2), EventPriority(3)
        self.env = env
        self.arrival, self.handling, self.patience = arrival, handling, patience
        self.roster = roster
        n = arrival.size
        self.start = np.full(n, INF)
        self.abandoned = np.zeros(n, dtype=bool)
        self.started = [False] * n
        self.waiting: deque[int] = deque()
        self.idle: dict[int, float] = {}  # free agents on duty: slot -> idle since
        self.assigned: dict[int, simpy.Event] = {}
        self.busy = 0.0
        self.pending = False

    def at_end_of_instant(self, priority: EventPriority, fn: Callable[[], None]) -> None:
        """Run ``fn`` after every event of this instant that SimPy would run before it."""
        ev = self.env.event()
        ev._ok, ev._value = True, None  # a succeeded event, scheduled at a later priority
        ev.callbacks.append(lambda _ev: fn())
        self.env.schedule(ev, priority=priority)

    def dispatch(self) -> None:
        """Waiting tickets to idle agents, once the instant's arrivals and agents are in."""
        self.pending = False
        idle = self.idle
        while self.waiting and idle:
            k = self.waiting.popleft()
            self.start[k] = self.env.now
            if self.abandoned[k]:
                continue  # a reply to a customer who left; the agent stays free
            slot = min(idle, key=lambda i: (idle[i], i))
            idle.pop(slot)
            self.started[k] = True
            self.assigned.pop(slot).succeed(k)

    def request_dispatch(self) -> None:
        """One dispatch per instant, however many arrivals and agents ask for it."""
        if not self.pending:
            self.pending = True
            self.at_end_of_instant(self.late, self.dispatch)

    def customer(self, k: int) -> Generator[simpy.Event, Any, None]:
        """A process per ticket, so each customer's patience runs on a clock of its own."""
        waiting, env = self.waiting, self.env
        waiting.append(k)
        self.request_dispatch()
        if math.isfinite(self.patience[k]):
            yield env.timeout(float(self.patience[k]))

            def judge() -> None:
                if not self.started[k]:
                    self.abandoned[k] = True

            self.at_end_of_instant(self.last, judge)

    def source(self) -> Generator[simpy.Event, Any, None]:
        """Tickets come one at a time at their arrival, as the real desk sees them."""
        env = self.env
        for k in range(self.arrival.size):
            yield env.timeout(max(0.0, float(self.arrival[k]) - env.now))
            env.process(self.customer(k))

    def agent(self, slot: int) -> Generator[simpy.Event, Any, None]:
        """A process per agent slot, so a shift's end finds each agent in its own state
        (idle: off at once; busy: after the ticket in hand)."""
        env, roster = self.env, self.roster
        while True:
            on = roster.next_on(slot, env.now)
            if on == INF:
                return
            if on > env.now:
                yield env.timeout(on - env.now)
                continue
            self.idle[slot] = env.now
            self.assigned[slot] = got = env.event()
            self.request_dispatch()
            off = env.timeout(roster.duty_end(slot, env.now) - env.now)
            yield got | off
            if not got.triggered:  # the shift ended while idle
                self.idle.pop(slot, None)
                self.assigned.pop(slot, None)
                continue
            k = got.value
            h = float(self.handling[k])
            self.busy += min(env.now + h, roster.duty_end(slot, env.now),
                             roster.horizon) - env.now
            yield env.timeout(h)
