"""Which desk answers which ticket, and with what settings (``aftersales.desks``).

Routing depends on the catalogue alone (a SKU's store, category and id), never on the
agents, so it is worked out once per scenario and kept with the tickets; a desk's settings
(shifts, handling, patience, service level, concurrency) are read afresh for each run,
because a planner changes the shifts between runs. Desk 0 is always the pooled desk
(``aftersales.agents``): chats about no SKU and SKUs no desk takes go there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simlive.scenario.aftersales import ServiceLevel, Shift, TicketKind, stretch_of
from simlive.scenario.dists import Distribution
from simlive.scenario.schema import Scenario, Sku

POOLED = "pooled"
DESKS_MAX = 2000
"""Desks a scenario may have once ``each: store`` is expanded: each is a queue and a roster
of its own, run one after another."""


@dataclass(frozen=True)
class Routing:
    """The desks by name, where each comes from in the file, and each SKU's desk."""

    names: tuple[str, ...]
    source: tuple[int, ...]  # index into aftersales.desks; -1 for the pooled desk
    sku_desk: np.ndarray  # per SKU (catalogue order): the desk index
    sku_counts: tuple[int, ...]  # SKUs each desk takes

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class DeskSettings:
    """One desk's settings, the pooled desk's where the desk leaves them out."""

    name: str
    agents: tuple[Shift, ...]
    handling: dict[TicketKind, Distribution]
    patience: Distribution | None
    shrinkage: float
    max_occupancy: float
    chat_concurrency: int
    stretch: float
    service_level: ServiceLevel


def route(s: Scenario, skus: tuple[Sku, ...]) -> Routing:
    """Each SKU to the first desk listed that takes it (one per store under ``each:
    store``), else to the pooled desk. Desks taking no SKU are kept (the cross-check
    refuses them in a file): their agents simply get no tickets about a SKU."""
    desks = s.aftersales.desks
    names: list[str] = [POOLED]
    source: list[int] = [-1]
    index: dict[tuple[int, str | None], int] = {}
    per_desk: list[list[int]] = [[] for _ in desks]
    taken = np.zeros(len(skus), dtype=np.int64)
    # the first desk naming each store, category and SKU: one lookup each per SKU (a
    # catalogue of 100,000 SKUs and a thousand desks is not a loop over both)
    first: tuple[dict[str, int], dict[str, int], dict[str, int]] = ({}, {}, {})
    for i in reversed(range(len(desks))):
        for table, names_ in zip(first, (desks[i].stores, desks[i].categories,
                                         desks[i].skus), strict=True):
            table.update(dict.fromkeys(names_, i))
    none = len(desks)
    for j, sku in enumerate(skus):
        i = min(first[0].get(sku.store, none) if sku.store is not None else none,
                first[1].get(sku.category, none), first[2].get(sku.sku, none))
        if i < none:
            per_desk[i].append(j)
    for i, d in enumerate(desks):
        if d.each == "store":
            for store in sorted({skus[j].store or "-" for j in per_desk[i]}):
                index[(i, store)] = len(names)
                names.append(f"{d.name}/{store}")
                source.append(i)
        else:
            index[(i, None)] = len(names)
            names.append(d.name)
            source.append(i)
        for j in per_desk[i]:
            key = (i, skus[j].store or "-") if d.each == "store" else (i, None)
            taken[j] = index[key]
    counts = np.bincount(taken, minlength=len(names))
    return Routing(tuple(names), tuple(source), taken, tuple(int(c) for c in counts))


def pooled(s: Scenario) -> DeskSettings:
    """The pooled desk's settings: ``aftersales`` itself."""
    a = s.aftersales
    return DeskSettings(POOLED, tuple(a.agents), a.handling,
                        a.patience, a.shrinkage, a.max_occupancy, a.chat_concurrency,
                        a.stretch, a.service_level)


def settings(s: Scenario, routing: Routing, d: int) -> DeskSettings:
    """Desk ``d``'s settings in ``s`` (whose shifts may differ from the routed scenario's)."""
    a = s.aftersales
    src = routing.source[d]
    if src < 0:
        return pooled(s)
    desk = a.desks[src]
    conc = a.chat_concurrency if desk.chat_concurrency is None else desk.chat_concurrency
    if desk.chat_concurrency is None and desk.concurrency_stretch is None:
        stretch = a.stretch
    else:
        stretch = stretch_of(conc, desk.concurrency_stretch)
    return DeskSettings(
        routing.names[d], tuple(desk.agents),
        {**a.handling, **(desk.handling or {})},
        a.patience if "patience" not in desk.model_fields_set else desk.patience,
        a.shrinkage if desk.shrinkage is None else desk.shrinkage,
        a.max_occupancy if desk.max_occupancy is None else desk.max_occupancy,
        conc, stretch, a.service_level if desk.service_level is None else desk.service_level)


def all_settings(s: Scenario, routing: Routing) -> list[DeskSettings]:
    return [settings(s, routing, d) for d in range(len(routing))]


def with_desk_shifts(s: Scenario, shifts: dict[int, list[Shift]]) -> Scenario:
    """``s`` with the shifts of desks of the file replaced (by their index in
    ``aftersales.desks``; -1: the pooled desk's)."""
    a = s.aftersales
    desks = list(a.desks)
    for source, rows in shifts.items():
        if source >= 0:
            desks[source] = desks[source].model_copy(update={"agents": rows})
    update: dict[str, Any] = {"desks": desks}
    if -1 in shifts:
        update["agents"] = shifts[-1]
    return s.model_copy(update={"aftersales": a.model_copy(update=update)})


def flatten(s: Scenario, skus: tuple[Sku, ...]) -> Scenario:
    """``s`` with every ``each: store`` desk written out as one desk per store (named as
    ``route`` names them), so each can have shifts of its own (a plan staffs each store's
    desk); the routing is the same."""
    a = s.aftersales
    if not any(d.each == "store" for d in a.desks):
        return s
    routing = route(s, skus)
    desks = []
    for i, d in enumerate(a.desks):
        if d.each != "store":
            desks.append(d)
            continue
        for k, src in enumerate(routing.source):
            if src == i:
                store = routing.names[k].split("/", 1)[1]
                desks.append(d.model_copy(update={"name": routing.names[k], "each": None,
                                                  "stores": [store], "categories": [],
                                                  "skus": []}))
    return s.model_copy(update={"aftersales": a.model_copy(update={"desks": desks})})
