"""The django-oscar example shop for the tests: built once per test run, served per test
module from a copy (each copy its own SQLite file), over HTTP only.

Nothing from Django/Oscar is imported in the pytest process: the shop runs as
``examples/oscar/shop.py serve`` in a subprocess on 127.0.0.1, and is always stopped.
django-oscar is part of the test extra, so a missing install fails here rather than skip.
"""

from __future__ import annotations

import fcntl
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from simlive.service.process import die_with_parent

SHOP = Path(__file__).resolve().parents[2] / "examples" / "oscar" / "shop.py"
TARGET = SHOP.with_name("target.yaml")
N_BUYERS = 200  # a flash sale of 60 users releases 160 buyers: an account each
START_TIMEOUT = 120.0  # a first build is ~10 s of migrations; generous for slow machines


@dataclass
class OscarShop:
    url: str
    tokens_path: Path
    tokens: dict[str, list[str]]
    dir: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def oscar_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated Oscar project with its buyers; servers run on copies of it.

    Built once per test run: under pytest-xdist every worker has a session of its own, so
    the build goes in the run's base temp dir (the parent of each worker's), and the first
    worker to need it builds it under a lock while the others wait and reuse it.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by this run's workers, fresh for each run
    work = root / "oscar-build"
    with open(root / "oscar-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not (work / "built").exists():
            shutil.rmtree(work, ignore_errors=True)  # what a failed build left
            work.mkdir()
            done = subprocess.run([sys.executable, str(SHOP), "build", "--dir",
                                   str(work / "shop"), "--tokens", str(work / "tokens.json"),
                                   "--buyers", str(N_BUYERS)], capture_output=True, text=True,
                                  timeout=START_TIMEOUT, stdin=subprocess.DEVNULL)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
            (work / "built").touch()
    return work


@contextmanager
def serve_ready(cmd: list[str], log_path: Path, timeout: float,
                stop_grace: float = 20) -> Iterator[str]:
    """Run a shop script (``{port}`` in ``cmd`` becomes a free port) until it prints
    ``ready URL`` on stdout: yields the URL; always stops it (SIGTERM, then SIGKILL to its
    process group). Its stderr goes to ``log_path``, whose tail a failure to start shows.
    The script runs in a process group of its own and is sent SIGTERM when the test process
    dies (its own handler then stops the shop's servers), so a killed run leaves no shop."""
    port = str(free_port())
    cmd = [port if part == "{port}" else part for part in cmd]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=die_with_parent(signal.SIGTERM))
        try:
            url = None
            sel = selectors.DefaultSelector()
            sel.register(proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
            deadline = time.monotonic() + timeout
            while url is None and time.monotonic() < deadline and proc.poll() is None:
                if sel.select(timeout=0.5):
                    line = proc.stdout.readline()  # type: ignore[union-attr]
                    if line.startswith("ready "):
                        url = line.split()[1]
            sel.close()
            if url is None:
                log.flush()
                pytest.fail(f"{Path(cmd[1]).name} did not start:\n"
                            + log_path.read_text()[-3000:])
            yield url
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=stop_grace)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
            proc.stdout.close()  # type: ignore[union-attr]


@contextmanager
def serve_copy(build: Path, where: Path, *flags: str) -> Iterator[OscarShop]:
    """Serve a copy of the built shop with ``flags`` (``--untracked``, ``--guarded``)."""
    shutil.copytree(build / "shop", where / "shop")
    tokens = where / "tokens.json"
    cmd = [sys.executable, str(SHOP), "serve", "--dir", str(where / "shop"), "--port",
           "{port}", "--tokens", str(tokens), "--buyers", str(N_BUYERS), *flags]
    with serve_ready(cmd, where / "shop.log", START_TIMEOUT) as url:
        yield OscarShop(url, tokens, json.loads(tokens.read_text()), where / "shop")


@pytest.fixture(scope="session")
def ready_server():  # noqa: ANN201 - the context manager above, for other shops' fixtures
    """``with ready_server(cmd, log, timeout) as url:`` a shop script until it is ready."""
    return serve_ready


@pytest.fixture(scope="session")
def oscar(oscar_build: Path):  # noqa: ANN201 - a factory of context managers
    """``with oscar(tmp_dir, "--untracked") as shop:`` serves a copy of the built shop."""

    def _serve(where: Path, *flags: str):  # noqa: ANN202
        return serve_copy(oscar_build, where, *flags)

    _serve.n_buyers = N_BUYERS  # type: ignore[attr-defined]
    return _serve
