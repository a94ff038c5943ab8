"""The broadcast's records: replay (look-back), receipts, reviews.

These are counts and a few draws; they need no queue, only the scenario's policies and the
orders the broadcast produced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.scenario.schema import Scenario


@dataclass(frozen=True)
class RecordsOutcome:
    replay_published: bool
    replay_published_after: float | None  # seconds after the broadcast ended
    replay_retention: float
    records_retention: float
    receipts: int
    receipts_missing: int
    reviews: int
    bad_reviews: int
    reviews_deleted: int
    reviews_hidden: int  # bad reviews hidden for an allowed reason
    reviews_suppressed: int  # bad reviews hidden without one


def simulate_records(s: Scenario, paid_orders: int, rng: np.random.Generator,
                     receipts_due: int | None = None) -> RecordsOutcome:
    """``receipts_due``: payments that need a receipt, when not one an order (a presale's
    deposit and balance)."""
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
                          rp.records_retention, due - missing, missing, reviews, bad,
                          deleted, hidden, suppressed)
