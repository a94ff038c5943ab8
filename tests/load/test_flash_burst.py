"""The flash-sale second on a shop whose checkout loses updates (racy_shop.py), end to end.

The shop runs in this process on 127.0.0.1 and counts, from its side, the checkouts of each
SKU in flight at once and when each checkout arrived from which load process. Locust runs
in a subprocess (``simlive load``), locally or with two workers: the release instant must
reach every process, and the bundled flash sale must catch the lost update every time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from load.racy_shop import TARGET, racy_shop
from simlive.check.history import pair, read_jsonl

FLASH = Path(__file__).parents[2] / "scenarios" / "flash-sale.yaml"


def load(shop: Any, out: Path, *extra: str, scenario: Path = FLASH
         ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(scenario),
                           "--target", str(TARGET), "--host", shop.url, "--users", "300",
                           "--run-time", "10s", "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)
    assert (out / "verdicts.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return done, json.loads((out / "verdicts.json").read_text())


def verdict(data: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(v for v in data["verdicts"] if v["id"] == rid)


@pytest.mark.slow
@pytest.mark.parametrize("run", range(3), ids=["1-of-3", "2-of-3", "3-of-3"])
def test_the_bundled_flash_sale_catches_the_lost_update_every_time(tmp_path: Path, run: int
                                                                   ) -> None:
    """3 of 3: before the burst it passed 6 times in 9 on a shop like this one. Three
    loads, each a test of its own so the workers share them; each must catch it."""
    with racy_shop() as shop:
        done, data = load(shop, tmp_path / "out")
        stats = shop.stats()
    hot = next(s for s in stats["max_in_flight"] if s.startswith("HOT-1."))
    v = verdict(data, "stock.no-oversell")
    assert v["status"] == "fail", (v, done.stderr[-2000:])
    # the shop saw the moment: at least 200 checkouts of the hot SKU at once
    assert stats["max_in_flight"][hot] >= 200, stats["max_in_flight"]
    # the sale's units reached the shop at its opening, on top of the stock before
    assert stats["created"][hot] == 40 and stats["restocked"][hot] == 40
    assert stats["sold"][hot] > 80
    (sale,) = data["flash_sales"]
    assert sale["released"] == 300 and sale["planned"] == 300
    assert sale["max_in_flight"] >= 200 and sale["spread_ms"]["p99"] <= 100
    assert sale["units_added"] == "40 unit(s) by restock"
    assert "300 buyer(s) released together on 40 unit(s)" in v["evidence"]
    # no arrival driver without --profile (it divided by zero streams at the peak),
    # no monitor without true_stock, no user for a role whose operations are missing
    assert "ZeroDivisionError" not in done.stderr
    spawned = re.findall(r'"(\w+User|ArrivalDriver)": (\d+)', done.stderr)
    counts = dict(spawned)
    assert int(counts["ViewerUser"]) > 0 and int(counts["BuyerUser"]) > 0, spawned
    for cls in ("ArrivalDriver", "MonitorUser", "AftersalesUser", "AgentUser",
                "ReviewerUser"):
        assert counts.get(cls, "0") == "0", (cls, spawned)
    assert "Flash sales: buyers released together" in done.stdout
    report = (tmp_path / "out" / "report.html").read_text()
    assert "id='flash-sales'" in report
    # between the units' arrival and the release no ordinary buyer ordered the sale's SKU:
    # its units waited for the sale's own buyers
    ops = pair(list(read_jsonl(tmp_path / "out" / "history.jsonl")))
    (restock,) = [o for o in ops if o.f == "restock"]
    assert restock.type == "ok" and restock.args["quantity"] == 40
    release = sale["release_at"]
    sniped = [o for o in ops if o.f == "order" and o.args["sku"] == restock.args["sku"]
              and "-flash" not in o.process and restock.end <= o.start < release - 0.01]
    assert not sniped, sniped[:3]


@pytest.mark.slow
def test_the_release_instant_reaches_every_worker(tmp_path: Path) -> None:
    with racy_shop() as shop:
        done, data = load(shop, tmp_path / "out", "--workers", "2")
        stats = shop.stats()
    (sale,) = data["flash_sales"]
    assert sale["processes"] == 2 and sale["released"] == 300, (sale, done.stderr[-2000:])
    burst = [(t, p) for t, p, _ in stats["arrivals"] if "-flash1-" in p]
    assert len(burst) == 300
    workers = {p.split("-flash1-")[0] for _, p in burst}
    assert len(workers) == 2 and all(w.startswith("w") for w in workers), workers
    # as the shop's clock saw them: every worker's checkouts complete within the spread
    late = np.array([t - sale["release_at"] for t, _ in burst])
    for w in workers:
        mine = np.array([t - sale["release_at"] for t, p in burst if p.startswith(w + "-")])
        assert len(mine) == 150
        # each worker's checkouts complete together, none before the instant, and within a
        # scheduler's hiccup of it (a 2-core machine running the suite beside: seen 132 ms)
        assert mine.min() >= -0.005 and np.percentile(mine, 99) - mine.min() <= 0.1, \
            (w, mine.min(), mine.max())
        assert mine.min() <= 0.5, (w, mine.min())
    assert np.percentile(late, 99) <= 0.6
    assert verdict(data, "stock.no-oversell")["status"] == "fail"
    # each worker's buyers are in the merged history
    ops = pair(list(read_jsonl(tmp_path / "out" / "history.jsonl")))
    orders = {o.process.split("-flash1-")[0] for o in ops
              if o.f == "order" and "-flash1-" in o.process}
    assert orders == workers


@pytest.mark.slow
@pytest.mark.parametrize("pause", [0.002])
def test_an_honest_shop_passes_and_says_what_it_survived(tmp_path: Path, pause: float
                                                         ) -> None:
    with racy_shop(pause, guarded=True) as shop:
        done, data = load(shop, tmp_path / "out")
        stats = shop.stats()
    hot = next(s for s in stats["sold"] if s.startswith("HOT-1."))
    assert stats["sold"][hot] <= 80  # a lock around the checkout: never past 40 + 40
    v = verdict(data, "stock.no-oversell")
    assert v["status"] == "pass", (v, done.stderr[-2000:])
    assert "300 buyer(s) released together on 40 unit(s)" in v["evidence"]
    (sale,) = data["flash_sales"]
    assert sale["contended"] and 1 <= sale["outcomes"]["ok"] <= 80
