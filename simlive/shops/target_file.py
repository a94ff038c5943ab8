"""The target file: how simlive's operations become HTTP requests on one shop (pydantic).

A target file has four parts. ``auth`` says where each role's credentials come from and how
they are sent. ``operations`` maps each operation of :mod:`simlive.operations` to one
or more requests (or ``unsupported``). ``state`` says how to read the shop's final state
after the load, or ``history-only``. ``marker`` is the header that tags every request as
test traffic. ``simlive schema --target`` prints the JSON Schema; the README documents every
key with examples.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simlive.operations import OPERATIONS, OperationName, Role, is_role
from simlive.shops.paths import FUNCTIONS

RoleName = Literal["buyer", "merchant", "agent", "admin", "none"]
# the order states the checker reads (simlive.check.state.FinalState.orders)
StateWord = Literal["placed", "paid", "cancelled", "expired", "delivered"]
STATE_WORDS: tuple[StateWord, ...] = get_args(StateWord)
STATUS = re.compile(r"^[1-5](\d\d|xx)$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _jmespath(expr: str) -> str:
    path = expr.removeprefix("header:")
    if expr.startswith("header:"):
        if not path.strip():
            raise ValueError("a header name after 'header:'")
        return expr
    try:
        parsed = jmespath.compile(path).parsed
    except JMESPathError as exc:
        raise ValueError(f"a JMESPath expression ({str(exc).splitlines()[0]})") from None
    unknown = sorted(_functions(parsed) - FUNCTIONS)
    if unknown:
        raise ValueError(f"JMESPath functions that exist (not {', '.join(unknown)}); known: "
                         f"{', '.join(sorted(FUNCTIONS))}")
    return expr


def _jmespaths(fields: dict[str, str]) -> dict[str, str]:
    for expr in fields.values():
        _jmespath(expr)
    return fields


def _functions(node: Any) -> set[str]:
    """The function names an expression calls (walking jmespath's parse tree)."""
    out: set[str] = set()
    if isinstance(node, dict):
        if node.get("type") == "function_expression":
            out.add(str(node.get("value")))
        for child in node.get("children", []):
            out |= _functions(child)
    return out


class Match(Model):
    """Which answers mean this outcome: a status among ``status`` (numbers, or ``2xx``
    style classes) and, if given, ``when`` (a JMESPath over the JSON body) true."""

    status: list[int | str] | None = Field(default=None, description=(
        "status codes, e.g. [200, 201] or ['2xx']"))
    when: str | None = Field(default=None, description=(
        "JMESPath over the JSON body that must be true, e.g. "
        "\"data.checkout.errors[0].code == 'INSUFFICIENT_STOCK'\""))

    @field_validator("status")
    @classmethod
    def _codes(cls, v: list[int | str] | None) -> list[int | str] | None:
        for code in v or []:
            text = str(code)
            if isinstance(code, bool) or not STATUS.match(text):
                raise ValueError("status codes 100-599 or classes like '4xx'")
        return v

    @field_validator("when")
    @classmethod
    def _when(cls, v: str | None) -> str | None:
        if v is not None and v.startswith("header:"):
            raise ValueError("a JMESPath over the body (header: is for extract)")
        return None if v is None else _jmespath(v)

    def status_matches(self, code: int) -> bool:
        if self.status is None:
            return True
        for s in self.status:
            text = str(s)
            if text.endswith("xx") and code // 100 == int(text[0]) or text == str(code):
                return True
        return False


class Request(Model):
    """One HTTP request of an operation, and how to read its answer."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    url: str = Field(description="path on the host, with placeholders: /orders/{{ order_id }}")
    role: RoleName | None = Field(default=None, description=(
        "whose credentials to send (default: the operation's role); none sends none"))
    name: str | None = Field(default=None, description="name in Locust's statistics")
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json", description="JSON body template")
    form: dict[str, Any] | None = Field(default=None, description="form body template")
    ok: Match = Field(default_factory=lambda: Match(status=["2xx"]), description=(
        "answers that mean it happened (default: any 2xx)"))
    fail: Match = Field(default_factory=lambda: Match(status=["4xx"]), description=(
        "answers that mean it certainly did not happen; statuses listed here are expected "
        "business refusals (sold out) and count as successes in Locust's statistics; "
        "default: any 4xx"))
    extract: dict[str, str] = Field(default_factory=dict, description=(
        "field -> JMESPath over the JSON body, or 'header:Name' for a response header"))

    @field_validator("url")
    @classmethod
    def _relative(cls, v: str) -> str:
        if not (v.startswith("/") or v.startswith("{{")):
            raise ValueError("a path starting with '/' (the host comes from --host), or a "
                             "placeholder holding one")
        return v

    @field_validator("extract")
    @classmethod
    def _paths(cls, v: dict[str, str]) -> dict[str, str]:
        return _jmespaths(v)

    @model_validator(mode="after")
    def _one_body(self) -> Request:
        if self.json_body is not None and self.form is not None:
            raise ValueError("either json or form as the body, not both")
        return self


def _inline_form(schema: dict[str, Any]) -> None:
    """The JSON Schema of an operation also admits the inline form (one request's keys)."""
    steps_form = dict(schema)
    schema.clear()
    schema["anyOf"] = [steps_form, {"type": "object", "required": ["method", "url"],
                                    "description": "one request, its keys inline"}]


class Operation(Model):
    """An operation as one request (its keys inline) or several ``steps`` in sequence;
    fields extracted by a step are placeholders for the next ones."""

    model_config = ConfigDict(json_schema_extra=_inline_form)

    role: RoleName | None = None
    scope: Literal["all", "product"] | None = Field(default=None, description=(
        "read_stock / true_stock: one request for every product, or one per product"))
    steps: list[Request] = Field(min_length=1)
    commit: int | None = Field(default=None, ge=1, le=100, description=(
        "order / pay: the step (1 = the first) that takes the stock; a flash sale's buyers "
        "run every step before it ahead and are released together on it (default: the "
        "last)"))

    @model_validator(mode="before")
    @classmethod
    def _inline(cls, data: Any) -> Any:
        if isinstance(data, dict) and "steps" not in data and "method" in data:
            top = {k: data[k] for k in ("scope", "commit") if k in data}
            step = {k: v for k, v in data.items() if k not in top}
            return {**top, "steps": [step]}
        return data

    @model_validator(mode="after")
    def _commit_step(self) -> Operation:
        if self.commit is not None and self.commit > len(self.steps):
            raise ValueError(f"commit(={self.commit}) names a step; the operation has "
                             f"{len(self.steps)}")
        return self

    @property
    def commit_index(self) -> int:
        """The commit step's index in ``steps`` (0-based)."""
        return (self.commit or len(self.steps)) - 1


class Credential(Model):
    """Where one role's credentials come from and how each request carries them."""

    source: Literal["token-file", "env", "create_users", "start_session", "login",
                    "none"] = Field(
        default="token-file", alias="from", description=(
            "token-file: the --token-file key (default: the role's name); env: an "
            "environment variable (tokens separated by commas); create_users: minted at "
            "setup by that operation; start_session: each Locust user opens its own "
            "anonymous session; login: the login operation exchanges each 'username:password' "
            "of the token file's key (or of env) for a token, and again once on a 401; "
            "none: no credentials"))
    key: str | None = Field(default=None, description="token-file key (default: the role)")
    env: str | None = Field(default=None, description="environment variable name")
    scheme: Literal["bearer", "header", "cookie"] = Field(default="bearer", description=(
        "bearer: Authorization: Bearer <token>; header: <name>: <prefix><token>; cookie: "
        "a cookie <name>=<token>"))
    name: str = Field(default="Authorization", description="header or cookie name")
    prefix: str = Field(default="", description="text before the token, e.g. 'Token '")
    account: str | None = Field(default=None, description=(
        "the shop's own name for this role, {{ role }} in create_users (default: the role)"))
    count: int | None = Field(default=None, ge=1, le=100_000, description=(
        "create_users: accounts to mint (default: 1; buyers: load.buyer_accounts)"))

    @model_validator(mode="after")
    def _env(self) -> Credential:
        if self.source == "env" and not self.env:
            raise ValueError("env: the variable's name (with from: env)")
        return self


class Marker(Model):
    """The test-traffic tag every request carries, so a shop can keep test writes apart."""

    header: str = "X-Simlive-Run"
    value: str = "{{ run_id }}"


class Listing(Model):
    """A paged listing of the final state: request, where the records are, the next page."""

    request: Request
    items: str = Field(default="@", description="JMESPath to the list of records in a page")
    next: str | None = Field(default=None, description=(
        "JMESPath to the value of {{ page }} for the next request; null ends"))
    paging: Literal["next", "page", "offset"] = Field(default="next", description=(
        "next: {{ page }} is what `next` reads from each answer (a cursor); page: "
        "{{ page }} counts 1, 2, 3 ... (first_page to start elsewhere); offset: {{ offset }} "
        "counts the records read so far and {{ limit }} is `limit`; page and offset end at "
        "an empty page or one shorter than `limit`"))
    limit: int | None = Field(default=None, ge=1, le=1_000_000, description=(
        "records per page: {{ limit }} in the request; a shorter page is the last"))
    first_page: Any = Field(default=None, description="{{ page }} in the first request")
    fields: dict[str, str] = Field(default_factory=dict, description=(
        "simlive field -> JMESPath over one record; other keys are kept as they are"))
    max_pages: int = Field(default=100_000, ge=1, le=10_000_000)

    @field_validator("items", "next")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        return None if v is None else _jmespath(v)

    @field_validator("fields")
    @classmethod
    def _paths(cls, v: dict[str, str]) -> dict[str, str]:
        return _jmespaths(v)


class StateMap(Model):
    """The final state's parts; a part left out is not read (the rules needing it say
    unknown). Field names: see simlive.check.state.FinalState."""

    ledger: Listing | None = None
    orders: Listing | None = None
    receipts: Listing | None = None
    tickets: Listing | None = None
    reviews: Listing | None = None
    broadcasts: Listing | None = None


def _unsupported_schema(schema: dict[str, Any]) -> None:
    """In the JSON Schema, the words the loader turns into None: ``unsupported`` for an
    operation, ``history-only`` for the state."""
    props = schema.get("properties", {})
    for alts, word in ((props.get("operations", {}).get("additionalProperties", {}),
                        "unsupported"), (props.get("state", {}), "history-only")):
        for alt in alts.get("anyOf", []):
            if alt.get("type") == "null":
                alt.clear()
                alt["const"] = word
    if "state" in props:
        props["state"]["default"] = "history-only"


class Target(Model):
    """A target file (see the module doc)."""

    model_config = ConfigDict(json_schema_extra=_unsupported_schema)

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    timeout: float = Field(default=10.0, gt=0, le=600, description=(
        "seconds before a request's outcome is recorded unknown (info)"))
    marker: Marker = Field(default_factory=Marker)
    auth: dict[Role, Credential] = Field(
        default_factory=dict, description="per role; a role left out sends no credentials")
    operations: dict[OperationName, Operation | None] = Field(
        default_factory=dict, description=(
            "per operation: its request(s), or 'unsupported'; one left out is unsupported"))
    state: StateMap | None = Field(default=None, description=(
        "how to read the final state, or history-only: decide from the history alone"))
    sale: Literal["order", "pay"] = Field(default="order", description=(
        "which operation's ok acknowledges a sale, i.e. takes the stock: order (the "
        "default), or pay for shops that allocate stock at payment; a flash sale's buyers "
        "are released on that operation's commit step, the preflight expects the sold-out "
        "refusal there"))
    states: dict[StateWord, list[str]] = Field(
        default_factory=dict, description=(
            "the shop's own order states for the words the checker reads, e.g. {paid: "
            "[PAID, completed], cancelled: [void]}; a state listed nowhere is kept as it is"))
    refusals: dict[Literal["return_window_closed", "return_excluded", "goods_not_intact"],
                   Match] = Field(
        default_factory=dict, description=(
            "answers that are a refusal the rules must recognise, by meaning, for "
            "returns.seven-day: return_window_closed (open_ticket refusing a return as too "
            "late), return_excluded (as goods the seller excludes: lawful only if the order's "
            "return_exclusion shows the buyer confirmed it), goods_not_intact (lawful), "
            "e.g. {status: [422], when: \"code == 'late'\"}"))
    hooks: str | None = Field(default=None, pattern=r"^[^:]+:[A-Za-z_]\w*$", description=(
        "a Python hook class: module.path:ClassName, or file.py:ClassName (a file beside "
        "the target file)"))

    @field_validator("operations", mode="before")
    @classmethod
    def _unsupported(cls, v: Any) -> Any:
        """``unsupported`` is stored as None, so a bad mapping is reported against the
        mapping alone (not against both forms of a union)."""
        if isinstance(v, dict):
            return {k: None if op == "unsupported" else op for k, op in v.items()}
        return v

    @field_validator("state", mode="before")
    @classmethod
    def _history_only(cls, v: Any) -> Any:
        """``history-only`` is stored as None, so a bad listing is reported against the
        listing alone (not against both forms of a union)."""
        return None if v == "history-only" else v

    def operation(self, name: str) -> Operation | None:
        op = self.operations.get(name)
        return op if isinstance(op, Operation) else None

    def supports(self, name: str) -> bool:
        return self.operation(name) is not None

    @property
    def unsupported(self) -> list[str]:
        return [n for n in OPERATIONS if not self.supports(n)]

    def state_word(self, shop_state: Any) -> Any:
        """The checker's word for one of the shop's order states (``states``)."""
        for word, names in self.states.items():
            if shop_state in names:
                return word
        return shop_state

    def credential(self, role: str) -> Credential | None:
        return self.auth.get(role) if is_role(role) else None
