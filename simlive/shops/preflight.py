"""``simlive target check``: call each mapped operation once and say which ones work.

A journey through the whole vocabulary on two small products of a throwaway run: set up,
read the stock, buy until the hot product is sold out (so the sold-out answer is seen to
read as a refusal), pay, read the receipt, cancel, deliver, a ticket through every step,
reviews, end the broadcast, the replay, the final state, teardown. Each row says the
request, the status, the fields extracted and whether the operation works: ok with every
field the checker needs. ``--dry-run`` walks the same journey through a transport that sends
nothing and prints each request instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simlive.operations import OPERATIONS
from simlive.shops.audit import ledger_tautology
from simlive.shops.client import (
    FAIL,
    OK,
    Answer,
    OperationClient,
    OpResult,
    Prepared,
    Reading,
)
from simlive.shops.target_file import StateMap, Target

PRODUCTS = {"HOT": 2, "COLD": 5}  # units; the hot one sells out within the journey


@dataclass
class Row:
    op: str
    request: str
    status: str
    fields: str
    verdict: str  # "ok", "unsupported", "skipped: ...", or the problem
    works: bool | None  # None: not judged (unsupported / skipped)


def _body(res: OpResult) -> str:
    """The start of the last answer's body, for a row that did not work."""
    if not res.requests:
        return ""
    body = res.requests[-1][1].body[:160].decode("utf-8", "replace").strip()
    return f": {body}" if body else ""


@dataclass
class Journey:
    client: OperationClient
    rows: list[Row] = field(default_factory=list)
    dry: bool = False

    def _fields(self, res: OpResult) -> str:
        shown = {k: v for k, v in res.fields.items() if k != "code"}
        text = json.dumps(shown, default=str, separators=(",", ":"))
        return text if len(text) <= 80 else text[:77] + "..."

    def call(self, label: str, name: str, args: dict[str, Any], *, refuse: bool = False,
             as_role: str | None = None, needs: tuple[str, ...] = ()) -> OpResult | None:
        """Run ``name`` once and add its row. ``refuse``: the expected answer is a refusal
        (sold out, deleting a review). ``needs``: arguments that must not be None."""
        if not self.client.supports(name):
            self.rows.append(Row(label, "-", "-", "-", "unsupported", None))
            return None
        lacking = [n for n in needs if args.get(n) is None]
        if lacking:
            self.rows.append(Row(label, "-", "-", "-",
                                 f"skipped: no {', '.join(lacking)} from an earlier step", None))
            return None
        res = self.client.execute(name, args, as_role)
        if self.dry:
            for key in OPERATIONS[name].extracts:
                res.fields.setdefault(key, f"<{key}>")
                if res.fields[key] is None:
                    res.fields[key] = f"<{key}>"
        reqs = "; ".join(p.describe() for p, _, _ in res.requests) or "-"
        status = ",".join(str(a.status or a.error) for _, a, _ in res.requests) or "-"
        missing = [k for k in OPERATIONS[name].extracts if res.fields.get(k) is None]
        if refuse:
            # a refusal the target names (a listed status, or fail.when), not any 4xx or a
            # dead connection: those would prove nothing about reading a sold-out answer
            named = bool(res.requests) and res.requests[-1][2].expected
            works = (res.outcome == FAIL and named) or self.dry
            verdict = "ok (refused)" if works else (
                "expected a refusal; read as ok: the shop accepted it" if res.outcome == OK
                else f"expected a refusal the target names (fail.status or fail.when); "
                     f"got {res.outcome}: {res.error}{_body(res)}")
        elif res.outcome != OK:
            works, verdict = False, f"{res.outcome}: {res.error}{_body(res)}"
        elif missing:
            works, verdict = False, f"ok, but extracted no {', '.join(missing)}"
        else:
            works, verdict = True, "ok"
        self.rows.append(Row(label, reqs, status, self._fields(res), verdict, works))
        return res


StateReader = Callable[[], tuple[dict[str, int], list[dict[str, Any]] | None]]


