"""Domain expiry check: the registration's expiry date, read from RDAP over HTTP."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from monitoring.checks.dns import normalize_domain_name
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import FetchedResponse, FetchError, OutboundClient
from sitecare.lib.messages import deferred as _
from sitecare.lib.messages import deferred_plural as ngettext
from sitecare.lib.netpolicy import validate_check_url

SECONDS_PER_DAY = 86_400


def normalize_target(value: str) -> str:
    """A domain expiry monitor points at a registered name, like example.com (no underscores)."""
    return normalize_domain_name(value, allow_underscore=False)


def target_host(target: str) -> str | None:
    # The connection goes to the RDAP server, not to the domain; fetch guards that one.
    return None


def rdap_base_url(configured: str | None) -> str:
    """The monitor's RDAP base URL, else the installation's (``SITECARE_RDAP_BASE_URL``)."""
    base = configured or settings.SITECARE_RDAP_BASE_URL
    return str(base).rstrip("/")


class Options(BaseModel):
    """Kind-specific settings of a domain expiry monitor."""

    model_config = ConfigDict(extra="forbid")

    warn_days: int = Field(
        default=30, ge=1, le=3650, description=gettext_noop("warn this many days ahead")
    )
    critical_days: int = Field(
        default=7, ge=0, le=3650, description=gettext_noop("down this many days ahead (or fewer)")
    )
    rdap_base_url: str | None = Field(
        default=None,
        description=gettext_noop("RDAP service to ask; empty: the installation's default"),
    )

    @field_validator("critical_days")
    @classmethod
    def _critical_before_warning(cls, value: int, info: ValidationInfo) -> int:
        warn = info.data.get("warn_days")
        if warn is not None and value > warn:
            raise ValueError(
                _("must not exceed warn_days (%(warn)d), or the warning would never come first")
                % {"warn": warn}
            )
        return value

    @field_validator("rdap_base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return validate_check_url(value).rstrip("/")


@dataclass(frozen=True)
class Registration:
    """What an RDAP answer says about a domain's registration."""

    expires_at: datetime | None
    registrar: str | None
    statuses: list[str]


