"""A plan applied to its scenario file: the roster's shifts written where a scenario takes
them, so the plan can be run (``simlive run --until-decided``) as any scenario is.

Pure: the file's YAML data in, the same data with the shifts in place out; reading and
writing the file are the CLI's (``simlive plan ... --write-scenario PATH``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from simlive.scenario.units import duration_text

Shifts = list[tuple[float, float, int]]


def shift_rows(shifts: Shifts) -> list[dict[str, Any]]:
    """Shifts as a scenario's ``agents`` list; a desk with none gets one shift of nobody
    (a desk needs a shift), as the plan simulated it."""
    rows = [{"from": duration_text(a), "to": duration_text(b), "agents": int(n)}
            for a, b, n in shifts]
    return rows or [{"from": "0s", "to": "1s", "agents": 0}]


def _store_desk_name(name: str, store: str) -> str:
    """A per-store desk's name as the schema takes it (letters, digits, ``._-``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", f"{name}.{store}")[:64]


def flat_desks(raw_desks: list[dict[str, Any]], routing_names: tuple[str, ...],
               routing_source: tuple[int, ...]) -> list[dict[str, Any]]:
    """The file's desks with every ``each: store`` desk written out, one per store, in the
    order the plan staffed them (``scenario.desks.flatten``'s)."""
    out = []
    for i, d in enumerate(raw_desks):
        if d.get("each") != "store":
            out.append(copy.deepcopy(d))
            continue
        for name, src in zip(routing_names, routing_source, strict=True):
            if src == i:
                store = name.split("/", 1)[1]
                row = {k: copy.deepcopy(v) for k, v in d.items()
                       if k not in ("each", "stores", "categories", "skus", "name")}
                out.append({"name": _store_desk_name(str(d["name"]), store),
                            "stores": [store], **row})
    return out


def apply_roster(raw: dict[str, Any], shifts: dict[int, Shifts],
                 desks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``raw`` (a scenario file's data) with each planned desk's shifts: key -1 the pooled
    desk (``aftersales.agents``), ``i`` the i-th of ``desks`` (the file's desks written
    out, ``flat_desks``; default the file's own)."""
    out = copy.deepcopy(raw)
    after = out.setdefault("aftersales", {})
    if desks is not None:
        after["desks"] = copy.deepcopy(desks)
    for source, rows in shifts.items():
        if source < 0:
            after["agents"] = shift_rows(rows)
        else:
            after["desks"][source]["agents"] = shift_rows(rows)
    return out
