"""What a target file lets the rules see: mappings under which a rule cannot fail.

``stock.ledger-balances`` compares the stock that left (``initial + restocked - remaining``)
with what the books say was sold (``sold + reserved``). A ledger mapping that reads
``remaining`` from the same counter as ``sold`` (Oscar's ``num_in_stock - num_allocated``
beside ``sold: num_allocated``) makes both sides one number: the books balance by
construction and the rule cannot fail on that shop, so its pass would not be earned. The
preflight flags it, and the load run's verdict says unknown instead of pass.
"""

from __future__ import annotations

from typing import Any

import jmespath

from simlive.shops.target_file import StateMap, Target


def _leaves(node: Any, out: set[str]) -> set[str]:
    """The field names an expression reads (the last name of each path)."""
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "subexpression":
            children = node.get("children", [])
            for child in children[:-1]:
                _leaves(child, set())  # the path's head: not a counter of its own
            if children:
                _leaves(children[-1], out)
            return out
        if kind == "field":
            out.add(str(node.get("value")))
        for child in node.get("children", []):
            _leaves(child, out)
    return out


def fields_read(expr: str) -> set[str]:
    if expr.startswith("header:"):
        return set()
    return _leaves(jmespath.compile(expr).parsed, set())


def ledger_tautology(target: Target) -> str | None:
    """Why the target's ledger balances by construction, or None when it can show an
    imbalance."""
    if not isinstance(target.state, StateMap) or target.state.ledger is None:
        return None
    fields = target.state.ledger.fields
    if "remaining" not in fields:
        return None
    remaining = fields_read(fields["remaining"])
    sold = set().union(*(fields_read(fields[k]) for k in ("sold", "reserved")
                         if k in fields))
    shared = sorted(remaining & sold)
    if not shared:
        return None
    return (f"the target's ledger reads remaining ({fields['remaining']}) from the counter "
            f"sold is read from ({', '.join(shared)}): initial = sold + reserved + remaining "
            "holds by construction, so stock.ledger-balances cannot fail on this mapping "
            "(map remaining from the shop's own stock figure, or sold from its order books)")
