"""The scenario contract: pydantic models with a default for everything optional.

One file describes one broadcast, and the simulator, the capacity planner and the Locust
shape all read it. Times are seconds from the start of the broadcast, rates are per second
(see ``units``). Cross-references (a schedule naming a SKU, shifts that overlap) are checked
in ``checks`` so that their errors can point at the offending line too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from simlive.rules import RULES
from simlive.scenario.aftersales import (  # noqa: F401 - the contract's after-sales part
    TICKET_KINDS,
    Aftersales,
    Consultations,
    DailyProfile,
    Requests,
    ServiceLevel,
    Shift,
)
from simlive.scenario.base import CLOCK, Model, Span, _exp
from simlive.scenario.counters import Counters
from simlive.scenario.dists import Distribution, Fixed, Gamma, Lognormal
from simlive.scenario.keeping import Replay, Reviews
from simlive.scenario.load import LoadSettings
from simlive.scenario.presentation import Presentation
from simlive.scenario.pricing import Pricing
from simlive.scenario.units import (
    BOOST_MAX,
    PRICE_BOUND,
    STOCK_BOUND,
    UNITS_BOUND,
    Days,
    Fraction,
    Mismatch,
    Number,
    Offset,
    PerSecond,
    Seconds,
    at_least,
    at_most,
    count,
    durations,
    parse_share,
)
from simlive.scenario.warehouse import Fulfilment

ExemptKind = Literal["made-to-order", "fresh-perishable", "digital-opened",
                     "newspapers-periodicals"]
"""simlive.rules.RETURN_EXEMPT: the kinds of goods exempt from no-reason returns."""
ExcludableKind = Literal["unsealed-health-quality", "activated-or-tried",
                         "disclosed-expiry-or-flaw"]
"""simlive.rules.RETURN_EXCLUDABLE: goods a seller may exclude if the buyer confirms it."""


def _confirmed_share(raw: object) -> object:
    """``true``/``false`` for every purchase or none, else a share of purchases."""
    return float(raw) if isinstance(raw, bool) else parse_share(raw)


class ReturnExclusion(Model):
    """The seller excludes the SKU from no-reason returns (and refuses every return of it);
    lawful only for purchases whose buyer confirmed the exclusion when buying."""

    reason: ExcludableKind = Field(description=(
        "unsealed-health-quality, activated-or-tried or disclosed-expiry-or-flaw"))
    confirmed_at_purchase: Annotated[float, BeforeValidator(_confirmed_share),
                                     Field(ge=0, le=1)] = Field(description=(
        "whether the buyer confirmed the exclusion when buying: true, false, or the share "
        "of purchases confirmed (e.g. 80%)"))



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

    @field_validator("arrivals", mode="after")
    @classmethod
    def _sorted(cls, value: list[Keyframe]) -> list[Keyframe]:
        times = [k.at for k in value]
        if times != sorted(times):
            raise Mismatch("keyframes in time order", "at " + durations(times), as_is=True)
        return value


# --- products ------------------------------------------------------------------------------


class Sku(Model):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = ""
    price: Annotated[Number, PRICE_BOUND] = Field(gt=0)
    stock: Annotated[int, STOCK_BOUND] = Field(ge=0)
    displayed_stock: Annotated[int, STOCK_BOUND] | None = Field(default=None, ge=0, description=(
        "the linked quantity shown to viewers at the start; defaults to stock"))
    warehouse: Annotated[int, STOCK_BOUND] | None = Field(default=None, ge=0, description=(
        "units ready in the warehouse before going live (fulfilment.on-time): orders for "
        "the linked stock beyond them wait for fulfilment.replenish; defaults to stock "
        "(all ready)"))
    limit: Annotated[int, UNITS_BOUND] = Field(default=5, ge=1, description=(
        "units one buyer may order"))
    category: str = "general"
    store: str | None = Field(default=None, max_length=64, description=(
        "the brand's store that sells it (and answers its after-sales at a desk taking "
        "the store)"))
    return_rate: Fraction | None = Field(default=None, description=(
        "fraction of paid orders returned; defaults to aftersales.returns.fraction"))
    return_exempt: ExemptKind | None = Field(default=None, description=(
        "why the law exempts this SKU from seven-day no-reason returns: made-to-order, "
        "fresh-perishable, digital-opened or newspapers-periodicals (food in general is not "
        "exempt)"))
    return_excluded: ReturnExclusion | None = Field(default=None, description=(
        "the seller excludes this SKU from no-reason returns: {reason, "
        "confirmed_at_purchase}; a refusal is lawful only where the buyer confirmed"))

    @model_validator(mode="after")
    def _exempt_or_excluded(self) -> Sku:
        if self.return_exempt is not None and self.return_excluded is not None:
            raise Mismatch("return_exempt or return_excluded, not both (goods the law "
                           "exempts need no buyer's confirmation)", "both", as_is=True)
        return self


class Popularity(Model):
    """How unevenly generated SKUs sell: hero SKUs and a long tail. Each SKU's propensity is
    ``generate.propensity`` times its weight, the weights averaging 1 (the catalogue sells
    as much in all; the hero SKUs take most of it)."""

    shape: Literal["zipf", "lognormal"] = Field(description=(
        "zipf: the r-th most popular SKU (ranks in a seeded random order) weighs 1/r^spread; "
        "lognormal: weights exp(spread * z), z standard normal"))
    spread: float = Field(ge=0.0, le=4.0, description=(
        "zipf: the exponent (about 1 for retail sales); lognormal: sigma of the log weights"))


class Stores(Model):
    """The stores generated SKUs come from: ``PREFIX-001`` onwards. The SKU of popularity
    rank r (0 the most popular) is sold by store r mod count, so store 001 has the hero
    SKU and the first stores sell most."""

    count: int = Field(ge=1, le=100_000)
    prefix: str = Field(default="STORE", pattern=r"^[A-Za-z0-9._-]+$")


class Generate(Model):
    """A catalogue made up with Faker (seeded), for scenarios with hundreds of SKUs."""

    count: int = Field(ge=1, le=100_000)
    prefix: str = Field(default="GEN", pattern=r"^[A-Za-z0-9._-]+$")
    price: Distribution = Field(default_factory=lambda: Lognormal(
        dist="lognormal", mean=120, sd=90))
    stock: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean=2000, sd=1500))
    limit: Annotated[int, UNITS_BOUND] = Field(default=5, ge=1)
    categories: dict[str, Fraction] = Field(default_factory=lambda: {"general": 1.0})
    return_rates: dict[str, Fraction] = {}
    return_exempt: dict[str, ExemptKind] = Field(default_factory=dict, description=(
        "category -> the law's exempt kind for its SKUs, e.g. {fresh: fresh-perishable}"))
    return_excluded: dict[str, ReturnExclusion] = Field(default_factory=dict, description=(
        "category -> the seller's exclusion for its SKUs, e.g. {beauty: {reason: "
        "unsealed-health-quality, confirmed_at_purchase: true}}"))

    @model_validator(mode="after")
    def _exempt_or_excluded(self) -> Generate:
        both = sorted(set(self.return_exempt) & set(self.return_excluded))
        if both:
            raise Mismatch("return_exempt or return_excluded per category, not both",
                           ", ".join(both), as_is=True)
        return self
    start: Seconds = 0.0
    segment: Annotated[Seconds, at_least(1.0, "a presentation shorter than a second is a "
                                        "typo")] = Field(default=120.0, description=(
                                            "presentation of each SKU"))
    propensity: PerSecond = Field(default=0.0, description="orders per present viewer")
    popularity: Popularity | None = Field(default=None, description=(
        "skew the propensity over the SKUs (default: every SKU the same)"))
    stock_by_popularity: bool = Field(default=False, description=(
        "scale each drawn stock by its SKU's popularity weight (mean 1), as a team sizes "
        "stock to expected demand: stock is then what a product of average demand gets "
        "(default: drawn independently of popularity)"))
    stores: Stores | None = Field(default=None, description=(
        "the stores the SKUs come from (default: none named)"))
    warehouse_share: Fraction = Field(default=1.0, description=(
        "share of each SKU's stock ready in the warehouse before going live (rounded "
        "down; fulfilment.on-time); 1: all ready"))

    @model_validator(mode="after")
    def _ranked(self) -> Generate:
        if self.stock_by_popularity and (self.popularity is None
                                         or self.popularity.spread == 0):
            raise Mismatch("a popularity with spread > 0 to size the stock by",
                           "stock_by_popularity: true and every SKU equally popular",
                           as_is=True)
        return self


class Segment(Span):
    sku: str
    start: Seconds = Field(alias="from")
    end: Seconds = Field(alias="to")
    propensity: PerSecond = Field(description="orders per present viewer, e.g. 0.01/min")


class FlashSale(Model):
    sku: str
    at: Seconds
    duration: Seconds = Field(gt=0)
    price: Annotated[Number, PRICE_BOUND] = Field(gt=0)
    quantity: Annotated[int, STOCK_BOUND] | None = Field(default=None, ge=0, description=(
        "units released for the sale (added to stock at its start); none: existing stock"))
    boost: Annotated[Number, at_most(BOOST_MAX, "a million times the ordering rate", count)] \
        = Field(default=10.0, ge=0, description="propensity multiplier during it")
    spike: PerSecond = Field(default=0.0, description="extra viewer arrivals it draws")


class Restock(Model):
    sku: str
    at: Seconds
    quantity: Annotated[int, STOCK_BOUND] = Field(ge=1)


class Products(Model):
    skus: list[Sku] = []
    generate: Generate | None = None
    schedule: list[Segment] = []
    flash_sales: list[FlashSale] = []
    restocks: list[Restock] = []


# --- orders and stock ----------------------------------------------------------------------


class Presale(Model):
    """A presale: the payment made in the broadcast (``pay_probability``, ``pay_delay``,
    ``payment_timeout``) is a deposit; the balance is paid in a window days later. A
    deposit whose balance is not paid by the window's end is forfeited and its units go
    back to stock, once. Goods ship after the balance; receipts are issued for both."""

    deposit: Annotated[Fraction, Field(gt=0)] = Field(default=0.1, description=(
        "share of the price paid as the deposit"))
    balance_from: Seconds = Field(description="when the balance window opens (from the start)")
    balance_to: Seconds = Field(description="when it closes: unpaid deposits are forfeited")
    balance_probability: Fraction = Field(default=0.85, description=(
        "share of deposits whose balance is paid (if within the window)"))
    balance_delay: Distribution = Field(default_factory=lambda: _exp("1d"), description=(
        "when a balance is paid, after the window opens"))

    @model_validator(mode="after")
    def _window(self) -> Presale:
        if self.balance_to <= self.balance_from:
            raise Mismatch(f"balance_to after balance_from ({self.balance_from:g}s)",
                           self.balance_to)
        return self


class Orders(Model):
    units: dict[Annotated[int, UNITS_BOUND], Fraction] = Field(
        default_factory=lambda: {1: 0.85, 2: 0.12, 3: 0.03},
        description="units per order -> probability")
    pay_probability: Fraction = 0.9
    pay_delay: Distribution = Field(default_factory=lambda: _exp("40s"))
    payment_timeout: Annotated[Seconds, at_most(30 * 86400.0, (
        "an unpaid order holds its stock; the stock arrays run this long past the broadcast"))
    ] = Field(default=900.0, gt=0)
    display_refresh: Seconds = Field(default=1.0, ge=0, description=(
        "how often the displayed stock is refreshed from the real stock"))
    reserve_on: Literal["order", "payment"] = Field(default="order", description=(
        "'payment' checks stock at order time but reserves only when paid: oversells"))
    release: Literal["once", "twice"] = Field(default="once", description=(
        "'twice' returns an expired order's units twice: breaks the ledger"))
    receipt_failure: Fraction = 0.0
    delivery: Distribution = Field(default_factory=lambda: Gamma(
        dist="gamma", mean="2d", sd="1d"))
    presale: Presale | None = Field(default=None, description=(
        "the payment in the broadcast is a deposit; the balance is paid in a later window"))

    @model_validator(mode="after")
    def _units(self) -> Orders:
        if not self.units or any(k < 1 for k in self.units) or any(
                p < 0 for p in self.units.values()) or sum(self.units.values()) <= 0:
            raise Mismatch("unit counts >= 1 with non-negative probabilities",
                           dict(self.units))
        return self


# --- replay, reviews, simulation -------------------------------------------------------------


class Simulation(Model):
    step: Seconds = Field(default=1.0, gt=0, le=60, description=(
        "time resolution of orders and stock"))
    series_step: Seconds | None = Field(default=None, gt=0, description=(
        "resolution of the CSV and HTML time series (default: about 2000 points)"))
    desk_engine: Literal["auto", "simpy", "fast"] = Field(default="auto", description=(
        "after-sales desk: SimPy processes, or the exact FCFS recursion for millions of "
        "tickets; auto picks SimPy up to 20,000 tickets"))
    warmup: Seconds = Field(default=0.0, ge=0, description=(
        "the desk KPIs (tickets, wait, first reply, abandonment, utilization) leave out "
        "tickets that arrive, and agent time, before this, for steady-state studies: an empty "
        "desk at time 0 biases short runs low. Compliance rules still judge every ticket."))


def _rule_overrides() -> type[BaseModel]:
    """A model with one optional block per rule id, its fields the rule's parameters."""
    from pydantic import create_model

    blocks: dict[str, Any] = {}
    for rule in RULES.values():
        fields: dict[str, Any] = {}
        for p in rule.params:
            typ: Any = {"duration": Seconds, "days": Days, "offset": Offset,
                        "count": Annotated[int, Field(ge=0)], "fraction": Fraction}[p.kind]
            fields[p.name] = (typ | None, Field(default=None, description=p.doc))
        fields["risk"] = (RiskFraction | None, Field(default=None, description=(
            "this rule's risk, instead of compliance.risk")))
        name = "Rule_" + rule.id.replace(".", "_").replace("-", "_")
        block = create_model(name, __config__=ConfigDict(extra="forbid", frozen=True),
                             __module__=__name__, **fields)
        # a module attribute of its own name, so a scenario with a rule's block pickles to
        # the processes that run its replications
        globals()[name] = block
        blocks[rule.id] = (block | None, Field(default=None, description=rule.summary))
    return create_model("Compliance", __config__=ConfigDict(extra="forbid", frozen=True),
                        **blocks, **_CONFIDENCE)


