"""Reading the load profile ``simlive plan --emit-load-profile`` writes, as a load target.

The profile states the peaks a broadcast implies; a load test holds their sum as its open-model
arrival rate at the curve's peak, so "can the service hold Double 11" becomes one run.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from simlive.errors import UsageError

RATES = ("order_writes_per_s", "stock_reads_per_s", "ticket_operations_per_s")


def profile_rate(path: Path) -> float:
    """Total requests per second at the peak; a UsageError names what is wrong with the file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"--profile {path}: cannot read it ({type(exc).__name__})") from None
    peak = doc.get("peak") if isinstance(doc, dict) else None
    if not isinstance(peak, dict):
        raise UsageError(f"--profile {path}: expected a 'peak' mapping, as written by "
                         "simlive plan --emit-load-profile")
    total = 0.0
    for key in RATES:
        value = peak.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise UsageError(f"--profile {path}: peak.{key}: expected a number >= 0; "
                             f"found {value!r}")
        total += float(value)
    if total <= 0:
        raise UsageError(f"--profile {path}: the peak rates add up to 0 requests per second")
    return total
