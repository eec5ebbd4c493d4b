"""Pagination of every list: ``?limit=&offset=``, answering ``{"items": [...], "count": n}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination, paginate

# Larger pages are cut to this size: one request must not serialise a whole agency.
MAX_PAGE_SIZE = 200
# Deeper than any list an agency has; beyond the database's integers it was a 500.
MAX_OFFSET = 1_000_000_000


class BoundedPagination(LimitOffsetPagination):
    """``limit`` (cut to ``MAX_PAGE_SIZE``) and ``offset``, both within what a query can take."""

    class Input(Schema):
        limit: int = Field(100, ge=1)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


def paged() -> Callable[..., Any]:
    """The pagination decorator all list endpoints use."""
    decorator: Callable[..., Any] = paginate(BoundedPagination, max_limit=MAX_PAGE_SIZE)
    return decorator
