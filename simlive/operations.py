"""The operations simlive performs on a shop: the one vocabulary a target file maps to HTTP.

The Locust users, the recorder and the checker speak only these names; a target file says
how each becomes one or more HTTP requests on a given shop. Each operation lists the
placeholders its requests may use (besides the ones every request has) and the fields it
must extract from the answers for the checker or for the next operation. An operation a
shop lacks is ``unsupported``; the rules that need it then say ``unknown``
(:mod:`simlive.check.needs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeGuard, get_args

Role = Literal["buyer", "merchant", "agent", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)


def is_role(name: str) -> TypeGuard[Role]:
    """Whether ``name`` is one of the ROLES a target's requests are sent as."""
    return name in ROLES


# placeholders every request may use; ``product.<field>`` also holds whatever
# ``create_product`` extracted (the shop's own product id, a stock record id, ...)
COMMON = ("run_id", "broadcast_id", "marker", "process")  # process: who sends (history name)
PRODUCT = ("sku", "product_id", "name", "slug", "stock", "price", "price_cents", "limit")


@dataclass(frozen=True)
class Operation:
    name: str
    role: str  # whose credentials by default
    phase: str  # "setup", "load" or "after"
    doc: str
    uses: tuple[str, ...] = ()
    extracts: tuple[str, ...] = ()  # fields the operation must yield when ok
    optional: tuple[str, ...] = ()  # fields it may yield


