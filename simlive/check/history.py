"""The history of a load test: one JSON object per line, Jepsen style.

Every client call is recorded twice: an ``invoke`` line before the request, and one
completion line after it with the same ``process`` and ``op``::

    {"type": "invoke", "process": "w1-u7", "op": 12, "time": 1718000000.12,
     "f": "order", "args": {"sku": "HOT-1", "quantity": 1, "key": "k-..", "buyer": 3}}
    {"type": "ok", "process": "w1-u7", "op": 12, "time": 1718000000.15,
     "f": "order", "value": {"order_id": 41}}

``type`` of a completion is ``ok`` (it happened), ``fail`` (it certainly did not happen: a
4xx refusal or a refused connection) or ``info`` (unknown: a timeout, a reset, a 5xx). An
invoke with no completion (the client died) is treated as ``info``. ``time`` is the client's
wall clock in seconds. Each Locust process writes its own file; :func:`merge` joins them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

INVOKE, OK, FAIL, INFO = "invoke", "ok", "fail", "info"
COMPLETIONS = frozenset((OK, FAIL, INFO))


class Op:
    """One operation, invoke and completion paired: what the checker reasons about."""

    __slots__ = ("process", "f", "args", "type", "value", "start", "end")

    def __init__(self, process: str, f: str, args: dict[str, Any], type_: str, value: Any,
                 start: float, end: float) -> None:
        self.process = process
        self.f = f
        self.args = args
        self.type = type_
        self.value = value
        self.start = start
        self.end = end

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Op({self.process}, {self.f}, {self.type}, {self.args}, {self.value})"


class Ops(list):
    """Paired operations with an index by function, built once: each rule reads only the
    operations it is about instead of scanning the whole history again."""

    def __init__(self, ops: Iterable[Op]) -> None:
        super().__init__(ops)
        index: dict[str, list[Op]] = {}
        for op in self:
            bucket = index.get(op.f)
            if bucket is None:
                index[op.f] = bucket = []
            bucket.append(op)
        self.index = index


def of(ops: list[Op], f: str) -> list[Op]:
    """The operations of function ``f``, in history order."""
    if isinstance(ops, Ops):
        return ops.index.get(f, [])
    return [op for op in ops if op.f == f]


def pair(events: Iterable[dict[str, Any]]) -> list[Op]:
    """Invoke/completion pairs in completion order; an unfinished invoke becomes ``info``.

    Raises ValueError naming the event for a completion without its invoke or an unknown
    type, so a corrupt history is never silently half-checked. A million operations are two
    million events, so a well-formed history takes a lean loop; anything odd in it is handed
    to the careful loop, which finds the event to blame.
    """
    events = events if isinstance(events, list) else list(events)
    try:
        return _pair_fast(events)
    except (KeyError, TypeError, _Odd):
        return _pair_checked(events)


class _Odd(Exception):
    pass


def _pair_fast(events: list[dict[str, Any]]) -> list[Op]:
    open_: dict[tuple[Any, Any], dict[str, Any]] = {}
    ops: list[Op] = []
    append = ops.append
    pop = open_.pop
    new = Op
    completions = COMPLETIONS
    for ev in events:
        typ = ev["type"]
        if typ == INVOKE:
            open_[ev["process"], ev["op"]] = ev
        elif typ in completions:
            inv = pop((ev["process"], ev["op"]))
            append(new(inv["process"], inv["f"], inv.get("args") or {}, typ, ev.get("value"),
                       inv["time"], ev["time"]))
        else:
            raise _Odd
    _unfinished(open_, ops)
    return ops


def _unfinished(open_: dict[tuple[Any, Any], dict[str, Any]], ops: list[Op]) -> None:
    for inv in open_.values():
        ops.append(Op(inv["process"], inv["f"], inv.get("args") or {}, INFO,
                      {"error": "no completion recorded"}, inv["time"], float("inf")))


def _pair_checked(events: list[dict[str, Any]]) -> list[Op]:
    open_: dict[tuple[Any, Any], dict[str, Any]] = {}
    ops: list[Op] = []
    for n, ev in enumerate(events):
        typ = ev.get("type") if isinstance(ev, dict) else None
        if typ == INVOKE:
            open_[(ev.get("process"), ev.get("op"))] = ev
        elif typ in COMPLETIONS:
            inv = open_.pop((ev.get("process"), ev.get("op")), None)
            if inv is None:
                raise ValueError(f"history event {n}: {typ} of process="
                                 f"{ev.get('process')!r} op={ev.get('op')!r} has no invoke")
            ops.append(Op(inv["process"], inv["f"], inv.get("args") or {}, typ,
                          ev.get("value"), inv["time"], ev["time"]))
        else:
            raise ValueError(f"history event {n}: type(={typ!r}) must be invoke, ok, fail "
                             f"or info")
    _unfinished(open_, ops)
    return ops


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Events of one history file; a torn last line (a killed writer) is skipped."""
    with Path(path).open(encoding="utf-8") as fh:
        lines = fh.readlines()
    for n, line in enumerate(lines):
        line = line.strip()
        if not line:
            continue
        try:
            yield json.loads(line)
        except ValueError:
            if n == len(lines) - 1:
                return
            raise ValueError(f"{path}:{n + 1}: not a JSON object") from None


def merge(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """All events of several files (one per Locust process), ordered by time.

    Sorting is stable, so one process's invoke stays before its own completion even when
    both carry the same timestamp.
    """
    events: list[dict[str, Any]] = []
    for p in paths:
        events.extend(read_jsonl(p))
    events.sort(key=lambda e: e.get("time", 0.0))
    return events


def write_jsonl(path: str | Path, events: Iterable[dict[str, Any]]) -> int:
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for ev in events:
            fh.write(json.dumps(ev, separators=(",", ":")) + "\n")
            n += 1
    return n
