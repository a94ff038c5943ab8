"""``simlive run``, ``validate`` and ``schema``: simulate a broadcast, check scenario files."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from simlive.cli.common import (
    Share,
    by_party_option,
    console_for,
    friendly,
    junit_option,
    write_junit,
)

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console

    from simlive.scenario.schema import Scenario
    from simlive.sim.replications import SimulationResult


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-r", "--replications", type=click.IntRange(1, 10_000), default=None,
              help="Independent replications (default 1). Each rule's verdict is about the "
                   "probability that it breaks in a broadcast; see --until-decided.")
@click.option("--until-decided", is_flag=True,
              help="Add replications (--jobs at a time) until Wald's sequential test has "
                   "decided every rule, or --max-replications.")
@click.option("--max-replications", type=click.IntRange(1, 10_000), default=500,
              show_default=True, help="The most replications --until-decided may run.")
@click.option("--risk", type=Share(0.001, 0.5), default=None,
              help="The P(broken) every rule may run, e.g. 1% (default: the scenario's "
                   "compliance.risk, 5%).")
@click.option("--alpha", type=Share(0.001, 0.25), default=None,
              help="--until-decided: the chance of a wrong fail (default 5%).")
@click.option("--beta", type=Share(0.001, 0.25), default=None,
              help="--until-decided: the chance of a wrong pass (default 5%).")
@click.option("--indifference", type=Share(0.05, 0.9), default=None,
              help="--until-decided: half-width of the indifference region around the "
                   "risk, as a share of the risk (default 50%).")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes for replications; results do not depend on it.")
@click.option("--cluster", metavar="ADDRESS", default=None,
              help="Run the replications on a Dask distributed cluster (e.g. "
                   "tcp://scheduler:8786; its workers need this simlive version). Same "
                   "results as on this machine.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None,
              help="Override the scenario's seed.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Write the result as JSON to this file ('-' for stdout; the tables then "
                   "go to stderr).")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False), default=None,
              help="Write time series (viewers, orders/s, stock per SKU, backlog) here.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Write a self-contained HTML report with plots to this file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no tables.")
@junit_option
@by_party_option
@friendly
def run(scenario: str, replications: int | None, until_decided: bool, max_replications: int,
        risk: float | None, alpha: float | None, beta: float | None,
        indifference: float | None, jobs: int, cluster: str | None, seed: int | None,
        json_path: str | None, csv_dir: str | None, html_path: str | None, quiet: bool,
        junit_path: str | None, by_party: bool) -> None:
    """Simulate a broadcast and judge every compliance rule.

    A rule passes when P(broken) <= risk is established over the replications, fails when
    P(broken) > risk is, and is undecided otherwise. Exit 0 when every rule passes, 1 when
    any fails, 4 when none fails but some are undecided, 2 for bad input.
    """
    from simlive.errors import UsageError
    from simlive.report.files import prepare_output
    from simlive.report.progress import simulate_with_progress
    from simlive.report.tables import summary
    from simlive.rules import exit_code
    from simlive.scenario import load_scenario
    from simlive.sim.replications import confidence_of
    from simlive.sim.workers import open_workers

    if until_decided and replications is not None:
        raise UsageError("--replications and --until-decided: choose one "
                         "(--max-replications bounds --until-decided)")
    for path, option in ((json_path, "--json"), (html_path, "--html"),
                         (junit_path, "--junit")):
        prepare_output(path, option)
    prepare_output(csv_dir, "--csv", directory=True)
    sc = load_scenario(scenario)
    if seed is not None:
        sc = sc.model_copy(update={"seed": seed})
    conf = confidence_of(sc, risk, alpha, beta, indifference)
    count = max_replications if until_decided else replications or 1
    console = console_for(stderr=json_path == "-")
    workers = open_workers(min(jobs, count), cluster)
    try:
        result = simulate_with_progress(sc, count, jobs, until_decided, conf, quiet,
                                        workers, console_for(stderr=True))
    finally:
        workers.close()
    data = result.to_dict()
    _write_files(result, data, json_path, csv_dir, html_path)
    n = len(result.replications)
    how = (f"until decided (at most {count})" if until_decided else "fixed")
    title = f"{sc.name}: {n} replication{'s' if n > 1 else ''} ({how}), seed {sc.seed}"
    if not quiet:
        _print_tables(console, sc, result, data, title, by_party)
    write_junit(junit_path, f"{sc.name} (simulated, seed {sc.seed}, {n} replication(s))",
                 result.verdicts)
    click.echo(summary(result.verdicts), err=True)
    code = exit_code(result.verdicts)
    if code:
        sys.exit(code)


def _write_files(result: SimulationResult, data: dict[str, Any], json_path: str | None,
                 csv_dir: str | None, html_path: str | None) -> None:
    """The files a run was asked for, which ``--quiet`` keeps (a CI job reads these)."""
    from pathlib import Path

    from simlive.report.files import to_json, write_series_csv, write_sold_out_csv

    if json_path == "-":
        click.echo(to_json(data), nl=False)
    elif json_path:
        Path(json_path).write_text(to_json(data), encoding="utf-8")
    if csv_dir:
        write_series_csv(csv_dir, result.series)
        write_sold_out_csv(csv_dir, data["sold_out"])
    if html_path:
        from simlive.report.html import render_html

        Path(html_path).write_text(render_html(data, result.series), encoding="utf-8")


def _print_tables(console: Console, sc: Scenario, result: SimulationResult,
                  data: dict[str, Any], title: str, by_party: bool = False) -> None:
    """The tables a person reads at the terminal, which ``--quiet`` leaves out."""
    from simlive.report.tables import (
        VerdictView,
        desk_table,
        kpi_table,
        shift_table,
        sold_out_table,
    )

    console.print(kpi_table(data["kpis"], title=f"KPIs ({title})"))
    if len(sc.aftersales.agents) > 1:
        console.print(shift_table(data["shifts"]))
    if data.get("desks"):
        console.print(desk_table(data["desks"]))
    if data["sold_out"]:
        console.print(sold_out_table(data["sold_out"], len(result.replications)))
    console.print(VerdictView(result.verdicts, parties=by_party))


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@friendly
def validate(scenarios: tuple[str, ...]) -> None:
    """Check scenario files; print every problem with its line. Exit 0 or 2.

    Warnings (on stderr, exit 0) point at what is valid but rarely meant: tickets that can
    arrive while nobody is on duty, or far more work than the agents on duty can handle."""
    from simlive.errors import InputFileError
    from simlive.scenario import load_scenario

    problems: list[str] = []
    for path in scenarios:
        try:
            sc = load_scenario(path)
        except InputFileError as exc:
            problems.append(str(exc))
            continue
        click.echo(f"{path}: ok ({sc.name}, {sc.duration / 3600:g} h)")
        from simlive.scenario.advice import advisories

        for text in advisories(sc):
            click.echo(f"{path}: warning: {text}", err=True)
    if problems:
        click.echo("\n".join(problems), err=True)
        sys.exit(2)


@click.command()
@click.option("--target", "target", is_flag=True,
              help="The target file's schema instead of the scenario's.")
def schema(target: bool) -> None:
    """Print the scenario file's (or --target: the target file's) JSON Schema."""
    import json

    model: type[BaseModel]
    if target:
        from simlive.shops.target_file import Target
        model, title = Target, "simlive target"
    else:
        from simlive.scenario.schema import Scenario
        model, title = Scenario, "simlive scenario"
    doc = model.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = title
    click.echo(json.dumps(doc, indent=2, sort_keys=True))
