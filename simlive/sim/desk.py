"""The after-sales desk: agents on shifts answering tickets first come, first served.

Three implementations of the same queue, and tests that they agree ticket by ticket:

- ``desk_simpy`` (module ``desk_simpy``): agents and tickets as SimPy processes. The
  reference: it reads like the real desk (an agent on duty takes the oldest waiting ticket;
  a chat customer leaves when their patience runs out; an agent finishes the ticket in hand
  when the shift ends).
- ``desk_heap``: the same FCFS multi-server queue as a recursion over tickets in arrival
  order, with a heap of the times each agent slot is next free, one ticket at a time.
- ``desk_fast``: the recursion of ``desk_heap``, taking runs of tickets at once with numpy
  (``_Desk``): the same replies, the same agents, the same floating-point sums. A Double 11
  broadcast produces millions of tickets; it handles them in about a second, where one
  SimPy process per ticket would take minutes.

``desk_recursion`` picks between the last two by the desk's shape (its agent slots): the
simulator's "fast" desk is whichever of them is faster there, bit for bit the same answer.

Agents are slots: slot ``i`` is on duty whenever the shift schedule has more than ``i``
agents. A chat that leaves is still owed a reply: its first reply is sent when an agent
reaches it in the queue (the agent spends no handling time on it). A ticket no agent reaches
before the horizon is unanswered (``start = inf``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from simlive.sim.duty import INF, Roster


@dataclass(frozen=True)
class DeskOutcome:
    start: np.ndarray  # when an agent reached the ticket (first reply); inf if never
    abandoned: np.ndarray  # bool: the customer left before an agent reached them
    busy_seconds: float  # handling time spent by agents while on duty
    on_duty_seconds: float  # agent-seconds on shift within the horizon


def desk_heap(arrival: np.ndarray, handling: np.ndarray, patience: np.ndarray,
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


HEAP_SLOTS = 128
"""Up to this many agent slots, ``desk_heap`` is the faster form of the recursion.

A run of waiting tickets holds about one ticket per slot, so with few agents each run pays
numpy's call overhead for a dozen tickets. Measured on this project's 2-core machine
(500,000 tickets at 90 % occupancy): c = 10, heap 1.2 M tickets/s, runs 0.12 M/s; c = 100,
0.96 M/s against 0.78 M/s; c = 200, 0.67 M/s against 1.1 M/s; c = 1,000, runs 5.5 M/s."""


def desk_recursion(arrival: np.ndarray, handling: np.ndarray, patience: np.ndarray,
                   roster: Roster) -> DeskOutcome:
    """The FCFS recursion in its faster form for this roster: one ticket at a time through
    the heap for a desk of a few agents (where planners live: c = 10 at high occupancy),
    runs of tickets at once for Double 11's thousands. Both give the same bits."""
    run = desk_heap if roster.slots <= HEAP_SLOTS else desk_fast
    return run(arrival, handling, patience, roster)


ROUNDS = 8  # fixed-point rounds per run of waiting tickets before keeping the settled prefix
SHRINK = 3  # more rounds than this: the next runs of waiting tickets are shorter
SOLO = 32  # tickets taken one at a time after a run stopped early (a shift change, ...)
IDLE, IDLE_MAX = 256, 1 << 16  # tickets tried at once while agents are idle


