"""TLS certificate check: expiry, chain, host name, protocol, read from the handshake itself.

The check opens a guarded connection (:mod:`sitecare.lib.netconnect`) and performs the TLS
handshake with the monitor's own rules. The peer certificate it receives is what is judged:
no second tool, no cached copy. When the verified handshake rejects the certificate, it is
read once more without verification, only to say precisely what is wrong with it.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography import x509
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import OutboundClient
from sitecare.lib.messages import deferred as _
from sitecare.lib.netconnect import (
    ConnectError,
    OpenSocket,
    canonical_host,
    join_host_port,
    open_guarded,
    parse_host_port,
    timeout_message,
)
from sitecare.lib.netpolicy import IPNetwork

DEFAULT_PORT = 443
# The phase a failure of the handshake itself is reported in (the HTTP module's key for it).
TLS_PHASE = {"phase": "tls"}
# A peer that never answers our close_notify must not hold the socket for long.
CLOSE_GRACE_SECONDS = 0.5
TLS_VERSIONS = {
    "TLS1.0": ssl.TLSVersion.TLSv1,
    "TLS1.1": ssl.TLSVersion.TLSv1_1,
    "TLS1.2": ssl.TLSVersion.TLSv1_2,
    "TLS1.3": ssl.TLSVersion.TLSv1_3,
}
# OpenSSL's X509_V_ERR_* codes, grouped into what a site owner can act on.
VERIFY_PROBLEMS = {
    9: "not_yet_valid",
    10: "expired",
    18: "self_signed",
    19: "untrusted_chain",
    2: "untrusted_chain",
    20: "untrusted_chain",
    21: "untrusted_chain",
    62: "hostname_mismatch",
    64: "hostname_mismatch",
}


def normalize_target(value: str) -> str:
    """A TLS monitor points at ``host`` or ``host:port`` (443 when absent, then left out)."""
    host, port = parse_host_port(value, DEFAULT_PORT)
    return host if port == DEFAULT_PORT and ":" not in host else join_host_port(host, port)


def target_host(target: str) -> str | None:
    return parse_host_port(target, DEFAULT_PORT)[0]


class Options(BaseModel):
    """Kind-specific settings of a TLS certificate monitor."""

    model_config = ConfigDict(extra="forbid")

    warn_days: int = Field(default=21, ge=0, le=365)
    critical_days: int = Field(default=7, ge=0, le=365)
    check_chain: bool = True
    check_hostname: bool = True
    min_version: Literal["TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"] = "TLS1.2"
    server_name: str | None = Field(default=None, min_length=1, max_length=253)
    ca_pem: str | None = Field(default=None, min_length=1, max_length=100_000)

    @field_validator("server_name")
    @classmethod
    def _server_name(cls, value: str | None) -> str | None:
        return None if value is None else canonical_host(value.strip(), value)

    @field_validator("ca_pem")
    @classmethod
    def _ca_pem(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            x509.load_pem_x509_certificates(value.encode())
        except ValueError:
            raise ValueError(_("not a PEM certificate (-----BEGIN CERTIFICATE-----)")) from None
        return value

    @field_validator("critical_days")
    @classmethod
    def _thresholds(cls, value: int, info: ValidationInfo) -> int:
        warn_days = info.data.get("warn_days")
        if warn_days is not None and value > warn_days:
            raise ValueError(_("must not exceed warn_days (%(days)d)") % {"days": warn_days})
        return value


@functools.lru_cache(maxsize=256)
def client_context(
    check_chain: bool, check_hostname: bool, min_version: str, ca_pem: str | None
) -> ssl.SSLContext:
    """A client context for these rules; cached, since loading trust stores costs milliseconds.

    1. Verifying the chain trusts the system store, or only ``ca_pem`` when given.
    2. Not verifying it still completes the handshake (CERT_NONE), so expiry can be judged.
    """
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    context.minimum_version = TLS_VERSIONS[min_version]
    context.check_hostname = check_chain and check_hostname
    if not check_chain:
        context.verify_mode = ssl.CERT_NONE
    return context


def unverified_context(min_version: str) -> ssl.SSLContext:
    return client_context(False, False, min_version, None)


@dataclass(frozen=True)
class Endpoint:
    """Where one check connects and what it asks for: host, port, SNI name, policy, deadline."""

    host: str
    port: int
    server_name: str
    allowlist: tuple[IPNetwork, ...]
    deadline: float

    @property
    def shown(self) -> str:
        return join_host_port(self.host, self.port)

    def time_left(self) -> float:
        return max(self.deadline - asyncio.get_running_loop().time(), 0.0)


@dataclass(frozen=True)
class Handshake:
    """What a completed handshake showed: the peer certificate, protocol, cipher, timings."""

    certificate: x509.Certificate
    protocol: str
    cipher: str
    address: str
    dns_ms: float
    connect_ms: float
    tls_ms: float


class HandshakeStalled(Exception):
    """The server accepted the connection but did not finish the handshake in time."""


async def handshake(endpoint: Endpoint, context: ssl.SSLContext) -> Handshake:
    """Connect through the guard and complete a TLS handshake; raise on any failure.

    1. Open the guarded TCP connection (ConnectError on failure).
    2. Run the handshake on it with what is left of the deadline (HandshakeStalled if not).
    3. Read the peer certificate and the negotiated protocol, then close politely but briefly.
    """
    opened = await open_guarded(
        endpoint.host, endpoint.port, allowlist=endpoint.allowlist, timeout_s=endpoint.time_left()
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    budget = endpoint.time_left()
    try:
        async with asyncio.timeout(budget):
            _reader, writer = await asyncio.open_connection(
                sock=opened.sock,
                ssl=context,
                server_hostname=endpoint.server_name,
                ssl_handshake_timeout=budget + 1.0,
            )
    except TimeoutError:
        opened.close()
        raise HandshakeStalled from None
    except BaseException:
        opened.close()
        raise
    tls_ms = (loop.time() - started) * 1000
    try:
        return _facts_of(writer, opened, tls_ms)
    finally:
        await _close(writer)


def _facts_of(writer: asyncio.StreamWriter, opened: OpenSocket, tls_ms: float) -> Handshake:
    ssl_object: ssl.SSLObject = writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError(_("the server sent no certificate"))
    cipher = ssl_object.cipher()
    return Handshake(
        certificate=x509.load_der_x509_certificate(der),
        protocol=ssl_object.version() or "",
        cipher=cipher[0] if cipher else "",
        address=opened.address,
        dns_ms=opened.dns_ms,
        connect_ms=opened.connect_ms,
        tls_ms=tls_ms,
    )


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_GRACE_SECONDS):
            await writer.wait_closed()
    except (TimeoutError, OSError, ssl.SSLError):
        writer.transport.abort()


# --- reading and judging the certificate --------------------------------------------------


def certificate_facts(cert: x509.Certificate, now: datetime) -> dict[str, Any]:
    """The facts of a certificate people ask about, as JSON-ready details."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": [str(name) for name in _alt_names(cert)],
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "days_left": round((cert.not_valid_after_utc - now).total_seconds() / 86_400, 2),
        "self_signed": cert.issuer == cert.subject,
    }


