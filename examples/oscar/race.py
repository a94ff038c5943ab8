#!/usr/bin/env python
"""Concurrency experiment against the Oscar example shop (127.0.0.1 only, bounded).

N buyers (threads, each with its own token and HTTP client) start together on a barrier
and each does add-to-basket(1 unit) + checkout once, for one product declared with STOCK
units. Prints a JSON result per configuration: orders placed, units sold (summed from the
admin's order lines), the stock record afterwards.

    # start its own shops (tracked, --untracked, --guarded) in a temp dir, run, stop them:
    python examples/oscar/race.py [--buyers 40 100] [--stock 20] [--keep-dir DIR]
                                  [--configs tracked untracked guarded]
    # or against a shop that is already served:
    python examples/oscar/race.py --url http://127.0.0.1:PORT --tokens TOKENS.json

Needs httpx. Every request goes to 127.0.0.1. The whole run is capped at --deadline s.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Shop:
    """`shop.py serve` in a subprocess; always stopped by stop()."""

    def __init__(
        self, work: Path, config: str, buyers: int, timeout: float = 60.0, db: str | None = None
    ):
        self.port = free_port()
        self.tokens_path = work / f"tokens-{config}.json"
        cmd = [
            sys.executable,
            str(HERE / "shop.py"),
            "serve",
            "--dir",
            str(work / "shop"),
            "--port",
            str(self.port),
            "--tokens",
            str(self.tokens_path),
            "--buyers",
            str(buyers),
        ]
        if db:
            cmd += ["--db", db]
        if config in ("untracked", "guarded"):
            cmd.append("--" + config)
        self.log = open(work / f"shop-{self.port}.log", "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.url = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("ready "):
                self.url = line.split()[1]
                break
        if self.url is None:
            self.stop()
            raise RuntimeError(f"shop did not start; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


def race(
    url: str,
    tokens: dict,
    n_buyers: int,
    stock: int,
    label: str,
    buyer_offset: int = 0,
    deadline: float = 60.0,
) -> dict:
    assert url.startswith("http://127.0.0.1:"), "127.0.0.1 only"
    admin = {"Authorization": "Token " + tokens["admin"][0]}
    keys = tokens["buyer"][buyer_offset : buyer_offset + n_buyers]
    if len(keys) < n_buyers:
        raise SystemExit(f"need {n_buyers} buyer tokens from offset {buyer_offset}")
    run_id = secrets.token_hex(4)
    upc = f"RACE-{label}.{run_id}"
    t_end = time.monotonic() + deadline
    with httpx.Client(base_url=url, headers=admin, timeout=20) as a:
        partner = a.get("/api/admin/partners/").json()[0]["url"]
        r = a.post(
            "/api/admin/products/",
            json={
                "upc": upc,
                "title": upc,
                "slug": upc.lower().replace(".", "-"),
                "product_class": "live",
                "structure": "standalone",
                "stockrecords": [
                    {
                        "partner": partner,
                        "partner_sku": upc,
                        "price": "10.00",
                        "price_currency": "EUR",
                        "num_in_stock": stock,
                    }
                ],
            },
        )
        r.raise_for_status()
        product = r.json()
    product_url = f"{url}/api/products/{product['id']}/"
    stockrecord_url = product["stockrecords"][0]["url"]

    barrier = threading.Barrier(n_buyers)
    results: list[dict] = [{} for _ in range(n_buyers)]

    def buyer(i: int) -> None:
        res = results[i]
        h = {"Authorization": "Token " + keys[i]}
        with httpx.Client(base_url=url, headers=h, timeout=20) as c:
            try:
                # empty this buyer's basket first (baskets persist per user)
                bk = c.get("/api/basket/").json()
                for line in c.get(bk["lines"]).json():
                    c.delete(line["url"])
            except Exception as e:  # noqa: BLE001
                res["prep_error"] = repr(e)
            try:
                barrier.wait(timeout=max(1.0, t_end - time.monotonic()))
            except threading.BrokenBarrierError:
                res["error"] = "barrier"
                return
            try:
                t0 = time.monotonic()
                r = c.post("/api/basket/add-product/", json={"url": product_url, "quantity": 1})
                res["add"] = r.status_code
                if r.status_code != 200:
                    res["add_body"] = r.json()
                    return
                r = c.post("/api/checkout/", json={"basket": r.json()["url"]})
                res["checkout"] = r.status_code
                body = r.json()
                if r.status_code == 200:
                    res["order_id"] = body["id"]
                    res["status"] = body["status"]
                else:
                    res["checkout_body"] = body
                res["secs"] = round(time.monotonic() - t0, 3)
            except Exception as e:  # noqa: BLE001
                res["error"] = repr(e)

    threads = [threading.Thread(target=buyer, args=(i,), daemon=True) for i in range(n_buyers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.1, t_end - time.monotonic()))
    wall = time.monotonic() - t0

    order_ids = [r["order_id"] for r in results if "order_id" in r]
    units = 0
    with httpx.Client(base_url=url, headers=admin, timeout=20) as a:
        for oid in order_ids:
            for line in a.get(f"/api/admin/orders/{oid}/lines/").json():
                if line["product"].rstrip("/").endswith(f"/products/{product['id']}"):
                    units += line["quantity"]
        sr = a.get(stockrecord_url).json()
        avail = a.get(f"/api/products/{product['id']}/availability/").json()

    def count(key, val):
        return sum(1 for r in results if r.get(key) == val)

    return {
        "config": label,
        "buyers": n_buyers,
        "declared_stock": stock,
        "product": upc,
        "add_200": count("add", 200),
        "add_406": count("add", 406),
        "checkout_200": count("checkout", 200),
        "checkout_other": sum(1 for r in results if "checkout" in r and r["checkout"] != 200),
        "errors": [r.get("error") for r in results if r.get("error")][:5],
        "orders_placed": len(order_ids),
        "units_sold": units,
        "num_in_stock": sr["num_in_stock"],
        "num_allocated": sr["num_allocated"],
        "availability_after": avail,
        "oversold_by": max(0, units - stock),
        "refusals": sorted(
            {
                json.dumps(r.get("add_body") or r.get("checkout_body"))
                for r in results
                if r.get("add_body") or r.get("checkout_body")
            }
        ),
        "wall_s": round(wall, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--tokens")
    ap.add_argument("--buyers", type=int, nargs="+", default=[40, 100])
    ap.add_argument("--stock", type=int, default=20)
    ap.add_argument(
        "--configs",
        nargs="+",
        default=["tracked", "untracked", "guarded"],
        choices=["tracked", "untracked", "guarded"],
    )
    ap.add_argument("--deadline", type=float, default=60.0, help="cap for the whole run")
    ap.add_argument("--db", help="postgresql://... passed to shop.py (default: SQLite)")
    ap.add_argument("--keep-dir", help="build/reuse the shop in this dir (default: temp)")
    args = ap.parse_args()
    t_end = time.monotonic() + args.deadline
    out = []
    if args.url:
        tokens = json.loads(Path(args.tokens).read_text())
        off = 0
        for n in args.buyers:
            out.append(race(args.url, tokens, n, args.stock, "ext", off, t_end - time.monotonic()))
            off += n
    else:
        need = sum(args.buyers)
        tmp = None
        if args.keep_dir:
            work = Path(args.keep_dir)
            work.mkdir(parents=True, exist_ok=True)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="oscar-race-")
            work = Path(tmp.name)
        try:
            configs = args.configs
            for k, label in enumerate(configs):
                shop = Shop(work, label, buyers=len(configs) * need, db=args.db)
                try:
                    tokens = json.loads(shop.tokens_path.read_text())
                    off = k * need  # fresh buyers per configuration
                    for n in args.buyers:
                        left = t_end - time.monotonic()
                        if left < 5:
                            break
                        out.append(race(shop.url, tokens, n, args.stock, label, off, left))
                        off += n
                finally:
                    shop.stop()
        finally:
            if tmp is not None:
                tmp.cleanup()
    for r in out:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("NO_PROXY", "127.0.0.1")
    sys.exit(main())
