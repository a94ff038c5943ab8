"""The composition root of a load run: one object every Locust process receives.

A :class:`LoadRun` holds the effective scenario (with the CLI's overrides applied), the
target, the host, what setup provisioned, and the run's settings. It is serialized whole
(``run.json``, or a message from the master to its workers), so no process re-reads the
scenario file and silently drops what the command line changed. Imports no locust.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simlive.errors import UsageError
from simlive.scenario.schema import Scenario
from simlive.scenario.units import STORED
from simlive.shops.provision import Provisioned
from simlive.shops.target_file import Target


@dataclass
class LoadRun:
    scenario: Scenario
    target: Target
    host: str
    run_id: str
    out: str  # the output folder; histories go to <out>/history
    provisioned: Provisioned | None = None
    target_name: str = "reference"
    tokens: dict[str, list[str]] = field(default_factory=dict)  # as given (file, --admin-token)
    profile: dict[str, float] | None = None  # per operation, the peak arrivals per second
    workers: int = 0  # Locust worker processes (0: one local process)

    @property
    def history_dir(self) -> Path:
        return Path(self.out) / "history"

    @property
    def request_timeout(self) -> float:
        """Seconds before a request's outcome is unknown: the scenario's
        ``load.request_timeout`` when set, else the target's ``timeout``; one rule for every
        model and for flash-sale buyers."""
        return float(self.scenario.load.request_timeout or self.target.timeout)

    @property
    def flash_sale_patience(self) -> float:
        """How long the coordinator waits for every process's buyers to be prepared (a
        process waits as long for its own): four request timeouts and ten seconds."""
        return self.request_timeout * 4 + 10.0

    @property
    def overtime(self) -> float:
        """The most a load may run past ``run_time`` to finish its flash sales: each may
        wait for its buyers' preparation and then for their answers."""
        n = len(self.provisioned.flash_sales) if self.provisioned is not None else \
            len(self.scenario.products.flash_sales)
        return n * (self.flash_sale_patience + self.request_timeout * 3 + 15.0)

    @property
    def seed(self) -> int:
        return self.scenario.seed

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario.model_dump(mode="json", by_alias=True),
                "target": self.target.model_dump(mode="json", by_alias=True,
                                                 exclude_defaults=True),
                "host": self.host, "run_id": self.run_id, "out": self.out,
                "provisioned": self.provisioned.to_dict() if self.provisioned else None,
                "target_name": self.target_name, "tokens": self.tokens,
                "profile": self.profile, "workers": self.workers}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadRun:
        prov = data.get("provisioned")
        return cls(scenario=Scenario.model_validate(data["scenario"], context=STORED),
                   target=Target.model_validate(data["target"]), host=data["host"],
                   run_id=data["run_id"], out=data["out"],
                   provisioned=Provisioned.from_dict(prov) if prov else None,
                   target_name=data.get("target_name", ""), tokens=data.get("tokens", {}),
                   profile=data.get("profile"), workers=int(data.get("workers", 0)))

    def write(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        return p

    @classmethod
    def read(cls, path: str | Path) -> LoadRun:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"--simlive-run {path}: not a run file written by simlive load "
                             f"({type(exc).__name__}: {exc})") from None
