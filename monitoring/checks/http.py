"""HTTP(S) check: status, keyword, JSON assertions and speed, through the guarded outbound module.

Options named in ``Options.SECRET_FIELDS`` (auth and header values) are secrets: ``Monitor.config``
is encrypted at rest, and the API, admin and exports show them masked.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from monitoring import jsonpath
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import FetchedResponse, FetchError, OutboundClient
from sitecare.lib.http_timing import Timing
from sitecare.lib.http_tls import custom_ca_context
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import validate_check_url

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Headers that belong to the connection or its framing (the outbound client sets them), and
# Host, which would aim the request at another virtual host than the URL names.
FORBIDDEN_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "expect",
        "host",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
MAX_HEADERS = 50
MAX_ASSERTIONS = 20


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
        low_s, _sep, high_s = item.partition("-")
        try:
            low, high = int(low_s), int(high_s or low_s)
        except ValueError:
            raise ValueError(
                _("%(item)r is not a status code or range like 200-399") % {"item": item}
            ) from None
        if not (100 <= low <= high <= 599):
            raise ValueError(_("%(item)r is outside 100-599 or reversed") % {"item": item})
        ranges.append((low, high))
    if not ranges:
        raise ValueError(_("at least one status code or range is needed"))
    return ranges


def status_matches(code: int, spec: str) -> bool:
    return any(low <= code <= high for low, high in parse_status_spec(spec))


class BasicAuth(BaseModel):
    """HTTP basic credentials (RFC 7617)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=500)

    @field_validator("username")
    @classmethod
    def _no_colon(cls, value: str) -> str:
        # The colon separates user from password on the wire; a user name cannot hold one.
        if ":" in value:
            raise ValueError(_("a user name cannot contain a colon"))
        return value


