"""Writes the history of one load-generating process as JSON lines (see simlive.check.history).

One recorder per process (Locust worker or local runner), one file each, so no lock is shared
across processes; files are merged after the run. Lines are buffered and flushed every
``flush_every`` events and on :meth:`close`, so recording costs a dict and a ``json.dumps``
per event, not a system call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

_dumps = json.JSONEncoder(separators=(",", ":")).encode


class Recorder:
    """``sink``: where flushed lines go instead of the file (a Locust worker sends them to
    its master, which writes the file: no worker needs the master's folder)."""

    def __init__(self, path: str | Path, flush_every: int = 2000,
                 sink: Callable[[list[str]], None] | None = None) -> None:
        self.path = Path(path)
        self.sink = sink
        self._fh: IO[str] | None = None
        if sink is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        self._buf: list[str] = []
        self._n = 0
        self.flush_every = flush_every
        # per operation and outcome, for the web UI's live tab (cheap: one dict bump)
        self.counts: dict[str, dict[str, int]] = {}

    def invoke(self, process: str, f: str, args: dict[str, Any]) -> tuple[str, int, str]:
        """Record that ``process`` starts ``f(args)``; returns the handle for completion."""
        self._n += 1
        self._buf.append(_dumps({"type": "invoke", "process": process, "op": self._n,
                                 "time": time.time(), "f": f, "args": args}))
        return process, self._n, f

    def complete(self, handle: tuple[str, int, str], typ: str, value: Any = None) -> None:
        """``typ``: ok (happened), fail (certainly did not), info (unknown)."""
        process, n, f = handle
        per = self.counts.get(f)
        if per is None:
            self.counts[f] = per = {}
        per[typ] = per.get(typ, 0) + 1
        self._buf.append(_dumps({"type": typ, "process": process, "op": n,
                                 "time": time.time(), "f": f, "value": value}))
        if len(self._buf) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if not self._buf:
            return
        if self.sink is not None:
            lines, self._buf = self._buf, []
            self.sink(lines)
        elif self._fh is not None:
            self._fh.write("\n".join(self._buf) + "\n")
            self._fh.flush()
            self._buf.clear()

    def close(self) -> None:
        self.flush()
        if self._fh is not None:
            self._fh.close()
            self._fh = None
