"""``fulfilment.on-time`` on a shop: each paid order of the run shipped and delivered in time.

The deadlines are the shop's own where its orders show them (``ship_by``, ``promised_at``,
stamped at payment); else the promise the load stated when it created the broadcast (the
``create_broadcast`` operation's ``ship_within`` and ``promise``, in seconds of load time,
as the history keeps them); else, for shipping, the rule's ``ship_within``. A delivered
order shipped by its delivery at the latest. An order still unshipped or undelivered past a
deadline when the state was read is late; one still within its deadlines is pending (not
judged). With no promise at all only shipping is judged, and the evidence says so.
Stock readiness (a scenario's ``warehouse`` figures) is the simulator's only: no operation
reads a shop's warehouse, so a load judges the orders' deadlines alone.
"""

from __future__ import annotations

from typing import Any

from simlive.check.history import OK, Op, of
from simlive.check.state import FinalState, epoch, needed
from simlive.judge.judging import short_seconds
from simlive.judge.measures import FulfilmentMeasures
from simlive.judge.rulebook import verdict
from simlive.rules import RULES, Status, Verdict

RULE = "fulfilment.on-time"
CLOSED = ("cancelled", "expired")


def _stated(ops: list[Op]) -> tuple[float | None, float | None]:
    """The promise the load stated at setup: (ship_within, promise) seconds, or None."""
    for op in of(ops, "create_broadcast"):
        if op.type == OK:
            ship, promise = op.args.get("ship_within"), op.args.get("promise")
            return (None if ship is None else float(ship),
                    None if promise is None else float(promise))
    return None, None


def on_time(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    stated_ship, stated_promise = _stated(ops)
    now = state.fetched_at
    judged = shipped_late = delivered_late = late = pending = 0
    worst: float | None = None
    examples: list[str] = []
    own = no_promise = 0
    shown: dict[Any, dict[str, Any]] = {}
    for o in needed(state.orders):
        shown[o.get("id")] = o
        paid = epoch(o.get("paid_at"))
        if paid is None or o.get("state") in CLOSED:
            continue
        ship_by = epoch(o.get("ship_by"))
        promised = epoch(o.get("promised_at"))
        own += ship_by is not None or promised is not None
        if ship_by is None:
            ship_by = paid + (p["ship_within"] if stated_ship is None else stated_ship)
        if promised is None and stated_promise is not None:
            promised = paid + stated_promise
        delivered = epoch(o.get("delivered_at"))
        shipped = epoch(o.get("shipped_at"))
        if shipped is None:
            shipped = delivered  # a delivered order left the warehouse by then at the latest
        past = [(now if shipped is None else shipped) - ship_by]
        if promised is not None:
            past.append((now if delivered is None else delivered) - promised)
        else:
            no_promise += 1
        ship_late = past[0] > 0
        deliver_late = len(past) > 1 and past[1] > 0
        done = delivered is not None if promised is not None else shipped is not None
        if ship_late or deliver_late:
            late += 1
            shipped_late += ship_late
            delivered_late += deliver_late
            worst = max(past) if worst is None else max(worst, *past)
            if len(examples) < 5:
                examples.append(f"order {o.get('id')} ("
                                + ("not shipped" if shipped is None else "shipped late"
                                   if ship_late else "delivered late"
                                   if delivered is not None else "not delivered") + ")")
        elif not done:
            pending += 1
            continue
        judged += 1
    unrecorded = sum(1 for oid in {op.args.get("order_id") for op in of(ops, "ship")
                                   if op.type == OK}
                     if oid in shown and shown[oid].get("shipped_at") is None
                     and shown[oid].get("delivered_at") is None)
    details = _deadlines(own, stated_ship, stated_promise, no_promise)
    if not judged:
        return Verdict(RULE, Status.UNKNOWN, {"pending": pending},
                       RULES[RULE].limits(p),
                       f"no paid order of the run was delivered or past its deadlines when "
                       f"the state was read ({pending} pending)")
    return verdict(RULE, FulfilmentMeasures(judged, shipped_late, delivered_late, late, worst,
                                            pending, unrecorded, tuple(examples), details), p)


def _deadlines(own: int, ship: float | None, promise: float | None,
               no_promise: int) -> tuple[str, ...]:
    """How the deadlines were set, for the evidence."""
    out = []
    if own:
        out.append(f"deadlines as the shop stamped them on {own} orders")
    if ship is not None or promise is not None:
        said = [f"ship within {short_seconds(ship)}" if ship is not None else "",
                f"deliver within {short_seconds(promise)}" if promise is not None else ""]
        out.append("the promise stated at setup: " + ", ".join(s for s in said if s)
                   + " of payment (the scenario's, compressed into the load's run time)")
    if no_promise:
        out.append(f"{no_promise} orders with no delivery promise: only their shipping "
                   "judged")
    return tuple(out)
