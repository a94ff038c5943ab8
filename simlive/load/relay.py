"""Workers' histories to the master, over Locust's own messages.

A Locust worker may run on another machine, in another folder: it writes nothing of the run
itself. Its recorder hands each flushed batch of history lines (at most ``flush_every``, so
memory stays bounded) to :func:`worker_sink`, which sends it to the master; its reports
(a flash sale's release, an arrival driver's counts) go the same way. The master writes
them into the run's ``history/`` folder. When the load ends the master tells every worker
to stop and send what it still holds, and waits until each has said it is done before it
ends the broadcast and checks: so ``locust --master`` ends with the merged history and the
verdicts, as a local run does.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import IO, Any

import gevent

HISTORY = "simlive_history"  # worker -> master: {tag, lines}
FILE = "simlive_file"  # worker -> master: {name, text}
DONE = "simlive_done"  # worker -> master: {tag}
STOP = "simlive_stop"  # master -> workers: stop, send the rest, say done

log = logging.getLogger("simlive")


def worker_sink(runner: Any, tag: str) -> Any:
    """The recorder's sink on a worker: each batch of lines, sent to the master."""
    def send(lines: list[str]) -> None:
        runner.send_message(HISTORY, {"tag": tag, "lines": lines})
    return send


def report_file(environment: Any, name: str, text: str) -> None:
    """A report file of this process's (``flash-...json``, ``arrivals-...json``): written
    into the run's history folder, or sent to the master that keeps it."""
    from locust.runners import WorkerRunner

    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.send_message(FILE, {"name": name, "text": text})
        return
    ctx = environment.simlive
    path = ctx.run.history_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


class Relay:
    """The master's side: the workers' histories and reports into ``history_dir``."""

    def __init__(self) -> None:
        self.history_dir: Path | None = None
        self.files: dict[str, IO[str]] = {}  # by worker client id
        self.names: dict[str, str] = {}
        self.done: set[str] = set()

    def start(self, history_dir: Path) -> None:
        self.close()
        self.history_dir = history_dir
        history_dir.mkdir(parents=True, exist_ok=True)
        self.done = set()

    def _file(self, client_id: str, tag: str) -> IO[str] | None:
        if self.history_dir is None:
            return None
        fh = self.files.get(client_id)
        if fh is None:
            name = tag
            taken = set(self.names.values())
            n = 1
            while name in taken:  # the same pid on two machines
                n += 1
                name = f"{tag}-{n}"
            self.names[client_id] = name
            fh = self.files[client_id] = (self.history_dir / f"{name}.jsonl").open(
                "a", encoding="utf-8")
        return fh

    def on_history(self, environment: Any, msg: Any, **_: Any) -> None:
        fh = self._file(msg.node_id, str(msg.data["tag"]))
        if fh is not None and msg.data["lines"]:
            fh.write("\n".join(msg.data["lines"]) + "\n")
            fh.flush()

    def on_file(self, environment: Any, msg: Any, **_: Any) -> None:
        if self.history_dir is None:
            return
        name = Path(str(msg.data["name"])).name  # a plain name in the history folder
        (self.history_dir / name).write_text(str(msg.data["text"]), encoding="utf-8")

    def on_done(self, environment: Any, msg: Any, **_: Any) -> None:
        self.done.add(msg.node_id)

    def collect(self, runner: Any, timeout: float) -> list[str]:
        """Tell every worker to stop and send the rest; wait until each is done. Returns
        the workers that never said so (their history may be short)."""
        expected = set(runner.clients)
        runner.send_message(STOP, None)
        deadline = time.monotonic() + timeout
        while not expected <= self.done and time.monotonic() < deadline:
            gevent.sleep(0.1)
        missing = sorted(expected - self.done)
        if missing:
            log.error("simlive: %d worker(s) did not send their whole history within %.0f s: "
                      "%s", len(missing), timeout, ", ".join(missing))
        return missing

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()
        self.files, self.names = {}, {}


def on_stop(environment: Any, msg: Any, **_: Any) -> None:
    """A worker told by the master that the load is over: stop the users (Locust's own
    stop, as its stop message does), flush what the recorder holds, say done."""
    def finish() -> None:
        runner = environment.runner
        try:
            runner.stop()
        finally:
            ctx = getattr(environment, "simlive", None)
            if ctx is not None:
                ctx.recorder.flush()
            runner.send_message(DONE, {"tag": getattr(ctx, "tag", "")})
    gevent.spawn(finish)
