"""Replications with progress: a bar on a terminal, a line every few seconds in a log."""

from __future__ import annotations

import sys
from typing import Any

from click import echo


def expected_replications(conf: Any) -> int:
    """About how many replications ``--until-decided`` takes when no rule breaks: Wald's
    average sample number at P(broken) = 0, the most over the rules' risks."""
    import math

    from simlive.rules import RULE_IDS

    return max(math.ceil(conf.sprt(rid).expected_replications(0.0)) for rid in RULE_IDS)


LOG_EVERY = "SIMLIVE_LOG_EVERY"
"""The environment variable giving the seconds between progress lines in a log (default 5)."""


def log_every() -> float:
    """Seconds between progress lines when stderr is not a terminal: ``SIMLIVE_LOG_EVERY``,
    for a CI log that wants more or fewer of them, else 5."""
    import math
    import os

    from simlive.errors import UsageError

    text = os.environ.get(LOG_EVERY, "").strip()
    if not text:
        return 5.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.1 <= value <= 86400:
        raise UsageError(f"{LOG_EVERY}(={text!r}) must be a number of seconds from 0.1 to "
                         f"86400")
    return value


def simulate_with_progress(sc: Any, count: int, jobs: int, until_decided: bool, conf: Any,
                           quiet: bool, workers: Any, console: Any) -> Any:
    """``simulate`` with progress: a bar on a terminal, a line every few seconds when piped;
    ``--until-decided`` against the replications it likely needs, not its maximum."""
    import time

    from simlive.sim.replications import simulate

    if quiet:
        return simulate(sc, count, jobs, until_decided=until_decided, conf=conf,
                        workers=workers)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    expected = min(count, expected_replications(conf)) if until_decided else count
    tty = sys.stderr.isatty()
    every = log_every()
    said = [time.monotonic(), 0]

    def line(done: int) -> None:
        # piped: a line every few seconds once a run has taken that long (a log shows life),
        # and the last one then; a short run prints none (its tables follow at once)
        now = time.monotonic()
        if not tty and done > said[1] and (now - said[0] >= every or (done >= count
                                                                   and said[1] > 0)):
            echo(f"  {sc.name}: {done} of "
                       + (f"~{expected} expected (at most {count})" if until_decided
                          else str(count)) + " replications", err=True)
            said[0], said[1] = now, done

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed:.0f}/{task.total:.0f}"), TimeElapsedColumn(),
                  console=console, transient=True,
                  disable=not tty) as bar:  # no bar, no blank line in logs
        what = f"simulating {sc.name}" + (
            f" until decided (about {expected} replications if no rule breaks, at most "
            f"{count})" if until_decided else "")
        task = bar.add_task(what, total=expected)

        def progress(fraction: float) -> None:
            done = round(fraction * count)
            bar.update(task, completed=done, total=max(expected, done))
            line(done)

        return simulate(sc, count, jobs, progress=progress, until_decided=until_decided,
                        conf=conf, workers=workers)
