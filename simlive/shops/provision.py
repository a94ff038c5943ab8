"""Before and after the load, through the target file: set a run up, close it, read the state.

Setup gathers each role's credentials (token file, environment, or minted by the shop's
``create_users``), creates the scenario's products with this run's id in their names (so a
second run against the same shop never collides with the first), and opens the broadcast
where the shop has one. The result is :class:`Provisioned`: plain JSON every Locust process
receives. After the load, :func:`finish` ends the broadcast, waits, makes the books final,
and :func:`read_state` reads the final state the target maps (``None`` for history-only).
Every step is recorded in the history like any other operation; a step that fails stops the
run with one message naming the operation, the request and the answer.
"""

from __future__ import annotations

import errno
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import httpx

from simlive.check.state import FinalState
from simlive.errors import ServiceError, UsageError
from simlive.operations import ROLES
from simlive.rules import rule_params
from simlive.scenario.schema import Scenario, Sku
from simlive.shops.client import (
    OK,
    Answer,
    OperationClient,
    OpResult,
    Prepared,
    Reading,
    Recording,
    Unsupported,
    read_answer,
)
from simlive.shops.files import env_tokens
from simlive.shops.hooks import load_hooks
from simlive.shops.paths import search
from simlive.shops.target_file import Listing, StateMap, Target


def new_run_id() -> str:
    """A fresh id per run (never from the scenario's seed: a second run against the same
    shop must not collide with the first)."""
    return secrets.token_hex(4)


