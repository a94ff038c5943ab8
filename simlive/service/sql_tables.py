"""The schema, as SQLAlchemy Core tables: one place that says what the service stores.

Core rather than ORM objects because every write that matters is a single conditional
statement (``UPDATE ... WHERE remaining >= :qty``, ``UPDATE ... WHERE state = 'reserved'``):
the database, not Python, decides who wins a race. Times are stored as UTC and always come
back timezone-aware (SQLite keeps no zone). Nothing is ever deleted by the service (except by
the ``delete-review`` fault): records carry ``retain_until`` instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC and returned timezone-aware, the same on every DB."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite rowid aliases must be INTEGER


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _fk(name: str, target: str, nullable: bool = False) -> Column[int]:
    return Column(name, Id, ForeignKey(target), nullable=nullable)


users = Table(
    "users", metadata,
    _id(),
    Column("name", String(120), nullable=False),  # up to 100 + "-<n>" when minted in bulk
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    # added later (db.create_schema adds them to an older database): a token stops working
    # when revoked or past its expiry; 'configured' users come from the token list the
    # service starts with (a token taken out of it is revoked), 'minted' from POST /admin/users
    Column("origin", String(16), nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
)

# every revocation, in order: workers poll its newest id and drop their token caches
token_revocations = Table(
    "token_revocations", metadata,
    _id(),
    _fk("user_id", "users.id"),
    Column("at", UTCDateTime, nullable=False),
)

# each worker's last look at token_revocations (and a heartbeat): a revocation answers once
# every worker that looked lately has seen it
worker_acks = Table(
    "worker_acks", metadata,
    Column("worker", String(120), primary_key=True),
    Column("seen", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

broadcasts = Table(
    "broadcasts", metadata,
    _id(),
    _fk("merchant_id", "users.id"),
    Column("title", String(200), nullable=False),
    Column("state", String(16), nullable=False),  # scheduled -> live -> ended
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("retain_until", UTCDateTime, nullable=False),
    # fulfilment.on-time: what the store promises each order paid in this broadcast
    Column("ship_within_s", Float),  # seconds from payment to shipping
    Column("promise_s", Float),  # seconds from payment to delivery
)

replays = Table(
    "replays", metadata,
    _id(),
    _fk("broadcast_id", "broadcasts.id"),
    Column("url", String(300), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("retain_until", UTCDateTime, nullable=False),
    UniqueConstraint("broadcast_id", name="uq_replays_broadcast"),
)

products = Table(
    "products", metadata,
    _id(),
    Column("sku", String(64), nullable=False, unique=True),
    _fk("merchant_id", "users.id"),
    Column("name", String(200), nullable=False),
    Column("price_cents", BigInteger, nullable=False),
    Column("initial_stock", BigInteger, nullable=False),
    Column("restocked", BigInteger, nullable=False, default=0),
    Column("remaining", BigInteger, nullable=False),
    Column("returned", BigInteger, nullable=False, default=0),
    Column("max_per_buyer", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    # added later: a SKU whose stock is split over k rows of stock_buckets (NULL or 1: the
    # stock is ``remaining`` above). Its sellable stock is remaining + the buckets' sum.
    Column("stock_buckets", Integer, nullable=True),
    # added later (display.complete): the seller its page names (NULL: the merchant's
    # account name), and why it cannot be returned without reason (NULL: it can)
    Column("seller", String(120), nullable=True),
    Column("not_returnable", String(40), nullable=True),
    # added later: the price in force when the merchant set one (a flash sale's), else NULL
    # and ``price_cents`` (the list price) is charged (pricing.claims-hold)
    Column("sale_price_cents", BigInteger, nullable=True),
)

# A hot SKU's stock split over k rows, so that k transactions can take units at once (one
# row is one lock: its orders commit one after another). An order takes its units from one
# bucket, from another when that one is short, or from several when none has them all.
stock_buckets = Table(
    "stock_buckets", metadata,
    _fk("product_id", "products.id"),
    Column("bucket", Integer, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    PrimaryKeyConstraint("product_id", "bucket", name="pk_stock_buckets"),
)

restocks = Table(
    "restocks", metadata,
    _id(),
    _fk("product_id", "products.id"),
    _fk("actor_id", "users.id"),
    Column("quantity", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

broadcast_products = Table(
    "broadcast_products", metadata,
    _fk("broadcast_id", "broadcasts.id"),
    _fk("product_id", "products.id"),
    Column("linked_at", UTCDateTime, nullable=False),
    UniqueConstraint("broadcast_id", "product_id", name="uq_broadcast_products"),
)

# who opened a live broadcast and when last (display.counters-true's viewer count): one row
# per viewer session, the session named by the page's ``viewer`` parameter or the buyer
broadcast_views = Table(
    "broadcast_views", metadata,
    _fk("broadcast_id", "broadcasts.id"),
    Column("viewer", String(120), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("broadcast_id", "viewer", name="pk_broadcast_views"),
)

orders = Table(
    "orders", metadata,
    _id(),
    _fk("buyer_id", "users.id"),
    _fk("product_id", "products.id"),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # reserved -> paid | expired | cancelled
    Column("broadcast_id", Id),
    Column("idempotency_key", String(128), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("retain_until", UTCDateTime, nullable=False),
    # fulfilment.on-time: shipped, and the deadlines stamped at payment (broadcast's promise)
    Column("shipped_at", UTCDateTime),
    Column("ship_by", UTCDateTime),
    Column("promised_at", UTCDateTime),
    UniqueConstraint("buyer_id", "idempotency_key", name="uq_orders_idempotency"),
    Index("ix_orders_state_expires", "state", "expires_at"),
    Index("ix_orders_buyer_product", "buyer_id", "product_id"),
    Index("ix_orders_product_state", "product_id", "state"),
)

receipts = Table(
    "receipts", metadata,
    _id(),
    _fk("order_id", "orders.id"),
    Column("receipt_no", String(40), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("retain_until", UTCDateTime, nullable=False),
    UniqueConstraint("order_id", name="uq_receipts_order"),
)

tickets = Table(
    "tickets", metadata,
    _id(),
    _fk("owner_id", "users.id"),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("order_id", Id),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("first_reply_at", UTCDateTime),
    Column("in_progress_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("resolution", Text),
    Column("feedback", Text),
    Column("satisfaction", Integer),
    Column("goods_received_at", UTCDateTime),
    Column("refund_paid_at", UTCDateTime),
    Column("retain_until", UTCDateTime, nullable=False),
    # the consumer's escalation to the platform, and the platform's decision
    Column("escalated_at", UTCDateTime),
    Column("escalation_reason", Text),
    Column("decided_at", UTCDateTime),
    Column("decision", String(16)),
    Column("decision_note", Text),
    Index("ix_tickets_state_created", "state", "created_at"),
    Index("ix_tickets_owner", "owner_id"),
)

ticket_events = Table(
    "ticket_events", metadata,
    _id(),
    _fk("ticket_id", "tickets.id"),
    _fk("actor_id", "users.id"),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("note", Text),
    Index("ix_ticket_events_ticket", "ticket_id"),
)

reviews = Table(
    "reviews", metadata,
    _id(),
    _fk("author_id", "users.id"),
    _fk("product_id", "products.id"),
    Column("sku", String(64), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("hidden_at", UTCDateTime),
    Column("hidden_reason", Text),
    Column("hidden_by", Id),
    Index("ix_reviews_product", "product_id"),
)

audit = Table(
    "audit", metadata,
    _id(),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", Id, nullable=False),
    Column("action", String(40), nullable=False),
    Column("target_type", String(20), nullable=False),
    Column("target_id", Id, nullable=False),
    Column("detail", Text),
)
