"""What every Locust user of one process shares: the run, the history recorder, the hooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simlive.load.recorder import Recorder
from simlive.load.run import LoadRun


@dataclass
class Context:
    run: LoadRun
    recorder: Recorder
    tag: str  # the process's name in the history: "local", "w<pid>", ...
    hooks: Any = None  # the target's hook object, if it names one
    # a flash sale's SKU -> its release instant (epoch): until then the sale's units wait
    # for its buyers, and ordinary users order other products
    holds: dict[str, float] = field(default_factory=dict)
    crowds: dict[int, Any] = field(default_factory=dict)  # this process's, by sale index