def _alt_names(cert: x509.Certificate) -> list[str | ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    addresses = [
        ip
        for ip in sans.get_values_for_type(x509.IPAddress)
        if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)
    ]
    return [*sans.get_values_for_type(x509.DNSName), *addresses]


def certificate_matches(cert: x509.Certificate, name: str) -> bool:
    """True when the certificate's alternative names cover ``name`` (browsers ignore the CN).

    A wildcard covers exactly one leftmost label, as RFC 6125 says.
    """
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(name)
    except ValueError:
        ip = None
    wanted = name.lower().rstrip(".")
    for entry in _alt_names(cert):
        if ip is not None:
            if entry == ip:
                return True
            continue
        if not isinstance(entry, str):
            continue
        pattern = entry.lower().rstrip(".")
        head, _dot, rest = wanted.partition(".")
        if pattern == wanted or (pattern.startswith("*.") and head and rest == pattern[2:]):
            return True
    return False


@dataclass(frozen=True)
class Verdict:
    """The judgement of one check before it becomes an Outcome."""

    ok: bool
    failure: FailureClass
    message: str
    problem: str = ""
    warning: str = ""


def judge(seen: Handshake, options: Options, endpoint: Endpoint, now: datetime) -> Verdict:
    """Judge a completed handshake under the monitor's options.

    1. Rules OpenSSL did not apply (chain check off): validity period and host name.
    2. Days to expiry against the critical threshold (down) and the warning one (up, warned).
    """
    cert = seen.certificate
    days = (cert.not_valid_after_utc - now).total_seconds() / 86_400
    shown = {"host": endpoint.shown, "days": int(days), "date": cert.not_valid_after_utc.date()}
    if days <= 0:
        return Verdict(
            False, FailureClass.TLS_ERROR, _expired_message(cert, now, endpoint), "expired"
        )
    if cert.not_valid_before_utc > now:
        return _problem("not_yet_valid", endpoint, None, "")
    if options.check_hostname and not certificate_matches(cert, endpoint.server_name):
        return _problem("hostname_mismatch", endpoint, cert, "")
    if days < options.critical_days:
        message = _("The certificate of %(host)s expires in %(days)d days (%(date)s).") % shown
        return Verdict(False, FailureClass.TLS_ERROR, message, "expiring")
    message = _("The certificate of %(host)s is valid for %(days)d more days (%(protocol)s).") % {
        **shown,
        "protocol": seen.protocol,
    }
    if days < options.warn_days:
        warning = _("The certificate expires in %(days)d days (%(date)s).") % shown
        return Verdict(True, FailureClass.NONE, message, warning=warning)
    return Verdict(True, FailureClass.NONE, message)


