"""The scenario contract's shipping part (``fulfilment``): a warehouse with a daily capacity,
its cut-off, the transit, the promise, and the goods not ready before going live."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
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
from simlive.scenario.base import CLOCK, Model
from simlive.scenario.dists import Distribution, Gamma
from simlive.scenario.units import (
    Fraction,
    Seconds,
    at_most,
)


class Fulfilment(Model):
    """Shipping as a warehouse does it: so many orders a day, in the order they were paid.
    An order paid by the day's cut-off may ship that day, if the day's capacity is not
    taken; the backlog sets each order's ship day, and its delivery is the ship day's
    cut-off plus the transit time (instead of ``orders.delivery``)."""

    capacity: Annotated[float, Field(gt=0, le=1e9)] = Field(description=(
        "orders shipped a day"))
    cut_off: str = Field(default="16:00", pattern=CLOCK, description=(
        "local time an order must be paid by to ship that day"))
    transit: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean="2d", sd="1d"))
    promise: Annotated[Seconds, at_most(365 * 86400.0, "a year")] = Field(
        default=259200.0, description="delivery promised this long after payment")
    wismo: Fraction = Field(default=0.0, description=(
        "for each day an order is late (past the promise, not yet delivered), the chance its "
        "buyer asks where it is (once): d days late, 1 - (1 - wismo)^d have asked; a live "
        "consultation on the day they ask"))
    replenish: Annotated[Seconds, at_most(365 * 86400.0, "a year")] = Field(
        default=259200.0, description=(
            "how long after going live the goods not ready in the warehouse (a SKU's "
            "stock beyond its `warehouse` figure) arrive: their orders ship no earlier"))
