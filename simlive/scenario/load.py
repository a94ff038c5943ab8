"""The ``load:`` section of a scenario: how a load test replays the broadcast against a service.

A load test cannot run a 4-hour broadcast with ten million viewers, so this section says how
to shrink it: the whole traffic curve is compressed into ``run_time`` real seconds and scaled
so that its peak is ``peak_users`` Locust users (closed model) or ``arrival_rate`` requests
per second (open model). Stock is capped (``max_stock``) so a short test still sells a hot SKU
out. Thresholds turn Locust's statistics into exit code 3.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from simlive.operations import OperationName
from simlive.scenario.units import Number, RequestsPerSecond, Seconds


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OperationThreshold(_Model):
    """A limit on one operation, over the whole run or one phase of the broadcast:
    a latency percentile (``percentile`` + ``max_ms``), a failure ratio, or a rate."""

    operation: OperationName
    phase: Literal["all", "flash-sale", "outside-flash-sale"] = Field(default="all", description=(
        "all, or only while a flash sale runs (its window compressed like the curve), or "
        "outside them"))
    percentile: float = Field(default=95.0, gt=0, lt=100, description=(
        "with max_ms: which latency percentile (99 for p99, 99.9, ...)"))
    max_ms: float | None = Field(default=None, gt=0, le=3_600_000, description=(
        "the percentile's latency must not exceed this (ms)"))
    max_failure_ratio: float | None = Field(default=None, ge=0, le=1, description=(
        "failed / started (unknown outcomes and unexpected refusals count as failed; a "
        "sold-out answer does not)"))
    min_rate: RequestsPerSecond | None = Field(default=None, description=(
        "operations started per second, at least"))

    @model_validator(mode="after")
    def _one_limit(self) -> OperationThreshold:
        given = [k for k in ("max_ms", "max_failure_ratio", "min_rate")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("exactly one of max_ms, max_failure_ratio, min_rate")
        return self

    @property
    def name(self) -> str:
        if self.max_ms is not None:
            what = f"p{self.percentile:g} < {self.max_ms:g} ms"
        elif self.max_failure_ratio is not None:
            what = f"failure ratio <= {self.max_failure_ratio:g}"
        else:
            what = f"rate >= {self.min_rate:g}/s"
        return f"{self.operation} {what}" + ("" if self.phase == "all" else
                                             f" during {self.phase}")


class Thresholds(_Model):
    """Performance limits; a limit left out is not checked."""

    p95_ms: Number | None = Field(default=2000.0, gt=0, description="p95 latency, ms")
    max_failure_ratio: float | None = Field(default=0.01, ge=0, le=1, description=(
        "failed requests / requests (expected business refusals such as sold_out are not "
        "failures)"))
    min_rps: Number | None = Field(default=None, ge=0, description="mean requests per second")
    operations: list[OperationThreshold] = Field(default_factory=list, max_length=1000,
                                                 description="limits per operation and phase")


Role = Literal["viewer", "buyer", "aftersales", "agent", "reviewer"]


def _weights() -> dict[Role, float]:
    return {"viewer": 60.0, "buyer": 30.0, "aftersales": 6.0, "agent": 2.0, "reviewer": 4.0}


class LoadSettings(_Model):
    # buyer_accounts is also read under its old name, viewer_tokens
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    run_time: Seconds = Field(default=60.0, gt=0, description=(
        "real seconds the whole broadcast is compressed into"))
    peak_users: int = Field(default=50, ge=1, le=1_000_000, description=(
        "Locust users at the traffic curve's peak (closed model)"))
    spawn_rate: Number | None = Field(default=None, gt=0, description=(
        "users started per second; default: peak_users (spikes stay sharp)"))
    mode: Literal["closed", "open"] = "closed"
    arrival_rate: RequestsPerSecond | None = Field(default=None, description=(
        "open model: requests per second held at the curve's peak, whatever the latency"))
    user_rate: RequestsPerSecond = Field(default=2.0, gt=0, description=(
        "open model: requests per second one user issues (pacing)"))
    weights: dict[Role, Annotated[Number, Field(ge=0)]] = Field(default_factory=_weights)
    max_stock: int | None = Field(default=40, ge=1, description=(
        "cap on each SKU's stock for a short test; the hot SKU keeps the smallest stock"))
    buyer_accounts: int = Field(default=200, ge=1, le=100_000, validation_alias=AliasChoices(
        "buyer_accounts", "viewer_tokens"), description=(
        "distinct buyer accounts minted at setup (viewer_tokens: its old name, still read)"))
    payment_timeout: Seconds = Field(default=3.0, gt=0, description=(
        "with --serve: the service's payment timeout, so unpaid orders expire within the test"))
    request_timeout: Seconds | None = Field(default=None, gt=0, le=600, description=(
        "a request without an answer after this is recorded as info (outcome unknown); "
        "default: the target's timeout (the reference service's: 5 s); set here, it wins "
        "over the target's in every model (closed, open, --profile) and for flash-sale "
        "buyers"))
    max_inflight: int = Field(default=200, ge=1, le=100_000, description=(
        "with --profile: arrivals of one operation in flight at once per process; one due "
        "while all are busy is dropped and reported as the generator's shortfall"))
    flash_sale_buyers: int | None = Field(default=None, ge=1, le=100_000, description=(
        "buyers prepared ahead and released together at each flash sale's opening, over "
        "all Locust processes; default: the load's users at the opening (peak_users scaled "
        "by the curve there), at least twice the units the sale puts on sale"))
    flash_sale_lead: Seconds = Field(default=3.0, gt=0, le=600, description=(
        "how long before a flash sale opens its units are added and its buyers prepared "
        "(session, cart, every step of the order before its commit step)"))
    flash_sale_preparers: int = Field(default=32, ge=1, le=10_000, description=(
        "flash-sale buyers preparing at once in each Locust process (a shop flooded with "
        "every buyer's cart at once answers late or not at all; the release waits for all)"))
    flash_sale_spread: Seconds = Field(default=0.1, gt=0, le=60, description=(
        "a flash sale whose buyers' commit requests left more than this after the release "
        "instant (p99) is reported as gentler than planned"))
    thresholds: Thresholds = Thresholds()
