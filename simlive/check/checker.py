"""``check(history, final_state, params) -> list[Verdict]``: one verdict per rule id.

Pure: no I/O, no clock. Each rule is decided by its own function; a rule function that
raises yields ``unknown`` with the exception as evidence, never a pass, so a checker bug can
never turn into a green table.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from simlive.check import fulfilment_rules
from simlive.check import service_rules as sr
from simlive.check import stock_rules as st
from simlive.check.counter_rules import counters_true
from simlive.check.display_rules import display_complete
from simlive.check.escalation_rules import escalations_answered
from simlive.check.history import Op, Ops, pair
from simlive.check.history_rules import (
    display_from_history,
    reviews_from_history,
    tickets_from_history,
)
from simlive.check.needs import unmet
from simlive.check.price_history import claims_hold
from simlive.check.review_order import order_honest
from simlive.check.run_scope import this_run
from simlive.check.state import FinalState
from simlive.rules import RULE_IDS, RULES, Status, Verdict, ordered, rule_params
from simlive.rules import not_judged as not_judged_verdict

RuleCheck = Callable[[list[Op], FinalState, dict[str, float]], Verdict]

CHECKS: dict[str, RuleCheck] = {
    "stock.no-oversell": st.no_oversell,
    "stock.display-matches": st.display_matches,
    "stock.ledger-balances": st.ledger_balances,
    "replay.available": sr.replay_available,
    "replay.retained": sr.retained,
    "aftersales.first-reply": sr.first_reply,
    "aftersales.refund-deadline": sr.refund_deadline,
    "aftersales.tracked-to-closure": sr.tracked_to_closure,
    "reviews.not-deleted": sr.not_deleted,
    "evidence.receipt": sr.receipts,
    "returns.seven-day": sr.seven_day_returns,

    "display.complete": display_complete,

    "display.counters-true": counters_true,

    "pricing.claims-hold": claims_hold,

    "fulfilment.on-time": fulfilment_rules.on_time,

    "aftersales.escalations-answered": escalations_answered,

    "reviews.order-honest": order_honest,
}
assert set(CHECKS) == set(RULE_IDS)


def _aside(rule_id: str, p: dict[str, float], not_judged: Mapping[str, str] | None
           ) -> Verdict | None:
    """The verdict of a rule the load's scenario does not model, or None when it does."""
    why = (not_judged or {}).get(rule_id)
    return None if why is None else not_judged_verdict(rule_id, p, why)


def _limits(rule_id: str, params: dict[str, float]) -> dict[str, float]:
    """A rule's parameters as a verdict's limit: durations keyed ``<name>_s`` (seconds), as
    the rule functions report them, so tables show ``10m`` rather than ``600``."""
    return RULES[rule_id].limits(params)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while the checker builds millions of small,
    acyclic objects: its repeated full scans otherwise cost a third of the run."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check(history: Iterable[dict[str, Any]] | list[Op], final_state: FinalState,
          params: Mapping[str, Mapping[str, float]] | None = None,
          unsupported: Iterable[str] = (),
          not_judged: Mapping[str, str] | None = None) -> list[Verdict]:
    with _no_cycle_collection():
        return _check(history, final_state, params, frozenset(unsupported), not_judged or {})


def _check(history: Iterable[dict[str, Any]] | list[Op], final_state: FinalState,
           params: Mapping[str, Mapping[str, float]] | None = None,
           unsupported: frozenset[str] = frozenset(),
           not_judged: Mapping[str, str] | None = None) -> list[Verdict]:
    """Judge every rule. ``history``: raw events (invoke/ok/fail/info) or paired ops.

    ``params``: per rule id, overrides of the defaults in :mod:`simlive.rules` (a scenario's
    ``compliance`` block). ``unsupported``: operations the shop's target does not map; the
    rules needing them, or needing a part of the state that was not read, are unknown
    (:mod:`simlive.check.needs`). ``not_judged``: the rules the load's scenario does not
    model, and why (``simlive.scenario.scope.unmodelled``): the load never exercised them,
    so they are ``not judged`` whatever the shop supports.
    """
    p = rule_params(params)
    # raw events or paired ops, told apart by the first item
    events: list[Any] = history if isinstance(history, list) else list(history)
    try:
        ops = history if isinstance(history, Ops) else Ops(
            events if events and isinstance(events[0], Op) else pair(events))
    except (ValueError, KeyError, TypeError) as exc:
        return [_aside(rid, p[rid], not_judged) or Verdict(
            rid, Status.UNKNOWN, None, _limits(rid, p[rid]),
            f"the history cannot be read: {exc}") for rid in RULE_IDS]
    final_state = this_run(final_state, ops)
    out = []
    for rid, fn in CHECKS.items():
        aside = _aside(rid, p[rid], not_judged)
        if aside is not None:
            out.append(aside)
            continue
        why = unmet(rid, unsupported, final_state)
        if why is not None:
            out.append(Verdict(rid, Status.UNKNOWN, None, _limits(rid, p[rid]), why))
            continue
        if rid == "stock.display-matches" and "true_stock" in unsupported:
            fn = display_from_history  # the real stock cannot be read: bound it instead
        elif rid == "reviews.not-deleted" and final_state.reviews is None:
            fn = reviews_from_history  # no listing: the reviews read back
        elif rid == "aftersales.tracked-to-closure" and final_state.tickets is None:
            fn = tickets_from_history
        try:
            out.append(fn(ops, final_state, p[rid]))
        except Exception as exc:  # noqa: BLE001 - a crashing rule is unknown, never pass
            out.append(Verdict(rid, Status.UNKNOWN, None, p[rid],
                               f"checker error: {type(exc).__name__}: {exc}"))
    return ordered(out)
