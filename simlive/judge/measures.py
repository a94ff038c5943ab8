"""The measure records: what the judges read, whoever measured it.

The simulator fills them from its arrays (one ``Measures`` per replication); the load-test
checker fills the same records from a history and a shop's final state. The judges in
``rulebook`` read only these attributes, so a rule means the same on both sides, and a
misspelt name fails in a type check instead of turning into an ``unknown`` verdict the way a
string key of a dict would. Plain frozen dataclasses: cheap to pickle back from a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from simlive.rules import format_duration


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

    def display(self) -> DisplayMeasures:
        return DisplayMeasures(self.display_mismatch_s / self.step, self.display_worst_sku,
                               self.step, self.display_mismatch_s, self.display_phantom_s)

    def oversell(self) -> OversellMeasures:
        return OversellMeasures(self.oversold_units, self.oversold_skus, self.min_remaining)

    def ledger(self) -> LedgerMeasures:
        return LedgerMeasures(self.ledger_max_error)


@dataclass(frozen=True)
class OversellMeasures:
    """``stock.no-oversell``: units sold beyond stock, over every SKU."""

    oversold_units: int
    oversold_skus: tuple[str, ...]  # the first few, for the evidence
    min_remaining: int | None  # the lowest stock seen (None: no stock was read)
    duplicate_orders: int | None = None  # second orders made by retries (None: the model,
    # which retries nothing)
    details: tuple[str, ...] = ()  # what a load test saw, SKU by SKU, for the evidence


@dataclass(frozen=True)
class DisplayMeasures:
    """``stock.display-matches``: displayed figures wrong beyond the rule's ``max_lag``.

    The model shows every SKU at every step of ``step`` seconds, so its figures are
    SKU-seconds; a load test counts the readings it took (``step`` None), each compared
    with the real stock read near it or, where the shop's real stock cannot be read, with
    the bounds the declared stock and the acknowledged orders allow (``bounds_only``)."""

    mismatched: float  # readings (the model: SKU-steps) wrong beyond max_lag
    worst_sku: str | None
    step: float | None = None
    sku_seconds: float = 0.0  # the model's mismatch, and of it phantom stock shown
    phantom_sku_seconds: float = 0.0
    readings: int = 0  # a load test's readings compared
    worst_gap: int = 0  # units the worst reading was off
    worst_kind: str = ""  # "phantom stock" or "false scarcity", when only bounds are known
    bounds_only: bool = False


@dataclass(frozen=True)
class LedgerMeasures:
    """``stock.ledger-balances``: how far the books are off, in units, and (a load test's)
    acknowledged orders or payments the books do not hold."""

    max_error: int
    records_lost: int = 0
    final_only: bool = False  # the books were read once, at the end (a load test)
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class FirstReplyMeasures:
    """``aftersales.first-reply``: the live chats' first-reply p95 (inf when more than 5 %
    were never answered; a load test's still waiting count at their age when the state was
    read) and the requests answered later than ``max_reply`` or still waiting past it."""

    chat_p95: float | None  # None: no chat
    overdue: int


@dataclass(frozen=True)
class ClosureMeasures:
    """``aftersales.tracked-to-closure``: tickets lost, open (and past ``close_within``),
    closed without the consumer's feedback (and before the rule's ``feedback_timeout``)."""

    lost: int
    open: int
    open_overdue: int
    oldest_open_age: float | None
    closed_without_feedback: int
    closed_too_early: int
    examples: tuple[str, ...] = ()  # a few lost tickets, for the evidence


@dataclass(frozen=True)
class RefundMeasures:
    """``aftersales.refund-deadline``. A refund is due from the goods coming back or, for a
    refund with no goods to send back, from the request's first handling; ``late`` counts
    those paid, or still owed, more than the rule's ``max_delay`` after."""

    paid: int
    late: int
    slowest: float | None  # of those paid, seconds after they were due
    pending: int = 0  # owed, still within the deadline