def desk_fast(arrival: np.ndarray, handling: np.ndarray, patience: np.ndarray,
              roster: Roster) -> DeskOutcome:
    """``desk_heap``'s recursion, taking runs of tickets at once.

    While agents are idle, every ticket that finds one idle is taken in one pass
    (``_Desk.idle_run``); while tickets wait, runs of up to one ticket per agent slot are
    found as a fixed point over the heap's first entries (``_Desk.run``). Where a ticket
    would meet a shift change or the horizon, the run stops and that ticket goes through
    the recursion one step (``_Desk.one``) exactly as in ``desk_heap``.
    """
    n = arrival.size
    start = np.full(n, INF)
    abandoned = np.zeros(n, dtype=bool)
    desk = _Desk(arrival, handling, patience, roster, start, abandoned)
    c = roster.slots
    k = 0
    solo = 0
    size = c
    idle = IDLE
    while c and k < n:
        if solo:
            if not desk.one(k):
                break
            k += 1
            solo -= 1
            continue
        if desk.key[0] <= arrival[k]:  # an agent is idle: the tickets that find one idle
            want = min(idle, n - k)
            took = desk.idle_run(k, want)
            k += took
            idle = min(IDLE_MAX, 2 * idle) if took == want else max(IDLE, took)
            if took < want and not desk.waits:
                if desk.off_duty and desk.refresh(float(arrival[k])):
                    continue
                if not desk.one(k):
                    break
                k += 1
            continue
        want = min(size, desk.on_shift(), n - k)
        took = desk.run(k, want)
        k += took
        # runs long enough to pay for their numpy calls, short enough to settle in few rounds
        size = max(64, size * 3 // 4) if desk.rounds > SHRINK else min(c, size * 5 // 4)
        if took < want and not desk.quit:
            if desk.off_duty and desk.refresh(float(arrival[k])):
                continue
            if not desk.one(k):
                break
            k += 1
            if took < want // 8:
                solo = SOLO
    never = ~np.isfinite(start)
    abandoned[never] = arrival[never] + patience[never] < roster.horizon
    return DeskOutcome(start, abandoned, desk.busy, roster.on_duty_seconds)


class _Desk:
    """The state of ``desk_heap``'s recursion, its heap as arrays sorted by (key, slot).

    ``key[j]`` is the time slot ``slot[j]`` has been idle since, or is busy until; the first
    entry is the top of the heap. ``lo`` and ``hi`` hold each slot's current duty interval.
    """

    def __init__(self, arrival: np.ndarray, handling: np.ndarray, patience: np.ndarray,
                 roster: Roster, start: np.ndarray, abandoned: np.ndarray) -> None:
        self.arrival, self.handling, self.patience = arrival, handling, patience
        self.roster, self.horizon = roster, roster.horizon
        self.start, self.abandoned = start, abandoned
        self.busy = 0.0
        self.rounds = 0
        self.waits = False
        self.quit = False
        self.off_duty = False  # the last run stopped at an agent off duty
        c = roster.slots
        first = [roster.next_on(i, 0.0) for i in range(c)]
        order = sorted(range(c), key=lambda i: (first[i], i))
        self.key = np.asarray([first[i] for i in order], dtype=float)
        self.slot = np.asarray(order, dtype=np.int64)
        # each slot's duty interval, found ahead (the recursion finds it at its first ticket)
        self.lo, self.hi = [INF] * c, [-INF] * c
        for i in range(c):
            if first[i] != INF:
                self.lo[i], self.hi[i] = roster.interval(i, first[i])
        self.lo_a, self.hi_a = np.asarray(self.lo), np.asarray(self.hi)
        self.index = np.arange(c)

    def one(self, k: int) -> bool:
        """Ticket ``k`` by one step of the recursion; False when no agent replies any more
        before the horizon (so neither to this ticket nor to any later one)."""
        a = float(self.arrival[k])
        lo, hi, key, slot = self.lo, self.hi, self.key, self.slot
        while True:
            f, i = float(key[0]), int(slot[0])
            s = f if f > a else a
            if s == INF:
                break
            if not lo[i] <= s < hi[i]:
                on = self.roster.next_on(i, s)
                if on == INF:
                    self._replace(INF, i)
                    continue
                lo[i], hi[i] = self.lo_a[i], self.hi_a[i] = self.roster.interval(i, on)
                if on != s:
                    self._replace(on, i)
                    continue
            if lo[i] > f:
                self._replace(lo[i], i)
                continue
            break
        if s >= self.horizon:
            return False
        self.start[k] = s
        if s - a > float(self.patience[k]):
            self.abandoned[k] = True
            return True
        h = float(self.handling[k])
        self._replace(s + h, i)
        self.busy += min(s + h, hi[i], self.horizon) - s
        return True

    def refresh(self, a: float) -> int:
        """Every entry's key brought to what the recursion would find for it at time ``a``
        (``max(key, a)`` off duty: the next time its slot comes on; idle since before its
        slot came on duty: that time); returns how many changed.

        The recursion fixes an entry when it reaches the top of the heap; a key it stores
        is never later than what it will find, so fixing entries early changes no reply.
        It saves a pass over the whole heap for each agent that goes on a break: hundreds
        of agents leaving at one shift change are fixed in one pass.
        """
        c = int(np.searchsorted(self.key, INF))
        key, slot = self.key[:c], self.slot[:c]
        at = np.maximum(key, a)
        lo, hi = self.lo_a[slot], self.hi_a[slot]
        bad = np.flatnonzero((at < lo) | (at >= hi) | (lo > key))
        if not bad.size:
            return 0
        roster = self.roster
        for j, i, t, f in zip(bad.tolist(), slot[bad].tolist(), at[bad].tolist(),
                              key[bad].tolist(), strict=True):
            on = roster.next_on(i, t)
            if on == INF:
                key[j] = INF
                continue
            lo_i, hi_i = roster.interval(i, on)
            self.lo[i], self.hi[i] = self.lo_a[i], self.hi_a[i] = lo_i, hi_i
            key[j] = max(f, lo_i)
        order = np.lexsort((slot, key))
        self.key = np.concatenate((key[order], self.key[c:]))
        self.slot = np.concatenate((slot[order], self.slot[c:]))
        return int(bad.size)

    def on_shift(self) -> int:
        """How many slots may still come on duty (the others wait at key inf)."""
        return max(1, int(np.searchsorted(self.key, INF)))

    def _replace(self, key: float, slot: int) -> None:
        """heapreplace: the first entry gives way to (key, slot), kept in order."""
        keys, slots = self.key[1:], self.slot[1:]
        j = int(np.searchsorted(keys, key, "left"))
        ties = int(np.searchsorted(keys, key, "right"))
        if ties > j:
            j += int(np.searchsorted(slots[j:ties], slot))
        self.key[:j] = keys[:j]
        self.slot[:j] = slots[:j]
        self.key[j], self.slot[j] = key, slot

    def idle_run(self, k: int, want: int) -> int:
        """Tickets ``k ..`` that find an agent idle when they arrive, as many in a row as do
        (up to ``want``), in one pass; ``waits`` says whether the next one has to wait.

        A ticket finds an idle agent while the heap holds an entry no later than its
        arrival: the heap's own entries by then, plus the agents this run's earlier tickets
        have freed by then, less the tickets before it. Each then starts on arrival, and
        takes the entries in order of the heap's entries and those put back, merged.
        """
        self.off_duty = False
        a = self.arrival[k:k + want]
        h = self.handling[k:k + want]
        if not (h > 0).all():  # an entry put back must come after the one taken
            want = int(np.argmin(h > 0))
            a, h = a[:want], h[:want]
        end = a + h
        by_end = np.argsort(end, kind="stable")  # a merge sort: the ends are nearly in order
        free = np.searchsorted(self.key, a, "right") + \
            np.searchsorted(end[by_end], a, "right") - np.arange(want)
        took = want if (free > 0).all() else int(np.argmin(free > 0))
        self.waits = took < want
        if took == 0:
            return 0
        # slots gone for good (key inf) stay at the end, out of the merge
        c = int(np.searchsorted(self.key, INF))
        gone_k, gone_s = self.key[c:], self.slot[c:]
        back = by_end[by_end < took]
        both = np.concatenate((self.key[:c], end[back]))
        order = np.argsort(both, kind="stable")  # the heap's own entries first among equal keys
        keys = both[order]
        is_back = order >= c
        origin = order.copy()
        origin[is_back] = back[order[is_back] - c]
        same = keys[1:] == keys[:-1]
        tie = same & (is_back[1:] | is_back[:-1])
        if tie.any():  # stop before equal keys the run put back (their order is by slot)
            q = int(np.searchsorted(keys, keys[:-1][tie][0], "left"))
            if q < took:
                took, self.waits = q, False
        ptr = np.where(is_back[:took], origin[:took], np.arange(took))
        while True:
            nxt = ptr[ptr]
            if np.array_equal(nxt, ptr):
                break
            ptr = nxt
        ps = self.slot[origin[ptr]]
        a = a[:took]
        ok = (a < self.horizon) & (self.lo_a[ps] <= keys[:took]) & (a < self.hi_a[ps]) & \
            (self.patience[k:k + took] >= 0)
        if not ok.all():
            took, self.waits = int(np.argmin(ok)), False
            self.off_duty = True
            if took == 0:
                return 0
            a, ps = a[:took], ps[:took]
        end = end[:took]
        self.start[k:k + took] = a
        spent = np.minimum(np.minimum(end, self.hi_a[ps]), self.horizon) - a
        self.busy = float(np.cumsum(np.concatenate(([self.busy], spent)))[-1])
        stays = np.ones(keys.size, dtype=bool)
        stays[:took] = False
        stays &= ~(is_back & (origin >= took))
        slots = self.slot[np.minimum(origin, c - 1)]
        slots[is_back] = ps[np.minimum(origin[is_back], took - 1)]
        keys, slots = keys[stays], slots[stays]
        eq = keys[1:] == keys[:-1]
        if eq.any() and (slots[1:][eq] < slots[:-1][eq]).any():
            order = np.lexsort((slots, keys))
            keys, slots = keys[order], slots[order]
        self.key = np.concatenate((keys, gone_k))
        self.slot = np.concatenate((slots, gone_s))
        return took

    def run(self, k: int, want: int) -> int:
        """Tickets ``k .. k+want-1`` (``want`` <= slots) at once, as far as each one is
        answered by an agent on duty, within its patience and before the horizon; returns
        how many were taken.

        Ticket ``t`` of the run takes the ``t``-th entry, in order, of the union of the
        heap's first ``want`` entries (``top``) and the entries the run puts back (``s + h``
        of the tickets before ``t``: an agent may take a second ticket in the run). The
        keys of that union depend on the starts ``s``, so they are found as a fixed point:
        each round starts from the keys of the last, and where two rounds agree on a
        prefix, that prefix is the recursion's. The slots follow from the keys: an entry
        put back by ticket ``t`` has the slot ticket ``t`` took.
        """
        self.quit = self.off_duty = False
        a = self.arrival[k:k + want]
        h = self.handling[k:k + want]
        if not (h > 0).all():  # an entry put back must come after the one taken
            want = int(np.argmin(h > 0))
            if want == 0:
                return 0
            a, h = a[:want], h[:want]
        top = self.key[:want]
        last = top[-1]
        pk = top
        s = np.maximum(a, pk)
        took = want
        for self.rounds in range(1, ROUNDS + 1):
            back = s + h
            early = back[back <= last]
            nk = np.sort(np.concatenate((top, early)), kind="stable")[:want] if early.size \
                else top
            s, was = np.maximum(a, nk), s
            pk = nk
            if np.array_equal(s, was):  # the same starts give the same keys again
                break
        else:
            took = int(np.argmin(s == was))  # the prefix the last two rounds agree on
        back = s + h
        # where each entry comes from: the top of the heap, or ticket t of this run
        early = np.flatnonzero(back <= last)
        both = np.concatenate((top, back[early]))
        order = np.argsort(both, kind="stable")  # top first among equal keys, as 'right'
        merged = both[order]
        is_back = order >= want
        origin = order.copy()
        origin[is_back] = early[order[is_back] - want]
        same = merged[1:] == merged[:-1]
        if same.any():  # equal keys: stop before any the run put back (their order is by slot)
            tie = same & (is_back[1:] | is_back[:-1])
            if tie.any():
                took = min(took, int(np.searchsorted(merged, merged[:-1][tie].min(), "left")))
        is_back, origin = is_back[:want], origin[:want]
        ptr = np.where(is_back, origin, self.index[:want])
        while True:
            nxt = ptr[ptr]
            if np.array_equal(nxt, ptr):
                break
            ptr = nxt
        ps = self.slot[:want][origin[ptr]]
        on_duty = (s < self.horizon) & (self.lo_a[ps] <= pk) & (s < self.hi_a[ps])
        ok = on_duty & (s - a <= self.patience[k:k + want])
        if not ok[:took].all():
            took = int(np.argmin(ok[:took]))
            # a customer who left before an agent reached them takes no agent: noted here
            self.quit = bool(on_duty[took])
            self.off_duty = not self.quit
            quit_at = float(s[took])
        if took:
            self._take(k, s[:took], back[:took], ps[:took], is_back[:took], origin[:took])
        if self.quit:
            self.start[k + took] = quit_at
            self.abandoned[k + took] = True
            took += 1
        return took

    def _take(self, k: int, s: np.ndarray, back: np.ndarray, ps: np.ndarray,
              is_back: np.ndarray, origin: np.ndarray) -> None:
        """Tickets ``k ..`` of a run start at ``s`` on slots ``ps`` and put back ``back``."""
        took = s.size
        self.start[k:k + took] = s
        spent = np.minimum(np.minimum(back, self.hi_a[ps]), self.horizon) - s
        # summed in ticket order, as desk_heap adds them
        self.busy = float(np.cumsum(np.concatenate(([self.busy], spent)))[-1])
        # the run took the first `used` entries of the heap and some of those it put back
        used = took - int(is_back.sum())
        stays = np.ones(took, dtype=bool)
        stays[origin[is_back]] = False
        self.key, self.slot = _merge(self.key[used:], self.slot[used:], back[stays],
                                     ps[stays])


def _merge(k1: np.ndarray, s1: np.ndarray, k2: np.ndarray,
           s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of (key, slot) entries in (key, slot) order; ``k1, s1`` are in that order
    already, ``k2, s2`` in any order."""
    o = np.argsort(k2, kind="stable")
    k2, s2 = k2[o], s2[o]
    at = np.searchsorted(k1, k2, "left")
    if (k2[1:] == k2[:-1]).any() or (np.searchsorted(k1, k2, "right") != at).any():
        # equal keys (rare): order them by slot too
        keys, slots = np.concatenate((k1, k2)), np.concatenate((s1, s2))
        o = np.lexsort((slots, keys))
        return keys[o], slots[o]
    at += np.arange(k2.size)
    rest = np.ones(k1.size + k2.size, dtype=bool)
    rest[at] = False
    keys = np.empty(rest.size)
    keys[at], keys[rest] = k2, k1
    slots = np.empty(rest.size, dtype=np.int64)
    slots[at], slots[rest] = s2, s1
    return keys, slots