class HttpxTransport:
    """The transport of setup, preflight and state reading: one httpx client (one cookie
    jar) per identity."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)

    def send(self, request: Prepared, read: Callable[[Answer], Reading]) -> Answer:
        try:
            resp = self.client.request(
                request.method, request.url, params=request.params or None,
                headers=request.headers, json=request.json_body, data=request.form)
            ans = Answer(resp.status_code, dict(resp.headers), resp.content)
        except httpx.ConnectError as exc:
            refused = "refused" in str(exc).lower() or getattr(
                exc.__cause__, "errno", None) == errno.ECONNREFUSED
            ans = Answer(0, error=f"{type(exc).__name__}: {exc}", refused=refused)
        except httpx.HTTPError as exc:
            ans = Answer(0, error=f"{type(exc).__name__}: {exc}")
        read(ans)
        return ans

    def close(self) -> None:
        self.client.close()


@dataclass
class Provisioned:
    """What setup created or gathered for one run: everything a Locust process needs.

    ``products``: by simlive SKU, ``stock`` (declared), ``hot``, ``limit``, ``price_cents``
    and whatever ``create_product`` extracted (``product_id``, ...). ``tokens``: by role.
    Tokens included: keep it private.
    """

    run_id: str
    broadcast_id: Any
    products: dict[str, dict[str, Any]]
    tokens: dict[str, list[str]]
    flash_sales: list[dict[str, Any]] = field(default_factory=list)  # FlashSalePlan dicts
    # auth from: login: role -> token -> the 'username:password' it came from (a 401 logs
    # in again)
    logins: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provisioned:
        return cls(**data)

    @property
    def hot_sku(self) -> str:
        return next((s for s, p in self.products.items() if p.get("hot")),
                    next(iter(self.products)))

    def context(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "broadcast_id": self.broadcast_id,
                "marker": self.run_id, "process": "setup"}


def scaled_products(scenario: Scenario, max_stock: int | None, run_id: str,
                    ) -> dict[str, dict[str, Any]]:
    """The scenario's SKUs renamed for this run, stock capped at ``max_stock``.

    A flash sale's SKU is hot. A sale that brings its own units (``quantity``) adds them,
    capped like every stock, at its opening (``flash_units``: per sale, by its index), and
    the SKU keeps its capped stock before it; a sale without units sells the stock the SKU
    has, a quarter of the cap, so the sale sells it out. Without flash sales the SKU with
    the least stock is hot and keeps a quarter of the cap.
    """
    skus = list(scenario.products.skus)
    if not skus:
        raise UsageError("the scenario lists no products.skus to load-test with")
    sales = scenario.products.flash_sales
    hot = sales[0].sku if sales else min(skus, key=lambda s: s.stock).sku
    out: dict[str, dict[str, Any]] = {}
    for s in skus:
        stock = s.stock if max_stock is None else min(s.stock, max_stock)
        mine = {str(i): f.quantity for i, f in enumerate(sales)
                if f.sku == s.sku and f.quantity}
        units = {i: q if max_stock is None else min(q, max_stock) for i, q in mine.items()}
        if s.sku == hot and max_stock is not None and not units:
            stock = max(1, min(stock, max_stock // 4))
        name = f"{s.sku[:50]}.{run_id}"
        out[name] = {"sku": name, "name": name, "slug": slug(name), "stock": stock,
                     "hot": s.sku == hot, "scenario_sku": s.sku,
                     "limit": s.limit, "price": s.price,
                     "price_cents": int(round(s.price * 100))}
        if units:
            out[name]["flash_units"] = units
        out[name].update(page_fields(s))  # display.complete: what its page must show
    return out


def page_fields(sku: Sku) -> dict[str, Any]:
    """What a SKU's page shows beyond its price: the seller (its store, empty for the
    shop to fill in), whether it can be returned without reason, and why not."""
    reason = sku.return_exempt or (sku.return_excluded.reason if sku.return_excluded
                                   else None)
    return {"seller": sku.store or "", "returnable": reason is None,
            "not_returnable": reason or ""}


def read_pages(client: OperationClient, products: dict[str, dict[str, Any]]) -> None:
    """``display.complete``: a buyer reads each linked product's page once, after setup and
    before the load, with the declared price and returnability to judge it by."""
    for sku, p in products.items():
        client.run("read_product", {"sku": sku, "price": p["price"],
                                    "price_cents": p["price_cents"],
                                    "returnable": p["returnable"]})


def slug(name: str) -> str:
    """A URL-safe form of a product name (letters, digits, '-'), for shops that want one."""
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def _failed(step: str, result: OpResult) -> ServiceError:
    if result.requests:
        req, ans, reading = result.requests[-1]
        body = ans.body[:300].decode("utf-8", "replace") if ans.body else ""
        return ServiceError(f"setup failed at {step}: {req.method} {req.url} -> "
                            f"{reading.reason}{': ' + body if body else ''}")
    return ServiceError(f"setup failed at {step}: {result.error}")


def static_tokens(target: Target, given: dict[str, list[str]]) -> dict[str, list[str]]:
    """Credentials that come from the token file or the environment, by role."""
    out: dict[str, list[str]] = {}
    for role in ROLES:
        cred = target.credential(role)
        if cred is None or cred.source in ("none", "create_users", "start_session"):
            continue
        what = "'username:password'" if cred.source == "login" else "token"
        if cred.source == "env":
            found = env_tokens(cred.env or "")
            if not found:
                raise UsageError(f"the target's {role} credentials come from the environment "
                                 f"variable {cred.env}, which holds no {what} (set it: "
                                 f"{what}s separated by commas)")
        else:
            key = cred.key or role
            found = given.get(key, [])
            if not found:
                has = (f"the token file has {', '.join(repr(k) for k in sorted(given))}"
                       if given else "no token file was given")
                raise UsageError(
                    f"the target's {role} credentials come from the token file's key "
                    f"{key!r}, which holds no {what} ({has}; give --token-file"
                    f"{' or --admin-token' if role == 'admin' else ''}, or set auth.{role}."
                    f"key in the target)")
        out[role] = found
    return out


def log_in_all(target: Target, transport: Any, tokens: dict[str, list[str]],
               recorder: Recording | None = None) -> dict[str, dict[str, str]]:
    """Roles whose credentials come from logging in: each 'username:password' in
    ``tokens`` is exchanged for a token in place; returns role -> token -> credential,
    for logging in again on a 401."""
    client = OperationClient(target, transport, {}, {"run_id": "", "marker": "",
                                                     "broadcast_id": None,
                                                     "process": "setup"},
                             recorder=recorder, process="setup")
    logins: dict[str, dict[str, str]] = {}
    for role in ROLES:
        cred = target.credential(role)
        if cred is None or cred.source != "login":
            continue
        minted = []
        for credential in tokens.get(role, []):
            if ":" not in credential:
                raise UsageError(f"the target's {role} credentials log in: expected "
                                 f"'username:password' entries; found one without ':'")
            res = client.log_in(role, credential)
            if not res.ok or not res.fields.get("token"):
                raise _failed(f"login ({role}, {credential.partition(':')[0]})", res)
            minted.append(str(res.fields["token"]))
        tokens[role] = minted
        logins[role] = client.logins.get(role, {})
    return logins


def provision(target: Target, base_url: str, given_tokens: dict[str, list[str]],
              scenario: Scenario, run_id: str, recorder: Recording | None,
              buyer_accounts: int) -> Provisioned:
    """Create this run's accounts, products and broadcast on the shop."""
    transport = HttpxTransport(base_url, max(30.0, target.timeout))
    tokens = static_tokens(target, given_tokens)
    products = scaled_products(scenario, scenario.load.max_stock, run_id)
    try:
        logins = log_in_all(target, transport, tokens, recorder)
        admin = OperationClient(target, transport, {r: t[0] for r, t in tokens.items()},
                                {"run_id": run_id, "marker": run_id, "broadcast_id": None,
                                 "process": "setup"},
                                recorder=recorder, process="setup", logins=logins,
                                hooks=load_hooks(target.hooks))
        for role in ROLES:
            cred = target.credential(role)
            if cred is None or cred.source != "create_users":
                continue
            want = cred.count or (buyer_accounts if role == "buyer" else 1)
            minted: list[str] = []
            while len(minted) < want:
                n = min(1000, want - len(minted))
                res = admin.execute("create_users", {"role": cred.account or role,
                                                     "count": n})
                got = res.fields.get("tokens")
                if not res.ok or not isinstance(got, list) or not got:
                    raise _failed(f"create_users ({role})", res)
                minted += [str(t) for t in got]
            tokens[role] = minted[:want]
        admin.tokens.update({r: t[0] for r, t in tokens.items() if t})
        admin.products = products
        for sku, p in products.items():
            truth = recorder.invoke("setup", "true_stock", {}) if recorder else None
            res = admin.run("create_product", {"sku": sku, "stock": p["stock"]})
            if not res.ok:
                raise _failed(f"create_product {sku}", res)
            p.update({k: v for k, v in res.fields.items() if v is not None and k != "stock"})
            p.setdefault("product_id", sku)
            if admin.supports("set_stock"):
                res = admin.run("set_stock", {"sku": sku, "stock": p["stock"]})
                if not res.ok:
                    raise _failed(f"set_stock {sku}", res)
            if recorder is not None and truth is not None:
                recorder.complete(truth, OK, {sku: p["stock"]})
        broadcast_id = None
        if admin.supports("create_broadcast"):
            res = admin.run("create_broadcast", {"title": f"{scenario.name} {run_id}",
                                                 **store_promise(scenario)})
            broadcast_id = res.fields.get("broadcast_id")
            if not res.ok or broadcast_id is None:
                raise _failed("create_broadcast", res)
            admin.context["broadcast_id"] = broadcast_id
            if admin.supports("add_product"):
                for sku in products:
                    res = admin.run("add_product", {"sku": sku})
                    if not res.ok:
                        raise _failed(f"add_product {sku}", res)
            if admin.supports("start_broadcast"):
                res = admin.run("start_broadcast", {"broadcast_id": broadcast_id})
                if not res.ok:
                    raise _failed("start_broadcast", res)
        if scenario.presentation is not None and admin.supports("read_product"):
            read_pages(admin, products)
        return Provisioned(run_id, broadcast_id, products, tokens, logins=logins)
    except Unsupported as exc:  # a mapping the file cross-check let through
        raise ServiceError(f"setup failed: the target maps no {exc} (nor a hook of that "
                           "name)") from None
    finally:
        transport.close()


