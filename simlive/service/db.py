"""Engines and transactions: SQLite (embedded default) or PostgreSQL (by URL).

Every request uses one of two short transactions: :meth:`Database.read` or
:meth:`Database.write`. On SQLite a write begins with ``BEGIN IMMEDIATE`` so that a
transaction never has to upgrade a read lock (the upgrade is what produces "database is
locked" between processes), and writers of one process queue on a lock instead of in
SQLite's sleep-and-retry busy handler, which wastes milliseconds per collision. WAL lets
readers run beside the writer; ``synchronous=FULL`` makes every acknowledged commit survive
a power cut, the durability the crash test checks. On PostgreSQL the database's own row locks
do all of that.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from simlive.errors import UsageError
from simlive.service.tables import metadata


def normalize_url(url: str) -> str:
    """A SQLAlchemy URL for what a user types: a ``postgresql://`` URL is given the psycopg 3
    driver (SQLAlchemy would otherwise pick psycopg2, not installed); a bare path is a SQLite
    file."""
    text = url.strip()
    if "://" not in text:
        return f"sqlite:///{text}"
    scheme, rest = text.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return text


def display_url(url: str) -> str:
    """The URL with any password hidden, fit to print."""
    return make_url(normalize_url(url)).render_as_string(hide_password=True)


class Database:
    """One engine and the two kinds of transaction the service uses."""

    def __init__(self, url: str, pool_size: int = 20) -> None:
        try:
            parsed = make_url(normalize_url(url))
        except ArgumentError as exc:
            raise UsageError(f"--db(={url!r}) is not a database URL: {exc}") from None
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise UsageError(f"--db(={url!r}) must be a sqlite:/// or postgresql:// URL")
        self.url = parsed
        self.is_sqlite = backend == "sqlite"
        self.engine = self._create_engine(parsed, pool_size)
        self._write_engine = self.engine.execution_options(simlive_write=True)
        self._write_lock: Any = threading.Lock() if self.is_sqlite else nullcontext()

    def _create_engine(self, url: Any, pool_size: int) -> Engine:
        if not self.is_sqlite:
            return create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                                 pool_pre_ping=False, pool_timeout=30)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=pool_size, max_overflow=pool_size)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from the driver so that we can say BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("simlive_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def create_schema(self) -> None:
        """Create missing tables (idempotent). Run once before workers start."""
        with self._write_lock:
            metadata.create_all(self.engine)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: a consistent snapshot, rolled back at the end."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends without an exception."""
        with self._write_lock, self._write_engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
