"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

Replication ``r`` is a pure function of the scenario and ``r`` (its random streams are
``(seed, r)``), so where it runs changes nothing in its result; results are handed back in
replication order, and a summary is the same bytes on one core, on ``--jobs`` processes or
on a cluster.

A plan simulates the same replications again and again with other agents. Each worker keeps
the orders and tickets of the replications it ran lately (``engine.FrontCache``), and
replication ``r`` always goes to the same worker (``r`` modulo the workers), so a plan's
candidates reuse them wherever they run. On a cluster the worker is only preferred: the
scheduler may move the task if that worker is gone, at the cost of simulating the orders
again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol

from simlive import __version__
from simlive.errors import UsageError
from simlive.scenario.schema import Scenario
from simlive.sim.engine import FrontCache, ReplicationResult, run_replication

Progress = Callable[[float], None]

_CACHE = FrontCache()  # this worker process's (each process has its own)


def replicate(scenario: Scenario, rep: int, keep_series: bool,
              cached: bool) -> ReplicationResult:
    """Replication ``rep``, run where it is sent (the task every worker runs)."""
    return run_replication(scenario, rep, keep_series=keep_series,
                           cache=_CACHE if cached else None)


def version() -> str:
    return __version__


def cached_replications() -> int:
    """How many replications' orders and tickets this worker process holds."""
    return len(_CACHE)


def _in_order(futures: list, progress: Progress | None) -> Iterator[ReplicationResult]:
    """The futures' results in the order they were sent (both kinds of future have
    ``result()``), counting them done."""
    for done, f in enumerate(futures, start=1):
        yield f.result()
        if progress is not None:
            progress(float(done))


class Workers(Protocol):
    size: int  # replications that run at once

    def map(self, scenario: Scenario, first: int, count: int,
            progress: Progress | None = None) -> Iterator[ReplicationResult]:
        """Replications ``first .. first+count-1``, in order; ``progress`` gets the
        replications done so far (fractions of one while one runs in this process)."""
        ...

    def close(self) -> None: ...


class InProcess:
    """One replication after another, here (and a progress bar that moves within one)."""

    def __init__(self, cached: bool = False) -> None:
        self.cache = FrontCache() if cached else None
        self.size = 1

    def map(self, scenario: Scenario, first: int, count: int,
            progress: Progress | None = None) -> Iterator[ReplicationResult]:
        for rep in range(first, first + count):
            def sub(frac: float, rep: int = rep) -> None:
                if progress is not None:
                    progress(rep - first + frac)
            yield run_replication(scenario, rep, keep_series=rep == 0, progress=sub,
                                  cache=self.cache)

    def close(self) -> None:
        self.cache = None


class Processes:
    """``jobs`` worker processes of this machine, replication ``r`` on process ``r % jobs``."""

    def __init__(self, jobs: int, cached: bool = False) -> None:
        self.cached = cached
        self.pools = [ProcessPoolExecutor(max_workers=1) for _ in range(jobs)]
        self.size = jobs

    def map(self, scenario: Scenario, first: int, count: int,
            progress: Progress | None = None) -> Iterator[ReplicationResult]:
        jobs = len(self.pools)
        futures = [self.pools[rep % jobs].submit(replicate, scenario, rep, rep == 0,
                                                 self.cached)
                   for rep in range(first, first + count)]
        try:
            yield from _in_order(futures, progress)
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        for p in self.pools:
            p.shutdown(cancel_futures=True)


class Cluster:
    """A Dask distributed cluster (``tcp://scheduler:8786``); every worker must run this
    simlive version (checked on connecting)."""

    def __init__(self, address: str, cached: bool = False) -> None:
        from simlive.extras import require

        require("cluster", "--cluster")
        from distributed import Client

        self.cached = cached
        try:
            self.client = Client(address, timeout="5s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise UsageError(f"--cluster {address}: cannot reach the Dask scheduler ({e})") \
                from e
        workers = sorted(self.client.scheduler_info()["workers"])
        if not workers:
            self.client.close()
            raise UsageError(f"--cluster {address}: the scheduler has no workers")
        versions = self.client.run(version)
        other = {w: v for w, v in versions.items() if v != __version__}
        if other:
            self.client.close()
            raise UsageError(f"--cluster {address}: workers run another simlive version "
                             f"than this one ({__version__}): " + ", ".join(
                                 f"{w} has {v}" for w, v in sorted(other.items())))
        self.workers = workers
        self.size = len(workers)

    def map(self, scenario: Scenario, first: int, count: int,
            progress: Progress | None = None) -> Iterator[ReplicationResult]:
        sent = self.client.scatter(scenario, broadcast=True, hash=False)
        n = len(self.workers)
        futures = [self.client.submit(replicate, sent, rep, rep == 0, self.cached,
                                      workers=[self.workers[rep % n]],
                                      allow_other_workers=True, pure=False)
                   for rep in range(first, first + count)]
        try:
            yield from _in_order(futures, progress)
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
        self.client.close()


def open_workers(jobs: int = 1, cluster: str | None = None, cached: bool = False) -> Workers:
    """Where to run replications: ``cluster`` if given, else ``jobs`` local processes
    (this process alone for one). ``cached``: keep each replication's orders and tickets
    for the next candidate (a plan)."""
    if cluster is not None:
        return Cluster(cluster, cached)
    if jobs > 1:
        return Processes(jobs, cached)
    return InProcess(cached)
