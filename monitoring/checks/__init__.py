"""The one registry of check kinds. A new kind is one file here plus one line below.

Each kind module exposes ``Options``, a pydantic model of its kind-specific settings
(``extra="forbid"``, so an unknown field is an error naming it), stored in ``Monitor.config``.
Each also exposes ``run``, the async function the probe engine calls for one check.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from monitoring.checks import http
from monitoring.engine.target import Runner
from monitoring.models import CheckKind

OPTIONS: dict[str, type[BaseModel]] = {
    CheckKind.HTTP: http.Options,
}

# Each kind's async run function, called by the probe engine.
RUNNERS: dict[str, Runner] = {
    CheckKind.HTTP: http.run,
}


def options_model(kind: str) -> type[BaseModel]:
    try:
        return OPTIONS[kind]
    except KeyError:
        known = ", ".join(sorted(OPTIONS))
        raise ValueError(f"unknown check kind {kind!r} (known: {known})") from None


def validate_options(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate kind-specific options; raise pydantic.ValidationError naming bad fields."""
    return options_model(kind).model_validate(data).model_dump(mode="json", exclude_defaults=True)
