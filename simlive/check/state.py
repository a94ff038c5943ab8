"""The service's final state as plain data, and the adapter contract that fetches it.

To check your own service, implement :class:`StateSource` (one method) and return a
:class:`FinalState`: lists of plain dicts with the fields named below (times as ISO 8601
strings or epoch seconds). Fields a service does not have may be left out; the rules that
need them then say ``unknown`` rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class FinalState:
    """What the service holds after the load, read through its admin API.

    - ``ledger``: per SKU ``sku, initial, restocked, sold, reserved, remaining, released,
      returned`` (units).
    - ``orders``: ``id, buyer_id, sku, quantity, state, created_at, paid_at, closed_at,
      delivered_at, retain_until``.
    - ``receipts``: ``order_id, receipt_no, retain_until``.
    - ``tickets``: ``id, kind, state, order_id, created_at, first_reply_at, closed_at,
      feedback, goods_received_at, refund_paid_at``.
    - ``reviews``: ``id, hidden``.
    - ``broadcasts``: ``id, state, ended_at, replay`` (``{"published_at", "retain_until"}`` or
      None).
    - ``fetched_at``: epoch seconds when the state was read (ages of open tickets).
    """

    ledger: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    broadcasts: list[dict[str, Any]] = field(default_factory=list)
    fetched_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinalState:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class StateSource(Protocol):
    """A service the checker can judge: it only has to report its final state."""

    def fetch_final_state(self) -> FinalState:
        """Read every SKU's ledger, every order, receipt, ticket, review and broadcast."""
        ...


def epoch(value: Any) -> float | None:
    """Seconds since the epoch from an ISO 8601 string, a number, or None."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