class Options(BaseModel):
    """Kind-specific settings of an HTTP(S) monitor (fields in validation order)."""

    model_config = ConfigDict(extra="forbid")
    # Never shown back in full (API, export, diffs, admin); every header value counts as one.
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"basic_auth", "bearer_token", "headers"})

    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    expected_status: str = Field(
        default="200-399", description=gettext_noop("codes or ranges: 200,301-302")
    )
    keyword: str | None = Field(default=None, min_length=1, max_length=500)
    keyword_mode: Literal["present", "absent"] = "present"
    follow_redirects: bool = True
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = Field(default=None, max_length=65_536)
    json_assert: list[str] = Field(
        default_factory=list, description=gettext_noop('e.g. $.status == "ok"')
    )
    max_response_ms: int | None = Field(default=None, ge=1, le=600_000)
    basic_auth: BasicAuth | None = None
    bearer_token: str | None = Field(default=None, min_length=1, max_length=4096)
    ca_pem: str | None = Field(default=None, min_length=1, max_length=200_000)
    verify_tls: bool = True

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

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_HEADERS:
            raise ValueError(_("at most %(n)d headers") % {"n": MAX_HEADERS})
        for name, text in value.items():
            check_header(name, text)
        return value

    @field_validator("body")
    @classmethod
    def _body_needs_a_method(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("method") not in BODY_METHODS:
            raise ValueError(_("a body can be sent only with POST, PUT or PATCH"))
        return value

    @field_validator("json_assert", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("json_assert")
    @classmethod
    def _parse_assertions(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if value and info.data.get("method") == "HEAD":
            raise ValueError(_("a JSON assertion needs a body; HEAD responses have none"))
        if len(value) > MAX_ASSERTIONS:
            raise ValueError(_("at most %(n)d assertions") % {"n": MAX_ASSERTIONS})
        return [jsonpath.parse(expression).source for expression in value]

    @field_validator("basic_auth")
    @classmethod
    def _auth_once(cls, value: BasicAuth | None, info: ValidationInfo) -> BasicAuth | None:
        if value is not None:
            refuse_second_authorization(info)
        return value

    @field_validator("bearer_token")
    @classmethod
    def _bearer_once(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("basic_auth") is not None:
            raise ValueError(_("use either basic_auth or bearer_token, not both"))
        refuse_second_authorization(info)
        if any(ch.isspace() for ch in value):
            raise ValueError(_("a bearer token cannot contain spaces or line breaks"))
        return value

    @field_validator("ca_pem")
    @classmethod
    def _check_ca(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            custom_ca_context(value)
        # A bundle without certificates is an SSLError; a non-ASCII one a ValueError/TypeError.
        except (ssl.SSLError, ValueError, TypeError) as exc:
            message = _("not a PEM bundle of CA certificates: %(error)s") % {"error": exc}
            raise ValueError(message) from None
        return value

    @field_validator("verify_tls")
    @classmethod
    def _verify_or_ca(cls, value: bool, info: ValidationInfo) -> bool:
        if not value and info.data.get("ca_pem"):
            raise ValueError(_("a custom CA (ca_pem) makes no sense without verification"))
        return value

    def request_headers(self) -> dict[str, str]:
        """The headers to send: the monitor's own plus its credentials."""
        headers = dict(self.headers)
        if self.basic_auth is not None:
            pair = f"{self.basic_auth.username}:{self.basic_auth.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        elif self.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.bearer_token}"
        return headers


def check_header(name: str, value: str) -> None:
    """Refuse a header that is malformed or that the client must set itself."""
    if not HEADER_NAME.fullmatch(name) or len(name) > 100:
        raise ValueError(_("%(name)r is not a valid header name") % {"name": name[:100]})
    if name.lower() in FORBIDDEN_HEADERS:
        raise ValueError(_("the header %(name)s cannot be set") % {"name": name})
    if len(value) > 8192 or any(ch in value for ch in "\r\n\0"):
        raise ValueError(
            _("the value of %(name)s is too long or contains line breaks") % {"name": name}
        )


def refuse_second_authorization(info: ValidationInfo) -> None:
    headers = info.data.get("headers") or {}
    if any(name.lower() == "authorization" for name in headers):
        raise ValueError(_("an Authorization header is already set in headers"))


# Options parsed per stored config: a monitor's config object lives as long as its target, and
# validating it again for every check cost a fifth of the check's CPU. Keyed by the object's
# id, holding the object itself so the id cannot be reused while the entry lives.
_PREPARED: dict[int, tuple[Mapping[str, Any], Options, dict[str, str], bytes | None]] = {}
_PREPARED_LIMIT = 100_000


def prepared_request(config: Mapping[str, Any]) -> tuple[Options, dict[str, str], bytes | None]:
    """A config's validated options, request headers and body (cached for the object)."""
    cached = _PREPARED.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1], dict(cached[2]), cached[3]
    options = Options.model_validate(dict(config))
    headers = options.request_headers()
    body = options.body.encode() if options.body is not None else None
    if len(_PREPARED) >= _PREPARED_LIMIT:
        _PREPARED.clear()  # targets were reloaded many times over: start afresh
    _PREPARED[id(config)] = (config, options, headers, body)
    return options, dict(headers), body


async def run(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Run one HTTP(S) check of a monitor and say what it found.

    1. Read the monitor's options (a stored config that no longer validates is a failure).
    2. Fetch the address through the guarded outbound client: policy, redirects, body cap,
       TLS settings and the monitor's timeout for the whole exchange.
    3. Judge the final response: expected status, keyword, JSON assertions, then speed.
    4. Keep the timing breakdown, also of a failed exchange (how far it got).
    """
    checked_at = timezone.now()
    try:
        options, headers, body = prepared_request(target.config)
    except ValidationError as exc:
        return invalid_options(target, checked_at, exc)
    try:
        response = await outbound.fetch(
            target.url,
            allowlist=target.allowlist,
            timeout_s=target.timeout_s,
            method=options.method,
            follow_redirects=options.follow_redirects,
            headers=headers,
            body=body,
            verify_tls=options.verify_tls,
            ca_pem=options.ca_pem,
        )
    except FetchError as exc:
        return transport_failure(target, checked_at, exc)
    failure, message = judge(response, options)
    redirected = {"redirects": response.redirects, "url": response.url}
    return response_outcome(
        target, checked_at, response, failure, message, redirected if response.redirects else None
    )


def response_outcome(
    target: CheckTarget,
    checked_at: datetime,
    response: FetchedResponse,
    failure: FailureClass,
    message: str,
    details: dict[str, Any] | None = None,
) -> Outcome:
    """An outcome about a fetched response: its status, time and timing phases."""
    timing = response.timing
    return Outcome(
        target.monitor_id,
        checked_at,
        ok=failure == FailureClass.NONE,
        status_code=response.status,
        response_ms=round(response.elapsed_ms, 1),
        failure_class=failure,
        message=message,
        dns_ms=timing.dns_ms if timing else None,
        connect_ms=timing.connect_ms if timing else None,
        tls_ms=timing.tls_ms if timing else None,
        ttfb_ms=timing.ttfb_ms if timing else None,
        details=details,
    )


def invalid_options(target: CheckTarget, checked_at: datetime, error: ValidationError) -> Outcome:
    """A stored config that no longer validates: a failure of the check, not of the site."""
    return Outcome(
        target.monitor_id,
        checked_at,
        ok=False,
        failure_class=FailureClass.INTERNAL_ERROR,
        message=_("Invalid options: %(error)s") % {"error": str(error)[:200]},
    )


def transport_failure(target: CheckTarget, checked_at: datetime, exc: FetchError) -> Outcome:
    """The page could not be fetched: its own failure class, with how far the exchange got."""
    failed = Outcome(
        target.monitor_id,
        checked_at,
        ok=False,
        failure_class=FailureClass(exc.failure.value),
        message=exc.message,
        details={"phase": exc.phase} if exc.phase else None,
    )
    return with_phases(failed, exc.timing)


def with_phases(outcome: Outcome, timing: Timing | None) -> Outcome:
    """The outcome with the phases of a timing breakdown (unchanged when there is none)."""
    if timing is None:
        return outcome
    return replace(
        outcome,
        dns_ms=timing.dns_ms,
        connect_ms=timing.connect_ms,
        tls_ms=timing.tls_ms,
        ttfb_ms=timing.ttfb_ms,
    )


def judge(response: FetchedResponse, options: Options) -> tuple[FailureClass, str]:
    """The failure class and message of a response under the monitor's options.

    1. The status must be expected; 2. the keyword present (or absent); 3. every JSON
    assertion must hold; 4. only a response that passes all that can be too slow.
    """
    if not status_matches(response.status, options.expected_status):
        return FailureClass.HTTP_STATUS, _("HTTP %(status)d, expected %(expected)s.") % {
            "status": response.status,
            "expected": options.expected_status,
        }
    for verdict in (judge_keyword(response, options), judge_json(response, options)):
        if verdict is not None:
            return verdict
    elapsed = round(response.elapsed_ms)
    if options.max_response_ms is not None and elapsed > options.max_response_ms:
        return FailureClass.TOO_SLOW, _("HTTP %(status)d in %(ms)d ms, over %(max)d ms.") % {
            "status": response.status,
            "ms": elapsed,
            "max": options.max_response_ms,
        }
    # A success stores no message: people read it from the status and the time, in their own
    # language (:func:`success_message`), and the engine saves a translation per check.
    return FailureClass.NONE, ""


def success_message(status: int | None, response_ms: float | None) -> str:
    """How a successful HTTP check reads, in the active language."""
    return _("HTTP %(status)d in %(ms)d ms.") % {
        "status": status or 0,
        "ms": round(response_ms or 0),
    }


def judge_keyword(response: FetchedResponse, options: Options) -> tuple[FailureClass, str] | None:
    if options.keyword is None:
        return None
    found = options.keyword in response.text()
    if options.keyword_mode == "present" and not found:
        return FailureClass.KEYWORD_MISSING, _("The text “%(keyword)s” is missing.") % {
            "keyword": options.keyword
        }
    if options.keyword_mode == "absent" and found:
        return FailureClass.KEYWORD_FOUND, _("The text “%(keyword)s” appeared.") % {
            "keyword": options.keyword
        }
    return None


def judge_json(response: FetchedResponse, options: Options) -> tuple[FailureClass, str] | None:
    """The first JSON assertion that fails, or None when all hold (or there are none)."""
    if not options.json_assert:
        return None
    try:
        document = json.loads(response.text())
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return FailureClass.ASSERTION_FAILED, _("The response is not valid JSON.")
    for expression in options.json_assert:
        message = jsonpath.parse(expression).failure(document)
        if message is not None:
            return FailureClass.ASSERTION_FAILED, message
    return None
