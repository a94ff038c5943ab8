"""The concrete catalogue and schedule a scenario implies, generated SKUs included.

Generated catalogues use Faker and numpy, both seeded from the scenario's seed (not the
replication's), so every replication and every tool sees the same products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.scenario.schema import Generate, Scenario, Segment, Sku
from simlive.scenario.units import PRICE_MAX, STOCK_MAX


def generated_ids(gen: Generate) -> list[str]:
    width = max(4, len(str(gen.count)))
    return [f"{gen.prefix}-{i:0{width}d}" for i in range(1, gen.count + 1)]


def generated_slots(gen: Generate, duration: float) -> list[tuple[str, float, float]]:
    """(SKU, from, to) of each generated SKU presented, back to back from ``gen.start``
    until the broadcast ends; none when the generated SKUs have no propensity."""
    slots: list[tuple[str, float, float]] = []
    t = gen.start
    if gen.propensity <= 0:
        return slots
    for sku_id in generated_ids(gen):
        if t >= duration:
            break
        end = min(t + gen.segment, duration)
        slots.append((sku_id, t, end))
        t = end
    return slots


def popularity_weights(gen: Generate, seed: int) -> np.ndarray:
    """Each generated SKU's share of ``gen.propensity`` (mean 1; all ones without a
    popularity). From a generator of its own, so prices, stocks and names stay as they are
    without it."""
    if gen.popularity is None or gen.popularity.spread == 0:
        return np.ones(gen.count)
    rng = np.random.default_rng([seed, 0x5C2])
    if gen.popularity.shape == "zipf":
        ranks = rng.permutation(gen.count) + 1.0
        weights = ranks ** -gen.popularity.spread
    else:
        weights = np.exp(gen.popularity.spread * rng.standard_normal(gen.count))
    return weights / weights.mean()


def by_popularity(stocks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each SKU's drawn stock scaled by its popularity weight (mean 1): the draw is the
    stock a product of average demand gets, so the total stays as drawn while the hero
    products get theirs. The same draws, so nothing else in the catalogue moves."""
    return np.clip(np.round(stocks * weights), 0, STOCK_MAX).astype(np.int64)


def store_ids(gen: Generate) -> list[str]:
    """The generated stores' ids, ``PREFIX-001`` onwards."""
    if gen.stores is None:
        return []
    width = max(3, len(str(gen.stores.count)))
    return [f"{gen.stores.prefix}-{i:0{width}d}" for i in range(1, gen.stores.count + 1)]


def generated_stores(gen: Generate, weights: np.ndarray) -> list[str] | None:
    """Each generated SKU's store: by popularity rank, round the stores (no draw)."""
    if gen.stores is None:
        return None
    ids = store_ids(gen)
    rank = np.empty(gen.count, dtype=np.int64)
    rank[np.argsort(-weights, kind="stable")] = np.arange(gen.count)
    return [ids[int(r) % len(ids)] for r in rank]


@dataclass(frozen=True)
class Catalogue:
    skus: tuple[Sku, ...]
    schedule: tuple[Segment, ...]

    def index(self) -> dict[str, int]:
        return {k.sku: i for i, k in enumerate(self.skus)}


def build_catalogue(s: Scenario) -> Catalogue:
    """Explicit SKUs first, then generated ones; generated SKUs presented back to back."""
    skus = list(s.products.skus)
    schedule = list(s.products.schedule)
    gen = s.products.generate
    if gen is not None:
        from faker import Faker

        faker = Faker()
        faker.seed_instance(s.seed)
        rng = np.random.default_rng([s.seed, 0x5C1])
        # a draw far in a long tail is clipped to what a SKU may hold
        prices = np.clip(np.round(gen.price.sample(rng, gen.count), 2), 0.01, PRICE_MAX)
        stocks = np.clip(np.round(gen.stock.sample(rng, gen.count)), 0, STOCK_MAX).astype(
            np.int64)
        names = list(gen.categories)
        weights = np.asarray([gen.categories[c] for c in names], dtype=float)
        cats = rng.choice(len(names), size=gen.count, p=weights / weights.sum())
        weights = popularity_weights(gen, s.seed)
        if gen.stock_by_popularity:
            stocks = by_popularity(stocks, weights)
        stores = generated_stores(gen, weights)
        for i, sku_id in enumerate(generated_ids(gen)):
            cat = names[int(cats[i])]
            skus.append(Sku(
                sku=sku_id,
                name=f"{faker.color_name()} {faker.word()} {cat}".title(),
                price=float(prices[i]),
                stock=int(stocks[i]),
                # floor: a share of stock ready never rounds up to a unit not there
                warehouse=None if gen.warehouse_share >= 1 else int(
                    stocks[i] * gen.warehouse_share),
                limit=gen.limit,
                category=cat,
                store=None if stores is None else stores[i],
                return_rate=gen.return_rates.get(cat),
                return_exempt=gen.return_exempt.get(cat),
                return_excluded=gen.return_excluded.get(cat),
            ))
        for i, (sku_id, start, end) in enumerate(generated_slots(gen, s.duration)):
            schedule.append(Segment.model_validate(
                {"sku": sku_id, "from": start, "to": end,
                 # per second, said so (a plain number is refused as a rate)
                 "propensity": f"{gen.propensity * float(weights[i])!r}/s"}))
    return Catalogue(tuple(skus), tuple(schedule))
