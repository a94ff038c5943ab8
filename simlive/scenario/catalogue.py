"""The concrete catalogue and schedule a scenario implies, generated SKUs included.

Generated catalogues use Faker and numpy, both seeded from the scenario's seed (not the
replication's), so every replication and every tool sees the same products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.scenario.schema import Generate, Scenario, Segment, Sku


def generated_ids(gen: Generate) -> list[str]:
    width = max(4, len(str(gen.count)))
    return [f"{gen.prefix}-{i:0{width}d}" for i in range(1, gen.count + 1)]


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
        prices = np.maximum(np.round(gen.price.sample(rng, gen.count), 2), 0.01)
        stocks = np.maximum(np.round(gen.stock.sample(rng, gen.count)), 0).astype(int)
        names = list(gen.categories)
        weights = np.asarray([gen.categories[c] for c in names], dtype=float)
        cats = rng.choice(len(names), size=gen.count, p=weights / weights.sum())
        t = gen.start
        for i, sku_id in enumerate(generated_ids(gen)):
            cat = names[int(cats[i])]
            skus.append(Sku(
                sku=sku_id,
                name=f"{faker.color_name()} {faker.word()} {cat}".title(),
                price=float(prices[i]),
                stock=int(stocks[i]),
                limit=gen.limit,
                category=cat,
                return_rate=gen.return_rates.get(cat),
                return_exempt=cat in gen.return_exempt,
            ))
            if gen.propensity > 0 and t < s.duration:
                end = min(t + gen.segment, s.duration)
                schedule.append(Segment.model_validate(
                    {"sku": sku_id, "from": t, "to": end, "propensity": gen.propensity}))
                t = end
    return Catalogue(tuple(skus), tuple(schedule))
