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

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.sql import ClauseElement

from simlive.errors import UsageError
from simlive.service.rawsql import Statements, cursor
from simlive.service.settings import OLD_ROLE_NAMES
from simlive.service.sql_tables import metadata, users

T = TypeVar("T")
log = logging.getLogger("simlive.service")
# every SQLite connection's durability and locking: WAL, a durable commit, wait for locks
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000")
DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE for a deadlock victim
LANE = "simlive_lane"  # conn.info key: the group-commit lane running the work


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


def _rename_old_roles(conn: Connection) -> None:
    """Users an older version stored under a role's old name (``viewer``) get its current
    one (``buyer``), so their tokens keep the rights they had; idempotent."""
    for old, new in OLD_ROLE_NAMES.items():
        conn.execute(update(users).where(users.c.role == old).values(role=new))


class Database:
    """One engine and the two kinds of transaction the service uses."""

    def __init__(self, url: str, pool_size: int = 20, lanes: int = 1) -> None:
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
        self._committer: GroupCommit | None = None
        # one writer by default: it merges a SKU's orders into one decrement a batch, and
        # more lanes split the batches (on one row they also queue on its lock: 4 lanes made
        # 30 % fewer orders than 1; with 8 buckets, 2-4 lanes did 10 % better at 32
        # connections and 15 % worse at 128)
        self.lanes = lanes
        self._statements: dict[int, Statements] = {}

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
            for pragma in (*SQLITE_PRAGMAS, "foreign_keys=ON"):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("simlive_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def create_schema(self) -> None:
        """Create missing tables, and add the columns a newer version defines to tables an
        older one made (nullable columns: no row changes). Idempotent; run once before
        workers start."""
        from sqlalchemy import inspect

        with self._write_lock:
            metadata.create_all(self.engine)
            have = inspect(self.engine)
            with self.engine.begin() as conn:
                for table in metadata.sorted_tables:
                    present = {c["name"] for c in have.get_columns(table.name)}
                    for col in table.columns:
                        if col.name not in present and col.nullable:
                            kind = col.type.compile(dialect=self.engine.dialect)
                            conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN '
                                                 f'"{col.name}" {kind}')
                _rename_old_roles(conn)

    def statements(self, sources: Mapping[str, ClauseElement]) -> Statements:
        """``sources`` compiled for this database's dialect (once per process)."""
        hit = self._statements.get(id(sources))
        if hit is None:
            hit = self._statements[id(sources)] = Statements(self.engine.dialect, sources)
        return hit

    @contextmanager
    def read(self, snapshot: bool = False) -> Iterator[Connection]:
        """A read-only transaction, rolled back at the end.

        With ``snapshot`` every statement sees the same instant (PostgreSQL's default, READ
        COMMITTED, takes a new snapshot per statement; a SQLite read transaction always
        keeps one), which a ledger summed over several queries needs.
        """
        with self.engine.connect() as conn:
            if snapshot and not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends without an exception."""
        with self._write_lock, self._write_engine.begin() as conn:
            yield conn

    def transact(self, work: Callable[[Connection], T], attempts: int = 3) -> T:
        """``work(conn)`` in a write transaction, run again (from the start) when PostgreSQL
        chose it as a deadlock's victim: transactions that take stock buckets and return
        units lock rows in different orders, and a victim is rolled back whole, so trying
        again is safe and what the client would do."""
        for attempt in range(attempts):
            try:
                with self.write() as conn:
                    return work(conn)
            except OperationalError as exc:
                if attempt + 1 == attempts or getattr(exc.orig, "sqlstate", None) != DEADLOCK:
                    raise
                log.warning("deadlock victim, trying again (%d of %d)", attempt + 2, attempts)
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def run_write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in a write transaction without blocking the event loop: it joins
        a group commit (see :class:`GroupCommit`)."""
        if self._committer is None:
            self._committer = GroupCommit(self, self.lanes)
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._committer.submit(work, done)
        return await done

    def dispose(self) -> None:
        if self._committer is not None:
            self._committer.stop()
            self._committer = None
        self.engine.dispose()


