"""Before and after the load: create what the scenario describes, then close the broadcast.

Setup uses only the admin token: it mints a merchant, agents and many viewers, lists the
scenario's SKUs (stock capped by ``load.max_stock`` so a short test sells the hot SKU out),
creates and starts the broadcast and links the SKUs. The result is a :class:`Plan` (JSON),
everything a Locust process needs. Teardown ends the broadcast (a replay must now exist),
waits out the payment timeout and triggers the sweep, so the books are final when checked.
Both steps are recorded in the history like any other operation.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from simlive.errors import ServiceError
from simlive.load.recorder import Recorder
from simlive.scenario.schema import Scenario


@dataclass
class Plan:
    base_url: str
    broadcast_id: int
    merchant_token: str
    agent_tokens: list[str]
    viewer_tokens: list[str]
    skus: list[dict[str, Any]]  # {"sku", "stock", "hot", "limit", "price_cents"}
    scenario_path: str = ""
    seed: int = 1
    run_time: float = 60.0
    request_timeout: float = 5.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def read(cls, path: str | Path) -> Plan:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    @property
    def hot_sku(self) -> str:
        return next((s["sku"] for s in self.skus if s["hot"]), self.skus[0]["sku"])


def _call(client: httpx.Client, method: str, path: str, expect: tuple[int, ...] = (200, 201),
          **kwargs: Any) -> Any:
    try:
        resp = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise ServiceError(f"{client.base_url}{path}: {type(exc).__name__}: {exc}") from None
    if resp.status_code not in expect:
        raise ServiceError(f"{method} {client.base_url}{path}: HTTP {resp.status_code}: "
                           f"{resp.text[:300]}")
    return resp.json() if resp.content else None


def _mint(client: httpx.Client, role: str, count: int) -> list[str]:
    tokens: list[str] = []
    while len(tokens) < count:
        n = min(1000, count - len(tokens))
        body = _call(client, "POST", "/admin/users", json={"role": role, "count": n})
        tokens += [u["token"] for u in body["users"]]
    return tokens


def scaled_skus(scenario: Scenario, max_stock: int | None, run_id: str) -> list[dict[str, Any]]:
    """The scenario's SKUs renamed for this run, stock capped; the flash-sale SKU is hot and
    keeps a quarter of the cap so it sells out within seconds."""
    skus = list(scenario.products.skus)
    if not skus:
        raise ServiceError("the scenario lists no products.skus to load-test with")
    hot = scenario.products.flash_sales[0].sku if scenario.products.flash_sales else \
        min(skus, key=lambda s: s.stock).sku
    out = []
    for s in skus:
        stock = s.stock if max_stock is None else min(s.stock, max_stock)
        if s.sku == hot and max_stock is not None:
            stock = max(1, min(stock, max_stock // 4))
        out.append({"sku": f"{s.sku[:50]}.{run_id}", "stock": stock, "hot": s.sku == hot,
                    "limit": s.limit, "price_cents": int(round(s.price * 100))})
    return out


def prepare(base_url: str, admin_token: str, scenario: Scenario, rng: random.Random,
            recorder: Recorder | None = None, scenario_path: str = "",
            agents: int = 2) -> Plan:
    """Create users, products and a live broadcast on the service; the plan for Locust."""
    ls = scenario.load
    run_id = f"{rng.getrandbits(32):08x}"
    with httpx.Client(base_url=base_url, timeout=30.0,
                      headers={"Authorization": f"Bearer {admin_token}"}) as admin:
        merchant = _mint(admin, "merchant", 1)[0]
        agent_tokens = _mint(admin, "agent", agents)
        viewers = _mint(admin, "viewer", ls.viewer_tokens)
    skus = scaled_skus(scenario, ls.max_stock, run_id)
    with httpx.Client(base_url=base_url, timeout=30.0,
                      headers={"Authorization": f"Bearer {merchant}"}) as m:
        for s in skus:
            # the real stock at creation: the first truth reading of the SKU
            handle = recorder.invoke("setup", "true_stock", {}) if recorder else None
            _call(m, "POST", "/products", json={
                "sku": s["sku"], "name": s["sku"], "price_cents": s["price_cents"],
                "stock": s["stock"], "max_per_buyer": s["limit"]})
            if recorder is not None and handle is not None:
                recorder.complete(handle, "ok", {s["sku"]: s["stock"]})
        b = _call(m, "POST", "/broadcasts", json={"title": f"{scenario.name} {run_id}"})
        for s in skus:
            _call(m, "POST", f"/broadcasts/{b['id']}/products", json={"sku": s["sku"]})
        _call(m, "POST", f"/broadcasts/{b['id']}/start")
    return Plan(base_url=base_url, broadcast_id=b["id"], merchant_token=merchant,
                agent_tokens=agent_tokens, viewer_tokens=viewers, skus=skus,
                scenario_path=scenario_path, seed=scenario.seed, run_time=ls.run_time,
                request_timeout=ls.request_timeout,
                extra={"pay_probability": scenario.orders.pay_probability})


def finish(plan: Plan, admin_token: str, recorder: Recorder, settle: float,
           max_wait: float = 120.0) -> None:
    """End the broadcast (recorded), wait ``settle`` seconds (the payment timeout) and sweep.

    Retries for up to ``max_wait`` seconds while the service is unreachable (it may be
    restarting); the end is recorded ``info`` if no answer ever came.
    """
    args = {"broadcast_id": plan.broadcast_id}
    handle = recorder.invoke("setup", "end_broadcast", args)
    deadline = time.monotonic() + max_wait
    with httpx.Client(base_url=plan.base_url, timeout=15.0,
                      headers={"Authorization": f"Bearer {plan.merchant_token}"}) as m:
        while True:
            try:
                resp = m.post(f"/broadcasts/{plan.broadcast_id}/end")
                if resp.status_code == 200:
                    recorder.complete(handle, "ok", {"state": "ended"})
                elif resp.status_code < 500:
                    recorder.complete(handle, "fail", {"status": resp.status_code})
                else:
                    raise httpx.HTTPError(f"HTTP {resp.status_code}")
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    recorder.complete(handle, "info", {"error": "no answer"})
                    break
                time.sleep(0.5)
    recorder.flush()
    time.sleep(settle)
    with httpx.Client(base_url=plan.base_url, timeout=60.0,
                      headers={"Authorization": f"Bearer {admin_token}"}) as admin:
        _call(admin, "POST", "/admin/sweep")
