"""The operation client against a real HTTP shop on 127.0.0.1: outcomes, fields, garbage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simlive.check.history import pair, read_jsonl
from simlive.load.recorder import Recorder
from simlive.shops.client import Answer, OperationClient, read_answer
from simlive.shops.files import load_target
from simlive.shops.provision import HttpxTransport
from simlive.shops.target_file import Match, Request

_open: list[HttpxTransport] = []


@pytest.fixture(autouse=True)
def _close_transports() -> Any:
    yield
    while _open:
        _open.pop().close()


def client_for(shop: Any, target_path: Path, recorder: Recorder | None = None,
               timeout: float | None = None) -> OperationClient:
    target = load_target(target_path)
    transport = HttpxTransport(shop.url, timeout or target.timeout)
    _open.append(transport)
    products = {"HOT": {"sku": "HOT", "product_id": "HOT", "stock": 2}}
    return OperationClient(target, transport, {"admin": "admin-secret",
                                               "merchant": "admin-secret"},
                           {"run_id": "r1", "marker": "r1", "broadcast_id": None}, products,
                           recorder, "t1")


def test_graphql_errors_in_a_200_body_read_as_refusals(mini_shop: Any, mini_target: Any,
                                                       tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "h.jsonl")
    c = client_for(mini_shop, mini_target[0], rec)
    assert c.run("create_product", {"sku": "HOT", "stock": 2}).ok
    session = c.run("start_session", {})
    assert session.ok and len(session.fields["token"]) == 16  # read from a response header
    c.tokens["buyer"] = session.fields["token"]
    got = [c.run("order", {"sku": "HOT", "quantity": 1, "key": f"k{i}"}) for i in range(3)]
    assert [r.outcome for r in got] == ["ok", "ok", "fail"]  # the third: OUT_OF_STOCK
    assert got[0].fields["order_id"] == 1 and got[2].status == 200
    assert c.run("read_stock", {"sku": "HOT"}).fields["stock"] == 0
    c.tokens["buyer"] = None  # no session: the shop answers 200 with an error, no order
    assert c.run("order", {"sku": "HOT", "quantity": 1, "key": "k9"}).outcome == "info"
    rec.close()
    ops = pair(list(read_jsonl(tmp_path / "h.jsonl")))
    assert [(o.f, o.type) for o in ops] == [
        ("create_product", "ok"), ("start_session", "ok"), ("order", "ok"), ("order", "ok"),
        ("order", "fail"), ("read_stock", "ok"), ("order", "info")]
    assert mini_shop.markers == {"r1"}  # every request carried the run's test marker
    assert [o["session"] for o in mini_shop.orders] == [session.fields["token"]] * 2


def test_garbage_answers_are_info_never_a_crash(mini_shop: Any, mini_target: Any) -> None:
    c = client_for(mini_shop, mini_target[0], timeout=1.0)
    html = c.execute("browse", {})  # 200 text/html where JSON with items was due
    assert (html.outcome, html.status) == ("info", 200)
    assert "not an answer the target expects" in (html.error or "")
    boom = c.execute("read_receipt", {"order_id": 1})  # a 500
    assert (boom.outcome, boom.status) == ("info", 500)
    slow = Request(method="GET", url="/slow")
    got = c.transport.send(c.prepare(c.target.operation("browse"), slow, "browse", c.context),
                           lambda a: read_answer(slow, a))
    assert got.status == 0 and "Timeout" in (got.error or "")
    assert read_answer(slow, got).outcome == "info"


def test_a_refused_connection_is_a_definite_fail(mini_target: Any) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = load_target(mini_target[0])
    _open.append(transport := HttpxTransport(f"http://127.0.0.1:{port}", 1.0))
    c = OperationClient(target, transport,
                        {"admin": "admin-secret"}, {"run_id": "r", "marker": "r"})
    res = c.execute("create_product", {"sku": "X", "stock": 1})
    assert res.outcome == "fail" and "refused" in (res.error or "")


@pytest.mark.parametrize("status, body, ok, fail, outcome, expected", [
    (201, {"id": 1}, Match(status=["2xx"]), Match(status=["4xx"]), "ok", True),
    (409, {"code": "sold_out"}, Match(status=["2xx"]), Match(status=[409]), "fail", True),
    (404, {}, Match(status=["2xx"]), Match(status=[409]), "fail", False),  # unexpected 4xx
    (503, {}, Match(status=["2xx"]), Match(status=["4xx"]), "info", False),
    (200, {"data": None, "errors": [1]}, Match(status=[200], when="data.x"),
     Match(status=[200], when="errors"), "fail", True),
    (200, {"data": None}, Match(status=[200], when="data.x"),
     Match(status=[200], when="errors"), "info", False),
    (302, {}, Match(status=["2xx"]), Match(status=["4xx"]), "info", False),
])
def test_outcome_table(status: int, body: Any, ok: Match, fail: Match, outcome: str,
                       expected: bool) -> None:
    req = Request(method="POST", url="/x", ok=ok, fail=fail)
    reading = read_answer(req, Answer(status, {}, json.dumps(body).encode()))
    assert (reading.outcome, reading.expected) == (outcome, expected)


def test_form_bodies_are_sent_urlencoded(mini_shop: Any, mini_target: Any) -> None:
    c = client_for(mini_shop, mini_target[0])
    step = Request(method="POST", url="/form", form={"sku": "{{ sku }}", "qty": 2},
                   extract={"sku": "form.sku", "kind": "type"})
    req = c.prepare(c.target.operation("browse"), step, "browse", {**c.context, "sku": "HOT"})
    ans = c.transport.send(req, lambda a: read_answer(step, a))
    assert read_answer(step, ans).outcome == "ok"
    assert json.loads(ans.body) == {"form": {"sku": "HOT", "qty": "2"},
                                    "type": "application/x-www-form-urlencoded"}
