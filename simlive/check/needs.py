"""What each rule needs to be decided: operations in the history, parts of the final state.

A shop's target may leave operations ``unsupported`` and parts of the state unread
(``history-only``). A rule whose needs are not met says ``unknown`` with the reason, never
pass. Some rules have a second way to decide from the history alone (``alternatives``): a
receipt read back after each payment stands in for the receipt listing, for example.
"""

from __future__ import annotations

from dataclasses import dataclass

from simlive.check.state import FinalState


@dataclass(frozen=True)
class Need:
    ops: tuple[str, ...] = ()  # every one must be supported
    state: tuple[str, ...] = ()  # every part must be read ...
    instead: tuple[str, ...] = ()  # ... unless all of these operations are supported


NEEDS: dict[str, Need] = {
    "stock.no-oversell": Need(("order",)),
    "stock.display-matches": Need(("read_stock",)),  # no true_stock: bounds from history
    "stock.ledger-balances": Need(("order",), ("ledger", "orders")),
    "replay.available": Need(("end_broadcast",), ("broadcasts",), ("read_replay",)),
    "replay.retained": Need((), ("broadcasts", "orders")),
    "aftersales.first-reply": Need(("open_ticket",), ("tickets",)),
    "aftersales.refund-deadline": Need(("open_ticket", "goods_received", "refund_paid"),
                                       ("tickets",)),
    "aftersales.tracked-to-closure": Need(("open_ticket",), ("tickets",), ("read_ticket",)),
    "reviews.not-deleted": Need(("review",), ("reviews",), ("read_review",)),
    "evidence.receipt": Need(("order",), ("orders", "receipts"), ("read_receipt",)),
    "returns.seven-day": Need(("deliver", "open_ticket"), ("orders",)),

    "display.complete": Need(("read_product",)),  # the pages; time on air is not seen

    "display.counters-true": Need(("read_counters",)),  # bounds from the history

    "pricing.claims-hold": Need(("read_price", "order", "pay"), ("orders",)),

    "fulfilment.on-time": Need(("ship", "deliver"), ("orders",)),

    "aftersales.escalations-answered": Need(("escalate", "decide_escalation"), ("tickets",)),

    "reviews.order-honest": Need(("review", "list_reviews"), ("reviews",)),
}


def unmet(rule_id: str, unsupported: frozenset[str], state: FinalState) -> str | None:
    """Why ``rule_id`` cannot be decided, or None when it can."""
    need = NEEDS[rule_id]
    lacking = [o for o in need.ops if o in unsupported]
    if lacking:
        return (f"the target does not support {', '.join(lacking)}, so this rule cannot be "
                f"observed on this shop")
    parts = state.missing(*need.state)
    if parts and (not need.instead or any(o in unsupported for o in need.instead)):
        how = "is history-only" if state.source == "history" else "reads no"
        return (f"the target {how} {', '.join(parts)} of the final state"
                + (f" and does not support {', '.join(need.instead)}" if need.instead
                   else "") if state.source != "history" else
                "the target is history-only and the history cannot show this rule"
                + (f" (it would need {', '.join(need.instead)})" if need.instead else ""))
    return None
