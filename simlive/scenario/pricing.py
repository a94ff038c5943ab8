"""The scenario contract's pricing part: what the goods sold at around the broadcast, what
the host claimed about it, and how buyers ask for the difference (``pricing`` in a file).

Its presence puts ``pricing.claims-hold`` in scope (``simlive.scenario.scope``). Times are
seconds from the broadcast's start and may be negative (before it): a discount's reference
is judged against the prices of the days before the claim.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from simlive.scenario.base import Model, _exp
from simlive.scenario.dists import Distribution
from simlive.scenario.units import (
    PRICE_BOUND,
    SIGNED_DURATION_SCHEMA,
    Fraction,
    Mismatch,
    Number,
    duration_text,
    parse_duration,
)

AROUND_MAX = 365 * 86400.0
"""How far from the broadcast a price or a claim may be placed: a year either side."""


def parse_signed(raw: object) -> float:
    """Seconds from the broadcast's start, ``-3d`` before it; a year either side at most."""
    negative = isinstance(raw, str) and raw.strip().startswith("-")
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw < 0:
        negative, raw = True, -raw
    value = parse_duration(raw.strip()[1:] if isinstance(raw, str) and negative else raw)
    if value > AROUND_MAX:
        raise Mismatch(f"a time within {duration_text(AROUND_MAX)} of the broadcast's start",
                       raw)
    return -value if negative else value


Around = Annotated[float, BeforeValidator(parse_signed), WithJsonSchema(SIGNED_DURATION_SCHEMA)]
"""A time relative to the broadcast's start: ``-7d`` a week before, ``2d`` after it."""

Price = Annotated[Number, PRICE_BOUND, Field(gt=0)]


class ChannelPrice(Model):
    """The goods sold at ``price`` in ``channel`` from ``at`` until ``until`` (or the next
    entry of the same channel, or for good): the store's own page, coupon-stacked prices,
    another platform, a later promotion."""

    at: Around = Field(description="from when, relative to the start (-3d: before it)")
    price: Price = Field(description="the unit price the goods sold at")
    channel: str = Field(default="store", min_length=1, max_length=64, description=(
        "where: store, coupons, another platform ... (the broadcast itself is 'live', from "
        "the SKU's price and its flash sales)"))
    until: Around | None = Field(default=None, description=(
        "until when (default: the channel's next entry, or for good)"))

    @model_validator(mode="after")
    def _ordered(self) -> ChannelPrice:
        if self.until is not None and self.until <= self.at:
            raise Mismatch(f"until after at ({duration_text(abs(self.at))}"
                           f"{' before the start' if self.at < 0 else ''})",
                           self.until)
        return self


class Claim(Model):
    """What the host says about a SKU's price on air, at ``at``."""

    kind: Literal["discount", "lowest-price"] = Field(description=(
        "discount: 'was <reference_price>, now ...'; lowest-price: 'the lowest price', "
        "promising the price is not undercut within the rule's protection period"))
    at: Around = Field(default=0.0, description="when it is said (default: the start)")
    reference_price: Price | None = Field(default=None, description=(
        "discount: the stated 'was' price (default: the SKU's list_price)"))
    price: Price | None = Field(default=None, description=(
        "lowest-price: the price claimed lowest (default: the live price at the claim)"))


class PricedSku(Model):
    sku: str = Field(min_length=1, max_length=64, description="a SKU listed under products")
    list_price: Price | None = Field(default=None, description=(
        "the store's list price, the default reference of a discount claim (a list price "
        "is not a price the goods sold at unless the timeline says so)"))
    timeline: list[ChannelPrice] = Field(default=[], max_length=1000, description=(
        "what the goods sold at around the broadcast, outside the broadcast's own price"))
    claims: list[Claim] = Field(default=[], max_length=1000)

    @model_validator(mode="after")
    def _reference(self) -> PricedSku:
        for c in self.claims:
            if c.kind == "discount" and c.reference_price is None and self.list_price is None:
                raise Mismatch("a discount claim's reference_price, or the SKU's list_price",
                               "neither", as_is=True)
        return self


class Protection(Model):
    """Buyers asking for the difference (price protection) when a lower price appears
    within the protection period after their purchase under a 'lowest price' claim: each
    request is a ``price-protection`` ticket the after-sales desk answers."""

    ask: Fraction = Field(default=0.3, description=(
        "the chance a buyer whose order was undercut asks for the difference"))
    delay: Distribution = Field(default_factory=lambda: _exp("1d"), description=(
        "from the lower price appearing (or the payment, if it was already there) to the "
        "buyer's request; a request after the protection period is not made (assumed: "
        "exponential, mean 1d)"))
    honoured: Fraction = Field(default=1.0, description=(
        "the share of those requests the store pays when the desk resolves them (the rest "
        "are refused: each breaks the rule)"))


class Pricing(Model):
    """The host's price claims and the prices they are judged against."""

    skus: list[PricedSku] = Field(min_length=1, max_length=10_000)
    protection: Protection = Protection()


def price_problems(p: Pricing | None, known: list[str]
                   ) -> list[tuple[tuple[object, ...], str, str]]:
    """Each priced SKU names a SKU of the catalogue, once."""
    if p is None:
        return []
    out: list[tuple[tuple[object, ...], str, str]] = []
    seen: set[str] = set()
    known_set = set(known)
    for i, item in enumerate(p.skus):
        if item.sku not in known_set:
            out.append((("pricing", "skus", i, "sku"), "a SKU listed under products",
                        repr(item.sku)))
        elif item.sku in seen:
            out.append((("pricing", "skus", i, "sku"), "each SKU once", f"{item.sku!r} again"))
        seen.add(item.sku)
    return out

