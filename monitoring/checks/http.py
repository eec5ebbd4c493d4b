"""HTTP(S) check: status, keyword present/absent, through the guarded outbound module."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import FetchedResponse, FetchError, OutboundClient
from sitecare.lib.netpolicy import validate_check_url


def normalize_target(value: str) -> str:
    """An HTTP monitor points at an http(s) URL."""
    return validate_check_url(value)


def target_host(target: str) -> str | None:
    return urlsplit(target).hostname


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

    @field_validator("keyword")
    @classmethod
    def _keyword_needs_a_body(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A HEAD response has no body, so the keyword could never be found (or always absent).
        if value is not None and info.data.get("method") == "HEAD":
            raise ValueError(_("a keyword needs a body; HEAD responses have none"))
        return value


async def run(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Run one HTTP(S) check of a monitor and say what it found.

    1. Read the monitor's options (a stored config that no longer validates is a failure).
    2. Fetch the address through the guarded outbound client: policy, redirects, body cap
       and the monitor's timeout for the whole exchange.
    3. Judge the final response: expected status first, then the keyword.
    """
    checked_at = timezone.now()
    try:
        options = Options.model_validate(dict(target.config))
    except ValidationError as exc:
        return Outcome(
            target.monitor_id,
            checked_at,
            ok=False,
            failure_class=FailureClass.INTERNAL_ERROR,
            message=_("Invalid options: %(error)s") % {"error": str(exc)[:200]},
        )
    try:
        response = await outbound.fetch(
            target.url,
            allowlist=target.allowlist,
            timeout_s=target.timeout_s,
            method=options.method,
            follow_redirects=options.follow_redirects,
        )
    except FetchError as exc:
        return Outcome(
            target.monitor_id,
            checked_at,
            ok=False,
            failure_class=FailureClass(exc.failure.value),
            message=exc.message,
        )
    failure, message = judge(response, options)
    return Outcome(
        target.monitor_id,
        checked_at,
        ok=failure == FailureClass.NONE,
        status_code=response.status,
        response_ms=round(response.elapsed_ms, 1),
        failure_class=failure,
        message=message,
    )


def judge(response: FetchedResponse, options: Options) -> tuple[FailureClass, str]:
    """The failure class and message of a response under the monitor's options."""
    if not status_matches(response.status, options.expected_status):
        return FailureClass.HTTP_STATUS, _("HTTP %(status)d, expected %(expected)s.") % {
            "status": response.status,
            "expected": options.expected_status,
        }
    if options.keyword is not None:
        found = options.keyword in response.text()
        if options.keyword_mode == "present" and not found:
            return FailureClass.KEYWORD_MISSING, _("The text “%(keyword)s” is missing.") % {
                "keyword": options.keyword
            }
        if options.keyword_mode == "absent" and found:
            return FailureClass.KEYWORD_FOUND, _("The text “%(keyword)s” appeared.") % {
                "keyword": options.keyword
            }
    return FailureClass.NONE, _("HTTP %(status)d in %(ms)d ms.") % {
        "status": response.status,
        "ms": round(response.elapsed_ms),
    }
