"""Cross-references a schema alone cannot check: names that must exist, times that must fit
(and, from :mod:`~simlive.scenario.estimate`, what the scenario would cost to run).

Returns plain ``(key path, expected, found)`` tuples; the loader adds file and line.
"""

from __future__ import annotations

import difflib
from typing import Any

from simlive.rules import format_duration
from simlive.scenario.catalogue import generated_ids, generated_slots
from simlive.scenario.estimate import budget_problems
from simlive.scenario.pricing import price_problems
from simlive.scenario.schema import Scenario
from simlive.scenario.units import duration_text

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
    presale = s.orders.presale
    if presale is not None and s.orders.reserve_on != "order":
        problems.append((("orders", "reserve_on"), "order (a presale deposit reserves stock "
                         "when the order is placed)", s.orders.reserve_on))
    if presale is not None and presale.balance_from < dur:
        problems.append((("orders", "presale", "balance_from"),
                         f"a time after the broadcast ({format_duration(dur)})",
                         format_duration(presale.balance_from)))
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
    end = dur + s.aftersales.horizon
    if s.simulation.warmup >= end:
        problems.append((("simulation", "warmup"),
                         f"a time before the after-sales horizon ends ({duration_text(end)}: "
                         "no ticket would be left for the desk KPIs)",
                         duration_text(s.simulation.warmup)))
    problems += price_problems(s.pricing, known)
    gen = s.products.generate
    if gen is not None and sum(gen.categories.values()) <= 0:
        problems.append((("products", "generate", "categories"),
                         "category weights with a positive sum", repr(gen.categories)))
    if s.presentation is not None:  # display.complete: pages of SKUs the catalogue has
        for sku in s.presentation.missing_fields:
            if sku not in known_set:
                problems.append(_sku_problem(("presentation", "missing_fields", sku), sku,
                                             known))
    if not problems:
        problems += _flash_sales_in_slots(s)
    if not problems and s.aftersales.desks:
        problems += desk_problems(s)
    if not problems:
        problems += budget_problems(s)
    return problems


def desk_problems(s: Scenario) -> list[Problem]:
    """Each desk names stores, categories and SKUs of the catalogue, takes at least one SKU
    no desk before it takes, and has a unique name; under ``each: store`` every SKU it
    takes has a store."""
    from simlive.scenario.catalogue import build_catalogue
    from simlive.scenario.desks import DESKS_MAX, POOLED, route

    skus = build_catalogue(s).skus
    known = {"stores": sorted({k.store for k in skus if k.store is not None}),
             "categories": sorted({k.category for k in skus}),
             "skus": [k.sku for k in skus]}
    sets = {key: set(v) for key, v in known.items()}
    what = {"stores": "a store of a SKU (products.skus[].store or products.generate.stores)",
            "categories": "a category of a SKU", "skus": "a SKU listed under products"}
    problems: list[Problem] = []
    names: set[str] = set()
    a = s.aftersales
    for i, desk in enumerate(a.desks):
        path = ("aftersales", "desks", i)
        if desk.name == POOLED or desk.name in names:
            problems.append(((*path, "name"), f"a desk name of its own (not {POOLED!r}, "
                             "not one used above)", repr(desk.name)))
        names.add(desk.name)
        for key in ("stores", "categories", "skus"):
            for k, value in enumerate(getattr(desk, key)):
                if value not in sets[key]:
                    close = difflib.get_close_matches(value, known[key], n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    problems.append(((*path, key, k), what[key] + hint, repr(value)))
        conc = a.chat_concurrency if desk.chat_concurrency is None else desk.chat_concurrency
        if desk.concurrency_stretch is not None and desk.concurrency_stretch > conc:
            problems.append(((*path, "concurrency_stretch"), f"at most chat_concurrency "
                             f"({conc})", f"{desk.concurrency_stretch:g}"))
    if problems:
        return problems
    routing = route(s, skus)
    for i, desk in enumerate(a.desks):
        path = ("aftersales", "desks", i)
        mine = [d for d, src in enumerate(routing.source) if src == i]
        if sum(routing.sku_counts[d] for d in mine) == 0:
            problems.append((path, "a desk taking at least one SKU no desk above it takes",
                             f"desk {desk.name!r} takes none"))
        if desk.each == "store" and any(routing.names[d].endswith("/-") for d in mine):
            problems.append(((*path, "each"), "every SKU the desk takes sold by a store "
                             "(each: store)", "a SKU without a store"))
    if len(routing) > DESKS_MAX:
        problems.append((("aftersales", "desks"), f"at most {DESKS_MAX} desks once each: "
                         "store is expanded (each desk is a queue of its own)",
                         f"{len(routing)} desks"))
    return problems


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted spans with the ones that touch or overlap joined (back-to-back slots of one
    SKU present it without a break)."""
    out: list[tuple[float, float]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _flash_sales_in_slots(s: Scenario) -> list[Problem]:
    """A flash sale boosts its SKU's orders only while the host presents the SKU: one
    outside every slot of its SKU would do nothing, so it is refused."""
    slots: dict[str, list[tuple[float, float]]] = {}
    for seg in s.products.schedule:
        slots.setdefault(seg.sku, []).append((seg.start, seg.end))
    if s.products.generate is not None:
        for sku, start, end in generated_slots(s.products.generate, s.duration):
            slots.setdefault(sku, []).append((start, end))
    problems: list[Problem] = []
    for i, fs in enumerate(s.products.flash_sales):
        mine = sorted(slots.get(fs.sku, []))
        inside = next(((a, b) for a, b in _merged(mine) if a <= fs.at < b), None)
        if inside is not None:
            if fs.at + fs.duration > inside[1] + 1e-9:  # cut short where the slot ends
                problems.append((("products", "flash_sales", i, "duration"),
                                 f"a sale that ends inside its slot ({duration_text(inside[0])}"
                                 f" to {duration_text(inside[1])}: at most "
                                 f"{duration_text(inside[1] - fs.at)} from "
                                 f"{duration_text(fs.at)})", duration_text(fs.duration)))
            continue
        if not mine:
            where = "it has no slot in products.schedule"
        else:
            where = ", ".join(f"{duration_text(a)} to {duration_text(b)}" for a, b in mine[:3])
            where = f"slot{'s' if len(mine) > 1 else ''} {where}" + (
                f" and {len(mine) - 3} more" if len(mine) > 3 else "")
        problems.append((("products", "flash_sales", i, "at"),
                         f"a time inside a presentation slot of {fs.sku} ({where})",
                         duration_text(fs.at)))
    return problems
