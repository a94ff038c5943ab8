"""Property-based requests generated from the service's own /openapi.json: never a 500.

For every operation, hypothesis draws path, query, header and body values: mostly from the
JSON schemas the service publishes (:func:`from_schema`, a small converter covering the
keywords FastAPI emits), sometimes arbitrary JSON or small ids that hit existing records. Each
request is sent as every role and without a token: whatever a client sends, the answer must be
a deliberate status, never a server error. Bounded: a fixed number of examples per database,
no example database kept on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlive.service.harness import ServiceProcess, Shop

EXAMPLES = 200
ROLES = (None, "viewer", "merchant", "agent", "admin")
JSON = st.recursive(
    st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=10)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for a (ref-free) JSON schema, for the keywords FastAPI's schemas use."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s) for s in schema[key]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}) for k in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False,
                         allow_infinity=False)
    if kind == "string":
        low, high = schema.get("minLength", 0), min(schema.get("maxLength", 40), 40)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda v: low <= len(v) <= schema.get("maxLength", 10**6))
        if schema.get("format") == "date-time":
            return st.datetimes().map(lambda d: d.isoformat())
        return st.text(min_size=low, max_size=max(low, high))
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {})), max_size=3)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in props.items() if k in required},
            optional={k: from_schema(v) for k, v in props.items() if k not in required})
    return JSON


def _resolve(schema: Any, components: dict[str, Any]) -> Any:
    """Inline ``$ref``s (the service's schemas are not recursive)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolve(components[schema["$ref"].rsplit("/", 1)[1]], components)
        return {k: _resolve(v, components) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(v, components) for v in schema]
    return schema


def _value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    valid = from_schema(schema)
    if schema.get("type") == "integer":
        return st.one_of(valid, st.integers(1, 5), st.integers(-2, 2**64))
    return st.one_of(valid, valid, JSON)


def _text_param(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """A query/path/header value as the text a client would put in the URL or header."""
    return _value(schema).map(lambda v: str(v).lower() if isinstance(v, bool) else str(v))


def _operation(spec: dict[str, Any], path: str, method: str) -> st.SearchStrategy[Any]:
    components = spec.get("components", {}).get("schemas", {})
    op = spec["paths"][path][method]
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for param in op.get("parameters", []):
        schema = _resolve(param.get("schema", {}), components)
        strategy = _text_param(schema)
        if param["in"] == "header":
            strategy = strategy.filter(lambda s: s.isascii() and s.isprintable())
        key = f"{param['in']}:{param['name']}"
        parts[key] = strategy if param.get("required") else st.none() | strategy
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        parts["body"] = _value(_resolve(body["schema"], components))
    return st.fixed_dictionaries(parts).map(lambda p: (path, method, p))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest,
           shop_of: Callable[[ServiceProcess], Shop]) -> tuple[Shop, dict[str, Any]]:
    svc = request.getfixturevalue("sqlite_service" if request.param == "sqlite"
                                  else "pg_service")
    shop = shop_of(svc)
    shop.paid_order(shop.product(stock=1000))  # something for small ids to hit
    spec = shop.anonymous.get("/openapi.json").json()
    return shop, spec


def test_no_request_gets_a_500(target: tuple[Shop, dict[str, Any]]) -> None:
    shop, spec = target
    ops = [(p, m) for p, methods in spec["paths"].items() for m in methods]
    clients = {None: shop.anonymous, "viewer": shop.viewer, "merchant": shop.merchant,
               "agent": shop.agent, "admin": shop.admin}
    requests = st.sampled_from(ops).flatmap(lambda o: _operation(spec, *o))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(requests)
    def check(request: tuple[str, str, dict[str, Any]]) -> None:
        path, method, parts = request
        query, headers = {}, {}
        for key, value in parts.items():
            if key == "body" or value is None:
                continue
            where, name = key.split(":", 1)
            if where == "path":
                path = path.replace("{" + name + "}", httpx.URL(
                    "/" + value.replace("/", "%2F").replace("?", "%3F")
                    .replace("#", "%23")).path.lstrip("/"))
            elif where == "query":
                query[name] = value
            else:
                headers[name] = value
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if "body" in parts:
            kwargs["json"] = parts["body"]
        for role in ROLES:  # every role, so requests get past the role checks too
            r = clients[role].request(method.upper(), path, **kwargs)
            assert r.status_code < 500, f"{method.upper()} {path} {kwargs} as {role} -> " \
                                        f"{r.status_code} {r.text}"

    check()
