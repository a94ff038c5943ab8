"""The ``simlive`` command line: maps options onto the features, and errors onto exit codes.

One module per command group, each importing only :mod:`simlive.cli.common`; this module
puts them on one group. Each command imports its feature when it runs, so ``--help`` and
``validate`` stay fast; every ``SimliveError`` becomes its message on stderr and its exit
code, never a traceback.
"""

from __future__ import annotations

import click

from simlive import __version__
from simlive.cli.loadtest import check, load
from simlive.cli.planning import plan
from simlive.cli.serve import serve
from simlive.cli.simulate import run, schema, validate
from simlive.cli.target_files import target


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simlive")
def cli() -> None:
    """Simulate and load-test live e-commerce broadcasts against compliance rules."""


for _command in (run, validate, schema, plan, serve, load, target, check):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="simlive")
