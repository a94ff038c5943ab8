"""How many users of each role a load starts with a fixed count: plain arithmetic, shared
by the Locust users (``users.apply_settings``) and ``simlive load --dry-run``'s summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping

MINORITY = ("aftersales", "agent", "reviewer")
# the operation without which a role has nothing to do on a shop
NEEDS = {"viewer": "read_stock", "buyer": "order", "aftersales": "open_ticket",
         "agent": "list_tickets", "reviewer": "review"}


def fixed_counts(weights: Mapping[str, float], peak_users: int,
                 supports: Callable[[str], bool],
                 only: tuple[str, ...] | None = None,
                 platform: bool = False) -> dict[str, int]:
    """The fixed-count users: each minority role's weighted share of ``peak_users``, at least
    one if weighted at all (a short test with few users still exercises every rule), none
    where the target lacks its key operation; the stock monitor where the target reads the
    real stock. They come on top of the shape's users (the floor). ``platform``: the
    scenario models escalations: one platform arbiter where the target can decide them."""
    total = sum(weights.values()) or 1.0
    out = {"monitor": 1 if supports("true_stock") else 0}
    out["platform"] = 1 if platform and supports("list_escalations") \
        and supports("decide_escalation") else 0
    for role in MINORITY:
        w = weights.get(role, 0.0) if supports(NEEDS[role]) else 0.0
        if only is not None and role not in only:
            w = 0.0
        out[role] = max(1, round(peak_users * w / total)) if w > 0 else 0
    return out
