"""Reading the load profile ``simlive plan --emit-load-profile`` writes, as a load target.

The profile states the peaks a broadcast implies, per operation: orders placed per second,
stock reads per second, tickets opened per second (``operations:``; profiles written before
it are read from their ``peak:`` figures). ``simlive load --profile`` holds each one as its
own open-model arrival rate along the scenario's curve (:mod:`simlive.load.arrivals`), so
"can the shop hold Double 11" becomes one run whose report says, per operation, what was
planned and what was achieved.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from simlive.errors import UsageError

RATES = ("order_writes_per_s", "stock_reads_per_s", "ticket_operations_per_s")
TICKET_OPERATIONS = 5  # open, reply, start, resolve, close: the API calls of one ticket
STREAMS = ("order", "read_stock", "open_ticket", "review", "browse")  # what arrivals can do
MAX_RATE = 1_000_000.0  # per operation: beyond any one load generator


def _rate(path: Path, key: str, value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not \
            math.isfinite(value) or value < 0 or value > MAX_RATE:
        raise UsageError(f"--profile {path}: {key}: expected a number >= 0 (per second, at "
                         f"most {MAX_RATE:,.0f}); found {value!r}")
    return float(value)


def profile_rates(path: Path) -> dict[str, float]:
    """Per operation, the peak rate to hold (per second); a UsageError names what is wrong
    with the file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"--profile {path}: cannot read it ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise UsageError(f"--profile {path}: expected a 'peak' mapping, as written by "
                         "simlive plan --emit-load-profile")
    ops = doc.get("operations")
    if ops is not None:
        if not isinstance(ops, dict):
            raise UsageError(f"--profile {path}: operations: expected a mapping of "
                             f"operation: rate per second; found {ops!r:.60}")
        out = {}
        for name, value in ops.items():
            if name not in STREAMS:
                raise UsageError(f"--profile {path}: operations.{name}: expected one of "
                                 f"{', '.join(STREAMS)}")
            out[str(name)] = _rate(path, f"operations.{name}", value)
    else:
        peak = doc.get("peak")
        if not isinstance(peak, dict):
            raise UsageError(f"--profile {path}: expected a 'peak' mapping, as written by "
                             "simlive plan --emit-load-profile")
        got = {key: _rate(path, f"peak.{key}", peak.get(key)) for key in RATES}
        out = {"order": got["order_writes_per_s"] / 2,  # placed, then paid: two writes
               "read_stock": got["stock_reads_per_s"],
               "open_ticket": got["ticket_operations_per_s"] / TICKET_OPERATIONS}
    if sum(out.values()) <= 0:
        raise UsageError(f"--profile {path}: the peak rates add up to 0 requests per second")
    return {k: v for k, v in out.items() if v > 0}


def profile_rate(path: Path) -> float:
    """Total operations per second at the peak (every operation's rate added)."""
    return sum(profile_rates(path).values())
