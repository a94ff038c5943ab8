"""The host's presentation of the products linked in the broadcast (``display.complete``).

Each linked product is presented on air for the time its slots in the schedule give it
(``products.schedule`` and the generated catalogue's back-to-back slots); a linked product
the schedule never presents gets none. Its page shows the price, the seller and whether it
can be returned without reason; ``missing_fields`` names the pages that lack one. The
returnability itself is known from each SKU's ``return_exempt`` / ``return_excluded``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from simlive.scenario.base import Model
from simlive.scenario.units import Fraction, at_least, at_most, count

PageField = Literal["price", "seller", "returnability"]
"""A field every linked product's page must show."""
PAGE_FIELDS: tuple[PageField, ...] = ("price", "seller", "returnability")


class Misdescribed(Model):
    """Goods bought on too brief a presentation turn out not as described more often: each
    paid order of a SKU is not as described with chance ``base`` times a factor that grows
    from 1 (presented at least ``min_presentation``) to ``short_factor`` (never presented),
    in proportion to the presentation it lacked; capped at 1."""

    base: Fraction = Field(default=0.0, description=(
        "share of paid orders not as described for a product presented fully"))
    short_factor: Annotated[float, at_most(1000.0, "a thousand times the base rate", count),
                            at_least(1.0, "a short presentation never makes goods more "
                                     "as described", count)] = Field(
        default=3.0, description=(
            "how many times the base a product never presented has (a product presented "
            "half of min_presentation: half way from 1 to this)"))


class Presentation(Model):
    """The products linked in the broadcast, as the host presents them and their pages show
    them. Its presence puts ``display.complete`` in scope."""

    missing_fields: dict[Annotated[str, Field(min_length=1, max_length=64)],
                         Annotated[list[PageField], Field(min_length=1, max_length=3)]] = \
        Field(default_factory=dict, description=(
            "SKU -> the fields its page does not show: price, seller, returnability"))
    misdescribed: Misdescribed = Field(default_factory=Misdescribed, description=(
        "goods not as described after a short presentation: {base, short_factor}"))
