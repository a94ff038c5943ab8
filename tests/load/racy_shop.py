"""A shop whose checkout loses updates, for the flash-sale tests and the burst benchmark.

Its checkout reads the stock, waits (``pause``, 200 ms by default), then writes the stock it
read less one: two checkouts of one SKU that overlap both sell the same unit. Only a load
whose checkouts truly overlap can expose it. The shop counts, per SKU, the checkouts in
flight at once, and records when each checkout's request was complete (server clock) and
which load process sent it (the ``X-Process`` header the target file sends), so a test
observes the flash-sale second from the shop's side. A checkout is two steps: a cart (the
preparation) and its checkout (the commit). Threads, one per connection, and a listen
backlog deep enough for a thousand buyers connecting at once.

Run it alone: ``python tests/load/racy_shop.py PORT`` (for the benchmark's subprocess).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TARGET = Path(__file__).with_name("racy-target.yaml")


class JsonHandler(BaseHTTPRequestHandler):
    """A test shop's request handler: quiet, and answers in JSON."""

    def log_message(self, *_: Any) -> None:
        pass

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class RacyShop:
    def __init__(self, pause: float = 0.2, port: int = 0, guarded: bool = False) -> None:
        self.pause = pause
        self.guarded = guarded  # a lock around the checkout: the honest shop
        self.lock = threading.Lock()
        self.stock_lock = threading.Lock()
        self.stock: dict[str, int] = {}
        self.created: dict[str, int] = {}
        self.restocked: dict[str, int] = {}
        self.carts: dict[int, str] = {}
        self.orders: list[dict[str, Any]] = []
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.arrivals: list[tuple[float, str, str]] = []  # (complete at, process, sku)
        shop = self

        class Handler(JsonHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = self.path.strip("/").split("/")
                if parts[0] == "products" and len(parts) == 2:
                    with shop.lock:
                        n = shop.stock.get(parts[1])
                    self._send(404, {"error": "no such product"}) if n is None else \
                        self._send(200, {"sku": parts[1], "stock": n})
                elif self.path == "/stats":
                    with shop.lock:
                        self._send(200, shop.stats())
                else:
                    self._send(404, {"error": "no such path"})

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                done = time.time()  # the whole request has arrived
                body = json.loads(raw or b"{}")
                parts = self.path.strip("/").split("/")
                if self.path == "/products":
                    with shop.lock:
                        shop.stock[body["sku"]] = int(body["stock"])
                        shop.created[body["sku"]] = int(body["stock"])
                    self._send(201, {"id": body["sku"]})
                elif parts[0] == "products" and parts[-1] == "restock":
                    with shop.lock:
                        shop.stock[parts[1]] += int(body["quantity"])
                        shop.restocked[parts[1]] = shop.restocked.get(parts[1], 0) + \
                            int(body["quantity"])
                    self._send(200, {"sku": parts[1]})
                elif self.path == "/carts":
                    with shop.lock:
                        if body.get("sku") not in shop.stock:
                            self._send(404, {"error": "no such product"})
                            return
                        cart = len(shop.carts) + 1
                        shop.carts[cart] = body["sku"]
                    self._send(201, {"cart": cart})
                elif parts[0] == "carts" and parts[-1] == "checkout":
                    self._checkout(int(parts[1]), done)
                else:
                    self._send(404, {"error": "no such path"})

            def _checkout(self, cart: int, done: float) -> None:
                with shop.lock:
                    sku = shop.carts.get(cart)
                    if sku is None:
                        self._send(404, {"error": "no such cart"})
                        return
                    shop.arrivals.append((done, self.headers.get("X-Process", ""), sku))
                    shop.in_flight[sku] = shop.in_flight.get(sku, 0) + 1
                    shop.max_in_flight[sku] = max(shop.max_in_flight.get(sku, 0),
                                                  shop.in_flight[sku])
                try:
                    if shop.guarded:
                        with shop.stock_lock:
                            code, answer = shop.take(sku, cart)
                    else:
                        code, answer = shop.take(sku, cart)
                finally:
                    with shop.lock:
                        shop.in_flight[sku] -= 1
                self._send(code, answer)

        class Server(ThreadingHTTPServer):
            request_queue_size = 4096  # a thousand buyers connect in the same instant
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up: nothing to say

        self.server = Server(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self, sku: str, cart: int) -> tuple[int, dict[str, Any]]:
        """Read, pause, write back: the lost update (under ``stock_lock`` when guarded)."""
        with self.lock:
            seen = self.stock[sku]
        if seen <= 0:
            return 409, {"error": "sold_out"}
        time.sleep(self.pause)
        with self.lock:
            self.stock[sku] = seen - 1  # what it read, less one: another's sale is lost
            order = {"id": len(self.orders) + 1, "sku": sku, "cart": cart}
            self.orders.append(order)
        return 201, {"id": order["id"], "state": "paid"}

    def stats(self) -> dict[str, Any]:
        sold: dict[str, int] = {}
        for o in self.orders:
            sold[o["sku"]] = sold.get(o["sku"], 0) + 1
        return {"max_in_flight": dict(self.max_in_flight), "sold": sold,
                "created": dict(self.created), "restocked": dict(self.restocked),
                "stock": dict(self.stock), "arrivals": list(self.arrivals)}

    def start(self) -> RacyShop:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def racy_shop(pause: float = 0.2, guarded: bool = False) -> Iterator[RacyShop]:
    shop = RacyShop(pause, guarded=guarded).start()
    try:
        yield shop
    finally:
        shop.stop()


if __name__ == "__main__":  # the benchmark's shop, in a process of its own
    RacyShop(float(sys.argv[2]) if len(sys.argv) > 2 else 0.2, int(sys.argv[1])
             ).server.serve_forever()
