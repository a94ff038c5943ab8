"""``simlive serve``: the reference service. The options map one to one onto
:func:`simlive.service.server.serve`."""

from __future__ import annotations

import click

from simlive.cli.common import fault_names, friendly


@click.command()
@click.option("--db", default="sqlite:///simlive.db", show_default=True,
              help="Database URL: a SQLite file, or postgresql://user@host/db.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind (0 picks a free one).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="uvicorn worker processes.")
@click.option("--fault", "faults", multiple=True, metavar="NAME", callback=fault_names,
              help="Break a rule on purpose (repeatable): oversell, stale-display, "
                   "lose-ticket, delete-review, no-replay, no-receipt, double-restock, "
                   "retain-from-creation.")
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
@click.option("--stock-buckets", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Split each new product's stock over this many rows, so that workers "
                   "(and lanes) take one SKU's units side by side (PostgreSQL); a product "
                   "may set its own.")
@click.option("--write-lanes", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Writer threads per worker, each committing its own batches of orders.")
@friendly
def serve(db: str, host: str, port: int, workers: int, faults: tuple[str, ...],
          tokens_file: str | None, payment_timeout: float, sweep_interval: float,
          max_body_bytes: int, stock_buckets: int, write_lanes: int) -> None:
    """Run the reference live-commerce service (the system under test)."""
    from simlive.extras import require

    require("service", "simlive serve")
    from simlive.service.server import serve as run_service

    run_service(db=db, host=host, port=port, workers=workers, faults=list(faults),
                tokens_file=tokens_file, payment_timeout=payment_timeout,
                sweep_interval=sweep_interval, max_body_bytes=max_body_bytes,
                stock_buckets=stock_buckets, write_lanes=write_lanes)
