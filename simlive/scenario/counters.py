"""The ``counters:`` block: how the broadcast shows its sold count and its viewer count.

Its presence puts ``display.counters-true`` in scope (``scenario.scope``). Each figure the
broadcast shows is ``factor x truth + offset``, refreshed every ``refresh``: the truth of
``sold`` is the orders accepted so far (not units: one order of three units counts once),
of ``viewers`` the viewers present at the time. A factor of 1 and an offset of 0 are the
honest counter; the inflation seen in the trade is a multiplier, a 'base' added, or both.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from simlive.scenario.base import Model
from simlive.scenario.units import Number, Seconds, at_most, count

FACTOR_MAX = 1000.0
OFFSET_MAX = 1e9


class Counter(Model):
    """One shown figure: ``factor x truth + offset`` (never below 0)."""

    factor: Annotated[Number, at_most(FACTOR_MAX, "a multiplier of the true figure", count)] \
        = Field(default=1.0, ge=0, description=(
            "the shown figure's multiple of the truth (1: honest; 3: three times it)"))
    offset: Annotated[Number, at_most(OFFSET_MAX, "a base added to a broadcast's figure",
                                      count)] = Field(default=0.0, ge=0, description=(
                                          "a base added to every shown figure (0: none)"))


class Counters(Model):
    """How the broadcast shows what it sold and who watches."""

    sold: Counter = Field(default_factory=Counter, description=(
        "the sold count: orders accepted so far, as shown"))
    viewers: Counter = Field(default_factory=Counter, description=(
        "the viewer count: viewers present, as shown"))
    refresh: Annotated[Seconds, at_most(86400.0, "a counter updated less than daily is no "
                                        "live figure")] = Field(default=1.0, ge=0, description=(
                                            "how often the shown figures are updated from "
                                            "the truth (0: every step)"))
