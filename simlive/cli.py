"""The ``simlive`` command line: maps options onto the features, and errors onto exit codes.

Nothing imports this module. Each command imports its feature lazily so that ``--help`` and
``validate`` stay fast; every ``SimliveError`` becomes its message on stderr and its exit
code, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from simlive import __version__
from simlive.errors import SimliveError


def _friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a SimliveError into its message and exit code (click's own errors pass through)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SimliveError as exc:
            click.echo(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simlive")
def cli() -> None:
    """Simulate and load-test live e-commerce broadcasts against compliance rules."""


# --- simulate ------------------------------------------------------------------------------


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-r", "--replications", default=1, show_default=True, type=click.IntRange(1, 10_000),
              help="Independent replications (KPIs get a 95% CI when > 1).")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes for replications; results do not depend on it.")
@click.option("--seed", type=click.IntRange(0), default=None,
              help="Override the scenario's seed.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Write the result as JSON to this file ('-' for stdout).")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False), default=None,
              help="Write time series (viewers, orders/s, stock per SKU, backlog) here.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Write a self-contained HTML report with plots to this file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no tables.")
@_friendly
def run(scenario: str, replications: int, jobs: int, seed: int | None, json_path: str | None,
        csv_dir: str | None, html_path: str | None, quiet: bool) -> None:
    """Simulate a broadcast and judge every compliance rule.

    Exit 0 when every rule passes, 1 when any fails, 2 for bad input.
    """
    from simlive.errors import EXIT_RULE_FAILED
    from simlive.report.files import to_json, write_series_csv
    from simlive.report.tables import kpi_table, verdict_table
    from simlive.rules import Status, overall
    from simlive.scenario import load_scenario
    from simlive.sim.replications import simulate

    sc = load_scenario(scenario)
    if seed is not None:
        sc = sc.model_copy(update={"seed": seed})
    console = _console(stderr=json_path == "-")
    if quiet:
        result = simulate(sc, replications, jobs)
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                      TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                      console=_console(stderr=True), transient=True) as bar:
            task = bar.add_task(f"simulating {sc.name}", total=1.0)
            result = simulate(sc, replications, jobs,
                              progress=lambda f: bar.update(task, completed=f))
    data = result.to_dict()
    if json_path == "-":
        click.echo(to_json(data), nl=False)
    elif json_path:
        from pathlib import Path

        Path(json_path).write_text(to_json(data), encoding="utf-8")
    if csv_dir:
        write_series_csv(csv_dir, result.series)
    if html_path:
        from pathlib import Path

        from simlive.report.html import render_html

        Path(html_path).write_text(render_html(data, result.series), encoding="utf-8")
    if not quiet:
        title = f"{sc.name}: {replications} replication{'s' if replications > 1 else ''}, " \
                f"seed {sc.seed}"
        console.print(kpi_table(data["kpis"], title=f"KPIs ({title})"))
        console.print(verdict_table(result.verdicts))
    status = overall(result.verdicts)
    failed = [v.rule_id for v in result.verdicts if v.status is Status.FAIL]
    if failed:
        click.echo(f"FAIL: {len(failed)} rule(s) broken: {', '.join(failed)}", err=True)
        sys.exit(EXIT_RULE_FAILED)
    if status is Status.UNKNOWN:
        click.echo("UNKNOWN: some rules could not be judged", err=True)
        sys.exit(EXIT_RULE_FAILED)


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_friendly
def validate(scenarios: tuple[str, ...]) -> None:
    """Check scenario files; print every problem with its line. Exit 0 or 2."""
    from simlive.errors import ScenarioError
    from simlive.scenario import load_scenario

    problems: list[str] = []
    for path in scenarios:
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            problems.append(str(exc))
            continue
        click.echo(f"{path}: ok ({sc.name}, {sc.duration / 3600:g} h)")
    if problems:
        click.echo("\n".join(problems), err=True)
        sys.exit(2)


@cli.command()
def schema() -> None:
    """Print the scenario file's JSON Schema (for editors and CI linters)."""
    import json

    from simlive.scenario.schema import Scenario

    doc = Scenario.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "simlive scenario"
    click.echo(json.dumps(doc, indent=2, sort_keys=True))


# --- serve (the reference service) -------------------------------------------------------
# Owned by simlive.service; the options map one to one onto simlive.service.server.serve().


def _fault_names(_ctx: click.Context, _param: click.Parameter,
                 value: tuple[str, ...]) -> tuple[str, ...]:
    from simlive.service.faults import FAULT_NAMES, explain_unknown

    for name in value:
        if name.strip().lower() not in FAULT_NAMES:
            raise click.BadParameter(explain_unknown(name))
    return value


@cli.command()
@click.option("--db", default="sqlite:///simlive.db", show_default=True,
              help="Database URL: a SQLite file, or postgresql://user@host/db.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind (0 picks a free one).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="uvicorn worker processes.")
@click.option("--fault", "faults", multiple=True, metavar="NAME", callback=_fault_names,
              help="Break a rule on purpose (repeatable): oversell, stale-display, "
                   "lose-ticket, delete-review, no-replay, no-receipt, double-restock.")
@click.option("--tokens", "tokens_file", type=click.Path(dir_okay=False), default=None,
              help="JSON file of bearer tokens by role; created with fresh tokens if missing "
                   "(default: generated and printed).")
@click.option("--payment-timeout", default=900.0, show_default=True,
              type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="Unpaid orders expire after this and their stock returns.")
@click.option("--sweep-interval", default=1.0, show_default=True,
              type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="How often overdue orders are expired in the background.")
@click.option("--max-body", "max_body_bytes", default=65536, show_default=True,
              type=click.IntRange(min=1024), metavar="BYTES",
              help="Larger request bodies are refused with 413.")
@_friendly
def serve(db: str, host: str, port: int, workers: int, faults: tuple[str, ...],
          tokens_file: str | None, payment_timeout: float, sweep_interval: float,
          max_body_bytes: int) -> None:
    """Run the reference live-commerce service (the system under test)."""
    from simlive.service.server import serve as run_service

    run_service(db=db, host=host, port=port, workers=workers, faults=list(faults),
                tokens_file=tokens_file, payment_timeout=payment_timeout,
                sweep_interval=sweep_interval, max_body_bytes=max_body_bytes)


def main() -> None:
    cli(prog_name="simlive")


if __name__ == "__main__":  # pragma: no cover
    main()
