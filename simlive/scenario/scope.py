"""Which rules a scenario gives the model, and the load, something to judge.

A duty the scenario does not model (no price claims, no fulfilment block, no escalation)
could not have broken in a simulated broadcast, and a load driven by that scenario never
exercises it on a shop. Its verdict is ``not judged``, naming what to add, rather than a
pass nobody earned. The simulator and the checker ask this one function, so a rule is in
scope on both sides or on neither.
"""

from __future__ import annotations

from simlive.scenario.schema import Scenario

NEW_DUTY = "simlive does not model this duty yet"


def unmodelled(sc: Scenario) -> dict[str, str]:
    """Rule id -> why the scenario gives it nothing to judge (rules in scope are absent)."""
    out: dict[str, str] = {}

    out["display.complete"] = NEW_DUTY

    if sc.counters is None:
        out["display.counters-true"] = ("the scenario has no `counters` block: add how the "
                                         "broadcast shows its sold and viewer counts to judge "
                                         "them")

    out["pricing.claims-hold"] = NEW_DUTY

    out["fulfilment.on-time"] = NEW_DUTY

    out["aftersales.escalations-answered"] = NEW_DUTY

    out["reviews.order-honest"] = NEW_DUTY

    return out
