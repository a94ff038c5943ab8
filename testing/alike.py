"""What the same-verdicts tests share: one clock for the shop, one horizon, one comparison.

A simulated broadcast and a load test's history of the same events must give the same
verdict: status, measured figures, limits, and the evidence (the shop may name a few ids,
or what only a shop can say, at the end)."""

from __future__ import annotations

from typing import Any

from simlive.rules import DAY

T0 = 1_700_000_000.0  # the broadcast's start, as the shop's clock has it
HORIZON = 20 * DAY  # the state is read (the simulation's horizon ends) 20 days in


def same(sim: Any, shop: Any, examples: str = "") -> None:
    """The shop's verdict is the simulator's, its evidence the same plus ``examples``."""
    assert (shop.status, shop.measured, shop.limit) == (sim.status, sim.measured, sim.limit)
    assert shop.evidence == sim.evidence + examples
