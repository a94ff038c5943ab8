"""Request and response bodies: the API's contract, and the first line of input checking.

Every request model forbids unknown fields and bounds every number and string, so that a bad
request is a 422 naming the field rather than a database error later. Text may not hold NUL
or unpaired surrogates (PostgreSQL and UTF-8 refuse both); times are bounded so converting
them to UTC cannot overflow. Response models list exactly what the checker reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from simlive.service.settings import MAX_BUCKETS, role_named

MAX_ID = 2**53  # JSON-safe integers; also inside every database's BIGINT
MAX_COUNT = 10**9


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no unpaired surrogates)") from None
    return value


def _utc(value: datetime) -> datetime:
    # the year as written (the schema's pattern says the same), then UTC: 2200-12-31T23:00-05
    # is 2201 in UTC, still well inside what every database stores
    if not 2000 <= value.year <= 2200:
        raise ValueError("must be a time between 2000 and 2200")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


NO_NUL = "^[^\\u0000]*$"  # the schema says what _clean_text refuses


def _schema(max_length: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "minLength": 1, "maxLength": max_length,
                           "pattern": NO_NUL})


# text of 1 to N characters, cleaned (_clean_text); written out, as a type checker needs
Name = Annotated[str, StringConstraints(min_length=1, max_length=100),
                 AfterValidator(_clean_text), _schema(100)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200),
                  AfterValidator(_clean_text), _schema(200)]
Message = Annotated[str, StringConstraints(min_length=1, max_length=4000),
                    AfterValidator(_clean_text), _schema(4000)]
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
def _json_int(value: object) -> object:
    """An integer as JSON has it: a number with no fraction (JSON Schema's "integer", 1.0
    included), never a boolean or a string (true and "1" are 422)."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**63:
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_int)]
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_json_int)]
Limit = Annotated[int, Field(ge=1, le=MAX_COUNT), BeforeValidator(_json_int)]
Buckets = Annotated[int, Field(ge=1, le=MAX_BUCKETS), BeforeValidator(_json_int)]


def _time_text(value: object) -> object:
    """A time comes as an ISO 8601 string (JSON has no time type): no numbers, no booleans."""
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 time string, such as 2026-11-11T20:00:00Z")
    return value


When = Annotated[datetime, Strict(False), BeforeValidator(_time_text), AfterValidator(_utc),
                 WithJsonSchema({"type": "string", "format": "date-time",
                                 "pattern": "^(2[01][0-9]{2}|2200)-",
                                 "description": "ISO 8601, between the years 2000 and 2200"})]
Role = Literal["buyer", "merchant", "agent", "admin"]
# what a request may name: "viewer" is the name older versions gave buyers
RoleIn = Annotated[Literal["buyer", "merchant", "agent", "admin", "viewer"],
                   AfterValidator(role_named)]
TicketKind = Literal["consultation", "return", "replacement", "refund", "complaint"]
TicketState = Literal["open", "replied", "in_progress", "resolved", "closed"]
OrderState = Literal["reserved", "paid", "expired", "cancelled"]