RiskFraction = Annotated[Fraction, Field(ge=0.001, le=0.5)]
_CONFIDENCE: dict[str, Any] = {
    "risk": (RiskFraction, Field(default=0.05, description=(
        "the probability of breaking in one broadcast a rule may run: it passes when "
        "P(broken) <= risk is established over the replications (0.1% .. 50%)"))),
    "alpha": (Annotated[Fraction, Field(ge=0.001, le=0.25)], Field(default=0.05, description=(
        "--until-decided: the chance of a wrong fail outside the indifference region"))),
    "beta": (Annotated[Fraction, Field(ge=0.001, le=0.25)], Field(default=0.05, description=(
        "--until-decided: the chance of a wrong pass outside the indifference region"))),
    "indifference": (Annotated[Fraction, Field(ge=0.05, le=0.9)], Field(
        default=0.5, description=(
            "--until-decided: half-width of the region around the risk where either answer "
            "is acceptable, as a fraction of the risk (0.5: 2.5% .. 7.5% for a 5% risk)"))),
}


if TYPE_CHECKING:
    class Compliance(Model):
        """What a type checker knows of the model ``_rule_overrides`` builds: the
        confidence settings (``_CONFIDENCE``, defaults and bounds there); the blocks, one
        per rule id, are read through ``__dict__``."""

        risk: float
        alpha: float
        beta: float
        indifference: float

        def __init__(self, **fields: Any) -> None: ...