@dataclass(frozen=True)
class ReturnMeasures:
    """``returns.seven-day``: returns asked by the law's deadline (the window's calendar
    days after the day of signing) that were refused without a lawful reason (the law's
    exempt goods, goods excluded with the buyer's confirmation at purchase, goods not
    intact); ``unconfirmed``: of those, goods the seller excluded without that
    confirmation."""

    refused_in_window: int
    examples: tuple[str, ...] = ()  # a few refused requests, for the evidence
    unconfirmed: int = 0


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
    returns_refused_unconfirmed: int = 0  # of which excluded goods, buyer not asked

    def first_replies(self) -> FirstReplyMeasures:
        return FirstReplyMeasures(self.chat_p95,
                                  self.unanswered_overdue + self.first_reply_late)

    def closure(self) -> ClosureMeasures:
        return ClosureMeasures(self.lost, self.open, self.open_overdue, self.oldest_open_age,
                               self.closed_without_feedback, self.closed_too_early)

    def refunds(self) -> RefundMeasures:
        return RefundMeasures(self.refunds_paid, self.refunds_late, self.refund_delay_max)

    def returns_record(self) -> ReturnMeasures:
        return ReturnMeasures(self.returns_refused_in_window,
                              unconfirmed=self.returns_refused_unconfirmed)


@dataclass(frozen=True)
class PublishMeasures:
    """``replay.available``: whether the broadcast's replay was published, how long after
    it ended (a load test's: the slowest of the broadcasts that ended)."""

    published: bool
    after: float | None
    examples: tuple[str, ...] = ()  # broadcasts that ended without one, for the evidence


@dataclass(frozen=True)
class RetentionMeasures:
    """``replay.retained``: how long the recording is kept from the broadcast's end, and the
    transaction records from each transaction's completion (a load test's: the shortest its
    completed records promise)."""

    recording: float
    records: float
    shortest: str | None = None  # which record promises the least, and from when (evidence)
    not_complete: int = 0  # records whose transaction was not complete yet: not judged


@dataclass(frozen=True)
class ReplayMeasures:
    published: bool
    after: float | None  # seconds after the broadcast ended
    retention: float  # of the recording (0 when nothing is recorded)
    records_retention: float  # from each transaction's completion
    records_early: float = 0.0  # how long before completion the shop starts the clock

    def publish(self) -> PublishMeasures:
        return PublishMeasures(self.published, self.after)

    def kept(self) -> RetentionMeasures:
        why = None if not self.records_early else (
            f"records counted from their creation, an order's up to "
            f"{format_duration(self.records_early)} before its completion")
        return RetentionMeasures(self.retention, self.records_retention, why)


@dataclass(frozen=True)
class ReviewMeasures:
    reviews: int
    bad: int
    deleted: int
    hidden: int  # bad reviews hidden with a reason from the allowed list (kept, audited)
    suppressed: int  # bad reviews hidden without an allowed reason
    deleted_other: int = 0  # of ``deleted``, reviews that were not bad (a load test's)
    examples: tuple[str, ...] = ()  # a few removed reviews, for the evidence


@dataclass(frozen=True)
class ReceiptMeasures:
    paid_orders: int
    missing: int
    examples: tuple[str, ...] = ()  # a few paid orders without one, for the evidence
    details: tuple[str, ...] = ()  # what a load test judged them over


# --- display.complete ---------------------------------------------------------------------