def _expired_message(cert: x509.Certificate, now: datetime, endpoint: Endpoint) -> str:
    ago = int((now - cert.not_valid_after_utc).total_seconds() // 86_400)
    return _("The certificate of %(host)s expired %(days)d days ago (%(date)s).") % {
        "host": endpoint.shown,
        "days": ago,
        "date": cert.not_valid_after_utc.date(),
    }


def _problem(
    problem: str, endpoint: Endpoint, cert: x509.Certificate | None, reason: str
) -> Verdict:
    """A certificate problem as a down verdict with a message a site owner can act on."""
    host = {"host": endpoint.shown, "name": endpoint.server_name, "reason": reason}
    if problem == "expired":
        message = _("The certificate of %(host)s has expired.") % host
    elif problem == "not_yet_valid":
        message = _("The certificate of %(host)s is not valid yet.") % host
    elif problem == "self_signed":
        message = (
            _("The certificate of %(host)s is self-signed, not issued by a trusted authority.")
            % host
        )
    elif problem == "untrusted_chain":
        message = _("The certificate chain of %(host)s is not trusted: %(reason)s.") % host
    elif problem == "hostname_mismatch":
        names = ", ".join(str(n) for n in _alt_names(cert)) if cert is not None else "?"
        message = _("The certificate is not valid for %(name)s (it covers: %(names)s).") % {
            **host,
            "names": names or "-",
        }
    else:
        message = _("The certificate of %(host)s was rejected: %(reason)s.") % host
    return Verdict(False, FailureClass.TLS_ERROR, message, problem)


# --- the check ----------------------------------------------------------------------------


async def run(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Run one TLS certificate check and say what it found.

    1. Read the monitor's options and target (invalid stored ones fail the check itself).
    2. Connect through the guard and handshake under the monitor's rules, all within its
       timeout; a failure says its class and phase (dns, connect or handshake).
    3. A certificate the handshake rejected is read again unverified, to name its problem.
    4. A completed handshake is judged: expiry thresholds and the rules OpenSSL skipped.
    """
    checked_at = timezone.now()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        options = Options.model_validate(dict(target.config))
        host, port = parse_host_port(target.url, DEFAULT_PORT)
    except (ValidationError, ValueError) as exc:
        message = _("Invalid options: %(error)s") % {"error": str(exc)[:200]}
        verdict = Verdict(False, FailureClass.INTERNAL_ERROR, message)
        return _outcome(target, checked_at, verdict, {}, None)
    endpoint = Endpoint(
        host, port, options.server_name or host, target.allowlist, started + target.timeout_s
    )
    context = client_context(
        options.check_chain, options.check_hostname, options.min_version, options.ca_pem
    )
    try:
        seen = await handshake(endpoint, context)
    except ConnectError as exc:
        verdict = Verdict(False, FailureClass(exc.failure.value), exc.message)
        return _outcome(target, checked_at, verdict, {"phase": exc.phase}, None)
    except HandshakeStalled:
        return _outcome(target, checked_at, _stalled(target.timeout_s), TLS_PHASE, None)
    except ssl.SSLCertVerificationError as exc:
        verdict, facts = await _rejected(endpoint, options, exc, checked_at)
        return _outcome(target, checked_at, verdict, {**TLS_PHASE, **facts}, None)
    except (ssl.SSLError, OSError, ValueError) as exc:  # ValueError: an unparsable certificate
        return _outcome(target, checked_at, _handshake_failed(endpoint, exc), TLS_PHASE, None)
    verdict = judge(seen, options, endpoint, checked_at)
    return _outcome(
        target, checked_at, verdict, certificate_facts(seen.certificate, checked_at), seen
    )


def _stalled(timeout_s: float) -> Verdict:
    return Verdict(False, FailureClass.TIMEOUT, timeout_message(timeout_s, "tls"), "handshake")


def _handshake_failed(endpoint: Endpoint, exc: BaseException) -> Verdict:
    reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    message = _("The TLS handshake with %(host)s failed: %(reason)s.") % {
        "host": endpoint.shown,
        "reason": str(reason)[:200],
    }
    return Verdict(False, FailureClass.TLS_ERROR, message, "handshake")


async def _rejected(
    endpoint: Endpoint, options: Options, exc: ssl.SSLCertVerificationError, now: datetime
) -> tuple[Verdict, dict[str, Any]]:
    """The verdict on a certificate the verified handshake refused, with its facts if readable.

    1. Name the problem from OpenSSL's verification code.
    2. Within the time left, read the certificate without verifying it, for the details.
    """
    problem = VERIFY_PROBLEMS.get(exc.verify_code, "rejected")
    try:
        cert: x509.Certificate | None = (
            await handshake(endpoint, unverified_context(options.min_version))
        ).certificate
    except (ConnectError, HandshakeStalled, ssl.SSLError, OSError, ValueError):
        cert = None  # the verdict stands; only the details are missing
    facts = certificate_facts(cert, now) if cert is not None else {}
    if problem == "expired" and cert is not None:
        message = _expired_message(cert, now, endpoint)
        return Verdict(False, FailureClass.TLS_ERROR, message, problem), facts
    return _problem(problem, endpoint, cert, exc.verify_message or str(exc)), facts


def _outcome(
    target: CheckTarget,
    checked_at: datetime,
    verdict: Verdict,
    facts: dict[str, Any],
    seen: Handshake | None,
) -> Outcome:
    """The Outcome of a verdict: details carry the certificate facts and what was negotiated."""
    details: dict[str, Any] = dict(facts)
    if verdict.problem:
        details["problem"] = verdict.problem
    if verdict.warning:
        details["warning"] = verdict.warning
    if seen is None:
        return Outcome(
            target.monitor_id,
            checked_at,
            ok=verdict.ok,
            failure_class=verdict.failure,
            message=verdict.message,
            details=details or None,
        )
    details.update(protocol=seen.protocol, cipher=seen.cipher, address=seen.address)
    return Outcome(
        target.monitor_id,
        checked_at,
        ok=verdict.ok,
        response_ms=round(seen.dns_ms + seen.connect_ms + seen.tls_ms, 1),
        failure_class=verdict.failure,
        message=verdict.message,
        dns_ms=round(seen.dns_ms, 1),
        connect_ms=round(seen.connect_ms, 1),
        tls_ms=round(seen.tls_ms, 1),
        details=details,
    )