def walk(target: Target, client: OperationClient, products: dict[str, dict[str, Any]],
         read_state: StateReader | None, dry: bool = False) -> list[Row]:
    """The whole journey; ``client`` holds the admin's (and later each role's) tokens."""
    j = Journey(client, dry=dry)
    _sign_up(j, target)
    _create_products(j, products)
    hot, cold = list(products)
    b = _go_live(j, hot)
    orders, paid_ids = buy_out(j, target, products, hot)
    first = orders[0] if orders else None
    if target.sale == "pay":  # every order was paid above: the sale is at payment
        after_pay = {"order_id": paid_ids[0] if paid_ids else None}
    else:
        paid = j.call("pay", "pay", {"order_id": first, "sku": hot, "quantity": 1},
                      needs=("order_id",))
        after_pay = {"order_id": first if paid is None or paid.ok else None}  # failed pay
    j.call("read_receipt", "read_receipt", after_pay, needs=("order_id",))  # skips these
    cancelled = j.call("cancel", "cancel",
                       {"order_id": orders[1] if len(orders) > 1 else None},
                       needs=("order_id",))
    j.call("ship", "ship", after_pay, needs=("order_id",))
    sent = j.call("deliver", "deliver", after_pay, needs=("order_id",))
    delivered = after_pay["order_id"] is not None and (sent is None or sent.ok)
    _ticket(j, first, delivered)
    r = j.call("review", "review", {"sku": cold, "rating": 1, "text": "preflight review"})
    rid = r.fields.get("review_id") if r is not None else None
    j.call("list_reviews", "list_reviews", {"sku": cold})
    j.call("delete_review", "delete_review", {"review_id": rid}, refuse=True,
           needs=("review_id",))
    j.call("end_broadcast", "end_broadcast", {"broadcast_id": b})
    j.call("read_replay", "read_replay", {"broadcast_id": b})
    j.call("settle", "settle", {})
    # a flash sale's units: one more of the hot product (its stock as created, plus one)
    j.call("restock", "restock", {"sku": hot, "quantity": 1,
                                  "supply": products[hot]["stock"] + 1})
    taken = len(paid_ids if target.sale == "pay" else orders) - (
        1 if cancelled is not None and cancelled.ok else 0)
    _state_rows(j, target, read_state, hot, taken)
    j.call("teardown", "teardown", {"run_id": client.context.get("run_id")})
    return j.rows


def _sign_up(j: Journey, target: Target) -> None:
    """Each role's own token, where the target makes users or sessions: the later steps
    must run as the role the load runs them as."""
    for role in ("merchant", "agent", "buyer"):
        cred = target.credential(role)
        if cred is not None and cred.source == "create_users":
            res = j.call(f"create_users ({role})", "create_users",
                         {"role": cred.account or role, "count": 1})
            tokens = (res.fields.get("tokens") if res is not None else None) or []
            if isinstance(tokens, list) and tokens:
                j.client.tokens[role] = str(tokens[0])
        elif cred is not None and cred.source == "start_session" and role == "buyer":
            res = j.call("start_session", "start_session", {})
            if res is not None and res.fields.get("token"):
                j.client.tokens["buyer"] = str(res.fields["token"])


def _create_products(j: Journey, products: dict[str, dict[str, Any]]) -> None:
    """The journey's products with the ids the shop gave them: every later step names a
    product by them."""
    client = j.client
    for sku, p in products.items():
        res = j.call(f"create_product {sku.split('.')[0]}", "create_product",
                     {"sku": sku, "stock": p["stock"]})
        if res is not None and res.ok:
            p.update({k: v for k, v in res.fields.items() if v is not None and k != "stock"})
        p.setdefault("product_id", sku)
        client.products = products
        client._by_id = {str(q.get("product_id", s)): s for s, q in products.items()}
        j.call(f"set_stock {sku.split('.')[0]}", "set_stock", {"sku": sku, "stock": p["stock"]})


def _go_live(j: Journey, hot: str) -> Any:
    """A broadcast selling the hot product, and its stock read back: the checker judges
    the displayed stock by these reads. Returns the broadcast's id."""
    res = j.call("create_broadcast", "create_broadcast",
                 {"title": "simlive preflight", "ship_within": None, "promise": None})
    b = res.fields.get("broadcast_id") if res is not None else None
    j.client.context["broadcast_id"] = b
    j.call("add_product", "add_product", {"sku": hot})
    j.call("start_broadcast", "start_broadcast", {"broadcast_id": b})
    j.call("watch", "watch", {"broadcast_id": b})
    j.call("read_counters", "read_counters", {})  # display.counters-true's sold and viewers
    j.call("browse", "browse", {})
    for name in ("read_stock", "true_stock"):
        r = j.call(name, name, {"sku": hot})
        if r is not None and r.ok and not j.dry and not j.client.stock_value(r, hot):
            j.rows[-1].works, j.rows[-1].verdict = False, (
                "ok, but no stock figure of this run's product in the answer (items "
                "[{product, stock}] or stock)")
    return b