def store_promise(scenario: Scenario) -> dict[str, float | None]:
    """The store's promise the load states at setup (``fulfilment.on-time``): the rule's
    ``ship_within`` and the scenario's ``fulfilment.promise``, in seconds of load time
    (compressed as the broadcast is into ``load.run_time``); None without a fulfilment
    block. The history keeps them, so the checker judges by the same deadlines."""
    f = scenario.fulfilment
    if f is None:
        return {"ship_within": None, "promise": None}
    scale = scenario.duration / scenario.load.run_time
    ship_within = rule_params(scenario.rule_overrides())["fulfilment.on-time"]["ship_within"]
    return {"ship_within": round(ship_within / scale, 3), "promise": round(f.promise / scale, 3)}


def admin_client(target: Target, base_url: str, prov: Provisioned,
                 recorder: Recording | None = None) -> tuple[OperationClient, HttpxTransport]:
    transport = HttpxTransport(base_url, max(30.0, target.timeout))
    client = OperationClient(target, transport, {r: t[0] for r, t in prov.tokens.items() if t},
                             prov.context(), prov.products, recorder, "setup",
                             hooks=load_hooks(target.hooks), logins=prov.logins)
    return client, transport


def finish(target: Target, base_url: str, prov: Provisioned, recorder: Recording,
           settle: float, max_wait: float = 120.0, list_reviews: bool = False) -> None:
    """End the broadcast (retried while the shop does not answer, up to ``max_wait``),
    wait ``settle`` seconds, then run ``settle`` (make the books final) if mapped.
    ``list_reviews``: then read each product's default review listing, the load's reviews
    all in (``reviews.order-honest``, when the scenario states the listing)."""
    client, transport = admin_client(target, base_url, prov, recorder)
    try:
        if client.supports("end_broadcast") and prov.broadcast_id is not None:
            deadline = time.monotonic() + max_wait
            while True:
                res = client.run("end_broadcast", {"broadcast_id": prov.broadcast_id})
                if res.outcome != "info" or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if client.supports("read_replay"):
                client.run("read_replay", {"broadcast_id": prov.broadcast_id})
        flush = getattr(recorder, "flush", None)
        if callable(flush):
            flush()
        time.sleep(settle)
        if client.supports("settle"):
            client.run("settle", {})
        if list_reviews and client.supports("list_reviews"):
            for sku in prov.products:  # a product nobody reviewed lists nothing: harmless
                client.run("list_reviews", {"sku": sku})
    finally:
        transport.close()


