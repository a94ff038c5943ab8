"""The scenario contract: pydantic models with a default for everything optional.

One file describes one broadcast, and the simulator, the capacity planner and the Locust
shape all read it. Times are seconds from the start of the broadcast, rates are per second
(see ``units``). Cross-references (a schedule naming a SKU, shifts that overlap) are checked
in ``checks`` so that their errors can point at the offending line too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from simlive.rules import RULES
from simlive.scenario.dists import Distribution, Exponential, Fixed, Gamma, Lognormal
from simlive.scenario.load import LoadSettings
from simlive.scenario.units import Fraction, Mismatch, PerSecond, Seconds

TICKET_KINDS = ("consultation", "return", "replacement", "refund", "complaint")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _exp(mean: str) -> Exponential:
    return Exponential(dist="exponential", mean=mean)


# --- audience ------------------------------------------------------------------------------


class Keyframe(Model):
    at: Seconds
    rate: PerSecond


class Spike(Model):
    """A burst of extra arrivals, e.g. when a flash sale is announced."""

    at: Seconds
    rate: PerSecond = Field(description="extra arrivals per second at the start of the spike")
    duration: Seconds = Field(gt=0)
    shape: Literal["flat", "decay"] = "decay"
    label: str = ""


class Audience(Model):
    arrivals: list[Keyframe] = Field(min_length=1)
    interpolation: Literal["linear", "step"] = "linear"
    spikes: list[Spike] = []
    dwell: Distribution = Field(default_factory=lambda: Lognormal(
        dist="lognormal", mean="6m", sd="8m"))

    @model_validator(mode="after")
    def _sorted(self) -> Audience:
        times = [k.at for k in self.arrivals]
        if times != sorted(times):
            raise Mismatch("keyframes in time order", f"at {times}")
        return self


# --- products ------------------------------------------------------------------------------


class Sku(Model):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = ""
    price: float = Field(gt=0)
    stock: int = Field(ge=0)
    displayed_stock: int | None = Field(default=None, ge=0, description=(
        "the linked quantity shown to viewers at the start; defaults to stock"))
    limit: int = Field(default=5, ge=1, description="units one buyer may order")
    category: str = "general"
    return_rate: Fraction | None = Field(default=None, description=(
        "fraction of paid orders returned; defaults to aftersales.returns.fraction"))
    return_exempt: bool = False


class Generate(Model):
    """A catalogue made up with Faker (seeded), for scenarios with hundreds of SKUs."""

    count: int = Field(ge=1, le=100_000)
    prefix: str = Field(default="GEN", pattern=r"^[A-Za-z0-9._-]+$")
    price: Distribution = Field(default_factory=lambda: Lognormal(
        dist="lognormal", mean=120, sd=90))
    stock: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean=2000, sd=1500))
    limit: int = Field(default=5, ge=1)
    categories: dict[str, Fraction] = Field(default_factory=lambda: {"general": 1.0})
    return_rates: dict[str, Fraction] = {}
    return_exempt: list[str] = []
    start: Seconds = 0.0
    segment: Seconds = Field(default=120.0, gt=0, description="presentation of each SKU")
    propensity: PerSecond = Field(default=0.0, description="orders per present viewer")


class Segment(Model):
    sku: str
    start: Seconds = Field(alias="from")
    end: Seconds = Field(alias="to")
    propensity: PerSecond = Field(description="orders per present viewer, e.g. 0.01/min")

    @model_validator(mode="after")
    def _ordered(self) -> Segment:
        if self.end <= self.start:
            raise Mismatch("to after from", f"from {self.start:g}s to {self.end:g}s")
        return self


class FlashSale(Model):
    sku: str
    at: Seconds
    duration: Seconds = Field(gt=0)
    price: float = Field(gt=0)
    quantity: int | None = Field(default=None, ge=0, description=(
        "units released for the sale (added to stock at its start); none: existing stock"))
    boost: float = Field(default=10.0, ge=0, description="propensity multiplier during it")
    spike: PerSecond = Field(default=0.0, description="extra viewer arrivals it draws")


class Restock(Model):
    sku: str
    at: Seconds
    quantity: int = Field(ge=1)


class Products(Model):
    skus: list[Sku] = []
    generate: Generate | None = None
    schedule: list[Segment] = []
    flash_sales: list[FlashSale] = []
    restocks: list[Restock] = []


# --- orders and stock ----------------------------------------------------------------------


class Orders(Model):
    units: dict[int, float] = Field(default_factory=lambda: {1: 0.85, 2: 0.12, 3: 0.03},
                                    description="units per order -> probability")
    pay_probability: Fraction = 0.9
    pay_delay: Distribution = Field(default_factory=lambda: _exp("40s"))
    payment_timeout: Seconds = Field(default=900.0, gt=0)
    display_refresh: Seconds = Field(default=1.0, ge=0, description=(
        "how often the displayed stock is refreshed from the real stock"))
    reserve_on: Literal["order", "payment"] = Field(default="order", description=(
        "'payment' checks stock at order time but reserves only when paid: oversells"))
    release: Literal["once", "twice"] = Field(default="once", description=(
        "'twice' returns an expired order's units twice: breaks the ledger"))
    receipt_failure: Fraction = 0.0
    delivery: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean="2d", sd="1d"))

    @model_validator(mode="after")
    def _units(self) -> Orders:
        if not self.units or any(k < 1 for k in self.units) or any(
                p < 0 for p in self.units.values()) or sum(self.units.values()) <= 0:
            raise Mismatch("unit counts >= 1 with non-negative probabilities",
                           dict(self.units))
        return self


# --- after-sales ---------------------------------------------------------------------------


class Consultations(Model):
    rate: PerSecond = 0.0
    per_viewer: PerSecond = Field(default=0.0, description=(
        "chats per present viewer, e.g. 0.2/h; added to rate"))


class Requests(Model):
    """Tickets that follow a paid order: returns, replacements, refunds, complaints."""

    fraction: Fraction
    delay: Distribution = Field(default_factory=lambda: Gamma(dist="gamma", mean="3d",
                                                               sd="2d"))


class Shift(Model):
    start: Seconds = Field(alias="from")
    end: Seconds = Field(alias="to")
    agents: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end <= self.start:
            raise Mismatch("to after from", f"from {self.start:g}s to {self.end:g}s")
        return self


def _handling() -> dict[str, Distribution]:
    return {
        "consultation": _exp("2m"),
        "return": _exp("4m"),
        "replacement": _exp("5m"),
        "refund": _exp("3m"),
        "complaint": _exp("8m"),
    }


class Aftersales(Model):
    consultations: Consultations = Consultations()
    returns: Requests = Requests(fraction=0.1)
    replacements: Requests = Requests(fraction=0.01)
    refunds: Requests = Requests(fraction=0.02, delay=_exp("12h"))
    complaints: Requests = Requests(fraction=0.005)
    agents: list[Shift] = Field(min_length=1)
    handling: dict[Literal["consultation", "return", "replacement", "refund", "complaint"],
                   Distribution] = Field(default_factory=_handling)
    patience: Distribution | None = Field(default_factory=lambda: _exp("5m"), description=(
        "how long a chat waits before leaving (it is still owed a reply); null: forever"))
    goods_return: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean="3d", sd="1d"))
    refund_delay: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean="1d", sd="12h"))
    resolve_delay: Distribution = Field(default_factory=lambda: _exp("1d"))
    feedback_delay: Distribution = Field(default_factory=lambda: _exp("1d"))
    feedback_timeout: Seconds | None = Field(default=7 * 86400.0, gt=0, description=(
        "a resolved ticket whose consumer gives no feedback is closed after this, recorded "
        "as 'no feedback' (platforms auto-close); null: it waits for feedback forever"))
    lose_fraction: Fraction = Field(default=0.0, description=(
        "tickets the desk silently drops: breaks tracked-to-closure"))
    accept_returns_within: Seconds = Field(default=7 * 86400.0, description=(
        "the merchant's no-reason return window; shorter than 7d breaks the law"))
    horizon: Seconds = Field(default=30 * 86400.0, gt=0, description=(
        "how long after the broadcast after-sales are simulated"))

    @field_validator("handling", mode="after")
    @classmethod
    def _every_kind(cls, value: dict) -> dict:
        """Kinds left out keep their default handling time, so a file names only changes."""
        return {**_handling(), **value}


# --- replay, reviews, simulation -------------------------------------------------------------


class Replay(Model):
    record: bool = True
    publish_delay: Distribution = Field(default_factory=lambda: Lognormal(
        dist="lognormal", mean="3m", sd="1m"))
    failure_probability: Fraction = 0.0
    retention: Seconds = 3 * 365 * 86400.0
    records_retention: Seconds = 3 * 365 * 86400.0


class Reviews(Model):
    fraction: Fraction = 0.2
    bad_fraction: Fraction = 0.08
    delay: Distribution = Field(default_factory=lambda: _exp("2d"))
    delete_bad: Fraction = Field(default=0.0, description=(
        "fraction of bad reviews the merchant deletes: breaks reviews.not-deleted"))


class Simulation(Model):
    step: Seconds = Field(default=1.0, gt=0, le=60, description=(
        "time resolution of orders and stock"))
    series_step: Seconds | None = Field(default=None, gt=0, description=(
        "resolution of the CSV and HTML time series (default: about 2000 points)"))
    desk_engine: Literal["auto", "simpy", "fast"] = Field(default="auto", description=(
        "after-sales desk: SimPy processes, or the exact FCFS recursion for millions of "
        "tickets; auto picks SimPy below 200k tickets"))


def _rule_overrides() -> type[BaseModel]:
    """A model with one optional block per rule id, its fields the rule's parameters."""
    from pydantic import create_model

    blocks = {}
    for rule in RULES.values():
        fields = {}
        for p in rule.params:
            typ = {"duration": Seconds, "count": Annotated[int, Field(ge=0)],
                   "fraction": Fraction}[p.kind]
            fields[p.name] = (typ | None, Field(default=None, description=p.doc))
        block = create_model(
            "Rule_" + rule.id.replace(".", "_").replace("-", "_"),
            __config__=ConfigDict(extra="forbid", frozen=True),
            **fields,
        )
        blocks[rule.id] = (block | None, Field(default=None, description=rule.summary))
    return create_model("Compliance", __config__=ConfigDict(extra="forbid", frozen=True),
                        **blocks)


Compliance = _rule_overrides()


class Scenario(Model):
    name: str = Field(min_length=1)
    seed: int = Field(default=1, ge=0)
    duration: Seconds = Field(gt=0)
    audience: Audience
    products: Products
    orders: Orders = Orders()
    aftersales: Aftersales
    replay: Replay = Replay()
    reviews: Reviews = Reviews()
    simulation: Simulation = Simulation()
    compliance: Compliance = Compliance()  # type: ignore[valid-type]
    load: LoadSettings = LoadSettings()

    def rule_overrides(self) -> dict[str, dict[str, float]]:
        """The compliance block as ``{rule id: {param: value}}``, unset values left out."""
        out: dict[str, dict[str, float]] = {}
        for rid in RULES:
            block = self.compliance.__dict__.get(rid)
            if block is not None:
                out[rid] = {k: v for k, v in block.model_dump().items() if v is not None}
        return out


# Fixed is imported for scenarios built in code (tests, the planner).
__all__ = ["Scenario", "TICKET_KINDS", "Fixed"]
