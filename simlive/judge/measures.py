"""What one replication hands the verdicts: a typed record per part of the model.

The judges in ``verdicts`` read these attributes, so a misspelt name fails in a type check
(or at the first run) instead of turning into an ``unknown`` verdict the way a string key of
a dict would. Plain frozen dataclasses: cheap to pickle back from a worker process.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StockMeasures:
    step: float  # the model's time step: display readings are one per step and SKU
    oversold_units: int
    oversold_skus: tuple[str, ...]  # the first few, for the evidence
    min_remaining: int
    display_mismatch_s: float  # SKU-seconds the shown stock was wrong beyond max_lag
    display_phantom_s: float  # of which stock was shown while none was left
    display_worst_sku: str | None
    ledger_max_error: int


@dataclass(frozen=True)
class DeskMeasures:
    tickets: int
    chats: int
    chat_p95: float | None  # inf when a chat was never answered
    unanswered_overdue: int
    first_reply_late: int
    first_reply_max: float | None
    refunds_paid: int
    refunds_late: int
    refund_delay_max: float | None
    lost: int
    open: int
    open_overdue: int
    oldest_open_age: float | None
    closed: int
    closed_without_feedback: int  # auto-closed after the consumer stayed silent
    closed_too_early: int  # closed without feedback before the rule's feedback_timeout
    returns: int
    returns_refused_in_window: int
    engine: str  # "simpy" or "fast"


@dataclass(frozen=True)
class ReplayMeasures:
    published: bool
    after: float | None  # seconds after the broadcast ended
    retention: float  # of the recording (0 when nothing is recorded)
    records_retention: float


@dataclass(frozen=True)
class ReviewMeasures:
    reviews: int
    bad: int
    deleted: int
    hidden: int  # bad reviews hidden with a reason from the allowed list (kept, audited)
    suppressed: int  # bad reviews hidden without an allowed reason


@dataclass(frozen=True)
class ReceiptMeasures:
    paid_orders: int
    missing: int


@dataclass(frozen=True)
class Measures:
    stock: StockMeasures
    desk: DeskMeasures
    replay: ReplayMeasures
    reviews: ReviewMeasures
    receipts: ReceiptMeasures
    desks: tuple[DeskMeasures, ...] = ()  # each desk's, with aftersales.desks (pooled first)
