"""HTTP(S) check: status, keyword present/absent, through the guarded outbound module."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def parse_status_spec(spec: str) -> list[tuple[int, int]]:
    """Parse ``"200-399"`` or ``"200,301-302"`` into inclusive ranges; ValueError if bad."""
    ranges: list[tuple[int, int]] = []
    for part in spec.split(","):
        item = part.strip()
        if not item:
            continue
        low_s, _, high_s = item.partition("-")
        try:
            low, high = int(low_s), int(high_s or low_s)
        except ValueError:
            raise ValueError(f"{item!r} is not a status code or range like 200-399") from None
        if not (100 <= low <= high <= 599):
            raise ValueError(f"{item!r} is outside 100-599 or reversed")
        ranges.append((low, high))
    if not ranges:
        raise ValueError("at least one status code or range is needed")
    return ranges


def status_matches(code: int, spec: str) -> bool:
    return any(low <= code <= high for low, high in parse_status_spec(spec))


class Options(BaseModel):
    """Kind-specific settings of an HTTP(S) monitor."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    expected_status: str = Field(default="200-399", description="codes or ranges: 200,301-302")
    keyword: str | None = Field(default=None, min_length=1, max_length=500)
    keyword_mode: Literal["present", "absent"] = "present"
    follow_redirects: bool = True

    @field_validator("expected_status")
    @classmethod
    def _check_status(cls, value: str) -> str:
        parse_status_spec(value)
        return value.replace(" ", "")
