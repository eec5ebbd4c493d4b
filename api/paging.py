"""Pagination of every list: ``?limit=&offset=``, answering ``{"items": [...], "count": n}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ninja.pagination import LimitOffsetPagination, paginate

# Larger pages are cut to this size: one request must not serialise a whole agency.
MAX_PAGE_SIZE = 200


def paged() -> Callable[..., Any]:
    """The pagination decorator all list endpoints use."""
    decorator: Callable[..., Any] = paginate(LimitOffsetPagination, max_limit=MAX_PAGE_SIZE)
    return decorator
