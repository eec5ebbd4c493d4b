"""DNS check: a record of a domain name has the expected values, asked of a chosen resolver."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdata
import dns.resolver
from django.utils import timezone
from django.utils.translation import gettext_noop
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.IN.A import A
from dns.rdtypes.IN.AAAA import AAAA
from dns.rdtypes.nsbase import NSBase
from dns.rdtypes.txtbase import TXTBase
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib import messages
from sitecare.lib.http import OutboundClient
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import blocked_message, is_address_allowed

RecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"]
DEFAULT_DNS_PORT = 53
# The operator's resolver configuration (read once per process; see ``system_resolver``).
RESOLV_CONF = "/etc/resolv.conf"
SHOWN_ANSWERS = 10
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


# --- targets and options --------------------------------------------------------------------


def normalize_domain_name(value: str, *, allow_underscore: bool = True) -> str:
    """A domain name in lowercase ASCII (IDNA) form without the final dot; ValueError if bad.

    1. Refuse what is plainly not a bare name: a scheme, path, port, spaces or escapes.
    2. Convert Unicode labels to their ASCII (``xn--``) form with IDNA.
    3. Check each label's characters and the name's shape (two labels at least, not an IP).
    """
    text = value.strip().rstrip(".")
    if not text:
        raise ValueError(_("A domain name is needed, like example.com."))
    if any(ch in text for ch in "/:@\\*") or any(ch.isspace() for ch in text):
        raise ValueError(
            _("%(value)s is not a domain name: give the bare name, like example.com.")
            % {"value": text}
        )
    try:
        ascii_name = dns.name.from_text(text).to_text(omit_final_dot=True).lower()
    except dns.exception.DNSException as exc:
        raise ValueError(
            _("%(value)s is not a valid domain name: %(error)s") % {"value": text, "error": exc}
        ) from exc
    _check_labels(ascii_name, allow_underscore)
    return ascii_name


def _check_labels(name: str, allow_underscore: bool) -> None:
    labels = name.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        raise ValueError(
            _("%(value)s is not a domain name with a top-level domain, like example.com.")
            % {"value": name}
        )
    allowed = _LABEL_CHARS if allow_underscore else _LABEL_CHARS - {"_"}
    for label in labels:
        if set(label) - allowed or label.startswith("-") or label.endswith("-"):
            raise ValueError(
                _("%(value)s has an invalid label %(label)s.") % {"value": name, "label": label}
            )


def normalize_target(value: str) -> str:
    """A DNS monitor points at a domain name (``_dmarc.example.com`` style names allowed)."""
    return normalize_domain_name(value, allow_underscore=True)


def target_host(target: str) -> str | None:
    # A name to look up is not a connection target; the resolver option is judged at run time.
    return None


def parse_resolver(value: str) -> tuple[str, int]:
    """Split ``IP``, ``IPv4:port`` or ``[IPv6]:port`` into (address, port); ValueError if bad."""
    text = value.strip()
    problem = _(
        "The resolver must be an IP address with an optional port, like 9.9.9.9 or "
        "[2620:fe::fe]:53; got %(value)s."
    ) % {"value": text}
    host, port_text = text, None
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError(problem)
        port_text = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, _sep, port_text = text.partition(":")
    try:
        address = ipaddress.ip_address(host)
        port = DEFAULT_DNS_PORT if port_text is None else int(port_text)
    except ValueError:
        raise ValueError(problem) from None
    if not 1 <= port <= 65535 or "%" in host:
        raise ValueError(problem)
    return address.compressed, port


def format_resolver(address: str, port: int) -> str:
    if port == DEFAULT_DNS_PORT:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def normalize_expected(value: str, record_type: str) -> str:
    """One expected value in the form answers are compared in; ValueError if it cannot be one."""
    text = value.strip()
    if record_type in ("A", "AAAA"):
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            ip = None
        if ip is None or ip.version != (4 if record_type == "A" else 6):
            raise ValueError(
                _("%(value)s is not an IPv%(version)d address.")
                % {"value": text, "version": 4 if record_type == "A" else 6}
            )
        return ip.compressed
    if record_type == "MX":
        return _normalize_mx(text)
    if record_type == "TXT":
        # People paste TXT values from dig, quotes included.
        quoted = len(text) >= 2 and text[0] == text[-1] == '"'
        return text[1:-1] if quoted else text
    return normalize_domain_name(text)


def _normalize_mx(text: str) -> str:
    """``"10 mx.example.com"`` or ``"mx.example.com"`` (any preference)."""
    preference, _sep, host = text.rpartition(" ")
    if not preference:
        return normalize_domain_name(host)
    if not preference.strip().isdigit() or int(preference) > 65535:
        raise ValueError(
            _("%(value)s is not an MX value like “10 mx.example.com”.") % {"value": text}
        )
    return f"{int(preference)} {normalize_domain_name(host)}"


class Options(BaseModel):
    """Kind-specific settings of a DNS monitor."""

    model_config = ConfigDict(extra="forbid")

    record_type: RecordType = "A"
    expected: list[str] = Field(
        default_factory=list,
        max_length=50,
        description=gettext_noop("values that must be answered; empty: any answer will do"),
    )
    match: Literal["all", "any"] = Field(
        default="all",
        description=gettext_noop(
            "“all”: the answers are exactly the expected values; “any”: one of them is there"
        ),
    )
    resolver: str | None = Field(
        default=None,
        description=gettext_noop("IP[:port] of the name server to ask; empty: the system's"),
    )

    @field_validator("record_type", mode="before")
    @classmethod
    def _upper_type(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("expected")
    @classmethod
    def _check_expected(cls, value: list[str], info: ValidationInfo) -> list[str]:
        record_type = info.data.get("record_type")
        if record_type is None:  # its own error is reported; the values cannot be judged
            return value
        normalized = [normalize_expected(item, record_type) for item in value]
        return list(dict.fromkeys(normalized))

    @field_validator("resolver")
    @classmethod
    def _check_resolver(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return format_resolver(*parse_resolver(value))


# --- the check ------------------------------------------------------------------------------


async def run(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Run one DNS check of a monitor and say what it found.

    1. Read the monitor's options (a stored config that no longer validates is a failure).
    2. Refuse a resolver address the organization's network policy denies, before any packet.
    3. Ask the resolver within the monitor's timeout; classify a failed resolution.
    4. Compare the answers with the expected values.
    """
    checked_at = timezone.now()
    try:
        options = Options.model_validate(dict(target.config))
    except ValidationError as exc:
        return _failed(target, checked_at, FailureClass.INTERNAL_ERROR, _invalid(exc))
    if options.resolver is not None:
        address, _port = parse_resolver(options.resolver)
        if not is_address_allowed(address, target.allowlist):
            return _failed(
                target, checked_at, FailureClass.BLOCKED_BY_POLICY, blocked_message(address)
            )
    started = time.perf_counter()
    try:
        answers, ttl = await lookup(target.url, options, target.timeout_s)
    except LookupFailed as exc:
        return _failed(target, checked_at, exc.failure, exc.message)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    failure, message, details = judge(target.url, answers, options)
    details["ttl"] = ttl
    return Outcome(
        target.monitor_id,
        checked_at,
        ok=failure == FailureClass.NONE,
        response_ms=elapsed_ms,
        dns_ms=elapsed_ms,
        failure_class=failure,
        message=message,
        details=details,
    )


