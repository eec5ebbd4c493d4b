"""Types the routers share: input schemas that refuse unknown fields, ids bounded to what the
store can hold, wall-clock times.

An id larger than the database's 64-bit integer made SQLite raise ``OverflowError`` (a 500)
wherever it reached a query as a filter or a related object; as ``Id`` it is a 422 naming the
parameter or field instead.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema


class InputSchema(Schema):
    """A request body: a field the schema does not have is a 422 naming it, not silently
    ignored (``{"credit_percent": 5}`` for ``credits`` changed nothing and answered 200)."""

    model_config = ConfigDict(extra="forbid")


# The largest primary key SQLite and PostgreSQL (bigint) can store.
MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# A time on a local wall clock ("02:00", "02:00:30"), read in a zone given elsewhere. Pydantic
# documents ``time`` as JSON Schema's "time" format, which requires an offset we never send.
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"}
    ),
]
