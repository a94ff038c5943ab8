"""Pieces every router shares: path and query parameters, and paging.

Listings page by id (``after`` = last id seen, ``limit`` at most 1000) rather than by offset,
so that a checker walking a table while orders keep arriving never skips or repeats a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query
from sqlalchemy import Select

from simlive.service.bodies import MAX_ID, SKU_PATTERN, Page

T = TypeVar("T")

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
SkuPath = Annotated[str, Path(pattern=SKU_PATTERN)]
After = Annotated[int, Query(ge=0, le=MAX_ID, description="Return ids greater than this.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or unknown bearer token"},
    403: {"description": "wrong role, or not the owner"},
    404: {"description": "unknown id"},
    422: {"description": "invalid input; `detail` names each bad field"},
}


def paged(query: Select[Any], id_column: Any, after: int, limit: int) -> Select[Any]:
    """The query restricted to one page (one extra row tells whether there is a next)."""
    return query.where(id_column > after).order_by(id_column).limit(limit + 1)


def page(rows: Sequence[Any], limit: int, convert: Callable[[Any], T]) -> Page[T]:
    items = [convert(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_after=rows[limit - 1]["id"] if more else None)
