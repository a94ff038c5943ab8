"""`simlive load` through a target file on a shop simlive did not write (history-only).

The shop is the GraphQL mini shop of conftest.py, in this process on 127.0.0.1; Locust runs
in a subprocess along tests/shops/mini-flash.yaml (5 s). Each Locust user opens its own
anonymous sessions; the shop records which session placed each order.

The module's loads run side by side, once per test run (each a shop of its own answering in
milliseconds: the loads take the scenario's 5 s and Locust's start-up, little CPU); each
test reads its own load's verdicts and history and what its shop saw (``shop.json``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from simlive.check.history import pair, read_jsonl

SCENARIO = Path(__file__).with_name("mini-flash.yaml")


def load(shop: Any, target: tuple[Path, Path], out: Path, *extra: str
         ) -> subprocess.CompletedProcess[str]:
    path, tokens = target
    done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(SCENARIO),
                           "--target", str(path), "--host", shop.url, "--token-file",
                           str(tokens), "--out", str(out), *extra], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    (out.parent / f"{out.name}.json").write_text(json.dumps(
        {"returncode": done.returncode, "stderr": done.stderr[-3000:]}))
    return done


def verdicts(out: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """What ``load`` left in ``out``: its exit code and stderr, and its verdicts by rule."""
    done = json.loads((out.parent / f"{out.name}.json").read_text())
    assert (out / "verdicts.json").exists(), done["stderr"]
    return done, {v["id"]: v for v in json.loads((out / "verdicts.json").read_text())[
        "verdicts"]}


PAY = """\
  pay:
    method: POST
    url: /graphql
    json: {query: "mutation pay", variables: {order: "{{ order_id }}"}}
    ok: {status: [200], when: "data.pay.ok"}
"""


def _two_runs(folder: Path) -> None:
    """Two loads one after the other on one live shop (the second must not collide)."""
    from shops.conftest import MiniShop

    with MiniShop() as shop:
        load(shop, _target(folder), folder / "out")
        first = list(shop.orders)  # the orders of the first run
        load(shop, _target(folder), folder / "again")
        (folder / "shop.json").write_text(json.dumps(
            {"first": first, "orders": shop.orders, "stock": sorted(shop.stock),
             "markers": sorted(shop.markers), "teardowns": shop.teardowns}))


def _overselling(folder: Path) -> None:
    from shops.conftest import MiniShop

    with MiniShop(oversell=True) as shop:
        load(shop, _target(folder), folder / "out")


def _profile(folder: Path) -> None:
    from shops.conftest import MINI_TARGET, MiniShop

    path, tokens = _target(folder)
    path.write_text(MINI_TARGET.replace("operations:\n", "operations:\n" + PAY, 1))
    profile = folder / "profile.yaml"
    profile.write_text("operations: {order: 40}\n")
    with MiniShop(oversell=True, buy_delay=0.05) as shop:  # purchases overlap; never sold out
        load(shop, (path, tokens), folder / "out", "--profile", str(profile))
        (folder / "shop.json").write_text(json.dumps({"payments": shop.payments}))


def _target(folder: Path) -> tuple[Path, Path]:
    from shops.conftest import MINI_TARGET

    path, tokens = folder / "mini.yaml", folder / "tokens.json"
    if not path.exists():
        path.write_text(MINI_TARGET, encoding="utf-8")
        tokens.write_text(json.dumps({"admin": "admin-secret"}), encoding="utf-8")
    return path, tokens


LOADS = {"two-runs": _two_runs, "overselling": _overselling, "profile": _profile}


@pytest.fixture(scope="session")
def mini_loads(once_per_run: Callable[..., Path]) -> Path:
    def make(folder: Path) -> None:
        with ThreadPoolExecutor(len(LOADS)) as pool:
            runs = []
            for name, run in LOADS.items():
                (folder / name).mkdir()
                runs.append(pool.submit(run, folder / name))
            for r in runs:
                r.result()

    return once_per_run("mini-shop-loads", make)


@pytest.mark.slow
def test_history_only_shop_is_judged_from_the_history(mini_loads: Path) -> None:
    folder = mini_loads / "two-runs"
    done, v = verdicts(folder / "out")
    assert done["returncode"] == 1, done["stderr"]  # unknown rules are not a pass
    assert v["stock.no-oversell"]["status"] == "pass", v["stock.no-oversell"]
    assert "within the declared stock (the history)" in v["stock.no-oversell"]["evidence"]
    assert v["stock.display-matches"]["status"] == "pass", v["stock.display-matches"]
    assert v["stock.ledger-balances"]["status"] == "unknown"
    assert "history-only" in v["stock.ledger-balances"]["evidence"]
    assert v["reviews.not-deleted"]["status"] == "unknown"
    assert "does not support review" in v["reviews.not-deleted"]["evidence"]
    state = json.loads((folder / "out" / "state.json").read_text())
    assert state["source"] == "history" and state["ledger"] is None
    ops = pair(list(read_jsonl(folder / "out" / "history.jsonl")))
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
    shop = json.loads((folder / "shop.json").read_text())
    for order in shop["first"]:
        assert order["session"] in sessions[placed[order["id"]]], order
    # SKUs carry this run's id: a second run on the same live shop does not collide
    again, v2 = verdicts(folder / "again")
    assert again["returncode"] == 1 and v2["stock.no-oversell"]["status"] == "pass"
    # production-safe: every request tagged with its run's id, each run torn down
    runs = [json.loads((folder / d / "verdicts.json").read_text())["run_id"]
            for d in ("out", "again")]
    # each run created its own 2 SKUs (suffixed with its id); which ones were ordered is
    # up to the draw, so the products created are counted, not the orders
    assert len(shop["stock"]) == 4, shop["stock"]
    assert {s.rsplit(".", 1)[1] for s in shop["stock"]} == set(runs)
    assert {o["sku"] for o in shop["orders"]} <= set(shop["stock"])
    assert set(shop["markers"]) == set(runs) and shop["teardowns"] == runs


def test_overselling_shop_fails_no_oversell_from_the_history(mini_loads: Path) -> None:
    done, v = verdicts(mini_loads / "overselling" / "out")
    assert done["returncode"] == 1
    rule = v["stock.no-oversell"]
    assert rule["status"] == "fail", rule
    assert rule["measured"]["oversold_units"] > 0
    assert "sold of" in rule["evidence"] and "declared" in rule["evidence"]


def test_each_profile_arrival_pays_with_the_session_it_ordered_with(mini_loads: Path) -> None:
    """Under --profile, concurrent arrivals of one driver once shared one session: one
    order's steps went out with different sessions (86 orders, 60 distinct tokens paying).
    Each arrival is now its own customer."""
    folder = mini_loads / "profile"
    done, _ = verdicts(folder / "out")
    payments = json.loads((folder / "shop.json").read_text())["payments"]
    # enough payments to see the bug: it mixed sessions in most of them (60 distinct
    # tokens paying for 86 orders), so five clean ones leave it under 0.5^5 = 3 % to hide
    # (a quiet run once paid only 9 of the 10 this asked for)
    assert len(payments) >= 5, (len(payments), done["stderr"][-2000:])
    mixed = [p for p in payments if p["session"] != p["ordered_by"]]
    assert not mixed, mixed[:3]
