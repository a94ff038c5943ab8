"""The compliance rules: ids, names, parameters and verdicts. The one shared vocabulary.

The simulator (``simlive.sim``) and the load-test checker (``simlive.check``) both report a
verdict per rule using the ids, names and default parameters defined here, so that a
``simlive run`` table and a ``simlive check`` table can be compared row by row. Parameter
values are plain numbers in base units (seconds, counts, fractions); the scenario loader
parses human units (``10m``, ``3y``) into them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
YEAR = 365.0 * DAY


class Status(StrEnum):
    """A verdict's outcome.

    ``unknown``: there is no evidence to judge on (the shop lacks the operation, a judge
    crashed); ``undecided``: the simulator has evidence but too few replications to establish
    either answer at the stated risk. Neither is ever a pass. ``not judged``: the scenario
    does not model the duty (no price claims, no fulfilment block), so nothing could have
    broken it; the verdict says what to add, and it leaves the exit code alone, the way a
    test that was never written does (a shop that cannot show a duty the scenario models is
    ``unknown``, not this).
    """

    PASS = "pass"
    FAIL = "fail"
    UNDECIDED = "undecided"
    UNKNOWN = "unknown"
    NOT_JUDGED = "not judged"


BAD_RATING = 2
"""A review rated at most this (of 5) is a bad review."""

HIDE_REASONS: dict[str, str] = {
    "illegal-content": "the review breaks the law (e.g. obscene or violent content)",
    "personal-data": "the review discloses someone's personal information",
    "spam": "advertising or content unrelated to the purchase",
}
"""The only reasons a review may be hidden (kept and audited, never deleted). A bad review
hidden for any other reason is suppressed, which the reviews rule forbids."""

RETURN_EXEMPT: dict[str, str] = {
    "made-to-order": "goods made to the consumer's order",
    "fresh-perishable": "fresh, live and perishable goods",
    "digital-opened": "audio-visual products and software unsealed by the consumer, or "
                      "digital goods downloaded",
    "newspapers-periodicals": "newspapers and periodicals delivered",
}
"""The kinds of goods the law exempts from seven-day no-reason returns (Consumer Rights
Protection Law art. 25). Nothing else is exempt: food in general is not."""

RETURN_EXCLUDABLE: dict[str, str] = {
    "unsealed-health-quality": "goods that, once unsealed, may affect health or safety or "
                               "change in quality (e.g. cosmetics, personal hygiene)",
    "activated-or-tried": "goods whose value drops markedly once activated or tried (e.g. "
                          "electronics activated)",
    "disclosed-expiry-or-flaw": "goods sold as near their expiry date or with a defect "
                                "disclosed at the sale",
}
"""The kinds of goods a seller may exclude from no-reason returns only when the buyer
confirmed the exclusion at purchase (SAIC Interim Measures for Seven-day No-reason Returns
of Online Purchases, 2017, art. 7). Unconfirmed, they are returnable like any other. A
seller may also refuse a return whose goods do not come back intact (art. 8)."""


def return_deadline(delivered: Any, window: float, utc_offset: float) -> Any:
    """When a no-reason return stops being owed: 24:00 local time of the last of ``window``
    (whole days, in seconds) calendar days counted from the day after the consumer signed
    for the goods at ``delivered`` (SAIC Interim Measures 2017, art. 6). Times are seconds
    on one clock (epoch seconds, or a simulator's); ``utc_offset``: what to add to that
    clock to read the local time of day (UTC+8: 8 h on epoch seconds; a simulator's start
    clock on its seconds since the start). Works on a number or a numpy array alike."""
    return ((delivered + utc_offset) // DAY + 1) * DAY + window - utc_offset


class Basis(StrEnum):
    """What a rule or a default limit rests on, strongest first. A user weighing a failed
    verdict needs to know whether it breaks a statute or a figure simlive assumed."""

    LAW = "law"  # a national statute (E-Commerce Law, Consumer Rights Protection Law)
    REGULATION = "regulation"  # measures of a State Council department, in force
    DRAFT = "draft regulation"  # published for comment, not in force
    STANDARD = "group standard"  # a voluntary standard of a trade body
    PLATFORM = "platform norm"  # one platform's own rule for its merchants
    BOOKKEEPING = "bookkeeping"  # an accounting identity: holds by arithmetic or not at all
    DEFAULT = "simlive default"  # no source: an assumption, to be set per scenario


class Party(StrEnum):
    """Who owes the duty: the verdicts grouped by party go to the people who must act."""

    PLATFORM = "platform"  # the live-commerce platform: replays, records, reviews
    STORE = "brand store"  # the seller: stock books, receipts, after-sales, returns
    HOST = "host"  # the live-stream host and team: what is shown and claimed on air


@dataclass(frozen=True)
class Param:
    """One tunable limit of a rule. ``kind`` tells the scenario loader how to parse it.
    ``basis`` is the limit's own when it differs from its rule's (a default figure of a
    rule whose duty is law, say)."""

    name: str
    kind: str  # "duration" or "days" (seconds), "offset" (seconds, signed), "count",
    # or "fraction"
    default: float
    doc: str
    basis: Basis | None = None

    @property
    def seconds(self) -> bool:
        """Whether the value is a time in seconds (a table shows it as ``7d``, ``8h``)."""
        return self.kind in ("duration", "days", "offset")


@dataclass(frozen=True)
class Rule:
    """A duty simlive judges: what it checks (``summary``), on what ``basis`` and which
    ``source`` (citations, as published), and which ``party`` owes it."""

    id: str
    name: str
    summary: str
    source: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    basis: Basis = Basis.DEFAULT
    party: Party = Party.STORE

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def limits(self, params: Mapping[str, float]) -> dict[str, float]:
        """``params`` as a verdict's limit: times keyed ``<name>_s`` (seconds), so tables
        show ``10m`` rather than ``600``."""
        timed = {q.name for q in self.params if q.seconds}
        return {f"{k}_s" if k in timed else k: v for k, v in params.items()}

    def param_basis(self) -> dict[str, str]:
        """Each limit's basis, the rule's unless the limit has its own."""
        return {p.name: (p.basis or self.basis).value for p in self.params}


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "stock.no-oversell",
            "No oversell",
            "confirmed orders of a SKU never exceed its stock; stock never negative",
            "Zhejiang live e-commerce service specification (group standard, 2020): the "
            "quantity linked in the broadcast matches the actual stock",
            (Param("max_violations", "count", 0, "SKU-units sold beyond stock allowed"),),
            Basis.STANDARD, Party.HOST,
        ),
        Rule(
            "stock.display-matches",
            "Displayed stock matches real stock",
            "the stock a viewer is shown equals the real, sellable stock (no false scarcity, "
            "no phantom stock)",
            "Zhejiang live e-commerce service specification (group standard, 2020); "
            "Zhejiang live-marketing conduct guide (no false stock or countdown claims)",
            (
                Param("max_lag", "duration", 2.0, "how stale a displayed figure may be",
                      Basis.DEFAULT),
                Param("max_mismatches", "count", 0, "readings wrong beyond max_lag allowed"),
            ),
            Basis.STANDARD, Party.HOST,
        ),
        Rule(
            "stock.ledger-balances",
            "Stock ledger balances",
            "initial = sold + reserved + remaining; cancelled or returned units go back "
            "exactly once",
            "bookkeeping identity (no published source: the books either balance or not)",
            (Param("tolerance", "count", 0, "units the ledger may be off by"),),
            Basis.BOOKKEEPING, Party.STORE,
        ),
        Rule(
            "display.complete",
            "Products shown completely",
            "every product linked in the broadcast is presented on air for at least "
            "min_presentation, and its page shows the price, the seller and whether it can "
            "be returned without reason (goods that cannot are flagged)",
            "E-Commerce Law art. 17 (disclose goods information fully, truly, accurately "
            "and in time); Zhejiang live e-commerce service specification (group standard, "
            "2020: show goods completely and clearly); SAIC Interim Measures for Seven-day "
            "No-reason Returns (2017) art. 7 (goods that cannot be returned are marked on "
            "the page); min_presentation: no source found",
            (Param("min_presentation", "duration", 30.0, "on-air presentation each linked "
                   "product needs", Basis.DEFAULT),
             Param("max_incomplete", "count", 0, "products presented too briefly or shown "
                   "without a required field")),
            Basis.LAW, Party.HOST,
        ),
        Rule(
            "display.counters-true",
            "Displayed counters true",
            "the sold count and the viewer count the broadcast shows are no higher than "
            "what happened (orders taken, viewers present), allowing max_lag",
            "Anti-Unfair Competition Law art. 8 (no false or misleading publicity of sales "
            "or other figures); Zhejiang live-marketing conduct guide (no false sales or "
            "audience figures)",
            (Param("max_lag", "duration", 5.0, "how stale a shown counter may be",
                   Basis.DEFAULT),
             Param("max_overstatement", "fraction", 0.0, "how far above the truth a shown "
                   "figure may be, as a fraction of the truth")),
            Basis.LAW, Party.HOST,
        ),
        Rule(
            "pricing.claims-hold",
            "Price claims hold",
            "a discount's stated reference price is no higher than the lowest price the "
            "goods sold at in the window before the claim; a 'lowest price' claim is not "
            "undercut, in any channel, within the protection period; a buyer who asks for "
            "the difference within it is paid",
            "SAMR Interim Provisions on Regulating Promotional Activities (2020) art. 20 (a "
            "discount with no other stated basis is against the lowest transaction price of "
            "the 7 days before the promotion); Anti-Unfair Competition Law art. 8; "
            "protection: no source found (platforms' price-protection promises vary)",
            (Param("window", "days", 7 * DAY, "days before the claim whose lowest price is "
                   "the reference"),
             Param("protection", "duration", 15 * DAY, "how long after a sale a 'lowest "
                   "price' claim must hold", Basis.DEFAULT),
             Param("max_broken", "count", 0, "claims broken or price-protection requests "
                   "refused")),
            Basis.REGULATION, Party.HOST,
        ),
        Rule(
            "fulfilment.on-time",
            "Delivered as promised",
            "every paid order ships within ship_within of payment and is delivered by the "
            "time promised",
            "E-Commerce Law art. 20 (deliver in the manner and time promised or agreed); "
            "ship_within: Taobao and Tmall's default 48-hour shipping time (a platform norm)",
            (Param("min_on_time", "fraction", 1.0, "paid orders delivered by the promise"),
             Param("ship_within", "duration", 48 * HOUR, "from payment to shipping, when the "
                   "store stated no other time", Basis.PLATFORM)),
            Basis.LAW, Party.STORE,
        ),
        Rule(
            "replay.available",
            "Replay available",
            "every finished broadcast has a replay (look-back) that can be opened",
            "look-back function: SAMR Online Transaction Supervision Measures, draft for "
            "comment (2020); the measures in force since 1 May 2021 require keeping the "
            "video, not a replay viewers can open",
            (Param("publish_within", "duration", 10 * MINUTE, "after the broadcast ends",
                   Basis.DEFAULT),),
            Basis.DRAFT, Party.PLATFORM,
        ),
        Rule(
            "replay.retained",
            "Replay and records retained",
            "the recording is kept from the broadcast's end, and the transaction records from "
            "each transaction's completion, for at least min_retention",
            "SAMR Online Transaction Supervision Measures, in force 1 May 2021 (live video "
            ">= 3 years from the broadcast's end); E-Commerce Law art. 31 (transaction "
            "records >= 3 years from the transaction's completion)",
            (Param("min_retention", "duration", 3 * YEAR, "how long both must be kept"),),
            Basis.LAW, Party.PLATFORM,
        ),
        Rule(
            "aftersales.first-reply",
            "After-sales first reply",
            "every consultation, return, replacement, refund or complaint gets a first reply",
            "Zhejiang live e-commerce service specification (answer consumers' requests); "
            "chat_p95: Douyin e-commerce's 3-minute reply rate (a platform norm, counted "
            "08:00-23:00; other platforms set their own); max_reply: no source found",
            (
                Param("chat_p95", "duration", 3 * MINUTE, "p95 first reply to live chats",
                      Basis.PLATFORM),
                Param("max_reply", "duration", 5 * DAY, "latest first reply to any request",
                      Basis.DEFAULT),
            ),
            Basis.STANDARD, Party.STORE,
        ),
        Rule(
            "aftersales.refund-deadline",
            "Refund deadline",
            "a refund is paid after the returned goods are received",
            "Consumer Rights Protection Law art. 25 (refund within 7 days of receiving the "
            "goods back); SAIC Measures on Penalties for Infringing Consumer Rights (2015)",
            (Param("max_delay", "duration", 7 * DAY, "from goods received to money paid"),),
            Basis.LAW, Party.STORE,
        ),
        Rule(
            "aftersales.tracked-to-closure",
            "Tickets tracked to closure",
            "every ticket reaches a terminal state with the consumer's feedback recorded, or "
            "is closed as 'no feedback' after the consumer stayed silent for feedback_timeout; "
            "none is lost",
            "Zhejiang live e-commerce service specification (track the consumer's feedback "
            "until handling completes); E-Commerce Law art. 59 (complaint mechanism); "
            "close_within and feedback_timeout: no source found",
            (
                Param("max_lost", "count", 0, "tickets that vanished"),
                Param("close_within", "duration", 15 * DAY, "age past which an open ticket "
                      "is overdue", Basis.DEFAULT),
                Param("feedback_timeout", "duration", 7 * DAY, "how long after resolution a "
                      "silent consumer is waited for before the ticket may be closed as 'no "
                      "feedback'", Basis.DEFAULT),
            ),
            Basis.STANDARD, Party.STORE,
        ),
        Rule(
            "aftersales.escalations-answered",
            "Escalations to the platform answered",
            "every after-sales request the consumer escalates to the platform (unresolved or "
            "refused by the store) gets the platform's decision within decide_within",
            "E-Commerce Law art. 59 (a platform accepts and handles complaints promptly) and "
            "art. 60; Zhejiang live e-commerce service specification (consumers complain to "
            "the platform); decide_within: no source found",
            (Param("decide_within", "duration", 5 * DAY, "from escalation to the platform's "
                   "decision", Basis.DEFAULT),
             Param("max_undecided", "count", 0, "escalations decided late or never")),
            Basis.LAW, Party.PLATFORM,
        ),
        Rule(
            "reviews.not-deleted",
            "Reviews never deleted",
            "no review is ever deleted; a bad review is hidden only for an allowed reason "
            "(illegal content, personal data, spam), with the data and an audit row kept",
            "E-Commerce Law art. 39 (a platform must not delete consumers' reviews)",
            (Param("max_deletions", "count", 0, "reviews deleted"),
             Param("max_suppressed", "count", 0, "bad reviews hidden without an allowed "
                   "reason")),
            Basis.LAW, Party.PLATFORM,
        ),
        Rule(
            "reviews.order-honest",
            "Review listing honest",
            "the default review listing is not ranked by rating, and no review rated "
            "protected_max or lower is left out of it (hidden) or pushed below better ones",
            "the draft rules the seed article cites (no 'good reviews first', no hiding "
            "reviews); E-Commerce Law art. 39; protected_max 3 (neutral reviews protected "
            "like bad ones): simlive default",
            (Param("protected_max", "count", 3, "reviews rated this or lower (of 5) are "
                   "protected", Basis.DEFAULT),
             Param("max_buried", "count", 0, "protected reviews hidden from or buried in "
                   "the default listing")),
            Basis.DRAFT, Party.PLATFORM,
        ),
        Rule(
            "evidence.receipt",
            "Receipt for every paid order",
            "every paid order has a retrievable receipt (the consumer's evidence)",
            "E-Commerce Law art. 14 (issue an invoice or other purchase voucher); Consumer "
            "Rights Protection Law art. 22",
            (Param("min_fraction", "fraction", 1.0, "paid orders with a receipt"),),
            Basis.LAW, Party.STORE,
        ),
        Rule(
            "returns.seven-day",
            "Seven-day no-reason returns",
            "a no-reason return requested by 24:00 local time of the 7th day after the day "
            "the consumer signed for the goods is accepted; it may be refused only for the "
            "law's exempt kinds (made-to-order, fresh and perishable, digital goods opened, "
            "newspapers and periodicals), for goods the buyer confirmed at purchase as "
            "excluded (unsealed hygiene goods, activated goods, disclosed near-expiry or "
            "defective goods), or when the goods do not come back intact",
            "Consumer Rights Protection Law art. 25; SAIC Interim Measures for Seven-day "
            "No-reason Returns of Online Purchases (2017) arts. 6-8",
            (Param("window", "days", 7 * DAY, "calendar days, counted from the day after "
                   "the consumer signs for the goods"),
             Param("utc_offset", "offset", 8 * HOUR, "the local time of the consumer's "
                   "calendar (China: UTC+8); a load test's timestamps are UTC, the "
                   "simulator counts in its start_clock's local time")),
            Basis.LAW, Party.STORE,
        ),
    )
}

RULE_IDS: tuple[str, ...] = tuple(RULES)


def rule_params(overrides: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, dict]:
    """Every rule's parameters: the defaults with ``overrides`` (by rule id) applied."""
    out = {rid: rule.defaults() for rid, rule in RULES.items()}
    for rid, values in (overrides or {}).items():
        if rid not in RULES:
            raise KeyError(rid)
        out[rid].update(values)
    return out


@dataclass(frozen=True)
class Odds:
    """How often a rule broke over simulated broadcasts, and what that establishes.

    ``decided_by`` says how the verdict was reached: ``interval`` (the exact 95 % interval
    lies on one side of the risk), ``sequential`` (Wald's test stopped), ``model`` (the
    scenario's policies make the rule break in every broadcast, or in none), or ``none``
    (undecided; ``more`` is then about how many more replications would likely decide it).
    """

    broken_in: int
    replications: int
    p_broken: float
    ci95: tuple[float, float]
    risk: float
    decided_by: str
    more: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"broken_in": self.broken_in, "replications": self.replications,
                "p_broken": round(self.p_broken, 6),
                "p_broken_ci95": [round(self.ci95[0], 6), round(self.ci95[1], 6)],
                "risk": self.risk, "decided_by": self.decided_by,
                "more_replications": self.more}