def _ticket(j: Journey, first: Any, delivered: bool) -> None:
    """A ticket through every step: a return where an order was delivered, else a
    question (a return needs goods to send back)."""
    r = j.call("open_ticket", "open_ticket",
               {"kind": "return", "order_id": first, "message": "preflight return"}
               if delivered else
               {"kind": "consultation", "order_id": None, "message": "preflight question"})
    tid = r.fields.get("ticket_id") if r is not None else None
    j.call("list_tickets", "list_tickets", {"state": "open"})
    for name, extra in (("reply", {"message": "on it"}), ("start_ticket", {}),
                        ("goods_received", {}), ("refund_paid", {}),
                        ("resolve", {"resolution": "refunded"}),
                        ("close_ticket", {"feedback": "fine", "satisfaction": 5})):
        if name in ("goods_received", "refund_paid") and not delivered \
                and j.client.supports(name):
            j.rows.append(Row(name, "-", "-", "-", "skipped: no return ticket (the order "
                              "was not paid and delivered)", None))
            continue
        j.call(name, name, {"ticket_id": tid, **extra}, needs=("ticket_id",))


def _state_rows(j: Journey, target: Target, read_state: StateReader | None, hot: str,
                taken: int) -> None:
    """The final state read back, and the ledger against the ``taken`` units: the stock
    rules are judged on these, not on the answers."""
    if isinstance(target.state, StateMap):
        if read_state is None:
            j.rows.append(Row("state", "-", "-", "-", "not read in a dry run", None))
        else:
            try:
                counts, ledger = read_state()
                j.rows.append(Row("state", "listings", "-", json.dumps(counts), "ok", True))
                j.rows.append(ledger_row(target, ledger, hot, taken))
            except Exception as exc:  # noqa: BLE001 - reported as the row's problem
                j.rows.append(Row("state", "listings", "-", "-", f"{exc}", False))
    else:
        j.rows.append(Row("state", "-", "-", "-", "history-only", None))


def ledger_row(target: Target, ledger: list[dict[str, Any]] | None, hot: str,
               taken: int) -> Row:
    """The ledger against the units the journey bought: its sold + reserved for the hot
    product must have moved by them, and must not be read from the stock counter itself."""
    if ledger is None:
        return Row("ledger", "-", "-", "-", "not mapped: stock.ledger-balances will be "
                   "unknown", None)
    row = next((r for r in ledger if r.get("sku") == hot), None)
    if row is None:
        return Row("ledger", "-", "-", "-", f"no row for {hot} (the ledger's sku field "
                   "must name the product as setup created it)", False)
    moved = int(row.get("sold") or 0) + int(row.get("reserved") or 0)
    shown = json.dumps({k: row.get(k) for k in ("initial", "restocked", "sold", "reserved",
                                                "remaining") if k in row}, default=str)
    why = ledger_tautology(target)
    if why is not None:  # not broken, but the rule cannot fail: said, not passed
        return Row("ledger", "-", "-", shown, f"flagged: {why}", None)
    if moved != taken:
        return Row("ledger", "-", "-", shown, f"sold + reserved is {moved} after the journey "
                   f"bought {taken} unit(s) of {hot}: the ledger does not follow the sales",
                   False)
    return Row("ledger", "-", "-", shown, f"ok: sold + reserved moved by the {taken} unit(s) "
               "bought", True)


def _own_session(j: Journey, target: Target) -> None:
    """A new anonymous session for the next order, where buyers use sessions: orders that
    share one would share a cart, and two orders could be one."""
    cred = target.credential("buyer")
    if cred is not None and cred.source == "start_session" and not j.dry:
        res = j.client.execute("start_session", {})
        if res.ok and res.fields.get("token"):
            j.client.tokens["buyer"] = str(res.fields["token"])


def buy_out(j: Journey, target: Target, products: dict[str, dict[str, Any]], hot: str
            ) -> tuple[list[Any], list[Any]]:
    """Buy the hot product's every unit, each order as its own buyer, then once more: the
    sold-out refusal must come where the target says a sale is acknowledged (``order``,
    or ``pay`` for shops that allocate stock at payment). Returns the orders placed and
    the ones paid."""
    stock = products[hot]["stock"]
    at_pay = target.sale == "pay" and j.client.supports("pay")
    orders: list[Any] = []
    paid: list[Any] = []
    for i in range(stock + 1):
        last = i == stock
        _own_session(j, target)
        label = "order (sold out)" if last and not at_pay else f"order {i + 1} of {stock}"
        if last and not at_pay and len(orders) < stock:
            if j.client.supports("order"):
                j.rows.append(Row(label, "-", "-", "-", "skipped: the orders before it did "
                                  "not all work", None))
            break
        r = j.call(label, "order", {"sku": hot, "quantity": 1, "key": f"preflight-{i}",
                                    "buyer": i}, refuse=last and not at_pay)
        if r is None or not r.ok:
            continue
        oid = r.fields.get("order_id")
        orders.append(oid)
        if at_pay:
            if last and len(paid) < stock:
                j.rows.append(Row("pay (sold out)", "-", "-", "-", "skipped: the payments "
                                  "before it did not all work", None))
                break
            label = "pay (sold out)" if last else f"pay {i + 1} of {stock}"
            p = j.call(label, "pay", {"order_id": oid, "sku": hot, "quantity": 1},
                       refuse=last, needs=("order_id",))
            if p is not None and p.ok:
                paid.append(oid)
    return orders, paid