class LookupFailed(Exception):
    """A resolution that gave no usable answer, with its failure class and message."""

    def __init__(self, failure: FailureClass, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message


async def lookup(name: str, options: Options, timeout_s: float) -> tuple[list[str], int]:
    """The answers (normalised text) and TTL for a name; raise LookupFailed saying why not."""
    resolver = make_resolver(options.resolver)
    try:
        qname = dns.name.from_text(name)  # absolute: no search domains are tried
        async with asyncio.timeout(timeout_s):
            answer = await resolver.resolve(
                qname, options.record_type, search=False, lifetime=timeout_s
            )
    except (dns.exception.Timeout, TimeoutError):
        raise LookupFailed(
            FailureClass.TIMEOUT,
            _("No DNS answer within %(seconds)s s.") % {"seconds": timeout_s},
        ) from None
    except dns.exception.DNSException as exc:
        raise LookupFailed(FailureClass.DNS_ERROR, resolution_error(name, options, exc)) from None
    assert answer.rrset is not None  # raise_on_no_answer: an empty answer raised NoAnswer
    # Sorted: an RRset has no order, and details that shuffle would read as changes.
    return sorted(answer_text(rdata) for rdata in answer.rrset), answer.rrset.ttl


def make_resolver(resolver: str | None) -> dns.asyncresolver.Resolver:
    """The monitor's resolver, or the system's when it names none."""
    if resolver is None:
        return system_resolver()
    address, port = parse_resolver(resolver)
    custom = dns.asyncresolver.Resolver(configure=False)
    custom.nameservers = [dns.nameserver.Do53Nameserver(address, port)]
    return custom


@functools.cache
def system_resolver() -> dns.asyncresolver.Resolver:
    # Read once: the file is the operator's, not a tenant's, and reading it on every check
    # would block the event loop. Each query copies the nameserver list, so sharing is safe.
    try:
        return dns.asyncresolver.Resolver(filename=RESOLV_CONF)
    except dns.resolver.NoResolverConfiguration:
        return dns.asyncresolver.Resolver(configure=False)  # no nameservers: fails per check


def resolution_error(name: str, options: Options, exc: dns.exception.DNSException) -> str:
    """What went wrong with a resolution, in the words of the DNS (NXDOMAIN, SERVFAIL…)."""
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return _("%(name)s does not exist (NXDOMAIN).") % {"name": name}
    if isinstance(exc, dns.resolver.NoAnswer):
        return _("%(name)s has no %(type)s record.") % {"name": name, "type": options.record_type}
    if isinstance(exc, dns.resolver.NoNameservers):
        return _("The resolver could not resolve %(name)s: %(error)s.") % {
            "name": name,
            "error": _server_errors(exc.kwargs.get("errors") or []),
        }
    return _("DNS lookup of %(name)s failed: %(error)s") % {"name": name, "error": exc}


def _server_errors(errors: Sequence[Any]) -> str:
    """The resolution trace as short text: ``SERVFAIL`` answers or socket errors per server."""
    shown = []
    for error in errors[-3:]:
        server, problem = error[0], error[3]
        if isinstance(problem, str):  # an rcode such as SERVFAIL or REFUSED
            shown.append(_("%(server)s answered %(rcode)s") % {"server": server, "rcode": problem})
        else:
            shown.append(f"{server}: {problem or type(problem).__name__}")
    return "; ".join(shown) or _("no name server is configured")


def answer_text(rdata: dns.rdata.Rdata) -> str:
    """One answer as comparable text: names lowercase without the final dot."""
    if isinstance(rdata, A | AAAA):
        return ipaddress.ip_address(rdata.address).compressed
    if isinstance(rdata, MX):
        return f"{rdata.preference} {_name_text(rdata.exchange)}"
    if isinstance(rdata, TXTBase):
        # A TXT record is a list of strings; SPF and friends read them joined.
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    if isinstance(rdata, NSBase):  # CNAME and NS
        return _name_text(rdata.target)
    return rdata.to_text()


def _name_text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else "."


def value_matches(expected: str, answer: str, record_type: str) -> bool:
    """An MX value without a preference matches that host at any preference."""
    if record_type == "MX" and " " not in expected:
        return answer.partition(" ")[2] == expected
    return answer == expected


def judge(
    name: str, answers: list[str], options: Options
) -> tuple[FailureClass, str, dict[str, Any]]:
    """The failure class, message and details of the answers under the monitor's options.

    1. No expected values: any answer is success.
    2. Otherwise find the expected values not answered and the answers not expected.
    3. ``all`` needs neither missing nor unexpected values; ``any`` needs one expected value.
    """
    kind = options.record_type
    details: dict[str, Any] = {
        "record_type": kind,
        "resolver": options.resolver or "system",
        "answers": answers,
    }
    shown = ", ".join(answers[:SHOWN_ANSWERS])
    found = _("%(type)s %(name)s: %(answers)s.") % {"type": kind, "name": name, "answers": shown}
    if not options.expected:
        return FailureClass.NONE, found, details
    missing = [e for e in options.expected if not any(value_matches(e, a, kind) for a in answers)]
    unexpected = [
        a for a in answers if not any(value_matches(e, a, kind) for e in options.expected)
    ]
    details.update(expected=options.expected, missing=missing, unexpected=unexpected)
    if options.match == "any":
        passed = len(missing) < len(options.expected)
    else:
        passed = not missing and not unexpected
    if passed:
        return FailureClass.NONE, found, details
    return FailureClass.ASSERTION_FAILED, mismatch_message(name, kind, missing, unexpected), details


def mismatch_message(name: str, kind: str, missing: list[str], unexpected: list[str]) -> str:
    parts = [_("%(type)s %(name)s is not as expected.") % {"type": kind, "name": name}]
    if missing:
        parts.append(_("Missing: %(values)s.") % {"values": ", ".join(missing[:SHOWN_ANSWERS])})
    if unexpected:
        parts.append(
            _("Unexpected: %(values)s.") % {"values": ", ".join(unexpected[:SHOWN_ANSWERS])}
        )
    return messages.joined(parts)


def _failed(
    target: CheckTarget, checked_at: datetime, failure: FailureClass, message: str
) -> Outcome:
    return Outcome(target.monitor_id, checked_at, ok=False, failure_class=failure, message=message)


def _invalid(exc: ValidationError) -> str:
    return _("Invalid options: %(error)s") % {"error": str(exc)[:200]}
