"""The broadcast's records: replay (look-back), receipts, reviews.

These are counts and a few draws; they need no queue, only the scenario's policies and the
orders the broadcast produced.

The law keeps transaction records from the transaction's completion (E-Commerce Law art.
31). A shop that starts the clock at a record's creation (``replay.records_clock:
creation``) keeps each order short by the time from its creation to its completion, so the
records' retention is short by the longest such time (``clock_early``): an unpaid order's
wait for its closing (the payment timeout; a presale's forfeit, the balance window's end),
or a paid order's wait for its last payment plus its delivery. The waits are each order's
own, from the order model; the delivery is the mean delivery time, or with a warehouse the
backlog the last payer meets plus the mean transit (the model draws deliveries for tickets,
not per order: a typical delivery, not the slowest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simlive.scenario.schema import Scenario
from simlive.sim.orders import SkuOutcome
from simlive.sim.tickets import shipping_of


@dataclass(frozen=True)
class RecordsOutcome:
    replay_published: bool
    replay_published_after: float | None  # seconds after the broadcast ended
    replay_retention: float
    records_retention: float  # from each transaction's completion
    receipts: int
    receipts_missing: int
    reviews: int
    bad_reviews: int
    reviews_deleted: int
    reviews_hidden: int  # bad reviews hidden for an allowed reason
    reviews_suppressed: int  # bad reviews hidden without one
    records_early: float = 0.0  # how long before completion the shop starts the clock


def clock_early(s: Scenario, outcomes: list[SkuOutcome], step: float) -> float:
    """How long before an order's completion a shop counting from creation starts its
    clock, at the most (the module's docstring); 0 when it counts from completion."""
    if s.replay.records_clock == "completion":
        return 0.0
    closing = max((o.longest_to_close for o in outcomes), default=0.0)
    paying = max((o.longest_to_pay for o in outcomes if o.paid_orders), default=None)
    if paying is None:
        return closing
    f = s.fulfilment
    if f is None:
        return max(closing, paying + s.orders.delivery.mean_value)
    shipping = shipping_of(s, outcomes, step)
    last_paid = shipping.paid_cum.size * step
    shipped = float(shipping.ship_times(shipping.paid_cum[-1:].astype(float))[0])
    if not math.isfinite(shipped):  # not shipped within the days kept: the last of them
        shipped = float(shipping.cutoffs[-1])
    return max(closing, paying + max(0.0, shipped - last_paid) + f.transit.mean_value)


def simulate_records(s: Scenario, paid_orders: int, rng: np.random.Generator,
                     receipts_due: int | None = None, early: float = 0.0) -> RecordsOutcome:
    """``receipts_due``: payments that need a receipt, when not one an order (a presale's
    deposit and balance); ``early``: ``clock_early``, what the records' clock loses."""
    rp = s.replay
    published = rp.record and bool(rng.random() >= rp.failure_probability)
    after = float(rp.publish_delay.sample(rng, 1)[0]) if published else None
    due = paid_orders if receipts_due is None else receipts_due
    missing = int(rng.binomial(due, s.orders.receipt_failure))
    reviews = int(rng.binomial(paid_orders, s.reviews.fraction))
    bad = int(rng.binomial(reviews, s.reviews.bad_fraction))
    deleted = int(rng.binomial(bad, s.reviews.delete_bad))
    kept = bad - deleted
    # bad reviews that do contain illegal content, personal data or spam may be hidden
    with_cause = int(rng.binomial(kept, s.reviews.bad_with_cause))
    policy = s.reviews.hide_bad
    hidden = 0 if policy == "none" else with_cause
    suppressed = kept - with_cause if policy == "all" else 0
    return RecordsOutcome(published, after, rp.retention if rp.record else 0.0,
                          rp.records_retention - early, due - missing, missing, reviews, bad,
                          deleted, hidden, suppressed, early)