class RdapProblem(Exception):
    """An RDAP exchange that says nothing usable, with its failure class and message."""

    def __init__(self, failure: FailureClass, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message


async def run(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Run one domain expiry check of a monitor and say what it found.

    1. Read the monitor's options (a stored config that no longer validates is a failure).
    2. Fetch ``{base}/domain/{name}`` through the guarded outbound client (redirects followed:
       bootstrap services such as rdap.org redirect to the registry's server).
    3. Read the expiration event, registrar and statuses from the RDAP JSON.
    4. Judge the days left against the thresholds.
    """
    now = timezone.now()
    try:
        options = Options.model_validate(dict(target.config))
    except ValidationError as exc:
        message = _("Invalid options: %(error)s") % {"error": str(exc)[:200]}
        return _failed(target, now, FailureClass.INTERNAL_ERROR, message)
    url = f"{rdap_base_url(options.rdap_base_url)}/domain/{target.url}"
    try:
        response = await outbound.fetch(url, allowlist=target.allowlist, timeout_s=target.timeout_s)
        registration = read_registration(target.url, response)
    except FetchError as exc:
        return _failed(target, now, FailureClass(exc.failure.value), exc.message)
    except RdapProblem as exc:
        return _failed(target, now, exc.failure, exc.message)
    failure, message, details = judge(target.url, registration, options, now)
    return Outcome(
        target.monitor_id,
        now,
        ok=failure == FailureClass.NONE,
        status_code=response.status,
        response_ms=round(response.elapsed_ms, 1),
        failure_class=failure,
        message=message,
        details=details,
    )


def read_registration(name: str, response: FetchedResponse) -> Registration:
    """The registration in an RDAP response; raise RdapProblem when it tells none.

    1. 404 means the registry knows no such domain: it is not registered (or was released).
    2. Any other non-200 status is the RDAP server's problem, reported as such.
    3. The body must be a JSON object with an ``expiration`` event.
    """
    if response.status == 404:
        raise RdapProblem(
            FailureClass.DNS_ERROR,
            _("The registry has no record of %(name)s: the domain is not registered.")
            % {"name": name},
        )
    if response.status != 200:
        raise RdapProblem(
            FailureClass.HTTP_STATUS,
            _("The RDAP server answered HTTP %(status)d for %(name)s.")
            % {"status": response.status, "name": name},
        )
    data = _json_object(response)
    registration = Registration(
        expires_at=expiration_of(data),
        registrar=registrar_of(data),
        statuses=[s for s in data.get("status", []) if isinstance(s, str)],
    )
    if registration.expires_at is None:
        raise RdapProblem(
            FailureClass.INVALID_RESPONSE,
            _("The RDAP answer for %(name)s has no expiration date (no “expiration” event).")
            % {"name": name},
        )
    return registration


def _json_object(response: FetchedResponse) -> dict[str, Any]:
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise RdapProblem(
            FailureClass.INVALID_RESPONSE, _("The RDAP server did not answer with a JSON object.")
        )
    return data


def expiration_of(data: dict[str, Any]) -> datetime | None:
    """The date of the first ``expiration`` event, in UTC; None when there is none."""
    for event in data.get("events", []):
        if isinstance(event, dict) and event.get("eventAction") == "expiration":
            return parse_rdap_date(event.get("eventDate"))
    return None


def parse_rdap_date(value: Any) -> datetime | None:
    """An RDAP date (RFC 3339); a date without a zone is read as UTC."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def registrar_of(data: dict[str, Any]) -> str | None:
    """The formatted name (vCard ``fn``) of the entity with the ``registrar`` role."""
    for entity in data.get("entities", []):
        if isinstance(entity, dict) and "registrar" in entity.get("roles", []):
            return _vcard_name(entity.get("vcardArray"))
    return None


def _vcard_name(vcard: Any) -> str | None:
    # jCard (RFC 7095): ["vcard", [[name, params, type, value], ...]]
    if not isinstance(vcard, list) or len(vcard) < 2 or not isinstance(vcard[1], list):
        return None
    for prop in vcard[1]:
        if isinstance(prop, list) and len(prop) >= 4 and prop[0] == "fn":
            return str(prop[3])
    return None


def judge(
    name: str, registration: Registration, options: Options, now: datetime
) -> tuple[FailureClass, str, dict[str, Any]]:
    """The failure class, message and details of a registration under the thresholds.

    1. Days left are whole days until expiry, rounded down (negative once expired).
    2. Down when expired or at most ``critical_days`` left; a warning in the details (still
       up) at most ``warn_days`` left.
    """
    expires_at = registration.expires_at
    assert expires_at is not None  # read_registration refuses answers without one
    days_left = math.floor((expires_at - now).total_seconds() / SECONDS_PER_DAY)
    shown = {"name": name, "date": expires_at.date().isoformat(), "days": days_left}
    details: dict[str, Any] = {
        "expires_at": expires_at.isoformat(),
        "days_left": days_left,
        "registrar": registration.registrar,
        "statuses": registration.statuses,
    }
    if expires_at <= now:
        return FailureClass.ASSERTION_FAILED, _("%(name)s expired on %(date)s.") % shown, details
    message = (
        ngettext(
            "%(name)s expires on %(date)s, in %(days)d day.",
            "%(name)s expires on %(date)s, in %(days)d days.",
            days_left,
        )
        % shown
    )
    if days_left <= options.critical_days:
        return FailureClass.ASSERTION_FAILED, message, details
    if days_left <= options.warn_days:
        details["warning"] = ngettext(
            "Renew soon: %(days)d day left (warning at %(warn)d).",
            "Renew soon: %(days)d days left (warning at %(warn)d).",
            days_left,
        ) % {"days": days_left, "warn": options.warn_days}
    return FailureClass.NONE, message, details


def _failed(target: CheckTarget, now: datetime, failure: FailureClass, message: str) -> Outcome:
    return Outcome(target.monitor_id, now, ok=False, failure_class=failure, message=message)