@dataclass(frozen=True)
class Verdict:
    """A rule's outcome, with what was measured against which limit and why.

    ``measured`` and ``limit`` are JSON-friendly values (numbers, strings or small dicts);
    ``evidence`` is one sentence a person can act on. A simulated verdict also carries its
    ``odds`` (broken in k of n broadcasts) and, over several replications, the mean and
    interval of each measured number (``measured_ci``).
    """

    rule_id: str
    status: Status
    measured: Any
    limit: Any
    evidence: str
    odds: Odds | None = None
    measured_ci: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.rule_id not in RULES:
            raise ValueError(f"rule_id(={self.rule_id!r}) is not a known rule")

    @property
    def name(self) -> str:
        return RULES[self.rule_id].name

    def to_dict(self) -> dict[str, Any]:
        rule = RULES[self.rule_id]
        out = {
            "id": self.rule_id,
            "name": self.name,
            "status": self.status.value,
            "measured": self.measured,
            "limit": self.limit,
            "evidence": self.evidence,
            "party": rule.party.value,
            "basis": rule.basis.value,
            "defaults_basis": rule.param_basis(),
            "source": rule.source,
        }
        if self.odds is not None:
            out.update(self.odds.to_dict(), verdict=self.status.value)
        if self.measured_ci is not None:
            out["measured_over_replications"] = self.measured_ci
        return out


