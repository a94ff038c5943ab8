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


# --- serve (the reference service) -------------------------------------------------------
# Owned by simlive.service; the options map one to one onto simlive.service.server.serve().


@cli.command()
@click.option("--db", default="sqlite:///simlive.db", show_default=True,
              help="Database URL: a SQLite file, or postgresql://user@host/db.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind (0 picks a free one).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="uvicorn worker processes.")
@click.option("--fault", "faults", multiple=True, metavar="NAME",
              help="Break a rule on purpose (repeatable); see the README for the names.")
@click.option("--tokens", "tokens_file", type=click.Path(dir_okay=False), default=None,
              help="JSON file of bearer tokens by role (default: generated and printed).")
@_friendly
def serve(db: str, host: str, port: int, workers: int, faults: tuple[str, ...],
          tokens_file: str | None) -> None:
    """Run the reference live-commerce service (the system under test)."""
    from simlive.service.server import serve as run_service

    run_service(db=db, host=host, port=port, workers=workers, faults=list(faults),
                tokens_file=tokens_file)


def main() -> None:
    cli(prog_name="simlive")


if __name__ == "__main__":  # pragma: no cover
    main()
