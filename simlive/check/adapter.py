"""The reference service's :class:`~simlive.check.state.StateSource`: its admin API over httpx.

Every listing is walked page by page (``after`` = last id), so orders arriving while the
checker reads are neither skipped nor repeated. Any HTTP failure becomes a ``ServiceError``
(exit 2) naming the URL: a state that could not be read must never be judged.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from simlive.check.state import FinalState
from simlive.errors import ServiceError


class ReferenceServiceAdapter:
    """Reads the final state of ``simlive serve`` (or any service with the same admin API)."""

    def __init__(self, base_url: str, admin_token: str, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(base_url=self.base_url, timeout=timeout,
                                   headers={"Authorization": f"Bearer {admin_token}"},
                                   transport=transport)

    def close(self) -> None:
        self.client.close()

    def _get(self, path: str, **params: Any) -> Any:
        try:
            resp = self.client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ServiceError(f"{self.base_url}{path}: {type(exc).__name__}: {exc}") from None
        if resp.status_code != 200:
            raise ServiceError(f"{self.base_url}{path}: HTTP {resp.status_code}: "
                               f"{resp.text[:300]}")
        return resp.json()

    def _all(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after = 0
        for _ in range(100_000):  # bounded: 100M rows at 1000 a page
            page = self._get(path, after=after, limit=1000)
            items.extend(page["items"])
            if page.get("next_after") is None:
                return items
            after = page["next_after"]
        raise ServiceError(f"{self.base_url}{path}: more than 100,000 pages")

    def sweep(self) -> int:
        """Expire every overdue unpaid order now (so the books are final)."""
        try:
            resp = self.client.post("/admin/sweep")
        except httpx.HTTPError as exc:
            raise ServiceError(f"{self.base_url}/admin/sweep: {exc}") from None
        return int(resp.json().get("expired", 0)) if resp.status_code == 200 else 0

    def fetch_final_state(self) -> FinalState:
        fetched = time.time()
        receipts = self._all("/admin/receipts")
        return FinalState(
            ledger=self._get("/admin/ledger"),
            orders=self._all("/admin/orders"),
            receipts=receipts,
            tickets=self._all("/admin/tickets"),
            reviews=self._all("/admin/reviews"),
            broadcasts=self._all("/admin/broadcasts"),
            fetched_at=fetched,
        )
