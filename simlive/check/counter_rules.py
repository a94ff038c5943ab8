"""``display.counters-true`` on a shop: the counters it showed against what the history allows.

A load test cannot see how many orders a shop took or how many viewers it had at the moment
a counter was read, but the history bounds both from above. Every order the shop could have
taken by the time a reading answered was requested before then and not refused (ok, or of
unknown outcome; retries of one key counted each time); every viewer it could have counted
had opened the broadcast by then (a session, the history's process, with a ``watch`` or a
``read_counters`` not refused). A figure above its bound is overstated whatever the shop's
refresh: both bounds only grow, so the bound at the reading's answer already allows any lag.
A shop may show less (its viewers are those watching now, not all who came); that is not
this rule's concern.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any

from simlive.check.history import FAIL, OK, Op, of
from simlive.check.state import FinalState
from simlive.judge.measures import CounterMeasures
from simlive.judge.rulebook import verdict
from simlive.rules import RULES, Status, Verdict

RULE = "display.counters-true"
EPS = 1e-9


def _opened(ops: list[Op]) -> list[float]:
    """When each viewer session first opened the broadcast, in order."""
    first: dict[str, float] = {}
    for f in ("watch", "read_counters"):
        for op in of(ops, f):
            if op.type != FAIL and op.start < first.get(op.process, math.inf):
                first[op.process] = op.start
    return sorted(first.values())


def _figure(value: Any) -> float | None:
    """A shown figure as a number (None: not one)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        x = float(value)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def counters_true(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    tolerance = float(p["max_overstatement"])
    ordered = sorted(op.start for op in of(ops, "order") if op.type != FAIL)
    opened = _opened(ops)
    start = min((op.start for op in ops), default=0.0)
    readings = over = 0
    worst: tuple[float, str, float, float, float] | None = None  # fraction, name, at, ...
    for op in of(ops, "read_counters"):
        if op.type != OK or not isinstance(op.value, dict):
            continue
        bounds = {"sold": bisect_right(ordered, op.end), "viewers": bisect_right(opened, op.end)}
        for name, bound in bounds.items():
            shown = _figure(op.value.get(name))
            if shown is None:
                continue
            readings += 1
            fraction = (shown - bound) / bound if bound else (math.inf if shown > 0 else 0.0)
            if shown > bound * (1 + tolerance) + EPS * max(bound, 1):
                over += 1
            if fraction > 0 and (worst is None or fraction > worst[0]):
                worst = (fraction, name, op.start - start, shown, float(bound))
    if readings == 0:
        return Verdict(RULE, Status.UNKNOWN, {"readings_checked": 0, "overstated": 0},
                       RULES[RULE].limits(p), "no counter figure (sold or viewers) was read")
    if worst is None:
        record = CounterMeasures(readings, over, bounds_only=True)
    else:
        fraction, name, at, shown, most = worst
        record = CounterMeasures(readings, over, fraction, name, at, shown, most,
                                 bounds_only=True)
    return verdict(RULE, record, p)
