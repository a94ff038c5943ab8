"""Stock buckets: a hot SKU's stock split over k rows, the way flash-sale systems do it.

One stock row is one lock: every order of a SKU decrements it, so its transactions commit one
after another however many connections there are. With k buckets, k transactions can each
hold one. An order takes its units

1. from its writer's own bucket (each group-commit lane prefers another one), else
2. from any bucket holding them all, else
3. from several buckets, taken from in turn: near the end of the stock, when no single
   bucket has the units any more, an order is refused only when the buckets together do
   not have them.

Inside a group commit no step waits for a bucket another transaction holds (``FOR UPDATE
SKIP LOCKED``), so two batches never deadlock; an order that can only be served from held
buckets is placed in a transaction of its own that waits (see :func:`take`).

Every step is a conditional statement (``remaining >= :q``) and no bucket goes below zero,
so the ``stock.*`` rules hold exactly as with one row: the sellable stock is ``products.
remaining`` plus the buckets' sum (``products.remaining`` stays 0 for a bucketed SKU),
units that come back go to one bucket, a restock is spread over all of them. SQLite has one
writer at a time, so there the buckets change nothing but the arithmetic (``FOR UPDATE`` is
not rendered); on PostgreSQL they let orders of one SKU commit side by side.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update

from simlive.service import rawsql
from simlive.service import sql_tables as t

_b, _p = t.stock_buckets, t.products

def _unlocked(*where: Any) -> Any:
    """The bucket (of ``b_product``, holding ``b_qty``) no other transaction holds."""
    return (select(_b.c.bucket).where(_b.c.product_id == bindparam("b_product"),
                                      _b.c.remaining >= bindparam("b_qty"), *where)
            .order_by(_b.c.remaining.desc()).limit(1).with_for_update(skip_locked=True)
            .scalar_subquery())


def _take_where(*where: Any) -> Any:
    return (update(_b).where(_b.c.product_id == bindparam("b_product"),
                             _b.c.remaining >= bindparam("b_qty"), *where)
            .values(remaining=_b.c.remaining - bindparam("b_qty")))


HOT = {
    "take_own": _take_where(_b.c.bucket == _unlocked(_b.c.bucket == bindparam("b_bucket"))),
    "take_free": _take_where(_b.c.bucket == _unlocked()),
    "take": _take_where(_b.c.bucket == bindparam("b_bucket")),
    "lock_free": select(_b.c.bucket, _b.c.remaining)
    .where(_b.c.product_id == bindparam("b_product")).order_by(_b.c.bucket)
    .with_for_update(skip_locked=True),
    "lock_all": select(_b.c.bucket, _b.c.remaining)
    .where(_b.c.product_id == bindparam("b_product")).order_by(_b.c.bucket).with_for_update(),
    "total": select(func.coalesce(func.sum(_b.c.remaining), 0))
    .where(_b.c.product_id == bindparam("b_product")),
}


class Busy(Exception):
    """The units are there, but in buckets other transactions hold: the order must wait for
    them, which it may do only in a transaction holding no bucket of its own."""


def split(units: int, k: int) -> list[int]:
    """``units`` over ``k`` buckets as evenly as integers allow (the first get one more)."""
    base, extra = divmod(units, k)
    return [base + (1 if b < extra else 0) for b in range(k)]


def create(conn: Connection, product_id: int, units: int, k: int) -> None:
    conn.execute(insert(_b), [{"product_id": product_id, "bucket": b, "remaining": n}
                              for b, n in enumerate(split(units, k))])


def take(cur: Any, statements: Any, product_id: int, k: int, own: int, quantity: int,
         may_wait: bool) -> bool:
    """Take ``quantity`` units of a bucketed product in the current transaction; False when
    all its buckets together hold fewer (nothing taken). ``cur`` is a DBAPI cursor in the
    transaction, ``statements`` :data:`HOT` compiled for its dialect.

    Nothing here waits for a lock unless ``may_wait``: a group commit's transaction holds
    the buckets its earlier orders took, and two such transactions each waiting for the
    other's would deadlock. So it takes only buckets no one else holds (``SKIP LOCKED``;
    its own it can always use) and, when those are short but the buckets together are not,
    raises :class:`Busy`; the caller then places the order in a transaction of its own,
    which locks every bucket in bucket order and waits (it holds nothing, and the group
    commits it waits for never wait: no cycle).
    """
    values = {"b_product": product_id, "b_qty": quantity, "b_bucket": own % k}
    for step in ("take_own", "take_free"):
        if rawsql.count(cur, statements[step], values) == 1:
            return True
    held = rawsql.fetch_all(cur, statements["lock_all" if may_wait else "lock_free"], values)
    if sum(n for _, n in held) < quantity:
        if may_wait:
            return False
        if rawsql.first(cur, statements["total"], values)[0] < quantity:
            return False  # at this instant the SKU has fewer: sold out
        raise Busy(f"product {product_id}: {quantity} units are in buckets others hold")
    left = quantity
    for bucket, n in held:
        share = min(n, left)
        if share > 0:
            taken = rawsql.count(cur, statements["take"],
                                 {**values, "b_bucket": bucket, "b_qty": share})
            assert taken == 1, "a locked bucket changed"
            left -= share
        if left == 0:
            break
    return True


def put_back(conn: Connection, product_id: int, k: int, bucket: int, quantity: int) -> None:
    """Units that come back (an expired or cancelled order) go to the bucket the order picks
    (``bucket`` mod k) or, when another transaction holds it, to one nobody holds: an
    order's lane holds its bucket until its batch commits, and a return waiting there would
    be one more wait that could close a cycle. Only when every bucket is held does it wait."""
    preferred = bucket % k
    free = (select(_b.c.bucket).where(_b.c.product_id == product_id)
            .order_by((_b.c.bucket == preferred).desc(), _b.c.bucket).limit(1)
            .with_for_update(skip_locked=True).scalar_subquery())
    for target in (free, preferred):
        if conn.execute(update(_b).where(_b.c.product_id == product_id, _b.c.bucket == target)
                        .values(remaining=_b.c.remaining + quantity)).rowcount == 1:
            return
    raise AssertionError(f"product {product_id} has no bucket {preferred}")


def restock(conn: Connection, product_id: int, k: int, quantity: int) -> None:
    """A restock spread over the buckets, locked in bucket order first (as an order waiting
    for units locks them: two such transactions never wait for each other in a cycle)."""
    base, extra = divmod(quantity, k)
    conn.execute(select(_b.c.bucket).where(_b.c.product_id == product_id)
                 .order_by(_b.c.bucket).with_for_update()).all()
    conn.execute(update(_b).where(_b.c.product_id == product_id).values(
        remaining=_b.c.remaining + base + case((_b.c.bucket < extra, 1), else_=0)))


def sellable() -> Any:
    """``products.remaining`` plus its buckets' sum: a product's sellable stock, as a
    column expression correlated to ``products``."""
    in_buckets = (select(func.coalesce(func.sum(_b.c.remaining), 0))
                  .where(_b.c.product_id == _p.c.id).scalar_subquery())
    return (_p.c.remaining + in_buckets).label("remaining")


def lowest() -> Any:
    """The product's lowest bucket (0 without buckets): the ledger asks it to be >= 0."""
    return (select(func.coalesce(func.min(_b.c.remaining), 0))
            .where(_b.c.product_id == _p.c.id).scalar_subquery()).label("lowest_bucket")


def products_query() -> Any:
    """``SELECT products.*`` with ``remaining`` meaning the sellable stock."""
    return select(*[c for c in _p.c if c.name != "remaining"], sellable())
