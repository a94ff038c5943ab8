"""The terminal every command prints to: its own width, or ``COLUMNS``, or 160 when piped."""

from __future__ import annotations

import os
import sys
from typing import Any


def make_console(stderr: bool = False) -> Any:
    """A rich console: the terminal's width, or ``COLUMNS`` when set (rich reads it); piped
    output without it (CI logs, files) gets 160 columns instead of rich's 80."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 160
    return Console(stderr=stderr, highlight=False, width=width)
