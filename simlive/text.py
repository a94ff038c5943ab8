"""Words around numbers, shared by every report: ``plural(1, "request")`` -> "1 request"."""

from __future__ import annotations


def plural(n: int | float, word: str, words: str | None = None) -> str:
    """``n`` and the noun that agrees with it: 1 request, 2 requests, 1 silent consumer."""
    many = words if words is not None else word + "s"
    return f"{n:,} {word if n == 1 else many}" if isinstance(n, int) else \
        f"{n:g} {word if n == 1 else many}"


def money(x: float) -> str:
    """An amount as a person writes it: ``9.9``, ``1,234.5``, ``199`` (cents at most)."""
    return f"{x:,.2f}".rstrip("0").rstrip(".")
