"""The parameter a plan varies: a path into the scenario and a way to set it.

- ``aftersales.agents``: every shift's agent count (with ``--per-shift``, one shift at a time);
- ``products.SKU.FIELD``: a field of one SKU, e.g. ``products.HOT-1.stock``;
- any other dotted path to a number, with ``[i]`` for list items, e.g.
  ``aftersales.agents[1].agents`` or ``orders.payment_timeout``.

Setting goes through the scenario's own validation, so a plan never runs a scenario that
``simlive validate`` would refuse. The caller's scenario is never modified.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from simlive.errors import UsageError
from simlive.scenario.schema import Scenario
from simlive.scenario.units import STORED

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _split(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, index in _PART.findall(path):
        parts.append(int(index) if index else name)
    return parts


class Knob:
    """One integer parameter of a scenario that can be read and set by path."""

    def __init__(self, scenario: Scenario, path: str) -> None:
        self.path = path
        self.base = scenario.model_dump(by_alias=True, exclude_none=False)
        self.targets = self._resolve(path)
        self.base_value = self.get(self.base)

    def _resolve(self, path: str) -> list[list[str | int]]:
        data = self.base
        if path == "aftersales.agents":
            shifts = data["aftersales"]["agents"]
            return [["aftersales", "agents", i, "agents"] for i in range(len(shifts))]
        parts = _split(path)
        if len(parts) == 3 and parts[0] == "products" and isinstance(parts[1], str) \
                and parts[1] not in data["products"]:
            skus = [k["sku"] for k in data["products"]["skus"]]
            if parts[1] not in skus:
                import difflib

                close = difflib.get_close_matches(parts[1], skus, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise UsageError(f"--vary {path}: no SKU '{parts[1]}' under products.skus"
                                 f"{hint}")
            parts = ["products", "skus", skus.index(parts[1]), parts[2]]
        cur: Any = data
        for p in parts:
            ok = (isinstance(cur, dict) and p in cur) or (
                isinstance(cur, list) and isinstance(p, int) and p < len(cur))
            if not ok:
                raise UsageError(f"--vary {path}: the scenario has no '{p}' there")
            cur = cur[p]
        if isinstance(cur, bool) or not isinstance(cur, int | float):
            raise UsageError(f"--vary {path}: expected a number there, found {cur!r}")
        return [parts]

    def get(self, data: dict) -> int:
        vals = []
        for parts in self.targets:
            cur: Any = data
            for p in parts:
                cur = cur[p]
            vals.append(cur)
        return int(round(max(vals)))

    def apply(self, values: int | list[int]) -> Scenario:
        """A new scenario with the knob set (one value for all, or one per target)."""
        import copy

        data = copy.deepcopy(self.base)
        vals = values if isinstance(values, list) else [values] * len(self.targets)
        for parts, v in zip(self.targets, vals, strict=True):
            cur: Any = data
            for p in parts[:-1]:
                cur = cur[p]
            cur[parts[-1]] = int(v)
        try:
            return Scenario.model_validate(data, context=STORED)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise UsageError(f"--vary {self.path}={vals}: the scenario refuses it: "
                             f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
