"""Cross-references a schema alone cannot check: names that must exist, times that must fit.

Returns plain ``(key path, expected, found)`` tuples; the loader adds file and line.
"""

from __future__ import annotations

import difflib
from typing import Any

from simlive.rules import format_duration
from simlive.scenario.catalogue import generated_ids
from simlive.scenario.schema import Scenario

Problem = tuple[tuple[Any, ...], str, str]


def _sku_problem(path: tuple[Any, ...], name: str, known: list[str]) -> Problem:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return path, f"a SKU listed under products{hint}", repr(name)


def cross_check(s: Scenario) -> list[Problem]:
    problems: list[Problem] = []
    dur = s.duration
    explicit = [k.sku for k in s.products.skus]
    generated = generated_ids(s.products.generate) if s.products.generate else []
    known = explicit + generated
    if not known:
        problems.append((("products",), "at least one SKU (skus or generate)", "none"))
    seen: set[str] = set()
    for i, sku in enumerate(explicit):
        if sku in seen or sku in generated:
            problems.append((("products", "skus", i, "sku"), "a unique SKU id",
                             f"{sku!r} again"))
        seen.add(sku)
    known_set = set(known)
    for field in ("schedule", "flash_sales", "restocks"):
        for i, item in enumerate(getattr(s.products, field)):
            if item.sku not in known_set:
                problems.append(_sku_problem(("products", field, i, "sku"), item.sku, known))
    for i, seg in enumerate(s.products.schedule):
        if seg.end > dur:
            problems.append((("products", "schedule", i, "to"),
                             f"a time within the broadcast (<= {format_duration(dur)})",
                             format_duration(seg.end)))
    for field in ("flash_sales", "restocks"):
        for i, item in enumerate(getattr(s.products, field)):
            if item.at >= dur:
                problems.append((("products", field, i, "at"),
                                 f"a time before the broadcast ends ({format_duration(dur)})",
                                 format_duration(item.at)))
    for i, key in enumerate(s.audience.arrivals):
        if key.at > dur:
            problems.append((("audience", "arrivals", i, "at"),
                             f"a time within the broadcast (<= {format_duration(dur)})",
                             format_duration(key.at)))
    for i, spike in enumerate(s.audience.spikes):
        if spike.at >= dur:
            problems.append((("audience", "spikes", i, "at"),
                             f"a time before the broadcast ends ({format_duration(dur)})",
                             format_duration(spike.at)))
    shifts = sorted(enumerate(s.aftersales.agents), key=lambda p: p[1].start)
    for (_, a), (j, b) in zip(shifts, shifts[1:], strict=False):
        if b.start < a.end:
            problems.append((("aftersales", "agents", j, "from"),
                             f"shifts that do not overlap (the one before ends at "
                             f"{format_duration(a.end)})", format_duration(b.start)))
    gen = s.products.generate
    if gen is not None and sum(gen.categories.values()) <= 0:
        problems.append((("products", "generate", "categories"),
                         "category weights with a positive sum", repr(gen.categories)))
    return problems
