"""Placeholders in a target file's URLs, headers and bodies: ``{{ name }}``, ``{{ a.b }}``.

A string that is exactly one placeholder takes the value's own type (``quantity: "{{
quantity }}"`` sends the number 1, not ``"1"``); inside a longer string the value is
formatted into it (``/orders/{{ order_id }}/pay``). A placeholder with no value is an error
naming it, never an empty string sent to a shop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_MISSING = object()


class TemplateError(KeyError):
    """A placeholder that the context does not define."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = known

    def __str__(self) -> str:
        return (f"placeholder {{{{ {self.name} }}}} has no value here (known: "
                f"{', '.join(sorted(self.known)) or 'none'})")


def lookup(context: Mapping[str, Any], dotted: str) -> Any:
    cur: Any = context
    for part in dotted.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list | tuple) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` (a string, or lists and mappings of them) with every placeholder filled."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value.strip())
        if whole is not None:
            found = lookup(context, whole.group(1))
            if found is _MISSING:
                raise TemplateError(whole.group(1), list(context))
            return found

        def one(m: re.Match[str]) -> str:
            found = lookup(context, m.group(1))
            if found is _MISSING:
                raise TemplateError(m.group(1), list(context))
            return "" if found is None else str(found)

        return PLACEHOLDER.sub(one, value)
    if isinstance(value, Mapping):
        return {render(k, context): render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


def names(value: Any) -> set[str]:
    """Every placeholder name used in ``value`` (for validating a target file)."""
    if isinstance(value, str):
        return {m.group(1) for m in PLACEHOLDER.finditer(value)}
    if isinstance(value, Mapping):
        return set().union(*(names(k) | names(v) for k, v in value.items())) if value else set()
    if isinstance(value, list):
        return set().union(*(names(v) for v in value)) if value else set()
    return set()


def stats_name(url: str) -> str:
    """A URL template as Locust's request name: placeholders shown as ``[name]``."""
    return PLACEHOLDER.sub(lambda m: f"[{m.group(1).split('.')[-1]}]", url)
