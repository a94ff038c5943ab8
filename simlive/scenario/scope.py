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

    out["display.counters-true"] = NEW_DUTY

    out["pricing.claims-hold"] = NEW_DUTY

    out["fulfilment.on-time"] = NEW_DUTY

    out["aftersales.escalations-answered"] = NEW_DUTY

    if not sc.reviews.states_listing():
        out["reviews.order-honest"] = ("the scenario's `reviews` block states no `listing`: "
                                       "add how the shop orders a product's reviews by "
                                       "default (newest, oldest, good-first) to judge it")

    return out