@dataclass(frozen=True)
class PresentationMeasures:
    """``display.complete``: the linked products presented on air too briefly, and those
    whose page lacks the price, the seller or the returnability flag.

    The simulator knows each product's presentation from the schedule; a load test cannot
    see it (``short`` None) and judges the pages alone."""

    linked: int  # products linked in the broadcast
    incomplete: int  # products presented too briefly or with a page lacking a field
    short: int | None  # presented less than min_presentation (None: not seen, a load test)
    shortest_sku: str | None  # the least presented product, and its seconds on air
    shortest_s: float | None
    lacking: int  # pages lacking a required field
    lacking_pages: tuple[str, ...] = ()  # a few, as "SKU without seller or returnability"
    misdescribed: int | None = None  # paid orders not as described (the simulator's)
    min_presentation: float = 0.0  # the limit the figures were measured against
    details: tuple[str, ...] = ()  # what a load test judged them over



# --- display.counters-true ----------------------------------------------------------------


@dataclass(frozen=True)
class CounterMeasures:
    """``display.counters-true``: shown sold and viewer counts above the truth.

    A reading is one shown figure (``sold`` or ``viewers``) at one moment: the model reads
    both counters every step of ``step`` seconds and compares each with the highest truth
    of the last ``max_lag`` (sold: orders accepted so far; viewers: viewers present); a load
    test (``step`` None, ``bounds_only``) compares each figure it read with the most the
    history allows (sold: order requests sent, ok or unknown, before the reading answered;
    viewers: distinct sessions that had opened the broadcast by then). ``overstated``: the
    readings above that truth by more than the rule's ``max_overstatement``."""

    readings: int
    overstated: int
    worst_fraction: float = 0.0  # (shown - truth) / truth of the worst reading; inf: truth 0
    worst_counter: str | None = None  # "sold" or "viewers"
    worst_at: float | None = None  # seconds into the broadcast (a load test's: into the run)
    worst_shown: float = 0.0
    worst_truth: float = 0.0
    step: float | None = None
    bounds_only: bool = False
    overstated_s: float = 0.0  # the model's: seconds some counter was overstated


# --- pricing.claims-hold ------------------------------------------------------------------


@dataclass(frozen=True)
class PricingMeasures:
    """``pricing.claims-hold``: the host's price claims judged and broken, the orders a
    'lowest price' claim left undercut within the protection period, what their buyers are
    owed, and their price-protection requests (asked, refused by the store).

    The simulator judges the scenario's claims (a discount's stated reference against the
    lowest price of the window before it; a 'lowest price' against every channel's prices
    within the protection period); a load test judges each reference price shown to a buyer
    against the lowest unit price the shop charged in the window before, and each order
    against the price shown just before it (``overcharged``). In the simulator the
    price-protection requests are the after-sales desk's ``price-protection`` tickets, and
    ``refused`` those it refused when it resolved them."""

    claims: int  # judged (a load test's: reference prices shown, orders compared)
    broken: int  # of them broken (a load test's: including ``overcharged``)
    examples: tuple[str, ...] = ()  # a few broken claims in words: SKU, what, by how much
    orders_undercut: int = 0  # paid orders a lower price undercut within protection
    owed: float = 0.0  # currency: the differences those buyers are owed
    requests: int = 0  # price-protection requests asked (the simulator's: tickets)
    refused: int = 0  # of them refused by the store (the simulator's: at resolution)
    overcharged: int = 0  # a load test's orders charged above the price shown before them
    details: tuple[str, ...] = ()  # what a load test judged them over

    @property
    def failures(self) -> int:
        """What the rule's ``max_broken`` counts: claims broken and requests refused."""
        return self.broken + self.refused



# --- fulfilment.on-time -------------------------------------------------------------------


