"""Crash safety: SIGKILL the SQLite service mid-write; every acknowledged order survives.

An order is acknowledged when its 201 arrives; with ``synchronous=FULL`` the commit reached the
disk before that. The writers are bounded in count and time and stop when the server dies.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from simlive.service.process import ServiceProcess, http_client
from testing.shop import Shop

WRITERS = 8
MAX_ORDERS_PER_WRITER = 400
RUN_FOR = 1.0


def test_acknowledged_orders_survive_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    svc = ServiceProcess(url, tmp_path / "run", payment_timeout=600).start()
    try:
        shop = Shop(svc)
        sku = shop.product(stock=10**6)
        tokens = shop.mint("buyer", WRITERS)
        shop.close()
        acked: list[int] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + 20

        def writer(token: str) -> None:
            with http_client(svc.base_url, token, timeout=5) as c:
                for _ in range(MAX_ORDERS_PER_WRITER):
                    if time.monotonic() > stop_at:
                        return
                    try:
                        r = c.post("/orders", json={"sku": sku, "quantity": 1},
                                   headers={"Idempotency-Key": uuid.uuid4().hex})
                    except httpx.HTTPError:
                        return  # the server is gone
                    if r.status_code == 201:
                        with lock:
                            acked.append(r.json()["id"])

        with ThreadPoolExecutor(WRITERS) as pool:
            futures = [pool.submit(writer, tok) for tok in tokens]
            time.sleep(RUN_FOR)
            svc.kill()
            for f in futures:
                f.result(timeout=30)
    finally:
        svc.kill()

    assert len(acked) > 20, "too few writes happened before the kill to test anything"
    assert len(acked) < WRITERS * MAX_ORDERS_PER_WRITER, "the writers finished before the kill"
    restarted = ServiceProcess(url, tmp_path / "run", payment_timeout=600).start()
    try:
        shop = Shop(restarted)
        stored = {o["id"] for o in shop.all("/admin/orders")}
        assert set(acked) <= stored
        ledger = shop.ledger(sku)
        assert ledger["balanced"]
        assert ledger["reserved"] == len(stored)
        shop.close()
    finally:
        restarted.stop()