def teardown(target: Target, base_url: str, prov: Provisioned, recorder: Recording) -> None:
    client, transport = admin_client(target, base_url, prov, recorder)
    try:
        if client.supports("teardown"):
            client.run("teardown", {"run_id": prov.run_id})
    finally:
        transport.close()


def _listing(client: OperationClient, part: str, listing: Listing) -> list[dict[str, Any]]:
    """Every record of a paged listing, by the listing's ``paging``: a cursor the answer
    names (``next``), page numbers, or an offset."""
    from simlive.shops.target_file import Operation

    op = Operation(steps=[listing.request])
    out: list[dict[str, Any]] = []
    page = listing.first_page
    if page is None and listing.paging == "page":
        page = 1
    offset = int(listing.first_page or 0) if listing.paging == "offset" else 0
    for _ in range(listing.max_pages):
        ctx = {**client.context, "page": page, "offset": offset, "limit": listing.limit}
        req = client.prepare(op, listing.request, f"state.{part}", ctx, "admin")
        ans = client.transport.send(req, partial(read_answer, listing.request))
        if ans.status == 401 and client.relogin(listing.request.role or "admin"):
            req = client.prepare(op, listing.request, f"state.{part}", ctx, "admin")
            ans = client.transport.send(req, partial(read_answer, listing.request))
        reading = read_answer(listing.request, ans)
        if reading.outcome != OK:
            raise ServiceError(f"reading the final state ({part}): {req.method} {req.url} -> "
                               f"{reading.reason}: {ans.body[:200].decode('utf-8', 'replace')}")
        body = ans.json()
        items = search(listing.items, body)
        if not isinstance(items, list):
            raise ServiceError(f"reading the final state ({part}): {req.url}: items "
                               f"({listing.items!r}) is not a list in the answer")
        for it in items:
            rec = dict(it) if isinstance(it, dict) else {"value": it}
            for name, expr in listing.fields.items():
                rec[name] = search(expr, it)
            out.append(rec)
        if listing.paging != "next":
            if not items or (listing.limit is not None and len(items) < listing.limit):
                return out
            page, offset = (page + 1 if isinstance(page, int) else page), offset + len(items)
            continue
        if listing.next is None:
            return out
        nxt = search(listing.next, body)
        if nxt is None or nxt == page or not items:
            return out
        page = nxt
    raise ServiceError(f"reading the final state ({part}): more than {listing.max_pages} "
                       "pages")


def read_state(target: Target, base_url: str, prov: Provisioned) -> FinalState:
    """The final state the target maps; parts it does not map stay ``None`` (unknown)."""
    if not isinstance(target.state, StateMap):
        return FinalState.from_history_only()
    client, transport = admin_client(target, base_url, prov)
    try:
        fetched = time.time()
        parts: dict[str, Any] = {}
        for part in ("ledger", "orders", "receipts", "tickets", "reviews", "broadcasts"):
            listing = getattr(target.state, part)
            parts[part] = None if listing is None else _listing(client, part, listing)
        if parts["orders"] is not None and target.states:
            for o in parts["orders"]:
                o["state"] = target.state_word(o.get("state"))
        if prov.products:  # this run's namespace: other runs' products are not judged
            for part in ("ledger", "orders"):
                rows = parts[part]
                if rows is not None:
                    parts[part] = [r for r in rows if r.get("sku") is None
                                   or r.get("sku") in prov.products]
        return FinalState(**parts, fetched_at=fetched, source="service")
    finally:
        transport.close()