@dataclass(frozen=True)
class FulfilmentMeasures:
    """``fulfilment.on-time``: the paid orders judged (their deadlines passed, or they were
    shipped and delivered), of which shipped later than ``ship_within`` after payment (or
    still unshipped past it), delivered after the promise (or still undelivered past it),
    late either way; the worst lateness past a deadline; orders still within their
    deadlines when the horizon came (the model) or the state was read (a load test)."""

    judged: int
    shipped_late: int
    delivered_late: int
    late: int  # orders late in either way (each counted once)
    worst_late: float | None  # seconds past its deadline, the latest order's
    pending: int = 0
    unrecorded: int = 0  # a load test's: shipments acknowledged that the shop never shows
    examples: tuple[str, ...] = ()  # a few late orders, for the evidence
    details: tuple[str, ...] = ()  # the deadlines a load test judged by
    # stock readiness (the simulator's, with `warehouse` figures; a shop shows none): units
    # of linked stock beyond the warehouse's ready units, all SKUs; the SKU with the most,
    # its units beyond and its warehouse figure; paid orders beyond the ready units, held
    # until the replenishment came (``replenish`` seconds after going live)
    unready_units: int = 0
    unready_sku: str | None = None
    unready_sku_units: int = 0
    unready_sku_ready: int = 0
    held: int = 0
    replenish: float | None = None

    @property
    def on_time(self) -> float:
        """The share of judged orders neither shipped nor delivered late (1 with none)."""
        return 1.0 - self.late / self.judged if self.judged else 1.0


# --- aftersales.escalations-answered ------------------------------------------------------


@dataclass(frozen=True)
class EscalationMeasures:
    """``aftersales.escalations-answered``: the requests consumers escalated to the platform
    and how the platform's decisions went, at the horizon (a load test's: when the state was
    read). ``overdue``: undecided and older than ``decide_within`` by then; ``pending``:
    undecided, still within it; ``lost``: acknowledged to the consumer, absent from the
    platform's books (a load test's; the simulator's platform loses none)."""

    tickets: int  # requests that could have been escalated
    escalated: int
    decided_in_time: int
    decided_late: int
    overdue: int
    pending: int
    slowest: float | None  # the longest decision, escalation to decision (seconds)
    oldest_undecided: float | None = None  # the age of the oldest undecided (seconds)
    lost: int = 0
    examples: tuple[str, ...] = ()  # a few escalations decided late or never (a load test's)

    @property
    def unanswered(self) -> int:
        """Decided late, undecided past the deadline, or lost: what the rule counts."""
        return self.decided_late + self.overdue + self.lost



# --- reviews.order-honest -----------------------------------------------------------------


@dataclass(frozen=True)
class ReviewOrderMeasures:
    """``reviews.order-honest``: each product's default review listing against the reviews
    it should show. Protected reviews are those rated the rule's ``protected_max`` or lower;
    ``hidden``: of them, left out of the listing without an allowed reason (a deleted one is
    ``reviews.not-deleted``'s, not counted here); ``buried``: of those listed, the ones
    below a better review that time order would have put after them, counted against the
    time order (newest or oldest first) nearer the listing, product by product."""

    reviews: int  # reviews the listings should show or account for (deleted ones aside)
    protected: int
    hidden: int
    buried: int
    order: str  # how the listings are ordered: "newest first", "oldest first", "by rating"
    products: int = 0  # listings judged
    examples: tuple[str, ...] = ()  # a few hidden or buried reviews, for the evidence
    details: tuple[str, ...] = ()  # what a load test saw, product by product



@dataclass(frozen=True)
class Measures:
    """One replication's records. A rule whose record is None was not modelled by the
    scenario (``simlive.scenario.scope``): its verdict is ``not judged``."""

    stock: StockMeasures
    desk: DeskMeasures
    replay: ReplayMeasures
    reviews: ReviewMeasures
    receipts: ReceiptMeasures
    desks: tuple[DeskMeasures, ...] = ()  # each desk's, with aftersales.desks (pooled first)
    presentation: PresentationMeasures | None = None  # display.complete

    counters: CounterMeasures | None = None  # display.counters-true

    pricing: PricingMeasures | None = None  # pricing.claims-hold

    fulfilment: FulfilmentMeasures | None = None  # fulfilment.on-time

    escalations: EscalationMeasures | None = None  # aftersales.escalations-answered

    review_order: ReviewOrderMeasures | None = None  # reviews.order-honest
