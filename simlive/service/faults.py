"""The deliberate faults the reference service can be started with, and the rule each breaks.

A checker is only trustworthy if it has been seen to fail: every fault here breaks exactly one
compliance rule from :mod:`simlive.rules` for real (under concurrent load), so that the tests
and the load-test checker can prove they catch it. All faults are off unless named on the
command line (``simlive serve --fault oversell``); this module is the one place their names
live.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import StrEnum

from simlive.errors import UsageError
from simlive.rules import RULES


class Fault(StrEnum):
    """A named way to break one rule. The value is the command-line name."""

    OVERSELL = "oversell"
    """Stock is read, then written back minus the quantity, without a lock: lost updates sell
    more units than exist."""

    STALE_DISPLAY = "stale-display"
    """The stock shown to viewers is cached for seconds and drifts from the real stock."""

    LOSE_TICKET = "lose-ticket"
    """A fraction of after-sales tickets are acknowledged with an id but never stored."""

    DELETE_REVIEW = "delete-review"
    """``DELETE /reviews/{id}`` really deletes the review, with no audit record."""

    NO_REPLAY = "no-replay"
    """Ending a broadcast publishes no replay."""

    NO_RECEIPT = "no-receipt"
    """Paying an order issues no receipt."""

    DOUBLE_RESTOCK = "double-restock"
    """Expiry reads the order, then returns its stock without a conditional state change, so
    concurrent expirers (the sweeper, readers) each return the same units."""

    RETAIN_FROM_CREATION = "retain-from-creation"
    """Orders and receipts keep ``retain_until = created + retention``: the promise is not
    moved out when the order is delivered or closed, so it falls short of the law's clock
    (from the transaction's completion) by the time the order took to complete."""

    INCOMPLETE_LISTING = "incomplete-listing"
    """Product pages leave out the seller and whether the goods can be returned without
    reason."""
    LOST_SHIPMENT = "lost-shipment"
    """Shipping an order is acknowledged, but a third of the shipments are never recorded:
    those orders stay unshipped (and, as delivery needs a shipment, undelivered) past the
    store's deadlines."""
    INFLATED_REFERENCE = "inflated-reference"
    """The reference ('was') price shown is always the list price, even after the goods
    sold lower (a flash sale) within the window: a discount from a price never charged."""
    ESCALATION_LOST = "escalation-lost"
    """Every other escalation to the platform is acknowledged, then rolled back: the
    platform never sees it, so it is never decided."""
    GOOD_REVIEWS_FIRST = "good-reviews-first"
    """A product's default review listing is ranked by rating, best first: bad and neutral
    reviews sink below better ones posted before them."""
    INFLATED_COUNTERS = "inflated-counters"
    """The broadcast's counters show three times the orders taken plus 1,000 as sold, and
    three times the viewers present plus 500 as watching."""

    @property
    def rule_id(self) -> str:
        """The id (in :data:`simlive.rules.RULES`) of the rule this fault breaks."""
        return BREAKS[self]


BREAKS: dict[Fault, str] = {
    Fault.OVERSELL: "stock.no-oversell",
    Fault.STALE_DISPLAY: "stock.display-matches",
    Fault.LOSE_TICKET: "aftersales.tracked-to-closure",
    Fault.DELETE_REVIEW: "reviews.not-deleted",
    Fault.NO_REPLAY: "replay.available",
    Fault.NO_RECEIPT: "evidence.receipt",
    Fault.DOUBLE_RESTOCK: "stock.ledger-balances",
    Fault.RETAIN_FROM_CREATION: "replay.retained",
    Fault.INCOMPLETE_LISTING: "display.complete",
    Fault.LOST_SHIPMENT: "fulfilment.on-time",
    Fault.INFLATED_REFERENCE: "pricing.claims-hold",
    Fault.ESCALATION_LOST: "aftersales.escalations-answered",
    Fault.GOOD_REVIEWS_FIRST: "reviews.order-honest",
    Fault.INFLATED_COUNTERS: "display.counters-true",
}

assert set(BREAKS) == set(Fault) and set(BREAKS.values()) <= set(RULES)

FAULT_NAMES: tuple[str, ...] = tuple(f.value for f in Fault)


def explain_unknown(name: str) -> str:
    """Why ``name`` is refused: the nearest valid name and the full list."""
    near = difflib.get_close_matches(name.strip().lower(), FAULT_NAMES, n=1)
    hint = f" Did you mean {near[0]!r}?" if near else ""
    return f"{name!r} is not a known fault.{hint} Known faults: {', '.join(FAULT_NAMES)}"


def parse_faults(names: Iterable[str]) -> frozenset[Fault]:
    """Fault names from the command line or an env var, as a set of :class:`Fault`.

    Raises :class:`~simlive.errors.UsageError` (exit 2) naming the bad value, the nearest valid
    name and the full list, so a typo never silently starts a correct service.
    """
    out: set[Fault] = set()
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        try:
            out.add(Fault(name))
        except ValueError:
            raise UsageError(f"--fault: {explain_unknown(raw)}") from None
    return frozenset(out)
