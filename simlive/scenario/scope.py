"""Which rules a scenario gives the model, and the load, something to judge.

A duty the scenario does not model (no price claims, no fulfilment block, no escalation)
could not have broken in a simulated broadcast, and a load driven by that scenario never
exercises it on a shop. Its verdict is ``not judged``, naming what to add, rather than a
pass nobody earned. The simulator and the checker ask this one function, so a rule is in
scope on both sides or on neither.
"""

from __future__ import annotations

from simlive.scenario.schema import Scenario


def unmodelled(sc: Scenario) -> dict[str, str]:
    """Rule id -> why the scenario gives it nothing to judge (rules in scope are absent)."""
    out: dict[str, str] = {}

    if sc.presentation is None:
        out["display.complete"] = ("the scenario has no `presentation` block: add one "
                                   "(`presentation: {}` will do) to judge how the linked "
                                   "products are presented and shown")

    if sc.counters is None:
        out["display.counters-true"] = ("the scenario has no `counters` block: add how the "
                                         "broadcast shows its sold and viewer counts to judge "
                                         "them")

    if sc.pricing is None or not any(k.claims for k in sc.pricing.skus):
        out["pricing.claims-hold"] = ("the scenario has no `pricing` block with claims: add "
                                      "the host's price claims to judge them")

    if sc.fulfilment is None:
        out["fulfilment.on-time"] = ("the scenario has no `fulfilment` block (orders.delivery "
                                     "alone promises nothing): add one to judge shipping "
                                     "and delivery against the promise")

    if sc.aftersales.escalation is None:
        out["aftersales.escalations-answered"] = (
            "the scenario has no `aftersales.escalation` block: add how consumers escalate "
            "requests to the platform and its desk to judge the platform's decisions")

    if not sc.reviews.states_listing():
        out["reviews.order-honest"] = ("the scenario's `reviews` block states no `listing`: "
                                       "add how the shop orders a product's reviews by "
                                       "default (newest, oldest, good-first) to judge it")

    return out
