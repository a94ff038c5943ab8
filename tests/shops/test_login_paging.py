"""Credentials by logging in (with a second login on a 401) and listings paged by page
number or offset, on a small shop on 127.0.0.1 whose tokens wear out."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from load.racy_shop import JsonHandler

from simlive.errors import UsageError
from simlive.shops.files import parse_target
from simlive.shops.provision import (
    HttpxTransport,
    Provisioned,
    log_in_all,
    read_state,
    static_tokens,
)

USES = 3  # a token answers this many calls, then 401


class LoginShop:
    def __init__(self) -> None:
        self.tokens: dict[str, int] = {}
        self.logins: list[str] = []
        self.orders = [{"id": i, "sku": "A", "state": "PAID" if i % 2 else "VOID"}
                       for i in range(1, 8)]
        shop = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if body.get("password") != "s3cret":
                    self._send(401, {"error": "bad credentials"})
                    return
                token = secrets.token_hex(6)
                shop.tokens[token] = USES
                shop.logins.append(body["username"])
                self._send(200, {"access": token})

            def do_GET(self) -> None:  # noqa: N802
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if shop.tokens.get(token, 0) <= 0:
                    self._send(401, {"error": "expired"})
                    return
                shop.tokens[token] -= 1
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                limit = int(q.get("limit", 2))
                if "page" in q:
                    start = (int(q["page"]) - 1) * limit
                else:
                    start = int(q.get("offset", 0))
                self._send(200, {"results": shop.orders[start:start + limit]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop() -> Iterator[LoginShop]:
    s = LoginShop()
    yield s
    s.close()


def target(paging: str) -> Any:
    query = ("{page: '{{ page }}', limit: '{{ limit }}'}" if paging == "page" else
             "{offset: '{{ offset }}', limit: '{{ limit }}'}")
    return parse_target(f"""
name: login shop
auth:
  admin: {{from: login}}
operations:
  login:
    method: POST
    url: /login
    json: {{username: "{{{{ username }}}}", password: "{{{{ password }}}}"}}
    extract: {{token: access}}
  browse: {{method: GET, url: /orders, role: admin}}
states: {{paid: [PAID], cancelled: [VOID]}}
state:
  orders:
    request: {{method: GET, url: /orders, query: {query}}}
    items: results
    paging: {paging}
    limit: 2
""", "login.yaml")


@pytest.mark.parametrize("paging", ["page", "offset"])
def test_login_then_every_page_and_a_second_login_on_a_401(shop: LoginShop,
                                                           paging: str) -> None:
    tgt = target(paging)
    tokens = static_tokens(tgt, {"admin": ["ops:s3cret"]})
    transport = HttpxTransport(shop.url, 5)
    try:
        logins = log_in_all(tgt, transport, tokens)
    finally:
        transport.close()
    assert shop.logins == ["ops"] and tokens["admin"][0] in shop.tokens
    assert set(logins["admin"].values()) == {"ops:s3cret"}
    state = read_state(tgt, shop.url, Provisioned("r1", None, {}, tokens, logins=logins))
    # 7 orders, 2 a page: 4 pages on a token good for 3 calls: one more login, once
    assert [o["id"] for o in state.orders] == list(range(1, 8))
    assert shop.logins == ["ops", "ops"]
    # the shop's own states, read as the checker's words
    assert {o["state"] for o in state.orders} == {"paid", "cancelled"}


def test_a_login_without_a_password_is_bad_input(shop: LoginShop) -> None:
    tgt = target("page")
    tokens = static_tokens(tgt, {"admin": ["ops"]})
    transport = HttpxTransport(shop.url, 5)
    try:
        with pytest.raises(UsageError, match="expected 'username:password' entries"):
            log_in_all(tgt, transport, tokens)
    finally:
        transport.close()
    with pytest.raises(UsageError, match="holds no 'username:password'"):
        static_tokens(tgt, {})


def test_login_credentials_need_the_login_operation() -> None:
    from simlive.errors import InputFileError

    text = "name: x\nauth:\n  buyer: {from: login}\noperations: {}\n"
    with pytest.raises(InputFileError, match="login is not in operations"):
        parse_target(text, "x.yaml")


def test_an_operation_answered_401_logs_in_again_once(shop: LoginShop) -> None:
    from simlive.shops.client import OperationClient

    tgt = target("page")
    tokens = static_tokens(tgt, {"admin": ["ops:s3cret"]})
    transport = HttpxTransport(shop.url, 5)
    try:
        logins = log_in_all(tgt, transport, tokens)
        client = OperationClient(tgt, transport, {"admin": tokens["admin"][0]},
                                 {"run_id": "r", "marker": "r", "broadcast_id": None,
                                  "process": "t"}, logins=logins)
        results = [client.execute("browse", {}) for _ in range(7)]
    finally:
        transport.close()
    assert all(r.ok for r in results)
    assert shop.logins == ["ops", "ops", "ops"]  # 7 calls on tokens good for 3 each
    shop.tokens.clear()  # every token revoked and the password changed: one try, then 401
    client.logins["admin"] = {client.tokens["admin"]: "ops:wrong"}
    transport = HttpxTransport(shop.url, 5)
    client.transport = transport
    try:
        res = client.execute("browse", {})
    finally:
        transport.close()
    assert res.status == 401 and not res.ok
