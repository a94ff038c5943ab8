"""How long the host presents each linked product, what its page lacks, and the goods that
turn out not as described after too brief a presentation (``display.complete``).

Every SKU of the catalogue is linked in the broadcast. Its time on air is the union of its
slots (``products.schedule``, and the generated SKUs' back-to-back slots), clipped to the
broadcast; a linked SKU with no slot is presented for 0 s.
"""

from __future__ import annotations

import numpy as np

from simlive.judge.measures import PresentationMeasures
from simlive.scenario.on_air import incomplete
from simlive.scenario.presentation import PAGE_FIELDS, Presentation
from simlive.scenario.schema import Scenario

EXAMPLES = 5  # pages named in the evidence


def shortfall(seconds: np.ndarray, min_presentation: float) -> np.ndarray:
    """Per SKU, the share of ``min_presentation`` it was not presented (0 .. 1)."""
    if min_presentation <= 0:
        return np.zeros(seconds.size)
    return np.clip((min_presentation - seconds) / min_presentation, 0.0, 1.0)


def misdescribed(pres: Presentation, lack: np.ndarray, paid: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Paid orders per SKU not as described: each with chance ``base`` times a factor from
    1 (fully presented) to ``short_factor`` (never presented), by the share it lacked."""
    m = pres.misdescribed
    if m.base <= 0 or paid.size == 0:
        return np.zeros(paid.size, dtype=np.int64)
    rate = np.minimum(1.0, m.base * (1.0 + (m.short_factor - 1.0) * lack))
    return rng.binomial(paid.astype(np.int64), rate)


def presentation_measures(s: Scenario, min_presentation: float, paid: np.ndarray,
                          rng: np.random.Generator) -> PresentationMeasures:
    """One replication's record. ``paid``: paid orders per SKU (catalogue order)."""
    pres = s.presentation
    assert pres is not None  # in scope only with the block (scenario.scope)
    ids, seconds, short, lacking_page = incomplete(s, min_presentation)
    index = {k: i for i, k in enumerate(ids)}
    named = sorted((k for k in pres.missing_fields if k in index), key=index.__getitem__)
    pages = [f"{k} without {' or '.join(f for f in PAGE_FIELDS if f in pres.missing_fields[k])}"
             for k in named[:EXAMPLES]]
    lack = shortfall(seconds, min_presentation)
    worst = int(np.argmin(seconds)) if seconds.size else None
    bad = misdescribed(pres, lack, paid, rng)
    return PresentationMeasures(
        linked=len(ids), incomplete=int(np.count_nonzero(short | lacking_page)),
        short=int(np.count_nonzero(short)),
        shortest_sku=None if worst is None else ids[worst],
        shortest_s=None if worst is None else round(float(seconds[worst]), 3),
        lacking=int(np.count_nonzero(lacking_page)), lacking_pages=tuple(pages),
        misdescribed=int(bad.sum()), min_presentation=min_presentation)
