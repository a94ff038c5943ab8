"""The operation client: runs one simlive operation on a shop as its target file says.

It renders each step's request from the context (run, product, arguments, fields of earlier
steps), sends it through a :class:`Transport` (httpx here for setup and checking; Locust's
own client in :mod:`simlive.load.users`), reads the answer into ok / fail / info with the
target's rules, extracts the fields, and records invoke and completion in the history. It
knows no shop: the reference service is one target file like any other.

Outcome of an answer, in this order: ``fail.when`` true -> fail; ``ok`` matched -> ok;
``fail`` matched -> fail; no answer or a 5xx -> info; another 4xx -> fail; anything else
(a 2xx that ``ok.when`` rejects, HTML where JSON was due) -> info. A refused connection is a
fail (the request never reached the shop).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from simlive.operations import HISTORY_NAME, OPERATIONS
from simlive.shops.paths import search
from simlive.shops.target_file import Credential, Match, Operation, Request, Target
from simlive.shops.template import TemplateError, render, stats_name

OK, FAIL, INFO = "ok", "fail", "info"
log = logging.getLogger("simlive")
_warned: set[str] = set()


@dataclass
class Answer:
    """What came back: ``status`` 0 when nothing did (``error`` says why)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    refused: bool = False
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    def json(self) -> Any:
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.body) if self.body else None
            except (ValueError, UnicodeDecodeError):
                self._json = None
        return self._json

    def header(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.headers.items():
            if k.lower() == low:
                return v
        return None


@dataclass(frozen=True)
class Prepared:
    """A rendered request, ready to send."""

    method: str
    url: str
    name: str
    headers: dict[str, str]
    params: dict[str, Any]
    json_body: Any = None
    form: dict[str, Any] | None = None

    def describe(self, full: bool = False) -> str:
        """Method, URL and body in one line; the body cut at 200 characters unless
        ``full`` (a dry run shows what would be sent, all of it)."""
        body = self.json_body if self.json_body is not None else self.form
        text = f"{self.method} {self.url}"
        if self.params:
            text += "?" + "&".join(f"{k}={v}" for k, v in self.params.items())
        if body is not None:
            shown = json.dumps(body, separators=(",", ":"))
            text += " " + (shown if full else shown[:200])
        return text


@dataclass(frozen=True)
class Reading:
    """How an answer was read: the outcome and whether a refusal was one the target
    expects (a sold-out answer is a success in Locust's statistics, a 404 is not)."""

    outcome: str
    expected: bool
    reason: str


class Transport(Protocol):
    def send(self, request: Prepared, read: Callable[[Answer], Reading]) -> Answer:
        """Send ``request``; call ``read`` on the answer (inside whatever statistics context
        the transport keeps) and return the answer."""
        ...


@dataclass
class OpResult:
    outcome: str  # ok, fail, info
    fields: dict[str, Any] = field(default_factory=dict)
    status: int = 0
    error: str | None = None
    requests: list[tuple[Prepared, Answer, Reading]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == OK


@dataclass
class Staged:
    """An operation run up to its commit step, whose request is rendered and not sent."""

    name: str
    args: dict[str, Any]
    handle: Any
    value: Callable[[OpResult], Any] | None
    op: Operation | None = None
    ctx: dict[str, Any] = field(default_factory=dict)
    result: OpResult = field(default_factory=lambda: OpResult(OK))
    step: Request | None = None
    request: Prepared | None = None


class Unsupported(Exception):
    """The target maps no such operation."""


def _status_listed(match: Match) -> bool:
    return match.status is not None and any(not str(s).endswith("xx") for s in match.status)


def _truthy(expr: str | None, body: Any) -> bool | None:
    if expr is None:
        return None
    return bool(search(expr, body))


def read_answer(req: Request, ans: Answer) -> Reading:
    """The outcome of one answer by the request's ok / fail rules (see the module doc)."""
    if ans.status == 0:
        if ans.refused:
            return Reading(FAIL, False, f"connection refused ({ans.error})")
        return Reading(INFO, False, f"no answer ({ans.error})")
    body = ans.json()
    if req.fail.when is not None and req.fail.status_matches(ans.status) and \
            _truthy(req.fail.when, body):
        return Reading(FAIL, True, f"HTTP {ans.status}, refused in the body")
    if req.ok.status_matches(ans.status) and _truthy(req.ok.when, body) is not False:
        wants_json = any(not e.startswith("header:") for e in req.extract.values())
        if wants_json and body is None:
            kind = ans.header("content-type") or "no content type"
            return Reading(INFO, False, f"HTTP {ans.status}, but the body is not JSON "
                                        f"({kind}) and fields were to be extracted from it")
        return Reading(OK, True, f"HTTP {ans.status}")
    if req.fail.when is None and req.fail.status_matches(ans.status):
        return Reading(FAIL, _status_listed(req.fail), f"HTTP {ans.status}")
    if ans.status >= 500:
        return Reading(INFO, False, f"HTTP {ans.status}")
    if 400 <= ans.status < 500:
        return Reading(FAIL, False, f"HTTP {ans.status}")
    why = f"ok.when ({req.ok.when}) is false" if req.ok.when and req.ok.status_matches(
        ans.status) else f"expected ok: {req.ok.status}"
    return Reading(INFO, False, f"HTTP {ans.status}, not an answer the target expects "
                                f"({why})")


def extract(req: Request, ans: Answer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    body = ans.json()
    for name, expr in req.extract.items():
        if expr.startswith("header:"):
            out[name] = ans.header(expr[len("header:"):].strip())
        else:
            out[name] = search(expr, body)
    return out


def auth_headers(cred: Credential | None, token: str | None) -> dict[str, str]:
    if cred is None or cred.source == "none" or not token:
        return {}
    if cred.scheme == "bearer":
        return {"Authorization": f"Bearer {token}"}
    if cred.scheme == "cookie":
        return {"Cookie": f"{cred.name}={token}"}
    return {cred.name: f"{cred.prefix}{token}"}


class Recording(Protocol):
    def invoke(self, process: str, f: str, args: dict[str, Any]) -> Any: ...

    def complete(self, handle: Any, typ: str, value: Any = None) -> None: ...


class OperationClient:
    """One identity's view of the shop: its credentials per role, its context, its history.

    ``tokens``: the token each role sends (a Locust user holds its own buyer token or
    session, so no user's identity leaks into another's order). ``products``: by simlive SKU,
    the fields setup gathered (the shop's product id, ...).
    """

    def __init__(self, target: Target, transport: Transport, tokens: Mapping[str, str | None],
                 context: Mapping[str, Any] | None = None,
                 products: Mapping[str, Mapping[str, Any]] | None = None,
                 recorder: Recording | None = None, process: str = "setup",
                 hooks: Any = None,
                 logins: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.target = target
        # role -> token -> "username:password" it was logged in with (auth from: login)
        self.logins = {r: dict(m) for r, m in (logins or {}).items()}
        self.transport = transport
        self.tokens = dict(tokens)
        self.context = dict(context or {})
        self.products: Mapping[str, Mapping[str, Any]] = dict(products or {})
        self.recorder = recorder
        self.process = process
        self.hooks = hooks
        self._by_id = {str(p.get("product_id", sku)): sku for sku, p in self.products.items()}

    def supports(self, name: str) -> bool:
        return self.target.supports(name) or callable(getattr(self.hooks, name, None))

    # --- building requests ------------------------------------------------------------------

    def context_for(self, name: str, args: Mapping[str, Any]) -> dict[str, Any]:
        ctx = dict(self.context)
        sku = args.get("sku")
        if sku is not None and sku in self.products:
            product = self.products[sku]
            ctx.update(product)
            ctx["product"] = dict(product)
        ctx.update(args)
        return ctx

    @staticmethod
    def role_of(op: Operation, step: Request, name: str, as_role: str | None = None) -> str:
        """Whose credentials a step sends."""
        return step.role or op.role or as_role or OPERATIONS[name].role

    def prepare(self, op: Operation, step: Request, name: str, ctx: Mapping[str, Any],
                as_role: str | None = None) -> Prepared:
        role = self.role_of(op, step, name, as_role)
        headers = {self.target.marker.header: str(render(self.target.marker.value, ctx))}
        if role != "none":
            headers.update(auth_headers(self.target.credential(role), self.tokens.get(role)))
        headers.update({k: str(render(v, ctx)) for k, v in step.headers.items()})
        params = {k: render(v, ctx) for k, v in step.query.items()}
        params = {k: v for k, v in params.items() if v is not None}
        return Prepared(step.method, render(step.url, ctx), step.name or
                        f"{name} {step.method} {stats_name(step.url)}", headers, params,
                        render(step.json_body, ctx) if step.json_body is not None else None,
                        render(step.form, ctx) if step.form is not None else None)

    # --- running ----------------------------------------------------------------------------

    def execute(self, name: str, args: Mapping[str, Any],
                as_role: str | None = None) -> OpResult:
        """Run ``name`` without recording it (setup's own bookkeeping, preflight).
        ``as_role``: whose credentials when the target names no role (a buyer listing their
        own tickets rather than an agent the queue)."""
        hooked = self._hook(name, args)
        if hooked is not None:
            return hooked
        op = self.target.operation(name)
        if op is None:
            raise Unsupported(name)
        ctx = self.context_for(name, args)
        return self._steps(name, op, range(len(op.steps)), ctx, OpResult(OK), as_role)

    def _hook(self, name: str, args: Mapping[str, Any]) -> OpResult | None:
        hook = getattr(self.hooks, name, None)
        if callable(hook):
            result = hook(self, dict(args))
            if result is not None:
                return result
        return None

    def _steps(self, name: str, op: Operation, steps: range, ctx: dict[str, Any],
               result: OpResult, as_role: str | None) -> OpResult:
        """Run ``op.steps[steps]`` in order, each step's fields the next one's context."""
        for i in steps:
            step = op.steps[i]
            try:
                req = self.prepare(op, step, name, ctx, as_role)
            except TemplateError as exc:
                return OpResult(FAIL, result.fields, 0, f"{name}: {exc}", result.requests)
            ans = self.transport.send(req, partial(read_answer, step))
            if ans.status == 401 and self.relogin(self.role_of(op, step, name, as_role)):
                req = self.prepare(op, step, name, ctx, as_role)  # once, with the new token
                ans = self.transport.send(req, partial(read_answer, step))
            reading = read_answer(step, ans)  # pure: the same reading the transport used
            if getattr(self.transport, "dry", False):  # a dry run walks every step
                reading = Reading(OK, True, "dry run")
            failed = self._took(step, req, ans, reading, ctx, result)
            if failed is not None:
                return failed
        return result

    def _took(self, step: Request, req: Prepared, ans: Answer, reading: Reading,
              ctx: dict[str, Any], result: OpResult) -> OpResult | None:
        """One step's answer into ``result`` and the context; the failed result if it
        was not ok."""
        result.requests.append((req, ans, reading))
        result.status = ans.status
        if reading.outcome != OK:
            body = ans.json()
            code = body.get("code") if isinstance(body, dict) else None
            for word, match in self.target.refusals.items():  # the shop's way of saying it
                if reading.outcome == FAIL and match.status_matches(ans.status) and \
                        _truthy(match.when, body) is not False:
                    code = word
            return OpResult(reading.outcome, {**result.fields, "code": code}, ans.status,
                            reading.reason, result.requests)
        got = extract(step, ans)
        if getattr(self.transport, "dry", False):  # a dry run: show where values go
            got = {k: f"<{k}>" if v is None else v for k, v in got.items()}
        result.fields.update(got)
        ctx.update(got)
        return None

    def log_in(self, role: str, credential: str) -> OpResult:
        """The ``login`` operation for ``credential`` ('username:password'); on success the
        role's token is the one it extracted."""
        user, _, password = credential.partition(":")
        res = self.execute("login", {"username": user, "password": password})
        token = res.fields.get("token")
        if res.ok and token:
            self.tokens[role] = str(token)
            self.logins.setdefault(role, {})[str(token)] = credential
        return res

    def relogin(self, role: str) -> bool:
        """After a 401 to a role whose token came from logging in: log in again (once per
        answer); True if a new token is in place."""
        cred = self.target.credential(role)
        if cred is None or cred.source != "login" or not self.target.supports("login"):
            return False
        credential = self.logins.get(role, {}).get(self.tokens.get(role) or "")
        if credential is None:
            return False
        old = self.tokens.get(role)
        return self.log_in(role, credential).ok and self.tokens.get(role) != old

    # --- staged: every step before the commit now, the commit when released ---------------

    def stage(self, name: str, args: Mapping[str, Any],
              value: Callable[[OpResult], Any] | None = None) -> Staged | OpResult:
        """Start ``name`` (recorded as invoked now): the hook and every step before the
        target's commit step run, and the commit request is rendered, not sent. Returns
        the :class:`Staged` operation, or the result if it ended before the commit (a
        refusal, a hook that did the whole operation)."""
        handle = self.recorder.invoke(self.process, HISTORY_NAME.get(name, name), dict(args)) \
            if self.recorder is not None else None
        staged = Staged(name, dict(args), handle, value)
        try:
            hooked = self._hook(name, args)
            op = self.target.operation(name)
            if hooked is not None or op is None:
                return self._complete(staged, hooked or OpResult(FAIL, {}, 0, "unsupported"))
            ctx = self.context_for(name, args)
            result = self._steps(name, op, range(op.commit_index), ctx, OpResult(OK), None)
            if not result.ok:
                return self._complete(staged, result)
            step = op.steps[op.commit_index]
            staged.op, staged.ctx, staged.result, staged.step = op, ctx, result, step
            staged.request = self.prepare(op, step, name, ctx)
        except TemplateError as exc:
            return self._complete(staged, OpResult(FAIL, {}, 0, f"{name}: {exc}"))
        except Exception as exc:  # noqa: BLE001 - a hook or a shop's garbage is unknown
            return self._complete(staged, self._raised(name, exc))
        return staged

    def commit(self, staged: Staged, ans: Answer) -> OpResult:
        """The commit step's answer (sent by the caller), then the steps after it; the
        operation is recorded complete."""
        assert staged.op is not None and staged.step is not None and staged.request
        reading = read_answer(staged.step, ans)
        result = staged.result
        failed = self._took(staged.step, staged.request, ans, reading, staged.ctx, result)
        if failed is None:
            try:
                result = self._steps(staged.name, staged.op,
                                     range(staged.op.commit_index + 1, len(staged.op.steps)),
                                     staged.ctx, result, None)
            except Exception as exc:  # noqa: BLE001 - as run()
                result = self._raised(staged.name, exc)
        return self._complete(staged, failed or result)

    def _raised(self, name: str, exc: Exception) -> OpResult:
        if name not in _warned:  # a bug in a hook: say so once, loudly
            _warned.add(name)
            log.error("simlive: operation %s raised %s (recorded as info): %s", name,
                      type(exc).__name__, exc)
        return OpResult(INFO, {}, 0, f"{type(exc).__name__}: {exc}")

    def _complete(self, staged: Staged, result: OpResult) -> OpResult:
        self._record(staged.handle, result, staged.value)
        return result

    def _record(self, handle: Any, result: OpResult,
                value: Callable[[OpResult], Any] | None) -> None:
        if handle is None or self.recorder is None:
            return
        if result.outcome == OK:
            self.recorder.complete(handle, OK, value(result) if value else result.fields)
        else:
            expected = bool(result.requests) and result.requests[-1][2].expected
            self.recorder.complete(handle, result.outcome, {
                "status": result.status, "code": result.fields.get("code"),
                "error": result.error, "expected": expected})

    def run(self, name: str, args: Mapping[str, Any],
            value: Callable[[OpResult], Any] | None = None,
            as_role: str | None = None) -> OpResult:
        """Run and record ``name``: invoke before, ok / fail / info after, with ``value``
        (the fields the checker reads; by default every extracted field)."""
        handle = self.recorder.invoke(self.process, HISTORY_NAME.get(name, name), dict(args)) \
            if self.recorder is not None else None
        try:
            result = self.execute(name, args, as_role)
        except Unsupported:
            raise
        except Exception as exc:  # noqa: BLE001 - a hook or a shop's garbage is unknown
            result = self._raised(name, exc)
        except BaseException:  # the load stopping this user mid-request (GreenletExit)
            if handle is not None and self.recorder is not None:
                self.recorder.complete(handle, INFO, {"error": "interrupted: the load "
                                                      "stopped", "interrupted": True})
            raise
        self._record(handle, result, value)
        return result

    # --- stock readings -------------------------------------------------------------------

    def stock_value(self, result: OpResult, sku: str | None) -> dict[str, int]:
        """A stock reading as {sku: units}: from ``items`` [{product, stock}] (scope all) or
        one product's ``stock``. Products not created by this run are left out."""
        out: dict[str, int] = {}
        items = result.fields.get("items")
        if isinstance(items, list):
            for it in items:
                if not isinstance(it, dict):
                    continue
                key = str(it.get("product"))
                s = self._by_id.get(key) or (key if key in self.products else None)
                n = it.get("stock")
                if s is not None and isinstance(n, int | float) and not isinstance(n, bool):
                    out[s] = int(n)
        elif sku is not None:
            n = result.fields.get("stock")
            if isinstance(n, int | float) and not isinstance(n, bool):
                out[sku] = int(n)
        return out
