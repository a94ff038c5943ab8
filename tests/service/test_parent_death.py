"""What a test run starts dies with it: a pytest-like parent process starts the service (one
worker and two) or a PostgreSQL cluster, is SIGKILLed (no teardown, no atexit), and within
a few seconds nothing it started is left running.

A clean-clone run killed by a timeout once left two ``simlive serve`` processes and their
PostgreSQL cluster running 47 minutes after their folder was deleted.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GONE_WITHIN = 10.0  # seconds; a SIGKILL from the kernel takes milliseconds

SERVICE = """
import sys, time
from pathlib import Path
from simlive.service.process import ServiceProcess
work = Path(sys.argv[1])
svc = ServiceProcess(f"sqlite:///{work / 's.db'}", work, workers=int(sys.argv[2])).start()
print(svc.proc.pid, flush=True)
time.sleep(600)
"""

POSTGRES = """
import sys, time
sys.path.insert(0, sys.argv[1])
from testing.postgres import TempPostgres
pg = TempPostgres().start()
print(pg.proc.pid, pg.dir, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    """A process that runs (a zombie waiting for its reaper has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def group(pgid: int) -> list[int]:
    """The running processes of process group ``pgid`` (the server and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def orphaned_by_sigkill(code: str, *args: str, ready: float = 90
                        ) -> tuple[int, list[int], list[str]]:
    """Run ``code`` in a parent process that prints the server's pid (and more words) once
    it is up, SIGKILL the parent, and return the pid, what of its process group still runs
    GONE_WITHIN seconds later, and the other words."""
    parent = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                              cwd=ROOT)
    assert parent.stdout is not None and parent.stderr is not None
    try:
        line = ""
        deadline = time.monotonic() + ready
        with selectors.DefaultSelector() as sel:
            sel.register(parent.stdout, selectors.EVENT_READ)
            while not line and time.monotonic() < deadline and parent.poll() is None:
                if sel.select(timeout=0.5):
                    line = parent.stdout.readline().strip()
        assert line, f"the parent did not start it:\n{parent.stderr.read()[-3000:]}"
        pid, *rest = line.split()
        assert alive(int(pid)) and group(int(pid))
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + GONE_WITHIN
        while group(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return int(pid), group(int(pid)), rest
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdout.close()
        parent.stderr.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_the_service_dies_with_the_process_that_started_it(tmp_path: Path,
                                                           workers: int) -> None:
    pid, left, _ = orphaned_by_sigkill(SERVICE, str(tmp_path), str(workers))
    try:
        assert not left, f"still running {GONE_WITHIN:g} s after its parent died: {left}"
        assert not alive(pid)
    finally:
        for p in left:
            os.kill(p, signal.SIGKILL)


def test_the_postgres_cluster_dies_with_the_process_that_started_it() -> None:
    _, left, (folder,) = orphaned_by_sigkill(POSTGRES, str(ROOT))
    try:
        assert not left, f"still running {GONE_WITHIN:g} s after its parent died: {left}"
    finally:
        for p in left:
            os.kill(p, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)  # its stop() never ran