else:
    Compliance = _rule_overrides()


class Scenario(Model):
    name: str = Field(min_length=1)
    seed: int = Field(default=1, ge=0, le=2**63 - 1)
    duration: Annotated[Seconds, at_most(365 * 86400.0, (
        "a broadcast runs hours or days; every SKU's stock is stepped through all of it"))] \
        = Field(gt=0)
    start_clock: str = Field(default="20:00", pattern=CLOCK, description=(
        "local time the broadcast starts (time 0): for aftersales.daily_profile and "
        "fulfilment.cut_off"))
    audience: Audience
    products: Products
    orders: Orders = Orders()
    fulfilment: Fulfilment | None = None
    aftersales: Aftersales
    replay: Replay = Replay()
    reviews: Reviews = Reviews()
    simulation: Simulation = Simulation()
    compliance: Compliance = Compliance()
    load: LoadSettings = LoadSettings()
    # the new duties' blocks, each optional (absent: its rule is not judged, scenario.scope)
    # -- display.complete
    presentation: Presentation | None = Field(default=None, description=(
        "the host's presentation of the linked products and their pages "
        "(display.complete): {missing_fields, misdescribed}"))

    # -- display.counters-true
    counters: Counters | None = Field(default=None, description=(
        "how the broadcast shows its sold and viewer counts (display.counters-true)"))

    # -- pricing.claims-hold
    pricing: Pricing | None = Field(default=None, description=(
        "the host's price claims and the prices around the broadcast they are judged "
        "against (pricing.claims-hold)"))

    # -- aftersales.escalations-answered

    # -- reviews.order-honest

    def rule_overrides(self) -> dict[str, dict[str, float]]:
        """The compliance block as ``{rule id: {param: value}}``, unset values left out."""
        out: dict[str, dict[str, float]] = {}
        for rid in RULES:
            block = self.compliance.__dict__.get(rid)
            if block is not None:
                out[rid] = {k: v for k, v in block.model_dump().items()
                            if v is not None and k != "risk"}
        return out

    def rule_risks(self) -> dict[str, float]:
        """The risks set for single rules (``compliance.<rule>.risk``)."""
        out = {}
        for rid in RULES:
            block = self.compliance.__dict__.get(rid)
            if block is not None and block.risk is not None:
                out[rid] = block.risk
        return out


# Fixed is imported for scenarios built in code (tests, the planner).
__all__ = ["Scenario", "TICKET_KINDS", "Fixed", "Fulfilment", "Replay", "Reviews"]
