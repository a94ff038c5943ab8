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

import gc
import json
import math
import os
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path
from typing import Any

from simlive.errors import FileProblem, StoredRunError

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


class Ops(list[Op]):
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
        self.by_f = index  # not ``index``: that would hide list.index


def of(ops: list[Op], f: str) -> list[Op]:
    """The operations of function ``f``, in history order."""
    if isinstance(ops, Ops):
        return ops.by_f.get(f, [])
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


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The events of one history file, in file order, checked line by line.

    Each line is a JSON object with ``type`` invoke/ok/fail/info, ``process`` a string or an
    integer, ``op`` an integer, ``time`` a finite number, ``f`` a string on invokes and
    ``args`` an object where present; a completion comes after its own invoke (one process
    writes one file, invoke first). Blank lines are skipped. A torn last line (a writer
    killed mid-line: it starts with ``{`` and is not JSON) is skipped when valid events come
    before it. Anything else raises :class:`StoredRunError` naming the file and the line.

    The whole file is parsed and checked by lean loops; only a file with something odd in
    it takes the careful loops that find the line to blame.
    """
    file = str(path)
    text = _decode(read_bytes(path), file)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    torn = _cut_off_last(lines)
    if torn is not None:
        lines = lines[:torn[0]]
    numbers: list[int] | None = None
    try:
        events = list(map(_loads, lines))
    except (ValueError, RecursionError):
        events, numbers = _parse_lines(lines, file)
    if torn is not None and not events:
        raise StoredRunError(file, [_not_json(
            *torn, hint="; a cut-off last line is skipped only after a valid event")])
    try:
        _check_fast(events)
    except (KeyError, TypeError, _Odd):
        problem = _first_problem(events, numbers)
        if problem is not None:
            raise StoredRunError(file, [problem]) from None
    return events


def merge(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """All events of several files (one per Locust process), checked, ordered by time.

    Sorting is stable, so one process's invoke stays before its own completion even when
    both carry the same timestamp. No event at all, across the files, is a
    :class:`StoredRunError`: a run that recorded nothing proves nothing.
    """
    paths = list(paths)
    events: list[dict[str, Any]] = []
    enabled = gc.isenabled()
    gc.disable()  # millions of small acyclic dicts: the cyclic GC's scans would cost half
    try:
        for p in paths:
            events.extend(read_jsonl(p))
    finally:
        if enabled:
            gc.enable()
    if not events:
        raise StoredRunError(_files_name(paths), [FileProblem(
            "", "at least one operation (an invoke line)", "no operations recorded")])
    events.sort(key=_by_time)
    return events


_loads = json.loads
_by_time = itemgetter("time")
_INF = float("inf")
_EVENT_TYPES = ", ".join((INVOKE, OK, FAIL, INFO))


def read_bytes(path: str | Path) -> bytes:
    """A stored file's bytes, gunzipped if it is gzip (kept runs are stored compressed);
    a missing, unreadable or broken one is a StoredRunError naming it."""
    try:
        data = Path(path).read_bytes()
        if data[:2] == b"\x1f\x8b":
            import gzip

            try:
                return gzip.decompress(data)
            except (OSError, EOFError) as exc:
                found = f"a broken gzip file ({exc})"
                raise StoredRunError(str(path), [FileProblem("", "a readable file",
                                                                 found)]) from None
        return data
    except FileNotFoundError:
        found = "no such file"
    except IsADirectoryError:
        found = "a folder"
    except OSError as exc:
        found = exc.strerror or type(exc).__name__
    raise StoredRunError(str(path), [FileProblem("", "a readable file", found)])


def _decode(data: bytes, file: str) -> str:
    """UTF-8 text (a leading byte order mark dropped). A character cut at the very end of
    the file is a torn last line, kept as U+FFFD so that the line is not JSON."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not (exc.reason == "unexpected end of data" and exc.end == len(data)):
            line = data.count(b"\n", 0, exc.start) + 1
            raise StoredRunError(file, [FileProblem(
                "", "UTF-8 text",
                f"byte 0x{data[exc.start]:02x} at byte offset {exc.start}", line)]) from None
        text = data.decode("utf-8", "replace")
    return text[1:] if text.startswith("\ufeff") else text


def _cut_off_last(lines: list[str]) -> tuple[int, str, Exception] | None:
    """The last non-blank line, its text and its parse error if it is a cut-off object
    (starts with ``{``, is not JSON): what a writer killed mid-line leaves."""
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].strip()
        if not line:
            continue
        if not line.startswith("{"):
            return None
        try:
            _loads(line)
        except (ValueError, RecursionError) as exc:
            return i, line, exc
        return None
    return None


