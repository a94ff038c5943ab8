"""What every part of the scenario contract shares: the strict model base and small helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, model_validator

from simlive.scenario.dists import Exponential
from simlive.scenario.units import Mismatch, durations

CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"  # local time of day, HH:MM


class Model(BaseModel):
    """Unknown keys are errors (reported with their line), and a scenario is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(Model):
    """A stretch of time written ``from``/``to`` (fields ``start``, ``end`` of the model
    that extends this): ``to`` must come after ``from``."""

    if TYPE_CHECKING:  # declared by each model that extends this, with its own alias
        start: float
        end: float

    @model_validator(mode="after")
    def _ordered(self) -> Any:
        start, end = self.start, self.end
        if end <= start:
            raise Mismatch("to after from", f"from {durations([start])} to "
                           f"{durations([end])}", as_is=True)
        return self


def _exp(mean: str) -> Exponential:
    return Exponential(dist="exponential", mean=mean)