class GroupCommit:
    """One writer thread that pays for one commit per batch instead of one per request.

    It runs all queued pieces of work back to back in one transaction, each inside its own
    savepoint (a piece that raises is rolled back alone and its caller gets the exception),
    commits once, and only then answers every caller: each caller still gets an atomic write
    that is durable before it is acknowledged, while the fsync, the lock hand-offs and (on a
    hot SKU) the row lock are shared. SQLite runs one writer at a time anyway; on PostgreSQL
    this keeps the hot row locked by one thread that never waits for the GIL between its
    statements. If the batch cannot commit (a deadlock with another worker process), every
    piece is retried alone, so one conflict never fails its neighbours.

    The savepoints are the driver's own statements (SQLAlchemy's ``begin_nested`` cost more
    than the order inside it), and a batch's answers reach the event loop in one wake-up.
    With several ``lanes`` (PostgreSQL), that many writer threads take batches from the one
    queue, each in its own transaction; a work function finds its lane's number in
    ``conn.info[LANE]`` (stock buckets: each lane takes from another bucket first).
    """

    MAX_BATCH = 64

    def __init__(self, db: Database, lanes: int = 1) -> None:
        self.db = db
        self._queue: queue.SimpleQueue[Piece | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._run, args=(lane,), daemon=True,
                                          name=f"simlive-group-commit-{lane}")
                         for lane in range(lanes)]
        for thread in self._threads:
            thread.start()

    def submit(self, work: Callable[[Connection], T], done: asyncio.Future[T]) -> None:
        """Queue ``work``; ``done`` (a future of the running loop) gets its outcome."""
        self._queue.put((work, done))

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def run_batch(self, works: list[Callable[[Connection], Any]], lane: int = 0
                  ) -> list[tuple[Any, BaseException | None]]:
        """Run ``works`` as one batch in the calling thread; each one's ``(result, error)``,
        in order. What a writer thread does with what it found queued (tests call it to
        choose a batch's members)."""
        pieces: list[Piece] = [(work, None) for work in works]
        return [(result, error) for _, result, error in self._commit(pieces, lane)]

    def _run(self, lane: int) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self.MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            _answer(self._commit(batch, lane))

    def _commit(self, batch: list[Piece], lane: int) -> list[Outcome]:
        outcomes: list[Outcome] = []
        try:
            with self.db.write() as conn:
                conn.info[LANE] = lane
                cur = cursor(conn)
                merged = self._merge(conn, batch)
                for i, (work, done) in enumerate(batch):
                    if i in merged:
                        outcomes.append((done, merged[i], None))
                        continue
                    # on PostgreSQL never released (a RELEASE is a round trip an order): a
                    # savepoint of the same name shadows it and the commit ends them all;
                    # MAX_BATCH keeps the subtransactions within its per-backend cache of 64.
                    # SQLite slows down as the stack of open savepoints grows
                    cur.execute("SAVEPOINT piece")
                    try:
                        result = work(conn)
                    except Exception as exc:  # noqa: BLE001 - handed to its caller
                        cur.execute("ROLLBACK TO SAVEPOINT piece")
                        outcomes.append((done, None, exc))
                    else:
                        outcomes.append((done, result, None))
                    if self.db.is_sqlite:
                        cur.execute("RELEASE SAVEPOINT piece")
            return outcomes
        except Exception:  # noqa: BLE001 - the batch rolled back: run each piece alone
            log.warning("a batch of %d writes failed to commit; each runs alone", len(batch),
                        exc_info=True)
            outcomes = []
            for work, done in batch:
                try:
                    with self.db.write() as conn:
                        conn.info[LANE] = lane
                        outcomes.append((done, work(conn), None))
                except Exception as exc:  # noqa: BLE001 - handed to its caller
                    outcomes.append((done, None, exc))
            return outcomes


    def _merge(self, conn: Connection, batch: list[Piece]) -> dict[int, Any]:
        """Pieces whose work has a ``merger`` (placing an order) are offered to it together:
        ``merger(conn, works)`` does what it can for all of them at once and says which it
        did (by position); the others run alone."""
        groups: dict[Any, list[int]] = {}
        for i, (work, _done) in enumerate(batch):
            merger = getattr(work, "merger", None)
            if merger is not None:
                groups.setdefault(merger, []).append(i)
        merged: dict[int, Any] = {}
        for merger, members in groups.items():
            if len(members) >= 2:
                # no savepoint of its own (a round trip a batch): a merger rolls back what it
                # cannot do, and one that raises fails the batch, whose pieces then run alone
                done = merger(conn, [batch[i][0] for i in members])
                merged.update({members[k]: result for k, result in done.items()})
        return merged


# a work and the future its caller awaits (None: run_batch's, whose outcomes are returned)
Piece = tuple[Callable[[Connection], Any], "asyncio.Future[Any] | None"]
Outcome = tuple["asyncio.Future[Any] | None", Any, BaseException | None]


def _answer(outcomes: list[Outcome]) -> None:
    """Hand each outcome to its future, one wake-up per event loop (there is one per worker
    process; tests may run several)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome[0] is not None:  # always, for a queued piece
            by_loop.setdefault(outcome[0].get_loop(), []).append(outcome)
    for loop, mine in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, mine)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass


def _settle(outcomes: list[Outcome]) -> None:
    for done, result, error in outcomes:
        if done is None or done.done():  # the request was cancelled (its client went away)
            continue
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)
