"""Benchmark: order placement on one hot SKU against the service's own no-op, per database.

Run: ``.venv/bin/python benchmarks/bench_service.py [--seconds 5] [--connections 32]``

For SQLite (a temp file, ``synchronous=FULL``) and PostgreSQL (a throwaway cluster from the
machine's own binaries, ``fsync=on``), it starts ``simlive serve`` (one worker) on 127.0.0.1
and measures, in the same run and against the same process:

- the baseline: ``GET /health`` requests/s (no database, same framework path);
- ``POST /orders`` orders/s: every connection a distinct viewer ordering 1 unit of one SKU.

The load generator is one asyncio process speaking raw HTTP/1.1 keep-alive (an HTTP client
library would measure itself), bounded in time and in request count, on loopback only.
Afterwards the SKU's ledger must show 0 oversold units and balance. Goal: orders/s >= 50 % of
the no-op rate. Exit status 0 when the goal and the ledger hold, 3 otherwise (the project's
"performance threshold failed" code).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from simlive.service.harness import ServiceProcess, Shop, TempPostgres

GOAL = 0.5
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
            f"Idempotency-Key: bench-{conn}-").encode()
    return lambda n: (head + f"{next(phase)}".encode() + b"\r\n\r\n" + body)


def measure(svc: ServiceProcess, name: str, seconds: float, connections: int) -> dict:
    shop = Shop(svc)
    host = urlsplit(svc.base_url).netloc
    sku = shop.product(stock=10**9)
    tokens = shop.mint("viewer", connections)
    noop = asyncio.run(_drive(svc.base_url, [_get(host, "/health")] * connections, 200,
                              seconds, warmup=1.0))
    orders = asyncio.run(_drive(svc.base_url, [_order(host, tok, sku, i)
                                                for i, tok in enumerate(tokens)],
                                201, seconds, warmup=1.0))
    ledger = shop.ledger(sku)
    placed = ledger["sold"] + ledger["reserved"]
    shop.close()
    return {"database": name, "noop_per_s": noop.per_second,
            "orders_per_s": orders.per_second, "ratio": orders.per_second / noop.per_second,
            "order_statuses": dict(orders.statuses), "noop_statuses": dict(noop.statuses),
            "oversold": ledger["oversold"], "balanced": ledger["balanced"],
            "placed_total": placed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", choices=("sqlite", "postgres"), default=None)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="simlive-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "sqlite"):
            with ServiceProcess(f"sqlite:///{work / 'bench.db'}", work / "sqlite",
                                payment_timeout=3600) as svc:
                results.append(measure(svc, "sqlite", args.seconds, args.connections))
        if args.only in (None, "postgres"):
            with TempPostgres(fsync=True) as pg, \
                    ServiceProcess(pg.create_database("bench"), work / "pg",
                                   payment_timeout=3600) as svc:
                results.append(measure(svc, "postgres", args.seconds, args.connections))
    ok = True
    print(f"{'database':<10} {'no-op req/s':>12} {'orders/s':>10} {'ratio':>7} "
          f"{'oversold':>9} {'ledger':>9}")
    for r in results:
        met = r["ratio"] >= GOAL and r["oversold"] == 0 and r["balanced"]
        ok &= met
        print(f"{r['database']:<10} {r['noop_per_s']:>12.0f} {r['orders_per_s']:>10.0f} "
              f"{r['ratio']:>6.0%} {r['oversold']:>9} "
              f"{'balanced' if r['balanced'] else 'BROKEN':>9}  "
              f"{'goal met' if met else f'goal (>= {GOAL:.0%}) NOT met'}")
        other = {k: v for k, v in r["order_statuses"].items() if k != 201}
        if other:
            print(f"           order answers other than 201: {other}")
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