def _parse_lines(lines: list[str], file: str) -> tuple[list[Any], list[int]]:
    """JSON values of the non-blank lines and their line numbers; the careful loop."""
    values: list[Any] = []
    numbers: list[int] = []
    for i, line in enumerate(lines):
        line = line.strip()
        if not line:
            continue
        try:
            values.append(_loads(line))
        except (ValueError, RecursionError) as exc:
            raise StoredRunError(file, [_not_json(i, line, exc)]) from None
        numbers.append(i + 1)
    return values, numbers


def _not_json(index: int, line: str, exc: Exception, hint: str = "") -> FileProblem:
    why = f"{exc.msg}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) \
        else type(exc).__name__
    return FileProblem("", "a JSON object (an event)",
                           f"{_short_text(line)} (not JSON: {why}{hint})", index + 1)


def _check_fast(events: list[dict[str, Any]]) -> None:
    """Raises KeyError, TypeError or _Odd at anything unusual; silent on a good history."""
    open_: dict[tuple[Any, Any], float] = {}
    pop = open_.pop
    inf = _INF
    for ev in events:
        typ = ev["type"]
        process = ev["process"]
        op = ev["op"]
        t = ev["time"]
        if type(t) is not float or not -inf < t < inf or type(op) is not int \
                or (type(process) is not str and type(process) is not int):
            raise _Odd
        if typ == INVOKE:
            if type(ev["f"]) is not str:
                raise _Odd
            open_[process, op] = t
        elif typ == OK or typ == FAIL or typ == INFO:
            if pop((process, op)) > t:
                raise _Odd
        else:
            raise _Odd
        if "args" in ev and type(ev["args"]) is not dict:
            raise _Odd


def _first_problem(events: list[Any], numbers: list[int] | None) -> FileProblem | None:
    """The first event that is not what a recorder writes, as a problem with its line."""
    open_: dict[tuple[Any, Any], tuple[float, int]] = {}
    for i, ev in enumerate(events):
        line = numbers[i] if numbers is not None else i + 1
        found = _event_problem(ev)
        if found is not None:
            return FileProblem(*found, line=line)
        typ, process, op, t = ev["type"], ev["process"], ev["op"], ev["time"]
        if typ == INVOKE:
            open_[process, op] = (t, line)
            continue
        invoked = open_.pop((process, op), None)
        if invoked is None:
            return FileProblem(
                "op", f"an invoke of process {json_short(process)} op {op} on an earlier line",
                f"{typ} without one", line)
        if invoked[0] > t:
            return FileProblem(
                "time", f"no earlier than its invoke's {invoked[0]!r} (line {invoked[1]})",
                f"{t!r} (did the client's clock go back?)", line)
    return None


def _event_problem(ev: Any) -> tuple[str, str, str] | None:
    """(key, expected, found) of what is wrong with one event, or None."""
    if not isinstance(ev, dict):
        return "", "a JSON object (an event)", f"a JSON {json_kind(ev)}: {json_short(ev)}"
    typ = ev.get("type")
    if typ not in (INVOKE, OK, FAIL, INFO):
        return "type", f"one of {_EVENT_TYPES}", _found(ev, "type")
    process = ev.get("process")
    if type(process) is not str and type(process) is not int:
        return "process", "a string or an integer", _found(ev, "process")
    if type(ev.get("op")) is not int:
        return "op", "an integer", _found(ev, "op")
    t = ev.get("time")
    if type(t) is not int and (type(t) is not float or not math.isfinite(t)):
        return "time", "a finite number (the client's clock, in seconds)", _found(ev, "time")
    if typ == INVOKE and type(ev.get("f")) is not str:
        return "f", "a string (the function called) on an invoke", _found(ev, "f")
    if "args" in ev and type(ev["args"]) is not dict:
        return "args", "an object (the call's arguments)", _found(ev, "args")
    return None


def _found(ev: dict[str, Any], key: str) -> str:
    return json_short(ev[key]) if key in ev else "nothing (the key is missing)"


def json_kind(value: Any) -> str:
    """The JSON type name of a value, for messages about stored files."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def json_short(value: Any) -> str:
    """A value as it reads in the file (JSON), cut to 60 characters."""
    return _cut(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=repr))


def _short_text(line: str) -> str:
    return _cut(repr(line))


def _cut(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _files_name(paths: list[str | Path]) -> str:
    """One file's name; for several, their folder and how many (or all their names)."""
    if len(paths) == 1:
        return str(paths[0])
    parents = {Path(p).parent for p in paths}
    if len(parents) == 1:
        return f"{parents.pop()}{os.sep} ({len(paths)} history files)"
    return ", ".join(str(p) for p in paths)


def write_jsonl(path: str | Path, events: Iterable[dict[str, Any]]) -> int:
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for ev in events:
            fh.write(json.dumps(ev, separators=(",", ":")) + "\n")
            n += 1
    return n
