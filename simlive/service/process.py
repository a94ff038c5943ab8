"""``simlive serve`` in a subprocess, for ``simlive load --serve`` (and the tests).

:class:`ServiceProcess` starts the service on 127.0.0.1 and an ephemeral port it reads back
from the banner, and is a context manager that always stops what it started. The service
runs in a process group of its own (so a stop reaches its workers, and a test can SIGKILL
it whole), and dies with the process that started it: on Linux the kernel sends it SIGKILL
when that process ends, however it ends (:func:`die_with_parent`), so a run killed by a
timeout leaves no service behind. No FastAPI here: a load-test process imports this without
the web stack.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import httpx

from simlive.errors import ServiceError
from simlive.service.server import LISTEN_PREFIX

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: the child is sent ``sig`` when its
    parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``); None elsewhere.

    Linux sends it when the *thread* that started the child ends, so start long-lived
    children from a thread that outlives them (the main thread). It is kept across
    ``exec`` and cleared by a change of user, which :class:`subprocess.Popen` makes before
    it calls ``preexec_fn``: a child started with ``user=`` keeps it. libc is looked up here,
    in the parent, so the child between fork and exec only makes the call.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def set_it() -> None:
        prctl(PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:  # it died before the call: nobody will signal
            os.kill(os.getpid(), sig)

    return set_it


_TLS: ssl.SSLContext | None = None


def http_client(base_url: str, token: str | None = None, timeout: float = 30.0,
                **kwargs: Any) -> httpx.Client:
    """An httpx client for the service, authenticated with ``token`` if given.

    All clients share one TLS context: building one per client (httpx's default) costs
    ~20 ms of CPU, which a test or load generator making 50 clients would otherwise pay.
    """
    global _TLS
    if _TLS is None:
        _TLS = ssl.create_default_context()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, verify=_TLS,
                        **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """``simlive serve`` in a subprocess; ``base_url`` and ``tokens`` once started.

    ``tokens`` maps role -> list of tokens (from the tokens file, created on first start and
    reused on restart, so a restarted service keeps the same users). Raises
    :class:`~simlive.errors.ServiceError`, with the service's log, when it does not start.
    """

    def __init__(self, db_url: str, workdir: Path, faults: tuple[str, ...] = (),
                 payment_timeout: float = 900.0, sweep_interval: float = 1.0,
                 workers: int = 1, extra_args: tuple[str, ...] = (),
                 start_timeout: float = 30.0) -> None:
        self.db_url = db_url
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.faults = faults
        self.payment_timeout = payment_timeout
        self.sweep_interval = sweep_interval
        self.workers = workers
        self.extra_args = extra_args
        self.start_timeout = start_timeout
        self.tokens_file = self.workdir / "tokens.json"
        self.log_file = self.workdir / "service.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.tokens: dict[str, list[str]] = {}

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "simlive.cli", "serve", "--db", self.db_url,
               "--host", "127.0.0.1", "--port", "0", "--workers", str(self.workers),
               "--tokens", str(self.tokens_file),
               "--payment-timeout", str(self.payment_timeout),
               "--sweep-interval", str(self.sweep_interval)]
        for fault in self.faults:
            cmd += ["--fault", fault]
        return cmd + list(self.extra_args)

    def start(self) -> Self:
        with self.log_file.open("ab") as log:
            mark = log.tell()
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=die_with_parent())
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            text = self.log_file.read_bytes()[mark:].decode("utf-8", "replace")
            for line in text.splitlines():
                if line.startswith(LISTEN_PREFIX):
                    self.base_url = line[len(LISTEN_PREFIX):].split()[0]
            if self.base_url and self._healthy():
                self.tokens = json.loads(self.tokens_file.read_text())
                return self
            if self.proc.poll() is not None:
                raise ServiceError(f"simlive serve exited with {self.proc.returncode}:\n"
                                   f"{self.log()}")
            time.sleep(0.05)
        self.kill()
        raise ServiceError(f"simlive serve did not answer within {self.start_timeout}s:\n"
                           f"{self.log()}")

    def _healthy(self) -> bool:
        try:
            with http_client(self.base_url, timeout=1.0) as c:
                return c.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def token(self, role: str, index: int = 0) -> str:
        return self.tokens[role][index]

    def client(self, role: str | None = None, index: int = 0, **kwargs: Any) -> httpx.Client:
        """An httpx client on the service, authenticated as ``role`` if given."""
        return http_client(self.base_url, self.token(role, index) if role else None, **kwargs)

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash: no shutdown code runs)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
