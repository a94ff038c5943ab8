"""A stored run read back for ``simlive check``: its history and the service's final state.

A load run leaves ``history/*.jsonl`` (one file per process), a merged ``history.jsonl`` and
``state.json`` (``FinalState.to_dict()``). Both are checked as they are read, so a file that
is not what a run writes is a :class:`~simlive.errors.StoredRunError` naming the file and
line (exit code 2), never a traceback, and never verdicts judged on no evidence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simlive.check.history import merge, read_bytes
from simlive.check.state import FinalState
from simlive.errors import FileProblem, StoredRunError

MERGED_HISTORY = "history.jsonl"


def history_files(path: str | Path) -> list[Path]:
    """The files of a stored history: ``path`` itself, or a folder's ``*.jsonl``. In a
    folder, the merged ``history.jsonl`` is read only when there is no per-process file."""
    p = Path(path)
    if not p.is_dir():
        if not p.exists():
            raise StoredRunError(str(p), [FileProblem(
                "", "a history file or a folder of .jsonl files", "nothing at this path")])
        return [p]
    files = sorted(f for f in p.glob("*.jsonl") if f.is_file())
    per_process = [f for f in files if f.name != MERGED_HISTORY]
    if not files:
        raise StoredRunError(str(p), [FileProblem(
            "", "a folder holding history files (*.jsonl)", "no .jsonl file")])
    return per_process or files


def read_history(path: str | Path) -> list[dict[str, Any]]:
    """The checked events of a stored history (a file, or a folder of one file per
    process), merged in time order."""
    return merge(history_files(path))


def load_state(path: str | Path) -> FinalState:
    """A stored ``state.json``: read, decoded as UTF-8, parsed and checked; every problem is
    a StoredRunError naming the file."""
    file = str(path)
    data = read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoredRunError(file, [FileProblem(
            "", "UTF-8 text", f"byte 0x{data[exc.start]:02x} at byte offset {exc.start}",
            data.count(b"\n", 0, exc.start) + 1)]) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise StoredRunError(file, [FileProblem(
            "", "a JSON object (a final state)", "an empty file")])
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoredRunError(file, [FileProblem(
            "", "JSON", f"a syntax error ({exc.msg}, column {exc.colno})",
            exc.lineno)]) from None
    except RecursionError:
        raise StoredRunError(file, [FileProblem(
            "", "JSON", "values nested too deeply")]) from None
    return FinalState.from_dict(value, file)
