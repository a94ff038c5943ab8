"""A roster file: the shift templates a desk may be staffed with.

```yaml
templates:
  - name: day
    length: 8h
    starts: {from: 0h, to: 16h, every: 30m}   # or a list: [0h, 4h, 8h]
    breaks: [{after: 4h, length: 30m}]       # unpaid, off the desk
    cost_per_hour: 25
    min_heads: 0                             # over all its starts
    max_heads: 400
```

Times are from the start of the broadcast, like the scenario's. The planner decides how many
agents start on each template at each allowed start; each (template, start) is a *column*:
the intervals it covers and its cost (paid hours x cost per hour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simlive.scenario.units import Mismatch, Number, Seconds, at_most, count, durations

STARTS_MAX = 20_000  # (template, start) columns: the integer program's variables


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Break(Model):
    after: Seconds = Field(gt=0, description="from the start of the shift")
    length: Seconds = Field(gt=0)


class Starts(Model):
    """Allowed starts: a list of times, or ``{from, to, every}`` (both ends included)."""

    at: list[Seconds] | None = Field(default=None, max_length=STARTS_MAX)
    start: Seconds | None = Field(default=None, alias="from")
    end: Seconds | None = Field(default=None, alias="to")
    every: Annotated[Seconds, Field(ge=60)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _a_list(cls, value: object) -> object:
        return {"at": value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _ordered(self) -> Starts:
        if self.at is not None:
            if not self.at:
                raise Mismatch("at least one start", "[]", as_is=True)
            return self
        if self.start is None or self.end is None or self.every is None:
            raise Mismatch("a list of start times, or from, to and every",
                           "a mapping without all three", as_is=True)
        if self.end < self.start:
            raise Mismatch("to at or after from", f"from {durations([self.start])} to "
                           f"{durations([self.end])}", as_is=True)
        if (self.end - self.start) / self.every + 1 > STARTS_MAX:
            raise Mismatch(f"at most {count(STARTS_MAX)} starts (the integer program's "
                           "variables)", f"{count((self.end - self.start) / self.every + 1)}",
                           as_is=True)
        return self

    def times(self) -> list[float]:
        if self.at is not None:
            return sorted(set(self.at))
        assert self.start is not None and self.end is not None and self.every is not None
        n = int(math.floor((self.end - self.start) / self.every + 1e-9)) + 1
        return [self.start + i * self.every for i in range(n)]


class Template(Model):
    name: str = Field(min_length=1, max_length=64)
    length: Annotated[Seconds, Field(gt=0), at_most(86400.0, "a shift of at most a day")]
    starts: Starts
    breaks: list[Break] = Field(default_factory=list, max_length=8)
    cost_per_hour: Annotated[Number, Field(ge=0, le=1e6)] = 1.0
    min_heads: Annotated[int, Field(ge=0), at_most(10**6, "agents", count)] = 0
    max_heads: Annotated[int, Field(ge=0), at_most(10**6, "agents", count)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        for b in self.breaks:
            if b.after + b.length > self.length:
                raise Mismatch(f"breaks within the shift's length ({durations([self.length])})",
                               f"a break from {durations([b.after])} for "
                               f"{durations([b.length])}", as_is=True)
        if self.max_heads is not None and self.max_heads < self.min_heads:
            raise Mismatch(f"max_heads at least min_heads ({self.min_heads})",
                           f"{self.max_heads}", as_is=True)
        return self

    def start_times(self) -> list[float]:
        return self.starts.times()

    @property
    def paid_hours(self) -> float:
        return (self.length - sum(b.length for b in self.breaks)) / 3600.0

    def on_duty(self, start: float) -> list[tuple[float, float]]:
        """The stretches an agent starting at ``start`` is on the desk (breaks taken out)."""
        out, at = [], start
        for b in sorted(self.breaks, key=lambda b: b.after):
            if start + b.after > at:
                out.append((at, start + b.after))
            at = max(at, start + b.after + b.length)
        if start + self.length > at:
            out.append((at, start + self.length))
        return out


class RosterFile(Model):
    templates: list[Template] = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _unique(self) -> RosterFile:
        names = [t.name for t in self.templates]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise Mismatch("template names that differ", f"{twice[0]!r} twice", as_is=True)
        columns = sum(len(t.start_times()) for t in self.templates)
        if columns > STARTS_MAX:
            raise Mismatch(f"at most {count(STARTS_MAX)} (template, start) pairs in all",
                           count(columns), as_is=True)
        return self


def load_roster(path: str | Path) -> RosterFile:
    """Read and validate a roster file (file:line errors, as for scenarios)."""
    from simlive.scenario.loader import parse_model, read_text

    return parse_model(read_text(path), str(path), RosterFile,
                       "roster keys (templates: name, length, starts, breaks, cost_per_hour, "
                       "min_heads, max_heads)")


@dataclass(frozen=True)
class Columns:
    """Every (template, start) a plan may put agents on, against the intervals."""

    template: list[int]  # template index per column
    start: list[float]
    cover: np.ndarray  # bool, intervals x columns: on the desk for the whole interval
    cost: np.ndarray  # per head, per column
    duty: list[list[tuple[float, float]]]  # per column, its stretches on the desk


def columns(roster: RosterFile, length: float, intervals: int) -> Columns:
    """A column covers an interval when its agents are on the desk for all of it: a shift
    starting or breaking mid-interval does not count there (as Erlang staffing per interval
    assumes the heads hold for the whole interval)."""
    tmpl, starts, duties, costs = [], [], [], []
    for j, t in enumerate(roster.templates):
        for s in t.start_times():
            tmpl.append(j)
            starts.append(s)
            duties.append(t.on_duty(s))
            costs.append(t.paid_hours * t.cost_per_hour)
    cover = np.zeros((intervals, len(starts)), dtype=bool)
    for c, duty in enumerate(duties):
        for lo, hi in duty:
            first = int(math.ceil(lo / length - 1e-9))
            last = int(math.floor(hi / length + 1e-9))  # intervals first .. last-1
            cover[max(first, 0):min(last, intervals), c] = True
    return Columns(tmpl, starts, cover, np.asarray(costs, dtype=float), duties)
