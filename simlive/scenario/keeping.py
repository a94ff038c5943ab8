"""The scenario contract's record-keeping parts: the replay and the records it keeps
(``replay``), and the reviews buyers post and how a shop lists them (``reviews``)."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from simlive.scenario.aftersales import (  # noqa: F401 - the contract's after-sales part
    TICKET_KINDS,
    Aftersales,
    Consultations,
    DailyProfile,
    Requests,
    ServiceLevel,
    Shift,
)
from simlive.scenario.base import Model, _exp
from simlive.scenario.dists import Distribution, Lognormal
from simlive.scenario.units import (
    Fraction,
    Mismatch,
    Seconds,
)


class Replay(Model):
    record: bool = True
    publish_delay: Distribution = Field(default_factory=lambda: Lognormal(
        dist="lognormal", mean="3m", sd="1m"))
    failure_probability: Fraction = 0.0
    retention: Seconds = Field(default=3 * 365 * 86400.0, description=(
        "how long the recording is kept, from the broadcast's end"))
    records_retention: Seconds = Field(default=3 * 365 * 86400.0, description=(
        "how long the transaction records (orders, receipts) are kept, from where "
        "records_clock starts"))
    records_clock: Literal["completion", "creation"] = Field(default="completion", description=(
        "where the shop starts the records' clock: at each transaction's completion (the "
        "law's: delivery, or closing for an order never paid), or at the record's creation, "
        "which keeps each order short by the time it took to complete (a presale's deposit "
        "to the balance's delivery: weeks)"))


NEUTRAL_DEFAULT = 0.12
"""Reviews rated 3 of 5 when a scenario does not say (assumed)."""


class Reviews(Model):
    fraction: Fraction = 0.2
    bad_fraction: Fraction = 0.08
    delay: Distribution = Field(default_factory=lambda: _exp("2d"))
    delete_bad: Fraction = Field(default=0.0, description=(
        "fraction of bad reviews the merchant deletes: breaks reviews.not-deleted"))
    bad_with_cause: Fraction = Field(default=0.05, description=(
        "fraction of bad reviews that contain illegal content, personal data or spam, the "
        "only reasons a review may be hidden"))
    hide_bad: Literal["none", "with-reason", "all"] = Field(default="with-reason", description=(
        "the merchant's policy: hide no bad review, only those with an allowed reason, or "
        "all of them ('all' suppresses honest bad reviews: breaks reviews.not-deleted)"))
    # -- reviews.order-honest: the rating mix and the default listing
    neutral_fraction: Fraction | None = Field(default=None, description=(
        "fraction of reviews rated 3 of 5 (neutral); bad ones (1-2) are bad_fraction, the "
        "rest rate 4-5. Default: 12 %, or what bad_fraction leaves when it leaves less "
        "(assumed)"))
    listing: Literal["newest", "oldest", "good-first"] | None = Field(
        default=None, description=(
            "the order of a product's default review listing: newest first, oldest first, "
            "or best rated first ('good-first' buries bad and neutral reviews: breaks "
            "reviews.order-honest). Unstated: listed newest first, and reviews.order-honest "
            "is not judged"))
    hide_neutral: Fraction = Field(default=0.0, description=(
        "fraction of neutral reviews left out of the default listing without an allowed "
        "reason: breaks reviews.order-honest"))

    @property
    def neutral(self) -> float:
        """The share of reviews rated 3: as stated, else the default the bad ones leave."""
        if self.neutral_fraction is not None:
            return self.neutral_fraction
        return min(NEUTRAL_DEFAULT, 1.0 - self.bad_fraction)

    @model_validator(mode="after")
    def _rating_mix(self) -> Reviews:
        if self.neutral_fraction is not None and \
                self.bad_fraction + self.neutral_fraction > 1.0:
            raise Mismatch("bad_fraction + neutral_fraction <= 1",
                           f"{self.bad_fraction:g} + {self.neutral_fraction:g}", as_is=True)
        return self

    def states_listing(self) -> bool:
        """Whether the scenario says how the shop lists reviews: only then is
        reviews.order-honest judged, never on an unstated default. ``listing`` is None when
        unstated, rather than read from ``model_fields_set``, because a scenario handed to
        Locust processes, stored in run.json or varied by a plan is dumped and validated
        again, which marks every field set."""
        return self.listing is not None
