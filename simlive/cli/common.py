"""What every command shares: errors as exit codes, consoles, JUnit, option types.

Imports click alone, so that ``simlive --help`` stays instant; each command imports its
feature when it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from simlive.errors import SimliveError


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a SimliveError into its message and exit code (click's own errors pass through)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SimliveError as exc:
            click.echo(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def write_junit(path: str | None, title: str, verdicts: list[Any],
                 thresholds: list[Any] | None = None) -> None:
    if path:
        from pathlib import Path

        from simlive.report.junit import junit_xml

        Path(path).write_bytes(junit_xml(title, verdicts, thresholds or []))


def junit_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--junit", "junit_path", type=click.Path(dir_okay=False), default=None,
                        help="Write the verdicts (and thresholds) as JUnit XML for CI: a test "
                             "case per rule, failed or skipped (unknown).")(func)


def by_party_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--by-party", "by_party", is_flag=True,
                        help="Group the verdicts by who owes each rule: the platform, the "
                             "brand store, the host.")(func)


def console_for(stderr: bool = False):
    """A rich console sized for where it prints (``report.console.make_console``)."""
    from simlive.report.console import make_console

    return make_console(stderr)


class Share(click.ParamType):
    """A probability on the command line: ``5%`` or ``0.05``."""

    name = "share"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            self.fail(f"expected a share such as 5% or 0.05; found {value!r}", param, ctx)
        if not self.low <= share <= self.high:
            self.fail(f"expected {self.low:.1%} .. {self.high:.0%}; found {value!r}", param, ctx)
        return share


def interval_option(text: str | None) -> float | None:
    from simlive.errors import UsageError
    from simlive.scenario.units import Mismatch, parse_duration

    if text is None:
        return None
    try:
        value = parse_duration(text)
    except Mismatch:
        value = -1.0
    if not 60 <= value <= 86400:
        raise UsageError(f"--interval {text!r}: expected a duration from 1m to 1d, e.g. 30m")
    return value


def fault_names(_ctx: click.Context, _param: click.Parameter,
                 value: tuple[str, ...]) -> tuple[str, ...]:
    from simlive.service.faults import FAULT_NAMES, explain_unknown

    for name in value:
        if name.strip().lower() not in FAULT_NAMES:
            raise click.BadParameter(explain_unknown(name))
    return value


def print_verdicts(verdicts: list[Any], thresholds: list[Any] | None = None,
                   by_party: bool = False) -> int:
    from simlive.load.runner import threshold_table
    from simlive.report.tables import VerdictView, summary
    from simlive.rules import exit_code

    console = console_for()
    console.print(VerdictView(verdicts, parties=by_party))
    if thresholds:
        console.print(threshold_table(thresholds))
    click.echo(summary(verdicts, thresholds or []), err=True)
    return exit_code(verdicts, all(t.passed for t in thresholds or []))


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--target, --token-file, --admin-token: the shop and its credentials."""
    func = click.option("--admin-token", envvar="SIMLIVE_ADMIN_TOKEN", default=None,
                        help="Admin token (or SIMLIVE_ADMIN_TOKEN): the token file's "
                             "'admin'.")(func)
    func = click.option("--token-file", type=click.Path(dir_okay=False), default=None,
                        help="JSON tokens by role, e.g. {\"admin\": \"t\", \"buyer\": "
                             "[...]}.")(func)
    func = click.option("--target", "target_file", default="reference", show_default=True,
                        help="Target file: how operations map onto the shop's HTTP API "
                             "('reference': simlive's own service).")(func)
    return func