class DryTransport:
    """Sends nothing: records each request and answers with an empty success."""

    dry = True

    def __init__(self) -> None:
        self.sent: list[Prepared] = []

    def send(self, request: Prepared, read: Callable[[Answer], Reading]) -> Answer:
        self.sent.append(request)
        ans = Answer(200, {}, b"{}")
        read(ans)
        return ans


def broken(rows: list[Row]) -> list[str]:
    return [r.op for r in rows if r.works is False]


def run_preflight(target: Target, host: str, given: dict[str, list[str]]) -> list[Row]:
    """The journey on a live shop, over HTTP, on a throwaway run's two products."""
    import httpx

    from simlive.errors import UsageError
    from simlive.shops.provision import (
        HttpxTransport,
        Provisioned,
        log_in_all,
        new_run_id,
        read_state,
        static_tokens,
    )

    if not host.startswith(("http://", "https://")):
        raise UsageError(f"--host(={host!r}): expected a base URL like http://127.0.0.1:8000")
    run_id = new_run_id()
    tokens = static_tokens(target, given)
    transport = HttpxTransport(host, target.timeout)
    products = journey_products(run_id)
    try:  # one line for a shop that is not there, rather than a table of connect errors
        transport.client.get("/", headers={target.marker.header: run_id})
    except httpx.HTTPError as exc:
        transport.close()
        raise UsageError(f"cannot reach {host}: {type(exc).__name__}: {exc}") from None
    try:
        logins = log_in_all(target, transport, tokens)
    except Exception:
        transport.close()
        raise
    from simlive.shops.hooks import load_hooks

    client = OperationClient(target, transport, {r: t[0] for r, t in tokens.items() if t},
                             {"run_id": run_id, "marker": run_id, "broadcast_id": None,
                              "process": "setup"},
                             products, hooks=load_hooks(target.hooks), logins=logins)

    def state() -> tuple[dict[str, int], list[dict[str, Any]] | None]:
        prov = Provisioned(run_id, client.context.get("broadcast_id"), products,
                           {r: [t] for r, t in client.tokens.items() if t},
                           logins=client.logins)
        st = read_state(target, host, prov)
        return ({part: len(getattr(st, part)) for part in ("ledger", "orders", "receipts",
                                                           "tickets", "reviews", "broadcasts")
                 if getattr(st, part) is not None}, st.ledger)

    try:
        return walk(target, client, products, state)
    finally:
        transport.close()


def journey_products(run_id: str) -> dict[str, dict[str, Any]]:
    """The journey's two throwaway products, named with the run's id."""
    from simlive.shops.provision import slug

    return {f"{name}.{run_id}": {"sku": f"{name}.{run_id}", "name": f"{name}.{run_id}",
                                 "slug": slug(f"{name}.{run_id}"), "stock": units,
                                 "hot": name == "HOT", "limit": None, "price": 9.9,
                                 "price_cents": 990,
                                 "seller": "", "returnable": True, "not_returnable": ""}
            for name, units in PRODUCTS.items()}


def scenario_products(scenario: Any, run_id: str) -> dict[str, dict[str, Any]]:
    """Two of the scenario's products, as the run names them, stocked for a short journey
    (the hot one sells out after two orders)."""
    from simlive.shops.provision import scaled_products

    products = dict(list(scaled_products(scenario, scenario.load.max_stock,
                                         run_id).items())[:2])
    for p in products.values():
        p["stock"] = 2 if p["hot"] else min(p["stock"], 5)
    if len(products) == 1:
        products = {**products, **{f"{s}-2": {**p, "sku": f"{s}-2", "hot": False}
                                   for s, p in products.items()}}
    return products


def dry_run(target: Target, run_id: str, given: dict[str, list[str]],
            products: dict[str, dict[str, Any]]) -> tuple[list[Prepared], str | None]:
    """The journey through a transport that sends nothing: every request it would send
    (hooks' included, credentials masked), and why a real run would stop, if it would."""
    from simlive.errors import SimliveError
    from simlive.shops.hooks import load_hooks
    from simlive.shops.provision import static_tokens

    try:
        static_tokens(target, given)
        stop = None
    except SimliveError as exc:
        stop = str(exc)
    transport = DryTransport()
    client = OperationClient(target, transport,
                             {role: f"<{role}-token>" for role in ("admin", "merchant",
                                                                   "agent", "buyer")},
                             {"run_id": run_id, "marker": run_id, "broadcast_id": None,
                              "process": "setup"},
                             products, hooks=load_hooks(target.hooks))
    walk(target, client, products, None, dry=True)
    return transport.sent, stop