class Request(BaseModel):
    """A request body: no unknown fields, and every value of its JSON type (strict: true and
    "1" are not the integer 1, 1.5 is not one either; 1.0 is, as JSON Schema counts it; a
    wrong type is 422 naming the field)."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- users -------------------------------------------------------------------------------
class UserCreate(Request):
    role: RoleIn = Field(description="buyer (viewer: its old name, read as buyer), merchant, "
                                     "agent or admin.")
    name: Name | None = Field(None, description="Display name; numbered when count > 1.")
    count: JsonInt = Field(1, ge=1, le=1000, description="How many users to mint at once.")
    expires_at: When | None = Field(None, description="Their tokens stop working then.")


class TokenRevoke(Request):
    # exactly one of the two (the schema says so too)
    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["token"]},
                                                           {"required": ["user_id"]}]})

    # optional, never null: the schema says so (a null is refused, as the schema's oneOf
    # of present fields would otherwise admit {"user_id": null})
    token: Annotated[str | None, WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": 256})] = Field(None, min_length=1,
                                                                      max_length=256)
    user_id: Annotated[Id | None, WithJsonSchema(
        {"type": "integer", "minimum": 1, "maximum": MAX_ID})] = None

    @model_validator(mode="after")
    def _one(self) -> TokenRevoke:
        if (self.token is None) == (self.user_id is None):
            raise ValueError("give exactly one of token and user_id")
        return self


class TokenRevoked(BaseModel):
    user_id: int
    revoked_at: datetime
    already: bool = Field(description="It was revoked before this call.")


class UserOut(BaseModel):
    id: int
    name: str
    role: Role


class UserWithToken(UserOut):
    token: str


class UsersCreated(BaseModel):
    users: list[UserWithToken]


class FaultOut(BaseModel):
    name: str
    breaks: str


class ConfigOut(BaseModel):
    faults: list[FaultOut]
    payment_timeout: float
    sweep_interval: float
    retention: float
    return_window: float
    return_utc_offset: float = Field(description=(
        "seconds east of UTC: the local calendar return_window's days are counted in"))
    stale_display_seconds: float
    lose_ticket_fraction: float
    max_body_bytes: int
    stock_buckets: int = Field(description="Rows a new product's stock is split over.")
    write_lanes: int = Field(description="Group-commit writer threads in each worker.")
    database: str


# --- broadcasts --------------------------------------------------------------------------
class BroadcastCreate(Request):
    title: Title
    ship_within_s: float | None = Field(None, gt=0, le=365 * 86400, description=(
        "The store's promise: each order paid in this broadcast ships within this many "
        "seconds of payment (its ship_by). None: no stated time."))
    promise_s: float | None = Field(None, gt=0, le=365 * 86400, description=(
        "The store's promise: each order paid in this broadcast is delivered within this "
        "many seconds of payment (its promised_at); it must then be shipped before it is "
        "delivered. None: no promise."))


class ReplayOut(BaseModel):
    broadcast_id: int
    url: str
    published_at: datetime
    retain_until: datetime


class BroadcastOut(BaseModel):
    id: int
    merchant_id: int
    title: str
    state: Literal["scheduled", "live", "ended"]
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    retain_until: datetime
    replay: ReplayOut | None
    ship_within_s: float | None = None
    promise_s: float | None = None


class CountersOut(BaseModel):
    """The figures the broadcast shows (display.counters-true)."""

    broadcast_id: int
    sold: int  # orders taken in the broadcast, in any state since
    viewers: int  # viewer sessions that opened the live broadcast within viewer_window_s
    viewer_window_s: int
    at: datetime


class LinkProduct(Request):
    sku: Sku


# --- products ----------------------------------------------------------------------------
class ProductCreate(Request):
    sku: Sku
    name: Title
    price_cents: JsonInt = Field(ge=0, le=MAX_COUNT)
    stock: JsonInt = Field(ge=0, le=MAX_COUNT)
    max_per_buyer: Limit | None = Field(None,
                                      description="Units one buyer may hold (reserved+paid).")
    stock_buckets: Buckets | None = Field(
        None, description="Split the stock over this many rows so that this many orders can "
                          "take units at once (a hot SKU); default: the service's "
                          "--stock-buckets. Viewers see the sum.")
    seller: str | None = Field(None, max_length=120, description=(
        "The seller the page names (display.complete); default: the merchant's account."))
    not_returnable: str | None = Field(None, max_length=40, description=(
        "Why the goods cannot be returned without reason (e.g. fresh-perishable); "
        "default: they can."))


class Restock(Request):
    quantity: JsonInt = Field(ge=1, le=MAX_COUNT)


class PriceSet(Request):
    price_cents: JsonInt = Field(ge=1, le=MAX_COUNT, description=(
        "The unit price charged from now on (a flash sale's); the list price charges again "
        "when set back to it."))


class PriceOut(BaseModel):
    """What a buyer is shown: the price, and the reference ('was') price struck through."""

    sku: str
    price: float = Field(description="The unit price charged now, in the currency.")
    reference_price: float = Field(description=(
        "The 'was' price: the lowest of the list price and the lowest unit price paid in "
        "the service's price window (7 days) before now."))
    price_cents: int
    reference_price_cents: int
    list_price_cents: int


class ProductOut(BaseModel):
    sku: str
    name: str
    merchant_id: int
    price_cents: int
    displayed_stock: int = Field(description="The sellable stock shown to viewers.")
    max_per_buyer: int | None
    stock_buckets: int = Field(description="Rows the stock is split over (1: one row).")
    created_at: datetime
    seller: str | None = Field(None, description="Who sells it (display.complete).")
    returnable: bool | None = Field(None, description=(
        "Whether it can be returned without reason within seven days."))
    not_returnable: str | None = Field(None, description="Why not, when it cannot.")


class LedgerOut(BaseModel):
    """``initial + restocked == sold + reserved + remaining`` and ``returned == released``."""

    sku: str
    merchant_id: int
    initial: int
    restocked: int
    sold: int = Field(description="Units in paid orders.")
    reserved: int = Field(description="Units in reserved (unpaid, unexpired) orders.")
    remaining: int = Field(description="Sellable units left.")
    released: int = Field(description="Units of expired or cancelled orders.")
    returned: int = Field(description="Units actually put back into stock.")
    balanced: bool
    oversold: int = Field(description="Units sold or reserved beyond initial + restocked.")


# --- orders ------------------------------------------------------------------------------
class OrderCreate(Request):
    sku: Sku
    quantity: JsonInt = Field(ge=1, le=1000)
    broadcast_id: Id | None = None


class Deliver(Request):
    delivered_at: When | None = Field(
        None, description="Admin only: record a past delivery time (tests, back-fills).")


class OrderOut(BaseModel):
    id: int
    buyer_id: int
    sku: str
    quantity: int
    amount_cents: int
    state: OrderState
    broadcast_id: int | None
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    delivered_at: datetime | None
    retain_until: datetime
    shipped_at: datetime | None = None
    ship_by: datetime | None = None  # the deadlines stamped at payment (the broadcast's)
    promised_at: datetime | None = None


class ReceiptOut(BaseModel):
    receipt_no: str
    order_id: int
    buyer_id: int
    sku: str
    quantity: int
    amount_cents: int
    paid_at: datetime | None
    issued_at: datetime
    retain_until: datetime


# --- tickets -----------------------------------------------------------------------------
class TicketCreate(Request):
    # the schema says it too: return, replacement and refund tickets name their order
    model_config = ConfigDict(json_schema_extra={"if": {
        "properties": {"kind": {"enum": ["return", "replacement", "refund"]}}},
        "then": {"required": ["order_id"], "properties": {"order_id": {"type": "integer"}}}})

    kind: TicketKind
    message: Message
    order_id: Id | None = Field(None, description="Required for return, replacement, refund.")


class TicketNote(Request):
    message: Message


class TicketResolve(Request):
    resolution: Message


EscalationDecision = Literal["for-consumer", "for-store", "partial"]
"""What the platform decides on an escalated request."""


class TicketEscalate(Request):
    reason: Message


class EscalationDecide(Request):
    decision: EscalationDecision
    note: Message


class TicketClose(Request):
    feedback: Message
    satisfaction: JsonInt = Field(ge=1, le=5)


class TicketMark(Request):
    at: When | None = Field(None, description="When it happened; now if omitted.")


class TicketOut(BaseModel):
    id: int
    owner_id: int
    kind: TicketKind
    state: TicketState
    order_id: int | None
    message: str
    created_at: datetime
    first_reply_at: datetime | None
    in_progress_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    feedback: str | None
    satisfaction: int | None
    goods_received_at: datetime | None
    refund_paid_at: datetime | None
    retain_until: datetime
    escalated_at: datetime | None = None  # taken to the platform by the consumer
    escalation_reason: str | None = None
    decided_at: datetime | None = None  # the platform's decision
    decision: EscalationDecision | None = None
    decision_note: str | None = None


class TicketEventOut(BaseModel):
    id: int
    ticket_id: int
    actor_id: int
    at: datetime
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None


# --- reviews -----------------------------------------------------------------------------
class ReviewCreate(Request):
    sku: Sku
    rating: JsonInt = Field(ge=1, le=5)
    text: Message


HideReason = Literal["illegal-content", "personal-data", "spam"]
"""simlive.rules.HIDE_REASONS: the only reasons a review may be hidden."""


class ReviewHide(Request):
    reason: HideReason = Field(description="illegal-content, personal-data or spam; a bad "
                                           "review may not be hidden for anything else")


class ReviewOut(BaseModel):
    id: int
    author_id: int
    sku: str
    rating: int
    text: str | None = Field(description="Null for a hidden review unless the caller is admin.")
    created_at: datetime
    hidden: bool
    hidden_at: datetime | None
    hidden_reason: str | None


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor_id: int
    action: str
    target_type: str
    target_id: int
    detail: str | None


# --- shared ------------------------------------------------------------------------------
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a listing in id order; pass ``next_after`` as ``after`` for the next."""

    items: list[T]
    next_after: int | None


class Health(BaseModel):
    status: Literal["ok"]
