"""The service's composition root: settings, database, clock and the small in-memory caches.

One :class:`Service` per worker process lives on ``app.state.service``; routers reach it
through :func:`get_service`. Keeping the clock here (``now()``) is what lets every timestamp in
a request agree, and keeping the caches here (not in module globals) keeps two apps in one
process (tests) apart.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy import insert, select

from simlive.service import tables as t
from simlive.service.db import Database
from simlive.service.settings import Settings, TokenSpec


@dataclass(frozen=True)
class Caller:
    """The authenticated user behind a request."""

    id: int
    name: str
    role: str


def hash_token(token: str) -> str:
    """Tokens are stored hashed: a copy of the database does not let anyone log in."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token(role: str) -> str:
    """A fresh bearer token. The role prefix helps a person reading logs; it grants nothing."""
    return f"sl-{role}-{secrets.token_urlsafe(18)}"


class Service:
    """Per-process state shared by all requests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.db_url, pool_size=settings.pool_size)
        self._callers: dict[str, Caller] = {}
        self._display: dict[str, tuple[float, int]] = {}  # stale-display fault only
        self._rng = random.Random(settings.seed)
        self._lock = threading.Lock()

    # --- time -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC)

    def retain_until(self, at: datetime) -> datetime:
        return at + timedelta(seconds=self.settings.retention)

    # --- users ----------------------------------------------------------------------------
    def cached_caller(self, token: str) -> Caller | None:
        """The caller for a token already seen by this process (no I/O)."""
        return self._callers.get(hash_token(token))

    def lookup_token(self, token: str) -> Caller | None:
        """The caller for a bearer token, cached (users never change once created)."""
        digest = hash_token(token)
        caller = self._callers.get(digest)
        if caller is not None:
            return caller
        with self.db.read() as conn:
            row = conn.execute(
                select(t.users.c.id, t.users.c.name, t.users.c.role)
                .where(t.users.c.token_hash == digest)
            ).first()
        if row is None:
            return None
        caller = Caller(row.id, row.name, row.role)
        self._callers[digest] = caller
        return caller

    def ensure_users(self, specs: tuple[TokenSpec, ...] | list[TokenSpec]) -> None:
        """Create a user for each token not yet known (idempotent across restarts)."""
        if not specs:
            return
        with self.db.write() as conn:
            known = set(conn.execute(select(t.users.c.token_hash)).scalars())
            now = self.now()
            for spec in specs:
                digest = hash_token(spec.token)
                if digest not in known:
                    conn.execute(insert(t.users).values(
                        name=spec.name, role=spec.role, token_hash=digest, created_at=now))
                    known.add(digest)

    # --- fault helpers ---------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        with self._lock:
            return self._rng.random() < p

    def cached_display(self, sku: str, real: int) -> int:
        """``stale-display``: the figure first seen within the cache window, not ``real``."""
        clock = self.now().timestamp()
        with self._lock:
            hit = self._display.get(sku)
            if hit is not None and clock - hit[0] < self.settings.stale_display_seconds:
                return hit[1]
            self._display[sku] = (clock, real)
            return real


async def get_service(request: Request) -> Service:
    """FastAPI dependency: the worker's :class:`Service`.

    ``async`` (it does not block) so FastAPI calls it on the event loop instead of sending it
    to the thread pool, a hop that costs more than the work.
    """
    return request.app.state.service  # type: ignore[no-any-return]
