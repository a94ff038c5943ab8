"""What every Locust user of one process shares: the plan and the history recorder."""

from __future__ import annotations

from dataclasses import dataclass

from simlive.load.recorder import Recorder
from simlive.load.setup import Plan


@dataclass
class Context:
    plan: Plan
    recorder: Recorder
    tag: str  # the process's name in the history: "local", "w<pid>", ...
