"""The service's composition root: settings, database, clock and the small in-memory caches.

One :class:`Service` per worker process lives on ``app.state.service``; routers reach it
through :func:`get_service`. Keeping the clock here (``now()``) is what lets every timestamp in
a request agree, and keeping the caches here (not in module globals) keeps two apps in one
process (tests) apart.
"""

from __future__ import annotations

import hashlib
import os
import random
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import Connection, case, func, insert, literal, select, update
from sqlalchemy.sql.elements import ColumnElement

from simlive.service import sql_tables as t
from simlive.service.db import Database
from simlive.service.faults import Fault
from simlive.service.settings import Settings, TokenSpec


@dataclass(frozen=True)
class Caller:
    """The authenticated user behind a request."""

    id: int
    name: str
    role: str
    expires_at: datetime | None = None


REVOCATION_POLL = 0.1  # seconds between a worker's looks at the newest revocation
ACK_EVERY = 1.0  # a worker says it is alive (and what it has seen) at least this often
ACK_STALE = 3.0  # a worker silent this long is not waited for (gone, or stopped)
REVOKE_WAIT = 5.0  # the most a revocation waits for the workers to have seen it


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
        self.db = Database(settings.db_url, pool_size=settings.pool_size,
                           lanes=settings.write_lanes)
        self._callers: dict[str, Caller] = {}
        # what never changes about a product (stock.Facts), by SKU: read once per process
        self.products: dict[str, Any] = {}
        # which bucket of a bucketed SKU this worker's writers try first: workers differ
        self.bucket_salt = os.getpid()
        # this worker, among every process serving the database (worker_acks)
        self.worker = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._display: dict[str, tuple[float, int]] = {}  # stale-display fault only
        self._rng = random.Random(settings.seed)
        self._lock = threading.Lock()

    # --- time -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC)

    def retain_until(self, at: datetime) -> datetime:
        """A record's promise counted from ``at``: a replay's from the broadcast's end; an
        order's and its receipt's from their creation, a floor until the order completes."""
        return at + timedelta(seconds=self.settings.retention)

    def retain_from(self, column: Any, completed: datetime) -> ColumnElement[datetime]:
        """``column``'s new value when its transaction completes at ``completed`` (delivered,
        or cancelled or expired): ``completed + retention``, the law's clock (E-Commerce Law
        art. 31), never earlier than the promise already made. ``retain-from-creation``
        leaves the promise counted from creation."""
        if self.settings.has(Fault.RETAIN_FROM_CREATION):
            return column
        until = literal(self.retain_until(completed), t.UTCDateTime())
        return case((column > until, column), else_=until)

    # --- users ----------------------------------------------------------------------------
    def cached_caller(self, token: str) -> Caller | None:
        """The caller for a token already seen by this process (no I/O), if still valid."""
        return self._cached(hash_token(token))

    def _cached(self, digest: str) -> Caller | None:
        caller = self._callers.get(digest)
        if caller is not None and caller.expires_at is not None \
                and self.now() >= caller.expires_at:
            return None
        return caller

    def lookup_token(self, token: str) -> Caller | None:
        """The caller for a bearer token, or None: unknown, revoked or expired. Cached until a
        revocation anywhere (``poll_revocations``) or its expiry."""
        digest = hash_token(token)
        caller = self._cached(digest)
        if caller is not None:
            return caller
        u = t.users
        with self.db.read() as conn:
            row = conn.execute(
                select(u.c.id, u.c.name, u.c.role, u.c.revoked_at, u.c.expires_at)
                .where(u.c.token_hash == digest)
            ).first()
        if row is None or row.revoked_at is not None or (
                row.expires_at is not None and self.now() >= row.expires_at):
            return None
        caller = Caller(row.id, row.name, row.role, row.expires_at)
        with self._lock:
            self._callers[digest] = caller
        return caller

    def newest_revocation(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.max(t.token_revocations.c.id))).scalar() or 0)

    def ack(self, seen: int) -> None:
        """Record that this worker has seen every revocation up to ``seen`` (and is alive)."""
        w = t.worker_acks
        now = self.now()
        with self.db.write() as conn:
            if conn.execute(update(w).where(w.c.worker == self.worker)
                            .values(seen=seen, at=now)).rowcount == 0:
                conn.execute(insert(w).values(worker=self.worker, seen=seen, at=now))

    def unseen_by(self, revocation: int) -> int:
        """How many workers alive lately have not yet seen ``revocation``."""
        w = t.worker_acks
        since = self.now() - timedelta(seconds=ACK_STALE)
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(w).where(
                w.c.at > since, w.c.seen < revocation)).scalar_one())

    def forget_callers(self) -> None:
        with self._lock:
            self._callers.clear()

    def revoke(self, conn: Connection, user_ids: list[int], now: datetime) -> int:
        """Revoke the users' tokens in ``conn``'s transaction; how many were still valid.
        Every worker drops its cache within ``REVOCATION_POLL`` of the commit."""
        u = t.users
        live = list(conn.execute(select(u.c.id).where(u.c.id.in_(user_ids),
                                                      u.c.revoked_at.is_(None))).scalars())
        if live:
            conn.execute(update(u).where(u.c.id.in_(live)).values(revoked_at=now))
            conn.execute(insert(t.token_revocations),
                         [{"user_id": i, "at": now} for i in live])
        return len(live)

    def ensure_users(self, specs: tuple[TokenSpec, ...] | list[TokenSpec]) -> None:
        """Make the users of the start-up token list exactly the configured ones: a token
        known already is kept (its expiry updated, revived if it was revoked), a configured
        user whose token changed keeps its id and name with the new token, a new one is
        created, and a configured user no longer listed is revoked. Users minted through the
        API are left alone. Idempotent across restarts."""
        if not specs:
            return
        u = t.users
        with self.db.write() as conn:
            now = self.now()
            rows = conn.execute(select(u.c.id, u.c.name, u.c.role, u.c.token_hash,
                                       u.c.origin)).all()
            by_hash = {r.token_hash: r for r in rows}
            by_name = {(r.name, r.role): r for r in rows if r.origin == "configured"}
            listed = set()
            for spec in specs:
                digest = hash_token(spec.token)
                keep = {"origin": "configured", "revoked_at": None, "expires_at": spec.expires}
                row = by_hash.get(digest) or by_name.get((spec.name, spec.role))
                if row is not None and (row.token_hash == digest or row.id not in listed):
                    conn.execute(update(u).where(u.c.id == row.id).values(
                        token_hash=digest, **keep))
                    listed.add(row.id)
                    continue
                listed.add(conn.execute(insert(u).values(
                    name=spec.name, role=spec.role, token_hash=digest, created_at=now,
                    **keep).returning(u.c.id)).scalar_one())
            gone = [r.id for r in rows if r.origin == "configured" and r.id not in listed]
            self.revoke(conn, gone, now)

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
    return request.app.state.service