OPERATIONS: dict[str, Operation] = {o.name: o for o in (
    # --- setup, once per run -----------------------------------------------------------
    Operation("create_users", "admin", "setup",
              "mint accounts of a role (for roles whose tokens come from the shop)",
              ("role", "count"), ("tokens",)),
    Operation("login", "none", "setup",
              "exchange a username and password (auth from: login) for the token later "
              "calls send; run again once when a call answers 401",
              ("username", "password"), ("token",)),
    Operation("start_session", "none", "setup",
              "open an anonymous session; the shop hands back the token later calls send",
              (), ("token",)),
    Operation("create_product", "merchant", "setup",
              "create a product with its stock (names carry the run id); seller: its store "
              "(may be empty), not_returnable: why it cannot be returned without reason "
              "(empty: it can)", (*PRODUCT, "seller", "not_returnable"),
              ("product_id",), ("stock",)),
    Operation("set_stock", "merchant", "setup",
              "set a product's stock when creating it cannot (called after create_product)",
              PRODUCT),
    Operation("create_broadcast", "merchant", "setup",
              "create the live broadcast; ship_within and promise are the store's promise "
              "(seconds from payment to shipping and to delivery, compressed like the "
              "broadcast; None without a fulfilment block)",
              ("title", "ship_within", "promise"), ("broadcast_id",)),
    Operation("add_product", "merchant", "setup", "link a product to the broadcast",
              PRODUCT),
    Operation("start_broadcast", "merchant", "setup", "go live"),
    Operation("read_product", "buyer", "setup",
              "read a linked product's page as a buyer sees it, once each after setup: its "
              "price (or price_cents), seller, returnable (true/false) and, when not "
              "returnable, the reason; args carry the declared price and returnability",
              PRODUCT, (), ("price", "price_cents", "seller", "returnable", "reason")),
    Operation("restock", "merchant", "load",
              "add units to a product's stock (a flash sale's units, at its opening): "
              "quantity is the units added, supply the product's declared stock after them "
              "(created + every unit added), for shops that set a total",
              (*PRODUCT, "quantity", "supply")),
    Operation("set_price", "merchant", "load",
              "charge sale_price (sale_price_cents) for a product from now on: a flash "
              "sale's price, at its opening", (*PRODUCT, "sale_price", "sale_price_cents")),
    # --- during the load -----------------------------------------------------------------
    Operation("watch", "buyer", "load", "open the broadcast page", (), (), ("state",)),
    Operation("browse", "buyer", "load", "list the shop's products"),
    Operation("read_stock", "buyer", "load",
              "the stock a viewer is shown: with scope 'all' one request yields every "
              "product as items [{product, stock}]; with scope 'product' one product's "
              "figure as stock", PRODUCT, (), ("stock", "items")),
    Operation("true_stock", "merchant", "load",
              "the real, sellable stock (the truth displayed figures are judged by); same "
              "shape as read_stock", PRODUCT, (), ("stock", "items")),
    Operation("read_price", "buyer", "load",
              "the price a buyer is shown for a product and the reference ('was') price "
              "struck through, both in the currency", PRODUCT, ("price", "reference_price")),
    Operation("order", "buyer", "load",
              "place an order of one product; key is the idempotency key the run retries "
              "with", (*PRODUCT, "quantity", "key"), ("order_id",), ("state",)),
    Operation("pay", "buyer", "load", "pay an order", ("order_id",), (), ("state",)),
    Operation("cancel", "buyer", "load", "cancel an unpaid order", ("order_id",)),
    Operation("deliver", "merchant", "load", "mark a paid order delivered", ("order_id",)),
    Operation("ship", "merchant", "load", "mark a paid order shipped (handed to the carrier)",
              ("order_id",)),
    Operation("read_receipt", "buyer", "load", "read a paid order's receipt",
              ("order_id",), (), ("receipt_no",)),
    Operation("open_ticket", "buyer", "load",
              "open an after-sales ticket (consultation, return, replacement, refund, "
              "complaint)", ("kind", "message", "order_id"), ("ticket_id",)),
    Operation("list_tickets", "agent", "load",
              "tickets in a state, oldest first, as items [{id, kind}]", ("state",),
              ("items",)),
    Operation("reply", "agent", "load", "first reply to a ticket", ("ticket_id", "message")),
    Operation("start_ticket", "agent", "load", "start handling a ticket", ("ticket_id",)),
    Operation("goods_received", "agent", "load", "record returned goods", ("ticket_id",)),
    Operation("refund_paid", "agent", "load", "record the refund", ("ticket_id",)),
    Operation("resolve", "agent", "load", "resolve a ticket", ("ticket_id", "resolution")),
    Operation("close_ticket", "buyer", "load", "close with the consumer's feedback",
              ("ticket_id", "feedback", "satisfaction")),
    Operation("review", "buyer", "load", "post a review", (*PRODUCT, "rating", "text"),
              ("review_id",)),
    Operation("delete_review", "buyer", "load",
              "try to delete one's own bad review (a compliant shop refuses)", ("review_id",)),
    Operation("list_reviews", "buyer", "after",
              "a product's default review listing, as a buyer first sees it, in the order "
              "shown: items [{id, rating, posted_at}] (posted_at where the shop shows it; "
              "read once the load's reviews are in, for reviews.order-honest); next: null "
              "when no page follows",
              PRODUCT, ("items",), ("next",)),
    Operation("read_review", "buyer", "load",
              "read one review back (a definite refusal such as 404 means it is gone)",
              ("review_id",), (), ("text",)),
    Operation("read_ticket", "buyer", "load",
              "read one's own ticket back (a definite refusal such as 404 means it is lost)",
              ("ticket_id",), (), ("state", "message")),
    Operation("escalate", "buyer", "load",
              "take one's own ticket to the platform (unresolved, or refused by the store)",
              ("ticket_id", "reason"), (), ("escalated_at",)),
    Operation("list_escalations", "admin", "load",
              "the platform's queue: escalated tickets not yet decided, oldest first, as "
              "items [{id}]", (), ("items",)),
    Operation("decide_escalation", "admin", "load",
              "the platform's decision on an escalated ticket",
              ("ticket_id", "decision", "note"), (), ("decided_at",)),
    Operation("read_counters", "buyer", "load",
              "the sold count and the viewer count the broadcast shows, as sold and viewers "
              "(display.counters-true)", (), ("sold", "viewers")),
    # --- after the load ------------------------------------------------------------------
    Operation("end_broadcast", "merchant", "after", "end the broadcast (a replay is due)"),
    Operation("read_replay", "buyer", "after", "open the broadcast's replay", (), (),
              ("published_at",)),
    Operation("settle", "admin", "after",
              "make the books final (e.g. expire overdue unpaid orders now)"),
    Operation("teardown", "admin", "after", "remove what the run created (by run_id)"),
)}

OPERATION_NAMES = tuple(OPERATIONS)
if TYPE_CHECKING:
    OperationName = str  # a checker cannot build the Literal below from the registry
else:
    OperationName = Literal[OPERATION_NAMES]  # an operation's name, as pydantic checks it

# what the history calls an operation when it differs from its name (kept stable so stored
# histories stay checkable)
HISTORY_NAME = {"start_ticket": "start", "close_ticket": "close"}
