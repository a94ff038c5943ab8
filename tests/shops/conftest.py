"""A small GraphQL shop on 127.0.0.1 that simlive did not write, for target-file tests.

Anonymous sessions handed back in a response header, one GraphQL endpoint answering 200
with errors in the body (as GraphQL shops do), a stock kept under a lock (or ignored,
with ``oversell=True``), and three endpoints that answer garbage: HTML, a 500, and silence.
``GET /debug/orders`` tells which session placed each order.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class MiniShop:
    def __init__(self, oversell: bool = False, buy_delay: float = 0.0) -> None:
        self.oversell = oversell
        self.buy_delay = buy_delay  # each purchase takes this long: concurrent arrivals
        self.payments: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stock: dict[str, int] = {}
        self.orders: list[dict[str, Any]] = []
        self.markers: set[str] = set()
        self.teardowns: list[str] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _send(self, code: int, body: Any, ctype: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                shop.markers.add(self.headers.get("X-Simlive-Run", ""))
                if self.path == "/debug/orders":
                    with shop.lock:
                        self._send(200, shop.orders)
                elif self.path == "/garbage":
                    self._send(200, b"<html>maintenance</html>", "text/html")
                elif self.path == "/boom":
                    self._send(500, {"error": "boom"})
                elif self.path == "/slow":
                    time.sleep(3)
                    self._send(200, {})
                else:
                    self._send(404, {"error": "no such path"})

            def do_POST(self) -> None:  # noqa: N802
                shop.markers.add(self.headers.get("X-Simlive-Run", ""))
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/form":  # echoes a form body as JSON
                    from urllib.parse import parse_qsl

                    self._send(200, {"form": dict(parse_qsl(raw.decode())),
                                     "type": self.headers.get("Content-Type", "")})
                    return
                body = json.loads(raw or b"{}")
                if self.path == "/teardown":
                    shop.teardowns.append(body.get("run"))
                    self._send(200, {})
                    return
                if self.path == "/session":
                    self._send(200, {}, headers={"X-Session": secrets.token_hex(8)})
                    return
                if self.path != "/graphql":
                    self._send(404, {})
                    return
                q, v = body.get("query", ""), body.get("variables", {})
                if "create" in q:
                    if self.headers.get("Authorization") != "Bearer admin-secret":
                        self._send(200, {"errors": [{"message": "not an admin"}]})
                        return
                    with shop.lock:
                        shop.stock[v["sku"]] = int(v["stock"])
                    self._send(200, {"data": {"create": {"id": v["sku"]}}})
                elif "stock" in q:
                    with shop.lock:
                        n = shop.stock.get(v["sku"])
                    self._send(200, {"data": {"product": {"stock": n}}})
                elif "buy" in q:
                    session = self.headers.get("X-Session")
                    if not session:
                        self._send(200, {"errors": [{"message": "no session"}]})
                        return
                    time.sleep(shop.buy_delay)
                    with shop.lock:
                        left = shop.stock.get(v["sku"], 0)
                        if left < int(v["quantity"]) and not shop.oversell:
                            out = {"order": None, "errors": [{"code": "OUT_OF_STOCK"}]}
                        else:  # the overselling shop never looks at the stock
                            shop.stock[v["sku"]] = left - int(v["quantity"])
                            shop.orders.append({"id": len(shop.orders) + 1, "sku": v["sku"],
                                                "session": session})
                            out = {"order": {"id": len(shop.orders)}, "errors": []}
                    self._send(200, {"data": {"buy": out}})
                elif "pay" in q:  # paying an order: which session pays which order
                    with shop.lock:
                        order = next((o for o in shop.orders if o["id"] == v.get("order")),
                                     None)
                        shop.payments.append({"order": v.get("order"),
                                              "session": self.headers.get("X-Session"),
                                              "ordered_by": order and order["session"]})
                    self._send(200, {"data": {"pay": {"ok": order is not None}}})
                else:
                    self._send(200, {"errors": [{"message": "unknown query"}]})

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out and hung up (the /slow test): expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> MiniShop:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mini_shop() -> Iterator[MiniShop]:
    with MiniShop() as shop:
        yield shop


@pytest.fixture
def overselling_shop() -> Iterator[MiniShop]:
    with MiniShop(oversell=True) as shop:
        yield shop


MINI_TARGET = """\
name: mini GraphQL shop
timeout: 2
auth:
  admin: {from: token-file}
  merchant: {from: token-file, key: admin}
  buyer: {from: start_session, scheme: header, name: X-Session}
operations:
  start_session:
    method: POST
    url: /session
    extract: {token: "header:X-Session"}
  create_product:
    method: POST
    url: /graphql
    json: {query: "mutation create", variables: {sku: "{{ sku }}", stock: "{{ stock }}"}}
    ok: {status: [200], when: "data.create.id != null"}
    fail: {status: [200], when: "errors"}
    extract: {product_id: data.create.id}
  read_stock:
    scope: product
    role: none                     # anyone may read the stock: viewers open no session
    method: POST
    url: /graphql
    json: {query: "query stock", variables: {sku: "{{ sku }}"}}
    ok: {status: [200], when: "data.product"}
    extract: {stock: data.product.stock}
  true_stock:
    scope: product
    method: POST
    url: /graphql
    json: {query: "query stock", variables: {sku: "{{ sku }}"}}
    ok: {status: [200], when: "data.product"}
    extract: {stock: data.product.stock}
  order:
    method: POST
    url: /graphql
    json: {query: "mutation buy", variables: {sku: "{{ sku }}", quantity: "{{ quantity }}",
                                              key: "{{ key }}"}}
    ok: {status: [200], when: "data.buy.order != null"}
    fail: {status: [200], when: "length(data.buy.errors || `[]`) > `0`"}
    extract: {order_id: data.buy.order.id}
  browse: {method: GET, url: /garbage, role: none, ok: {status: [200], when: "items"}}
  read_receipt: {method: GET, url: /boom, extract: {receipt_no: number}}
  teardown: {method: POST, url: /teardown, role: admin, json: {run: "{{ run_id }}"}}
state: history-only
"""


@pytest.fixture
def mini_target(tmp_path: Any) -> Any:
    path = tmp_path / "mini.yaml"
    path.write_text(MINI_TARGET, encoding="utf-8")
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"admin": "admin-secret"}), encoding="utf-8")
    return path, tokens
