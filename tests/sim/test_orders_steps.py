"""SkuModel works only on the steps where something happens; it must match the per-step model.

``plain_orders.PlainSkuModel`` is the model as it was: every step of the broadcast in dense
arrays, one numpy pass per step with orders. The two draw the same random numbers in the
same order, so every total, every ledger measurement, the display mismatches, the payment
timeline, GMV to the last bit and the stock series must be equal. The cases are random:
steps of 1 s and of other sizes, overlapping segments, flash sales with and without
quantity, restocks, stock that runs out or never does, linked (displayed) stock, a slow
display refresh, both reservation policies and both release policies.
"""

from __future__ import annotations

import numpy as np
import pytest
from plain_orders import PlainSkuModel

from simlive.scenario.schema import FlashSale, Orders, Restock, Segment, Sku
from simlive.sim.orders import SkuModel

TOTALS = ["placed", "accepted", "rejected", "paid_orders", "paid_units", "expired_orders",
          "gmv", "supply", "oversold_units", "min_remaining", "ledger_max_error",
          "display_mismatch_steps", "display_phantom_steps", "final_remaining",
          "final_reserved", "sold_out_at"]


def random_case(seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    duration = float(rng.integers(200, 3000))
    step = float(rng.choice([1.0, 1.0, 0.5, 2.0, 0.3]))
    stock = int(rng.choice([0, 3, int(rng.integers(10, 500)), int(rng.integers(500, 50_000))]))
    displayed = None if rng.random() < 0.6 else int(max(0, stock + rng.integers(-20, 60)))
    sku = Sku(sku="S-1", price=float(rng.uniform(1, 300)), stock=stock,
              displayed_stock=displayed, limit=int(rng.integers(1, 6)))

    def at() -> float:
        return float(rng.uniform(0, duration))

    segments = []
    for _ in range(int(rng.integers(0, 4))):
        lo = at()
        segments.append(Segment.model_validate({
            "sku": "S-1", "from": lo, "to": min(duration, lo + float(rng.uniform(1, 400))),
            "propensity": f"{float(rng.uniform(1e-5, 5e-3))!r}/s"}))
    flash = []
    for _ in range(int(rng.integers(0, 3))):
        flash.append(FlashSale(sku="S-1", at=at(), duration=float(rng.uniform(1, 120)),
                               price=float(rng.uniform(1, 50)),
                               quantity=None if rng.random() < 0.4 else int(rng.integers(0, 3000)),
                               boost=float(rng.uniform(0, 30))))
    restocks = [Restock(sku="S-1", at=float(rng.uniform(0, duration * 1.05)),
                        quantity=int(rng.integers(1, 2000)))
                for _ in range(int(rng.integers(0, 3)))]
    delay = rng.choice([{"dist": "exponential", "mean": float(rng.uniform(5, 200))},
                        {"dist": "lognormal", "mean": float(rng.uniform(5, 200)),
                         "sd": float(rng.uniform(5, 200))},
                        {"dist": "fixed", "value": float(rng.uniform(0, 100))}])
    units = {1: 0.7, 2: 0.2, 4: 0.1} if rng.random() < 0.5 else {1: 1.0}
    orders = Orders.model_validate({
        "units": units, "pay_probability": float(rng.uniform(0.3, 1.0)), "pay_delay": delay,
        "payment_timeout": float(rng.choice([30.0, 100.0, 900.0, 61.7])),
        "display_refresh": float(rng.choice([0.0, 1.0, 5.0, 60.0, 7.3])),
        "reserve_on": str(rng.choice(["order", "order", "payment"])),
        "release": str(rng.choice(["once", "once", "twice"]))})
    max_lag = float(rng.choice([0.0, 2.0, 7.5, 30.0]))
    bins = int(np.ceil(duration / step))
    viewers = rng.lognormal(np.log(rng.uniform(100, 20_000)), 0.5, bins)
    viewers[rng.random(bins) < 0.05] = 0.0
    return (sku, segments, flash, restocks, orders, duration, step, max_lag), viewers


def assert_same_sku(seed: int) -> None:
    args, viewers = random_case(seed)
    stride = int(np.random.default_rng(seed).integers(1, 30))
    plain = PlainSkuModel(*args).run(viewers, np.random.default_rng([seed, 1]), True)
    fast = SkuModel(*args).run(viewers, np.random.default_rng([seed, 1]), stride)
    for name in TOTALS:
        p, f = getattr(plain, name), getattr(fast, name)
        assert (p, type(p)) == (f, type(f)), name
    for name in ("pay_bins", "pay_counts"):
        p, f = getattr(plain, name), getattr(fast, name)
        assert p.dtype == f.dtype and p.tolist() == f.tolist(), name
    placed = np.zeros(plain.orders_per_step.size)
    placed[fast.placed_bins] += fast.placed_counts
    assert placed.tolist() == plain.orders_per_step.tolist()
    for name in ("remaining", "displayed"):
        p, f = getattr(plain, name)[::stride], getattr(fast, name)
        assert p.dtype == f.dtype and p.tolist() == f.tolist(), name


@pytest.mark.parametrize("block", range(8))
def test_skus_match_the_per_step_model(block: int) -> None:
    for seed in range(block * 40, block * 40 + 40):
        assert_same_sku(seed)


def test_a_sku_never_on_sale() -> None:
    args, viewers = random_case(3)
    sku, _, _, restocks, orders, duration, step, max_lag = args
    plain = PlainSkuModel(sku, [], [], restocks, orders, duration, step, max_lag)
    fast = SkuModel(sku, [], [], restocks, orders, duration, step, max_lag)
    p = plain.run(viewers, np.random.default_rng(1), True)
    f = fast.run(viewers, np.random.default_rng(1), 1)
    assert [getattr(p, n) for n in TOTALS] == [getattr(f, n) for n in TOTALS]
    assert p.remaining.tolist() == f.remaining.tolist()
    assert p.displayed.tolist() == f.displayed.tolist()
