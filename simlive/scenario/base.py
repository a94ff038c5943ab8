"""What every part of the scenario contract shares: the strict model base and small helpers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from simlive.scenario.dists import Exponential

CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"  # local time of day, HH:MM


class Model(BaseModel):
    """Unknown keys are errors (reported with their line), and a scenario is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _exp(mean: str) -> Exponential:
    return Exponential(dist="exponential", mean=mean)
