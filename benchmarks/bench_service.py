"""Benchmark: a hot SKU's orders against the database's own ceiling for one stock row.

Run: ``.venv/bin/python benchmarks/bench_service.py [--seconds 5] [--connections 32]``

For SQLite (a temp file, ``synchronous=FULL``) and PostgreSQL (a throwaway cluster from the
machine's own binaries, ``fsync=on``) it measures, in the same run:

- **no-op**: ``GET /health`` requests/s of ``simlive serve`` (one worker; no database);
- **ceiling**: the bare driver loop of :mod:`testing.ceiling` (sqlite3 / psycopg,
  no framework, one transaction an order: the service's conditional decrement, its insert, a
  durable commit) on one stock row, with 1, 4 and ``--connections`` connections: the best;
- **service**: ``POST /orders`` orders/s on one SKU, one worker, every connection a distinct
  buyer ordering 1 unit;
- **bucket ceiling** and **service + buckets**: the same with the SKU's stock split over
  ``--buckets`` rows (``simlive serve --stock-buckets``).

The load generator is one asyncio process speaking raw HTTP/1.1 keep-alive (an HTTP client
library would measure itself), bounded in time and in request count, on loopback only.
Afterwards each SKU's ledger must show 0 oversold units and balance. Goals: service >= 80 %
of the ceiling on both databases; service + buckets >= 3x the one-row ceiling on
PostgreSQL. Exit status 0 when the goals and the ledgers hold, 3 otherwise (the project's
"performance threshold failed" code).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from simlive.service.process import ServiceProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # testing/: the shared helpers
from testing.ceiling import bare_loop  # noqa: E402
from testing.postgres import TempPostgres  # noqa: E402
from testing.shop import Shop  # noqa: E402

SERVICE_GOAL = 0.8  # of the one-row ceiling, one worker
BUCKETS_GOAL = 3.0  # x the one-row ceiling, PostgreSQL
MAX_REQUESTS = 2_000_000


@dataclass
class Rate:
    ok: int
    statuses: Counter[int]
    seconds: float

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds


async def _connection(host: str, port: int, request: Callable[[int], bytes], ok: int,
                      deadline: float, statuses: Counter[int], budget: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            writer.write(request(n))
            n += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            statuses[status] += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def _drive(base_url: str, requests: list[Callable[[int], bytes]], ok: int,
                 seconds: float, warmup: float) -> Rate:
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    if warmup > 0:
        await asyncio.gather(*(_connection(host, port, r, ok, time.monotonic() + warmup,
                                           Counter(), [MAX_REQUESTS]) for r in requests))
    statuses: Counter[int] = Counter()
    start = time.monotonic()
    await asyncio.gather(*(_connection(host, port, r, ok, start + seconds, statuses,
                                       [MAX_REQUESTS]) for r in requests))
    return Rate(statuses[ok], statuses, time.monotonic() - start)


def _get(host: str, path: str) -> Callable[[int], bytes]:
    raw = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    return lambda n: raw


def _order(host: str, token: str, sku: str, conn: int) -> Callable[[int], bytes]:
    """Each call a new order: the idempotency key is unique per connection, phase and n."""
    body = f'{{"sku":"{sku}","quantity":1}}'.encode()
    phase = itertools.count()
    head = (f"POST /orders HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Idempotency-Key: bench-{sku}-{conn}-").encode()
    return lambda n: (head + f"{next(phase)}".encode() + b"\r\n\r\n" + body)


class Orders:
    """A running service and its viewers: each :meth:`rate` orders a fresh SKU."""

    def __init__(self, svc: ServiceProcess, connections: int) -> None:
        self.svc = svc
        self.shop = Shop(svc)
        self.host = urlsplit(svc.base_url).netloc
        self.tokens = self.shop.mint("buyer", connections)
        self.ledgers: list[dict[str, Any]] = []

    def noop(self, seconds: float) -> Rate:
        return asyncio.run(_drive(self.svc.base_url, [_get(self.host, "/health")]
                                  * len(self.tokens), 200, seconds, warmup=1.0))

    def rate(self, seconds: float) -> Rate:
        sku = self.shop.product(stock=10**9)
        rate = asyncio.run(_drive(self.svc.base_url,
                                  [_order(self.host, tok, sku, i)
                                   for i, tok in enumerate(self.tokens)],
                                  201, seconds, warmup=1.0))
        self.ledgers.append(self.shop.ledger(sku))
        return rate


def measure(name: str, urls: list[str], work: Path, seconds: float, connections: int,
            k: int, rounds: int) -> dict[str, Any]:
    """The connection count the one-row loop does best with, then ``rounds`` rounds of the
    four rates back to back (this machine's speed drifts over minutes: a ratio is taken
    within a round, and the medians reported). ``urls``: three empty databases (the bare
    loop's, the service's, the service's with buckets)."""
    bare_url, url, split_url = urls
    sweep = {n: bare_loop(bare_url, n, seconds) for n in sorted({1, 4, connections})}
    best = max(sweep, key=lambda n: sweep[n].per_second)
    loops = list(sweep.values())
    with ServiceProcess(url, work / name, payment_timeout=3600) as plain_svc, \
            ServiceProcess(split_url, work / f"{name}-buckets", payment_timeout=3600,
                           extra_args=("--stock-buckets", str(k))) as split_svc:
        plain, split = Orders(plain_svc, connections), Orders(split_svc, connections)
        noop = plain.noop(seconds)
        rows = []
        for _ in range(rounds):
            ceiling = bare_loop(bare_url, best, seconds)
            service = plain.rate(seconds)
            bucket_ceiling = bare_loop(bare_url, connections, seconds, buckets=k)
            buckets = split.rate(seconds)
            loops += [ceiling, bucket_ceiling]
            rows.append({"ceiling": ceiling.per_second, "service": service.per_second,
                         "bucket_ceiling": bucket_ceiling.per_second,
                         "buckets": buckets.per_second,
                         "statuses": {"service": dict(service.statuses),
                                      "buckets": dict(buckets.statuses)}})
        ledgers = plain.ledgers + split.ledgers
        plain.shop.close()
        split.shop.close()
    med = {key: statistics.median(r[key] for r in rows)
           for key in ("ceiling", "service", "bucket_ceiling", "buckets")}
    return {"database": name, "noop": noop.per_second, "rounds": rows,
            "sweep": {n: r.per_second for n, r in sweep.items()}, "ceiling_connections": best,
            **med,
            "service_ratio": statistics.median(r["service"] / r["ceiling"] for r in rows),
            "buckets_ratio": statistics.median(r["buckets"] / r["ceiling"] for r in rows),
            "oversold": sum(lg["oversold"] for lg in ledgers) + sum(r.oversold for r in loops),
            "balanced": all(lg["balanced"] for lg in ledgers)}


def goals(r: dict[str, Any]) -> list[str]:
    """The goals this database missed (empty: all met)."""
    missed = []
    if r["service_ratio"] < SERVICE_GOAL:
        missed.append(f"service < {SERVICE_GOAL:.0%} of the ceiling")
    if r["database"] == "postgres" and r["buckets_ratio"] < BUCKETS_GOAL:
        missed.append(f"service + buckets < {BUCKETS_GOAL:g}x the ceiling")
    if r["oversold"] or not r["balanced"]:
        missed.append("the ledger")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=128,
                        help="concurrent buyers (a flash sale has thousands)")
    parser.add_argument("--buckets", type=int, default=8, help="stock buckets (2..64)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of the four rates; medians are reported")
    parser.add_argument("--only", choices=("sqlite", "postgres"), default=None)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="simlive-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "sqlite"):
            results.append(measure("sqlite", [f"sqlite:///{work / f'{db}.db'}"
                                              for db in ("bare", "plain", "split")],
                                   work, args.seconds, args.connections, args.buckets,
                                   args.rounds))
        if args.only in (None, "postgres"):
            with TempPostgres(fsync=True) as pg:
                results.append(measure("postgres", [pg.create_database(db) for db in
                                                    ("bare", "plain", "split")],
                                       work, args.seconds, args.connections, args.buckets,
                                       args.rounds))
    table = Table(title=f"One hot SKU, {args.connections} connections, {args.seconds:g} s a "
                        f"measurement, medians of {args.rounds} rounds (orders/s; ceiling: "
                        f"the bare driver loop on one row with the best of "
                        f"{', '.join(map(str, sorted({1, 4, args.connections})))} connections)")
    for column in ("database", "no-op req/s", "ceiling (conns)", "service", "of ceiling",
                   f"ceiling, {args.buckets} buckets", f"service, {args.buckets} buckets",
                   "x ceiling", "oversold", "ledger", "goals"):
        table.add_column(column, justify="left" if column in ("database", "goals") else "right")
    ok = True
    for r in results:
        missed = goals(r)
        ok &= not missed
        table.add_row(r["database"], f"{r['noop']:,.0f}",
                      f"{r['ceiling']:,.0f} ({r['ceiling_connections']})", f"{r['service']:,.0f}",
                      f"{r['service_ratio']:.0%}", f"{r['bucket_ceiling']:,.0f}",
                      f"{r['buckets']:,.0f}", f"{r['buckets_ratio']:.1f}x",
                      str(r["oversold"]), "balanced" if r["balanced"] else "BROKEN",
                      "met" if not missed else "NOT met: " + "; ".join(missed))
    Console(width=200).print(table)
    for r in results:
        print(f"{r['database']}: one-row loop by connections "
              + ", ".join(f"{n}: {v:,.0f}/s" for n, v in r["sweep"].items()) + "; rounds "
              + "; ".join(f"{x['ceiling']:,.0f} / {x['service']:,.0f} / "
                          f"{x['bucket_ceiling']:,.0f} / {x['buckets']:,.0f}"
                          for x in r["rounds"])
              + " (ceiling / service / bucket ceiling / service + buckets)")
        for x in r["rounds"]:
            for what, statuses in x["statuses"].items():
                other = {k: v for k, v in statuses.items() if k != 201}
                if other:
                    print(f"{r['database']} {what}: answers other than 201: {other}")
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
