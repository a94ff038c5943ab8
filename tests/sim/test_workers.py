"""Where replications run changes nothing: one process, local worker processes and a Dask
cluster (a real LocalCluster of worker processes on 127.0.0.1) give the same bytes, for
``run`` and for a roster plan; the workers keep each replication's orders and tickets
between a plan's candidates (observed in the worker processes themselves)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simlive.cli import cli
from simlive.report.files import to_json
from simlive.scenario import load_scenario
from simlive.sim.replications import simulate
from simlive.sim.workers import Cluster, InProcess, Processes, cached_replications

ROOT = Path(__file__).resolve().parents[2]
BOUTIQUE = ROOT / "scenarios" / "boutique.yaml"
SPIKE = ROOT / "tests" / "plan" / "spike.yaml"
HOURLY = ROOT / "tests" / "plan" / "hourly.yaml"


@pytest.fixture(scope="module")
def cluster():
    import distributed

    # the dashboard on any free port: None still took 8787, and two runs side by side clashed
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0",
                                  worker_dashboard_address=None) as lc:
        yield lc.scheduler_address


def test_processes_give_what_one_process_gives() -> None:
    s = load_scenario(BOUTIQUE)
    here = simulate(s, 4, workers=InProcess())
    pool = Processes(2, cached=True)
    try:
        there = simulate(s, 4, workers=pool)
        again = simulate(s, 4, workers=pool)  # from the workers' caches
    finally:
        pool.close()
    assert to_json(there.to_dict()) == to_json(here.to_dict())
    assert to_json(again.to_dict()) == to_json(here.to_dict())


@pytest.mark.slow
def test_run_on_a_cluster_is_byte_identical(cluster, tmp_path: Path, until_decided) -> None:
    local, remote = tmp_path / "local.json", tmp_path / "remote.json"
    r1 = CliRunner().invoke(cli, ["run", str(BOUTIQUE), "-r", "5", "-q", "--json", str(local)])
    r2 = CliRunner().invoke(cli, ["run", str(BOUTIQUE), "-r", "5", "-q", "--json", str(remote),
                                  "--cluster", cluster])
    assert r1.exit_code == r2.exit_code, r2.output
    assert remote.read_bytes() == local.read_bytes()
    # until decided: batches of the cluster's two workers, the same replications counted
    # (the local run is shared with the other tests that read it)
    u1 = until_decided("boutique", 1)
    u2 = CliRunner().invoke(cli, ["run", str(BOUTIQUE), "--until-decided", "-q", "--json", "-",
                                  "--cluster", cluster])
    assert u1.returncode == u2.exit_code
    assert json.loads(u2.stdout) == u1.json()


@pytest.mark.slow
def test_roster_plan_on_a_cluster_is_the_local_plan(cluster, tmp_path: Path) -> None:
    args = ["plan", str(SPIKE), "--target", "aftersales.service_level(20s) >= 0.8 per interval",
            "--roster", str(HOURLY), "-r", "3", "--validate", "4"]
    local, remote = tmp_path / "local.json", tmp_path / "remote.json"
    r1 = CliRunner().invoke(cli, [*args, "--json", str(local)])
    r2 = CliRunner().invoke(cli, [*args, "--json", str(remote), "--cluster", cluster])
    assert r1.exit_code == 0, r1.output
    assert r2.exit_code == 0, r2.output
    assert remote.read_bytes() == local.read_bytes()
    # each worker kept the fronts of the replications sent to it (r modulo 2): the search's
    # three and the fresh ones, so a second candidate did not simulate orders again
    c = Cluster(cluster)
    try:
        held = c.client.run(cached_replications)
    finally:
        c.close()
    assert len(held) == 2 and min(held.values()) >= 2, held


@pytest.mark.slow
def test_an_unreachable_cluster_is_a_clear_error() -> None:
    res = CliRunner().invoke(cli, ["run", str(BOUTIQUE), "-q", "--cluster",
                                   "tcp://127.0.0.1:9"])
    assert res.exit_code == 2
    assert "--cluster tcp://127.0.0.1:9: cannot reach the Dask scheduler" in res.output
    assert "Traceback" not in res.output