def not_judged(rule_id: str, params: Mapping[str, float], why: str) -> Verdict:
    """The verdict of a rule the scenario does not model (``simlive.scenario.scope``)."""
    return Verdict(rule_id, Status.NOT_JUDGED, None, RULES[rule_id].limits(params),
                   f"not judged: {why}")


def overall(verdicts: Iterable[Verdict]) -> Status:
    """The one overall status: ``fail`` if any rule fails, else ``unknown`` if any could not
    be judged, else ``undecided`` if any needs more replications, else ``pass``."""
    statuses = {v.status for v in verdicts}
    for status in (Status.FAIL, Status.UNKNOWN, Status.UNDECIDED):
        if status in statuses:
            return status
    return Status.PASS


def exit_code(verdicts: Iterable[Verdict], thresholds_hold: bool = True) -> int:
    """The process exit code of a judged run, the same for every command (``simlive.errors``):
    the rules first (fail or unknown 1, undecided 4), then the load test's thresholds (3)."""
    from simlive.errors import EXIT_OK, EXIT_RULE_FAILED, EXIT_THRESHOLD_FAILED, EXIT_UNDECIDED

    status = overall(verdicts)
    if status is Status.PASS:
        return EXIT_OK if thresholds_hold else EXIT_THRESHOLD_FAILED
    return EXIT_UNDECIDED if status is Status.UNDECIDED else EXIT_RULE_FAILED


def ordered(verdicts: Iterable[Verdict]) -> list[Verdict]:
    """Verdicts in the canonical rule order, so every table and JSON lists rules alike."""
    rank = {rid: i for i, rid in enumerate(RULE_IDS)}
    return sorted(verdicts, key=lambda v: rank[v.rule_id])


def format_duration(seconds: float) -> str:
    """A short human duration (``95s``, ``3m``, ``2.5h``, ``7d``, ``3y``) for tables."""
    s = float(seconds)
    for unit, size in (("y", YEAR), ("d", DAY), ("h", HOUR), ("m", MINUTE)):
        if abs(s) >= size:
            v = s / size
            return f"{v:.0f}{unit}" if abs(v - round(v)) < 1e-9 else f"{v:.1f}{unit}"
    return f"{s:.0f}s" if abs(s - round(s)) < 1e-9 else f"{s:.1f}s"
