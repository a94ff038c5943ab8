"""Which products a broadcast links and how long the host presents each: read off the
schedule, the same in every replication (``display.complete``)."""

from __future__ import annotations

import numpy as np

from simlive.scenario.catalogue import generated_ids, generated_slots
from simlive.scenario.schema import Scenario

Slot = tuple[str, float, float]  # (SKU, from, to)


def linked(s: Scenario) -> tuple[list[str], list[Slot]]:
    """The linked SKUs in catalogue order (explicit, then generated) and every slot that
    presents one, without building the catalogue (no names, prices or stocks drawn)."""
    gen = s.products.generate
    ids = [k.sku for k in s.products.skus] + (generated_ids(gen) if gen else [])
    slots = [(seg.sku, seg.start, seg.end) for seg in s.products.schedule]
    if gen is not None:
        slots += generated_slots(gen, s.duration)
    return ids, slots


def presented_seconds(ids: list[str], slots: list[Slot], duration: float) -> np.ndarray:
    """Seconds on air per SKU of ``ids``: overlapping or touching slots of one SKU count
    once. Vectorised: slots sorted by SKU then start, each SKU's times offset past the
    previous SKU's, so one running maximum of the ends finds every overlap."""
    index = {k: i for i, k in enumerate(ids)}
    n = len(ids)
    if not slots:
        return np.zeros(n)
    sku = np.asarray([index[k] for k, _, _ in slots], dtype=np.int64)
    start = np.clip([a for _, a, _ in slots], 0.0, duration)
    end = np.clip([b for _, _, b in slots], 0.0, duration)
    order = np.lexsort((start, sku))
    gap = 2.0 * duration + 1.0  # wider than any slot: one SKU's times never reach the next
    s = start[order] + sku[order] * gap
    e = end[order] + sku[order] * gap
    before = np.concatenate([[-np.inf], np.maximum.accumulate(e)[:-1]])
    on_air = np.maximum(0.0, e - np.maximum(s, before))
    return np.bincount(sku[order], weights=on_air, minlength=n)


def incomplete(s: Scenario, min_presentation: float) -> tuple[list[str], np.ndarray,
                                                               np.ndarray, np.ndarray]:
    """(linked SKUs, seconds on air, presented too briefly, page lacking a field), per
    SKU: what the model's ``display.complete`` turns on, and nothing drawn."""
    ids, slots = linked(s)
    seconds = presented_seconds(ids, slots, s.duration)
    lacking = np.zeros(len(ids), dtype=bool)
    if s.presentation is not None:
        index = {k: i for i, k in enumerate(ids)}
        at = [index[k] for k in s.presentation.missing_fields if k in index]
        lacking[at] = True
    return ids, seconds, seconds < min_presentation, lacking
