"""The shop's final state as plain data: what the checker judges besides the history.

A target file says how to read each part from a shop (:mod:`simlive.shops.provision`);
a part it does not map is ``None`` and the rules that need it say ``unknown``. Records are
plain dicts with the fields named below (times as ISO 8601 strings or epoch seconds).
Fields a shop does not have may be left out; the rules that need them then say ``unknown``
rather than guess.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simlive.check.history import json_kind as _kind
from simlive.check.history import json_short as _short
from simlive.errors import FileProblem, StoredRunError


@dataclass(frozen=True)
class FinalState:
    """What the service holds after the load, read through its admin API.

    - ``ledger``: per SKU ``sku, initial, restocked, sold, reserved, remaining, released,
      returned`` (units).
    - ``orders``: ``id, buyer_id, sku, quantity, state, created_at, paid_at, closed_at,
      delivered_at, retain_until``, ``amount_cents`` (the total charged, in hundredths of
      the currency: ``pricing.claims-hold``), and where the seller excludes the goods from no-reason
      returns ``return_exclusion``: ``{reason, confirmed}`` (a reason of
      ``rules.RETURN_EXCLUDABLE`` or ``RETURN_EXEMPT``; ``confirmed``: the buyer confirmed
      it at purchase).
    - ``receipts``: ``order_id, receipt_no, retain_until``.
    - ``tickets``: ``id, kind, state, order_id, created_at, first_reply_at, resolved_at,
      closed_at, feedback, goods_received_at, refund_paid_at``. A ticket closed without
      feedback needs ``resolved_at``: it is within the rule only after feedback_timeout.
      A ticket taken to the platform also has ``escalated_at`` and, once the platform
      decided it, ``decided_at`` and ``decision`` (``aftersales.escalations-answered``).
    - ``reviews``: ``id, hidden``, and for hidden bad reviews ``rating`` and
      ``hidden_reason`` (one of ``rules.HIDE_REASONS``).
    - ``broadcasts``: ``id, state, ended_at, replay`` (``{"published_at", "retain_until"}`` or
      None).
    - ``fetched_at``: epoch seconds when the state was read (ages of open tickets).
    - ``source``: ``service`` (read from the shop) or ``history`` (a history-only target).

    A part that is ``None`` was not read (the target does not map it): the rules that need
    it say ``unknown``. An empty list was read and holds nothing.
    """

    ledger: list[dict[str, Any]] | None = field(default_factory=list)
    orders: list[dict[str, Any]] | None = field(default_factory=list)
    receipts: list[dict[str, Any]] | None = field(default_factory=list)
    tickets: list[dict[str, Any]] | None = field(default_factory=list)
    reviews: list[dict[str, Any]] | None = field(default_factory=list)
    broadcasts: list[dict[str, Any]] | None = field(default_factory=list)
    fetched_at: float = 0.0
    source: str = "service"

    @classmethod
    def from_history_only(cls) -> FinalState:
        """No state read: every part unknown; the checker decides from the history."""
        return cls(None, None, None, None, None, None, 0.0, "history")

    def missing(self, *parts: str) -> list[str]:
        """The parts among ``parts`` that were not read (None), for an unknown verdict."""
        return [p for p in parts if getattr(self, p) is None]

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Any, file: str = "final state") -> FinalState:
        """The state :meth:`to_dict` wrote, checked: an object with ``ledger``, ``orders``
        and ``fetched_at``, each other part optional (not read if left out, so the rules
        needing it say unknown rather than judge an empty shop), each part a list
        of objects or null (not read), ``source`` (if given) ``service`` or ``history``, and
        no other key.
        Anything else is a :class:`StoredRunError` listing every problem; ``file`` names
        where the data came from."""
        problems = state_problems(data)
        if problems:
            raise StoredRunError(file, problems)
        known = cls.__dataclass_fields__
        values = {k: data[k] for k in known if k in data}
        for part in LIST_KEYS:
            values.setdefault(part, None)
        values["fetched_at"] = float(data["fetched_at"])
        return cls(**values)


LIST_KEYS = ("ledger", "orders", "receipts", "tickets", "reviews", "broadcasts")
REQUIRED_KEYS = ("ledger", "orders", "fetched_at")
SOURCES = ("service", "history")
STATE_KEYS = (*LIST_KEYS, "fetched_at", "source")
PART = "a list of objects (or null: not read)"


def needed(part: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A part of the state that a rule needs (``check.needs``): the checker holds back the
    rules whose parts were not read, so None here is a checker bug, and the rule says
    unknown with this error."""
    if part is None:
        raise ValueError("a part of the final state this rule needs was not read")
    return part


def state_problems(data: Any) -> list[FileProblem]:
    """What is wrong with a stored final state (``FinalState.to_dict()``); [] if nothing."""
    if not isinstance(data, dict):
        return [FileProblem("", "a JSON object (a final state: ledger, orders, "
                                "fetched_at, ...)", f"a JSON {_kind(data)}")]
    problems = []
    for key in REQUIRED_KEYS:
        if key not in data:
            what = PART if key in LIST_KEYS else "a number (epoch seconds)"
            problems.append(FileProblem(key, f"{what}; this key is required", "nothing"))
    for key in LIST_KEYS:
        items = data.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(FileProblem(key, PART, _short(items)))
            continue
        bad = next((i for i, item in enumerate(items) if not isinstance(item, dict)), None)
        if bad is not None:
            problems.append(FileProblem(f"{key}[{bad}]", "an object", _short(items[bad])))
    t = data.get("fetched_at", 0.0)
    if not _finite_number(t):
        problems.append(FileProblem("fetched_at", "a number (epoch seconds)", _short(t)))
    source = data.get("source", SOURCES[0])
    if source not in SOURCES:
        problems.append(FileProblem("source", f"one of {', '.join(SOURCES)}",
                                        _short(source)))
    for key in data:
        if key not in STATE_KEYS:
            close = difflib.get_close_matches(str(key), STATE_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "one of " + ", ".join(STATE_KEYS)
            problems.append(FileProblem(str(key), f"a known key ({hint})",
                                            f"unknown key '{key}'"))
    return problems


def _finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def epoch(value: Any) -> float | None:
    """Seconds since the epoch from an ISO 8601 string, a number, or None."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
