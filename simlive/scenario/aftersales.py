"""The scenario contract's after-sales part: the requests, the desk's agents, handling,
patience and service level, and the day's rhythm of contacts (``aftersales`` in a file)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BeforeValidator, Field, field_validator, model_validator

from simlive.scenario.base import Model, Span, _exp
from simlive.scenario.dists import Distribution, Gamma
from simlive.scenario.units import (
    AGENTS_MAX,
    Fraction,
    Mismatch,
    PerSecond,
    Seconds,
    at_least,
    at_most,
    count,
    parse_share,
)

TicketKind = Literal["consultation", "return", "replacement", "refund", "complaint",
                     "price-protection"]
TICKET_KINDS: tuple[TicketKind, ...] = get_args(TicketKind)


def stretch_of(chat_concurrency: int, stretch: float | None) -> float:
    """How much longer a ticket takes when its agent holds ``chat_concurrency`` at once:
    ``stretch`` if given, else 1 + 0.5 x (chat_concurrency - 1); 1 for one at a time."""
    if chat_concurrency == 1:
        return 1.0
    return stretch if stretch is not None else 1 + 0.5 * (chat_concurrency - 1)


class Consultations(Model):
    rate: PerSecond = 0.0
    per_viewer: PerSecond = Field(default=0.0, description=(
        "chats per present viewer, e.g. 0.2/h; added to rate"))


class Requests(Model):
    """Tickets that follow a paid order: returns, replacements, refunds, complaints."""

    fraction: Fraction
    delay: Distribution = Field(default_factory=lambda: Gamma(dist="gamma", mean="3d",
                                                               sd="2d"))


class Returns(Requests):
    """Returns: a SKU's (or its category's) ``return_rate`` wins over ``fraction``, so a
    catalogue whose every SKU has a rate needs none."""

    fraction: Fraction = Field(default=0.1, description=(
        "returns per paid order of a SKU without a return_rate of its own"))


class Shift(Span):
    start: Seconds = Field(alias="from")
    end: Seconds = Field(alias="to")
    agents: Annotated[int, at_most(AGENTS_MAX, "the desk keeps a duty schedule per agent; "
                                   "10 million took minutes", count)] = Field(ge=0)


class ServiceLevel(Model):
    """Which service levels the desk reports: the fraction of tickets first answered within
    each of ``within``, overall (KPI ``aftersales.service_level(20s)``) and per ``interval``
    (what a per-interval staffing target is judged on)."""

    within: list[Annotated[Seconds, Field(gt=0), at_most(
        86400.0, "a service level threshold is a wait a customer accepts")]] = Field(
        default_factory=lambda: [20.0], max_length=16)
    interval: Annotated[Seconds, at_least(60.0, "an interval's service level needs tickets "
                                          "enough to mean anything")] = Field(
        default=1800.0, description="the length of the intervals the service level is "
        "reported and staffed per (the after-sales horizon in such intervals)")


def _handling() -> dict[TicketKind, Distribution]:
    return {
        "consultation": _exp("2m"),
        "return": _exp("4m"),
        "replacement": _exp("5m"),
        "refund": _exp("3m"),
        "complaint": _exp("8m"),
        "price-protection": _exp("3m"),  # check the two prices, pay or refuse the difference
    }


class DailyProfile(Model):
    """When customers get in touch once the broadcast is over: by the hour of their day
    (``start_clock`` says what hour the broadcast began). A customer ready to ask (goods
    arrived and a return wanted, a refund decided) has an hour they get round to it, drawn
    by ``hourly``, and asks the next time that hour comes: requests land in the hours in
    proportion to the weights, never before the customer was ready (at most a day after)."""

    hourly: list[Annotated[float, Field(ge=0.0, le=1e6)]] = Field(
        min_length=24, max_length=24, description="24 weights, hour 00 to hour 23")

    @model_validator(mode="after")
    def _some_hour(self) -> DailyProfile:
        if not any(w > 0 for w in self.hourly):
            raise ValueError("hourly: expected at least one hour with a weight above 0")
        return self


class Desk(Model):
    """A desk of its own (a brand's store, a category team): it answers the tickets of the
    SKUs it takes (``stores``, ``categories``, ``skus``: any SKU matching one of them; the
    first desk listed that matches wins). Chats about no SKU and SKUs no desk takes go to
    the pooled desk (``aftersales.agents``). Settings left out are the pooled desk's."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    stores: list[str] = Field(default_factory=list, max_length=100_000)
    categories: list[str] = Field(default_factory=list, max_length=10_000)
    skus: list[str] = Field(default_factory=list, max_length=100_000)
    each: Literal["store"] | None = Field(default=None, description=(
        "store: one desk per store among the SKUs taken (named NAME/STORE), each with these "
        "agents: a pool split by brand"))
    agents: list[Shift] = Field(min_length=1)
    handling: dict[TicketKind, Distribution] | None = None
    patience: Distribution | None = None
    shrinkage: Annotated[float, BeforeValidator(parse_share), Field(ge=0), at_most(
        0.9, "paid time that is not available: above 90 % there is nobody to staff")] | None \
        = None
    max_occupancy: Annotated[float, BeforeValidator(parse_share), Field(gt=0, le=1)] | None = None
    chat_concurrency: Annotated[int, Field(ge=1), at_most(
        10, "chats one agent holds at once", count)] | None = None
    concurrency_stretch: Annotated[float, Field(ge=1), at_most(
        10, "a ticket lasting more than 10 x its handling time", count)] | None = None
    service_level: ServiceLevel | None = None

    @model_validator(mode="after")
    def _takes_something(self) -> Desk:
        if not (self.stores or self.categories or self.skus):
            raise Mismatch("stores, categories or skus: what the desk answers for",
                           "none of them", as_is=True)
        return self


class Escalation(Model):
    """Consumers who take a request to the platform (``aftersales.escalation``; it puts
    ``aftersales.escalations-answered`` in scope): a request still unresolved ``after`` its
    asking, or a return the store refused, escalates with a probability; the platform's own
    desk decides escalations first come, first served, at most ``decisions_per_day`` taken
    up per day (days counted from the broadcast's start), each decided ``decision_time``
    after it is taken up. Chats (consultations) are not escalated."""

    after: Annotated[Seconds, Field(gt=0), at_most(
        365 * 86400.0, "a consumer who waits a year for an answer has gone to court")] = \
        Field(default=3 * 86400.0, description=(
            "how long a request stays unresolved before its consumer may escalate it"))
    unresolved: Fraction = Field(default=0.3, description=(
        "the chance that a request still unresolved ``after`` its asking is escalated"))
    refused: Fraction = Field(default=0.5, description=(
        "the chance that a return the store refused is escalated, when it is refused"))
    decisions_per_day: Annotated[int, Field(ge=1), at_most(
        10_000_000, "escalations a platform takes up in one day", count)] = Field(
        default=200, description="escalations the platform's desk takes up per day")
    decision_time: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean="1d", sd="12h"), description=(
        "from taking an escalation up to the platform's decision"))


