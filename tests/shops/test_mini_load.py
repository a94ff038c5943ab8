"""`simlive load` through a target file on a shop simlive did not write (history-only).

The shop is the GraphQL mini shop of conftest.py, in this process on 127.0.0.1; Locust runs
in a subprocess along tests/load/flash.yaml (5 s). Each Locust user opens its own anonymous
sessions; the shop records which session placed each order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from simlive.check.history import pair, read_jsonl

SCENARIO = Path(__file__).with_name("mini-flash.yaml")


def load(shop: Any, target: Any, out: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    path, tokens = target
    done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(SCENARIO),
                           "--target", str(path), "--host", shop.url, "--token-file",
                           str(tokens), "--out", str(out)], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    verdicts = json.loads((out / "verdicts.json").read_text())
    return done, {v["id"]: v for v in verdicts["verdicts"]}


def test_history_only_shop_is_judged_from_the_history(mini_shop: Any, mini_target: Any,
                                                      tmp_path: Path) -> None:
    done, v = load(mini_shop, mini_target, tmp_path / "out")
    assert done.returncode == 1, done.stderr[-3000:]  # unknown rules are not a pass
    assert v["stock.no-oversell"]["status"] == "pass", v["stock.no-oversell"]
    assert "within the declared stock (the history)" in v["stock.no-oversell"]["evidence"]
    assert v["stock.display-matches"]["status"] == "pass", v["stock.display-matches"]
    assert v["stock.ledger-balances"]["status"] == "unknown"
    assert "history-only" in v["stock.ledger-balances"]["evidence"]
    assert v["reviews.not-deleted"]["status"] == "unknown"
    assert "does not support review" in v["reviews.not-deleted"]["evidence"]
    state = json.loads((tmp_path / "out" / "state.json").read_text())
    assert state["source"] == "history" and state["ledger"] is None
    ops = pair(list(read_jsonl(tmp_path / "out" / "history.jsonl")))
    # garbage answers were recorded as unknown outcomes, the run went on
    assert {o.type for o in ops if o.f == "browse"} == {"info"}
    assert {o.type for o in ops if o.f == "read_receipt"} == {"info"}
    assert v["evidence.receipt"]["status"] == "unknown"
    # every order was placed with a session its own Locust user had opened
    sessions: dict[str, set[str]] = defaultdict(set)
    placed: dict[Any, str] = {}
    for o in ops:
        if o.f == "start_session" and o.type == "ok":
            sessions[o.process].add(o.value["token"])
        if o.f == "order" and o.type == "ok":
            placed[o.value["order_id"]] = o.process
    assert placed and len(sessions) > 1
    # viewers read the stock and browse with no credentials: they open no session (184
    # needless start_session calls timed out at 300 users before)
    viewers = {o.process for o in ops if "-viewer-" in o.process}
    assert viewers and not [o for o in ops if o.f == "start_session"
                            and "-viewer-" in o.process]
    for order in mini_shop.orders:
        assert order["session"] in sessions[placed[order["id"]]], order
    # SKUs carry this run's id: a second run on the same live shop does not collide
    again, v2 = load(mini_shop, mini_target, tmp_path / "again")
    assert again.returncode == 1 and v2["stock.no-oversell"]["status"] == "pass"
    # production-safe: every request tagged with its run's id, each run torn down
    runs = [json.loads((tmp_path / d / "verdicts.json").read_text())["run_id"]
            for d in ("out", "again")]
    # each run created its own 2 SKUs (suffixed with its id); which ones were ordered is
    # up to the draw, so the products created are counted, not the orders
    assert len(mini_shop.stock) == 4, sorted(mini_shop.stock)
    assert {s.rsplit(".", 1)[1] for s in mini_shop.stock} == set(runs)
    assert {o["sku"] for o in mini_shop.orders} <= set(mini_shop.stock)
    assert mini_shop.markers == set(runs) and mini_shop.teardowns == runs


def test_overselling_shop_fails_no_oversell_from_the_history(overselling_shop: Any,
                                                             mini_target: Any,
                                                             tmp_path: Path) -> None:
    done, v = load(overselling_shop, mini_target, tmp_path / "out")
    assert done.returncode == 1
    rule = v["stock.no-oversell"]
    assert rule["status"] == "fail", rule
    assert rule["measured"]["oversold_units"] > 0
    assert "sold of" in rule["evidence"] and "declared" in rule["evidence"]


PAY = """\
  pay:
    method: POST
    url: /graphql
    json: {query: "mutation pay", variables: {order: "{{ order_id }}"}}
    ok: {status: [200], when: "data.pay.ok"}
"""


def test_each_profile_arrival_pays_with_the_session_it_ordered_with(mini_target: Any,
                                                                    tmp_path: Path) -> None:
    """Under --profile, concurrent arrivals of one driver once shared one session: one
    order's steps went out with different sessions (86 orders, 60 distinct tokens paying).
    Each arrival is now its own customer."""
    from shops.conftest import MINI_TARGET, MiniShop

    path, tokens = mini_target
    path.write_text(MINI_TARGET.replace("operations:\n", "operations:\n" + PAY, 1))
    profile = tmp_path / "profile.yaml"
    profile.write_text("operations: {order: 40}\n")
    with MiniShop(oversell=True, buy_delay=0.05) as shop:  # purchases overlap; never sold out
        done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(SCENARIO),
                               "--target", str(path), "--host", shop.url, "--token-file",
                               str(tokens), "--profile", str(profile), "--out",
                               str(tmp_path / "out")], capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)
        payments = list(shop.payments)
    assert (tmp_path / "out" / "verdicts.json").exists(), done.stderr[-3000:]
    assert len(payments) >= 10, (len(payments), done.stderr[-2000:])
    mixed = [p for p in payments if p["session"] != p["ordered_by"]]
    assert not mixed, mixed[:3]
