"""``simlive target init`` and ``target check``: write and preflight a target file."""

from __future__ import annotations

import click

from simlive.cli.common import console_for, friendly


@click.group()
def target() -> None:
    """Target files: how simlive's operations map onto a shop's HTTP API."""


@target.command("init")
def target_init() -> None:
    """Print a commented starter target file with every operation."""
    from simlive.shops.starter import starter

    click.echo(starter(), nl=False)


@target.command("check")
@click.argument("target_file", metavar="TARGET")
@click.option("--host", required=True, help="Base URL of the shop.")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="JSON tokens by role.")
@click.option("--admin-token", envvar="SIMLIVE_ADMIN_TOKEN", default=None,
              help="Admin token (or SIMLIVE_ADMIN_TOKEN).")
@friendly
def target_check(target_file: str, host: str, token_file: str | None,
                 admin_token: str | None) -> None:
    """Preflight: call each mapped operation once on the shop and show what works.

    Exit 0 when every mapped operation works, 2 naming each one that does not.
    """
    from rich.table import Table

    from simlive.errors import UsageError
    from simlive.shops.files import load_target, read_tokens
    from simlive.shops.preflight import broken, run_preflight

    tgt = load_target(target_file)
    rows = run_preflight(tgt, host.rstrip("/"), read_tokens(token_file, admin_token))
    table = Table(title=f"Preflight of {tgt.name} on {host}", title_justify="left")
    for col in ("operation", "request", "status", "extracted", "works?"):
        table.add_column(col, overflow="fold")
    for r in rows:
        style = {True: "green", False: "bold red", None: "dim"}[r.works]
        table.add_row(r.op, r.request, r.status, r.fields, f"[{style}]{r.verdict}[/]")
    console_for().print(table)
    bad = broken(rows)
    denied = [r.op for r in rows if r.works is False and ("HTTP 401" in r.verdict
                                                          or "HTTP 403" in r.verdict)]
    if len(denied) >= 2:
        click.echo(f"hint: {len(denied)} operation(s) were refused as unauthorised (401/403): "
                   "check the tokens and each role's auth (from, key, scheme, name, prefix)",
                   err=True)
    if bad:
        raise UsageError(f"{len(bad)} operation(s) do not work: {', '.join(bad)}")
    click.echo(f"every mapped operation works ({sum(1 for r in rows if r.works)} checked; "
               f"{len(tgt.unsupported)} unsupported: the rules needing them will say "
               "unknown)")