class Aftersales(Model):
    consultations: Consultations = Consultations()
    returns: Returns = Returns()
    replacements: Requests = Requests(fraction=0.01)
    refunds: Requests = Requests(fraction=0.02, delay=_exp("12h"))
    complaints: Requests = Requests(fraction=0.005)
    agents: list[Shift] = Field(min_length=1)
    handling: dict[TicketKind, Distribution] = Field(default_factory=_handling)
    patience: Distribution | None = Field(default_factory=lambda: _exp("5m"), description=(
        "how long a chat waits before leaving (it is still owed a reply); null: forever"))
    daily_profile: DailyProfile | None = Field(default=None, description=(
        "the hours at which requests after the broadcast arrive (default: any hour alike)"))
    goods_return: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean="3d", sd="1d"))
    refund_delay: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean="1d", sd="12h"))
    resolve_delay: Distribution = Field(default_factory=lambda: _exp("1d"))
    feedback_delay: Distribution = Field(default_factory=lambda: _exp("1d"))
    feedback_timeout: Seconds | None = Field(default=7 * 86400.0, gt=0, description=(
        "a resolved ticket whose consumer gives no feedback is closed after this, recorded "
        "as 'no feedback' (platforms auto-close); null: it waits for feedback forever"))
    lose_fraction: Fraction = Field(default=0.0, description=(
        "tickets the desk silently drops: breaks tracked-to-closure"))
    accept_returns_within: Seconds = Field(default=7 * 86400.0, description=(
        "the merchant's no-reason return window; shorter than 7d breaks the law"))
    accept_returns_counted: Literal["calendar", "hours"] = Field(
        default="calendar", description=(
            "how the merchant counts accept_returns_within: calendar (from the end of the "
            "day the goods were signed for, local time: 7d runs to 24:00 of the 7th day "
            "after, as the law counts) or hours (from the delivery itself: 7d refuses "
            "returns the law still allows on the last day)"))
    returns_not_intact: Fraction = Field(default=0.0, description=(
        "fraction of returns whose goods would not come back intact: the merchant refuses "
        "them, lawfully"))
    horizon: Seconds = Field(default=30 * 86400.0, gt=0, description=(
        "how long after the broadcast after-sales are simulated"))
    shrinkage: Annotated[float, BeforeValidator(parse_share), Field(ge=0), at_most(
        0.9, "paid time that is not available: above 90 % there is nobody to staff")] = Field(
        default=0.0, description="fraction of paid agent time not available (breaks, "
        "training, absence): of n agents on a shift, floor(n x (1 - shrinkage)) answer")
    max_occupancy: Annotated[float, BeforeValidator(parse_share), Field(gt=0, le=1)] = Field(
        default=1.0, description=(
        "the planner staffs so that the expected occupancy (busy / available) of no "
        "interval exceeds this"))
    chat_concurrency: Annotated[int, Field(ge=1), at_most(
        10, "chats one agent holds at once", count)] = Field(default=1, description=(
        "tickets one agent holds at once: each agent is that many desk slots"))
    concurrency_stretch: Annotated[float, Field(ge=1), at_most(
        10, "a ticket lasting more than 10 x its handling time", count)] | None = Field(
        default=None, description="how much longer a ticket takes when its agent holds up to "
        "chat_concurrency at once (handling time x this); default 1 + 0.5 x "
        "(chat_concurrency - 1); at most chat_concurrency")
    service_level: ServiceLevel = ServiceLevel()
    escalation: Escalation | None = Field(default=None, description=(
        "consumers escalating requests to the platform, and its decisions "
        "(aftersales.escalations-answered); absent: that rule is not judged"))
    desks: list[Desk] = Field(default_factory=list, max_length=1000, description=(
        "desks of their own (by store, category or SKU list); what none takes goes to the "
        "pooled desk, whose agents are ``agents``"))

    @property
    def stretch(self) -> float:
        """The handling time multiplier of ``chat_concurrency``."""
        return stretch_of(self.chat_concurrency, self.concurrency_stretch)

    @model_validator(mode="after")
    def _stretch_helps(self) -> Aftersales:
        if self.concurrency_stretch is not None and \
                self.concurrency_stretch > self.chat_concurrency:
            raise Mismatch(f"concurrency_stretch at most chat_concurrency "
                           f"({self.chat_concurrency}): more would make an agent slower with "
                           "more chats", f"{self.concurrency_stretch:g}", as_is=True)
        return self

    @field_validator("handling", mode="after")
    @classmethod
    def _every_kind(cls, value: dict) -> dict:
        """Kinds left out keep their default handling time, so a file names only changes."""
        return {**_handling(), **value}
