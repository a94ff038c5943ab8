"""Writing results as files other tools read: JSON (stable bytes) and CSV time series."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any


def _clean(value: Any) -> Any:
    """JSON has no infinity or NaN: both become null, consistently."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def to_json(data: dict[str, Any]) -> str:
    """Deterministic JSON text: same data, same bytes."""
    return json.dumps(_clean(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    Path(path).write_text(to_json(data), encoding="utf-8")


def write_series_csv(directory: str | Path, series: dict[str, Any]) -> list[Path]:
    """viewers.csv, stock.csv (long format, per SKU) and backlog.csv in ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    p = out / "viewers.csv"
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["time_s", "viewers", "arrivals_per_s", "orders_per_s"])
        for t, *row in zip(series["time_s"], series["viewers"], series["arrivals_per_s"],
                           series["orders_per_s"], strict=True):
            w.writerow([round(t, 6), *row])  # 7781.4, not 7781.400000000001
    written.append(p)
    p = out / "stock.csv"
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["time_s", "sku", "real", "displayed"])
        for sku, s in series["stock"].items():
            for t, real, shown in zip(series["time_s"], s["real"], s["displayed"],
                                      strict=False):
                w.writerow([round(t, 6), sku, real, shown])
    written.append(p)
    p = out / "backlog.csv"
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["time_s", "open_unanswered", "agents_on_shift"])
        for values in zip(series["backlog_time_s"], series["backlog"], series["agents"],
                          strict=True):
            w.writerow(values)
    written.append(p)
    return written


def write_sold_out_csv(directory: str | Path, rows: list[dict[str, Any]]) -> Path:
    """sold_out.csv: every SKU that sold out in some replication, earliest first."""
    p = Path(directory) / "sold_out.csv"
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name", "replications", "share", "at_s_mean", "at_s_ci_low",
                    "at_s_ci_high", "into_slot_s"])
        for row in rows:
            ci = row["at_s"]["ci95"] or [None, None]
            w.writerow([row["sku"], row["name"], row["replications"], row["share"],
                        row["at_s"]["mean"], ci[0], ci[1], row["into_slot_s"]])
    return p


def prepare_output(path: str | None, option: str, directory: bool = False) -> None:
    """Make an output path writable before any work is done, creating missing parent
    folders (every output option behaves alike), so a typo does not cost a finished
    simulation. Raises a UsageError naming the option."""
    import os

    from simlive.errors import UsageError

    if not path or path == "-":
        return
    target = Path(path)
    folder = target if directory else target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot create the folder {folder}: "
                         f"{exc.strerror or exc}") from None
    if not directory and target.is_dir():
        raise UsageError(f"{option} {path}: is a folder; expected a file name")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{option} {path}: the folder {folder} is not writable")
