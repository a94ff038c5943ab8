"""A shop that takes the stock at payment (``sale: pay``): the preflight expects the sold-out
refusal at ``pay``, and flash-sale buyers order ahead and are released on ``pay``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from load.racy_shop import racy_shop
from simlive.check.history import pair, read_jsonl

TARGET = Path(__file__).with_name("racy-pay-target.yaml")
FLASH = Path(__file__).parents[2] / "scenarios" / "flash-sale.yaml"


def simlive(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simlive.cli", *args], capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)


def test_the_preflight_expects_the_sold_out_refusal_at_payment() -> None:
    with racy_shop(pause=0.0) as shop:
        done = simlive("target", "check", str(TARGET), "--host", shop.url)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("│")]

    def row(label: str) -> str:
        return next(line for line in lines if line.startswith(f"│ {label} "))
    assert "ok (refused)" in row("pay (sold out)")  # the refusal comes at payment
    for label in ("order 1 of 2", "pay 1 of 2", "pay 2 of 2", "order 3 of 2"):
        assert "│ ok " in row(label), row(label)  # ordering takes no stock: all placed


@pytest.mark.slow
def test_flash_sale_buyers_are_released_on_payment(tmp_path: Path) -> None:
    with racy_shop() as shop:
        done = simlive("load", str(FLASH), "--target", str(TARGET), "--host", shop.url,
                       "--users", "100", "--run-time", "10s", "--out", str(tmp_path / "out"))
        stats = shop.stats()
    data = json.loads((tmp_path / "out" / "verdicts.json").read_text())
    (sale,) = data["flash_sales"]
    n = sale["planned"]  # twice the 80 units that may be on sale: 160
    assert n == 160 and sale["released"] == n and sale["max_in_flight"] >= 80, \
        (sale, done.stderr[-2000:])
    ops = pair(list(read_jsonl(tmp_path / "out" / "history.jsonl")))
    flash = [o for o in ops if "-flash1-" in o.process]
    # each buyer ordered (the cart) ahead, then paid on the release: one of each
    assert sum(o.f == "order" for o in flash) == n and sum(o.f == "pay" for o in flash) == n
    hot = next(s for s in stats["max_in_flight"] if s.startswith("HOT-1."))
    assert stats["max_in_flight"][hot] >= 80  # the checkouts (payments) overlapped
    v = next(v for v in data["verdicts"] if v["id"] == "stock.no-oversell")
    assert v["status"] == "fail", v  # the units paid for exceed the stock
