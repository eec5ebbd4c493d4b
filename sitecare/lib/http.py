"""The one way out to the network: every outbound HTTP request of sitecare goes through here.

What it enforces, whoever the caller:

- the SSRF guard, at connect time: the connector's socket factory checks each resolved IP with
  :func:`sitecare.lib.netpolicy.is_address_allowed` before a socket exists, so IP literals
  (which skip the resolver), every address of a host name and every redirect hop are checked;
- a timeout for the whole exchange (redirects and body included);
- a cap on the body read (``SITECARE_ENGINE_MAX_BODY_BYTES``);
- a cap on redirects (``SITECARE_ENGINE_MAX_REDIRECTS``), followed here hop by hop, with
  credentials (``Authorization``) dropped when a redirect leaves the first URL's origin;
- no cookies, no proxies from the environment, certificates verified unless the caller asks
  otherwise (a custom CA bundle, or no verification) for one request;
- a timing breakdown of every response and failure (:mod:`sitecare.lib.http_timing`).

One :class:`aiohttp.ClientSession` is kept per distinct allowlist, so a keep-alive connection
opened under one organization's policy is never reused under another's.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import ResolveResult
from aiohttp.http_exceptions import ContentLengthError, TransferEncodingError
from django.conf import settings
from django.utils.translation import gettext as _
from yarl import URL

from sitecare.lib.http_timing import ExchangeTimer, Timing, mark_tcp_start, timing_trace_config
from sitecare.lib.http_tls import tls_context
from sitecare.lib.netpolicy import IPNetwork, blocked_message, is_address_allowed

USER_AGENT = "sitecare-monitor/1.0"
READ_CHUNK_BYTES = 65_536
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = frozenset({"authorization"})
# Special-use names that must never resolve (RFC 6761 §6.4): answered here, no query is sent.
NEVER_RESOLVING_SUFFIX = ".invalid"

# Addresses the guard refused during the current request. A context variable, because the
# refusal happens deep inside aiohttp (in tasks that copy the request's context), and aiohttp
# merges per-address errors into one whose type no longer says "refused by policy".
_refusals: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "sitecare_http_refusals", default=None
)


class FetchFailure(StrEnum):
    """Why an outbound request failed (same values as monitoring's FailureClass)."""

    DNS_ERROR = "dns_error"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    TIMEOUT = "timeout"
    TLS_ERROR = "tls_error"
    BODY_TOO_LARGE = "body_too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BLOCKED_BY_POLICY = "blocked_by_policy"
    INVALID_RESPONSE = "invalid_response"


class FetchError(Exception):
    """An outbound request that failed, with its class and a short human message."""

    def __init__(self, failure: FetchFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message
        # Filled by fetch(): how far the exchange got, and where it stopped.
        self.timing: Timing | None = None
        self.phase: str | None = None


class BlockedAddressError(OSError):
    """Raised by the guard instead of creating a socket for a denied address."""

    def __init__(self, address: str) -> None:
        super().__init__(errno.EACCES, blocked_message(address))
        self.address = address


@dataclass(frozen=True)
class FetchedResponse:
    """The final response of a request, after redirects, with its (capped) body."""

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes
    charset: str | None
    elapsed_ms: float
    redirects: int
    timing: Timing | None = None

    def text(self) -> str:
        """The body as text: the declared charset, else UTF-8; undecodable bytes replaced."""
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name in the header
            return self.body.decode("utf-8", errors="replace")


def open_socket(family: int, type_: int, proto: int) -> socket.socket:
    """Create the socket for an admitted address (the one place sockets are made)."""
    return socket.socket(family=family, type=type_, proto=proto)


@dataclass(frozen=True)
class ConnectGuard:
    """The connector's socket factory: refuses denied addresses before any socket exists."""

    allowlist: tuple[IPNetwork, ...]

    def __call__(self, addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _canonname, sockaddr = addr_info
        address = shown_address(str(sockaddr[0]))
        if not self.admits(address):
            refused = _refusals.get()
            if refused is not None:
                refused.append(address)
            raise BlockedAddressError(address)
        mark_tcp_start()
        return open_socket(int(family), int(type_), proto)

    def admits(self, address: str) -> bool:
        try:
            return is_address_allowed(address, self.allowlist)
        except ValueError:  # not an IP address at all: never connect to what we cannot judge
            return False


def shown_address(address: str) -> str:
    """An address as people write it: IPv4-mapped IPv6 keeps its dotted IPv4 part."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return f"::ffff:{ip.ipv4_mapped}"
    return address


class GuardedResolver(aiohttp.ThreadedResolver):
    """The system resolver, except that names under ``.invalid`` fail without a query."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.rstrip(".").lower()
        if name == NEVER_RESOLVING_SUFFIX[1:] or name.endswith(NEVER_RESOLVING_SUFFIX):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return await super().resolve(host, port, family)


def allowlist_key(allowlist: Sequence[IPNetwork]) -> tuple[str, ...]:
    """A canonical key of an allowlist: order and duplicates do not make a new policy."""
    return tuple(sorted({str(net) for net in allowlist}))


@dataclass
class OutboundClient:
    """The guarded HTTP client: one session per distinct allowlist, created on first use.

    Create and close it inside the event loop that uses it (``async with OutboundClient()``).
    """

    connection_limit: int = 0
    max_body_bytes: int = field(default_factory=lambda: settings.SITECARE_ENGINE_MAX_BODY_BYTES)
    max_redirects: int = field(default_factory=lambda: settings.SITECARE_ENGINE_MAX_REDIRECTS)
    _sessions: dict[tuple[str, ...], aiohttp.ClientSession] = field(
        default_factory=dict, init=False, repr=False
    )

    async def __aenter__(self) -> OutboundClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def session_for(self, allowlist: Sequence[IPNetwork]) -> aiohttp.ClientSession:
        """The session whose connections were all opened under this allowlist."""
        key = allowlist_key(allowlist)
        session = self._sessions.get(key)
        if session is None or session.closed:
            session = self._new_session(tuple(allowlist))
            self._sessions[key] = session
        return session

    def _new_session(self, allowlist: tuple[IPNetwork, ...]) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            socket_factory=ConnectGuard(allowlist),
            resolver=GuardedResolver(),
            ssl=tls_context(verify=True, ca_pem=None),
            limit=self.connection_limit,
        )
        return aiohttp.ClientSession(
            connector=connector,
            # Cookies would leak between tenants sharing a policy, and a proxy taken from the
            # environment would move the connect (and so the guard) elsewhere.
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
            trace_configs=[timing_trace_config()],
        )

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()

    async def fetch(
        self,
        url: str,
        *,
        allowlist: Sequence[IPNetwork],
        timeout_s: float,
        method: str = "GET",
        follow_redirects: bool = True,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        verify_tls: bool = True,
        ca_pem: str | None = None,
    ) -> FetchedResponse:
        """Request a URL under an allowlist; raise :class:`FetchError` saying why it failed.

        1. Open a fresh record of refused addresses and a timer for this exchange.
        2. Within one deadline for the whole exchange, walk the redirect chain hop by hop
           (each hop connects through the guard).
        3. Translate any failure into its :class:`FetchFailure` and message, with the timing
           so far and the phase it stopped in.
        """
        request = OutboundRequest(
            method=method,
            headers=dict(headers or {}),
            body=body,
            follow_redirects=follow_redirects,
            ssl_context=tls_context(verify=verify_tls, ca_pem=ca_pem),
        )
        timer = ExchangeTimer(time.perf_counter())
        refused: list[str] = []
        hops = [URL(url)]
        token = _refusals.set(refused)
        try:
            async with asyncio.timeout(timeout_s):
                return await self._follow(hops, allowlist, timeout_s, request, timer)
        except FetchError as exc:
            with_timing(exc, timer)
            raise
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            error = translate_error(exc, str(hops[-1]), refused, timeout_s, timer.phase())
            raise with_timing(error, timer) from exc
        finally:
            timer.close()
            _refusals.reset(token)

    async def _follow(
        self,
        hops: list[URL],
        allowlist: Sequence[IPNetwork],
        timeout_s: float,
        request: OutboundRequest,
        timer: ExchangeTimer,
    ) -> FetchedResponse:
        """Request hop by hop until a final response; raise when redirects exceed the cap.

        ``hops`` starts with the first URL and grows with each redirect followed, so a failure
        names the host it happened on.
        """
        session = self.session_for(allowlist)
        current, method = hops[0], request.method
        hop_timeout = aiohttp.ClientTimeout(total=timeout_s)
        for hop in range(self.max_redirects + 1):
            async with session.request(
                method,
                current,
                allow_redirects=False,
                timeout=hop_timeout,
                headers=request.headers_for(hops[0], current),
                # The body goes with the method it was written for, not to a 303's GET.
                data=request.body if method == request.method else None,
                ssl=request.ssl_context,
                trace_request_ctx=timer.new_hop(),
            ) as resp:
                target = redirect_target(resp) if request.follow_redirects else None
                if target is None:
                    body = b"" if method == "HEAD" else await read_capped(resp, self.max_body_bytes)
                    timing = timer.timing(time.perf_counter())
                    return FetchedResponse(
                        status=resp.status,
                        url=str(resp.url),
                        headers=dict(resp.headers),
                        body=body,
                        charset=resp.charset,
                        elapsed_ms=timing.total_ms,
                        redirects=hop,
                        timing=timing,
                    )
            current, method = target, redirected_method(method, resp.status)
            hops.append(current)
        raise FetchError(
            FetchFailure.TOO_MANY_REDIRECTS,
            _("More than %(count)d redirects.") % {"count": self.max_redirects},
        )


@dataclass(frozen=True)
class OutboundRequest:
    """What to send, beyond the URL: the same for every hop except where redirects say."""

    method: str
    headers: Mapping[str, str]
    body: bytes | None
    follow_redirects: bool
    ssl_context: ssl.SSLContext

    def headers_for(self, first: URL, current: URL) -> dict[str, str]:
        """The headers of a hop: credentials only while the chain stays on the first origin."""
        if same_origin(first, current):
            return dict(self.headers)
        return {k: v for k, v in self.headers.items() if k.lower() not in CREDENTIAL_HEADERS}


def same_origin(a: URL, b: URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def with_timing(error: FetchError, timer: ExchangeTimer) -> FetchError:
    """Attach how far the exchange got to a failure (read the clock once, here)."""
    error.timing = timer.timing(time.perf_counter())
    error.phase = error.phase or timer.phase()
    return error


def redirect_target(resp: aiohttp.ClientResponse) -> URL | None:
    """Where a redirect response points (absolute), or None if this is a final response."""
    location = resp.headers.get("Location")
    if resp.status not in REDIRECT_STATUSES or not location:
        return None
    target = resp.url.join(URL(location))
    if target.scheme not in ("http", "https") or not target.host:
        raise FetchError(
            FetchFailure.INVALID_RESPONSE,
            _("Redirect to an unsupported address: %(location)s") % {"location": location[:200]},
        )
    return target


def redirected_method(method: str, status: int) -> str:
    """The method of the next hop, as browsers do: 303 (and 301/302 after POST) become GET."""
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


async def read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """Read the body, refusing (and dropping the connection) once it exceeds ``cap`` bytes."""
    declared = resp.content_length
    if declared is not None and declared > cap:
        resp.close()
        raise body_too_large(cap)
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > cap:
            resp.close()
            raise body_too_large(cap)
        chunks.append(chunk)
    return b"".join(chunks)


def body_too_large(cap: int) -> FetchError:
    return FetchError(
        FetchFailure.BODY_TOO_LARGE,
        _("The response body is larger than %(bytes)d bytes.") % {"bytes": cap},
    )


def translate_error(
    exc: BaseException, url: str, refused: Sequence[str], timeout_s: float, phase: str = ""
) -> FetchError:
    """Map an aiohttp/OS error of one request to its failure class and a short message.

    1. A connect that failed while the guard refused an address is a policy refusal, whatever
       aiohttp made of it (several addresses give one merged error).
    2. Otherwise the most specific error type decides; the connect error's errno last.
    """
    if refused and isinstance(exc, aiohttp.ClientConnectorError | BlockedAddressError):
        return FetchError(FetchFailure.BLOCKED_BY_POLICY, blocked_message(refused[0]))
    kind, message = _classify(exc, url, timeout_s)
    if kind == FetchFailure.TIMEOUT and phase in PHASE_LABELS:
        message = _("No answer within %(seconds)s s (%(phase)s).") % {
            "seconds": timeout_s,
            "phase": PHASE_LABELS[phase](),
        }
    error = FetchError(kind, message)
    error.phase = phase or None
    return error


# Where an exchange can stop; lazily translated (called when a message is made).
PHASE_LABELS: dict[str, Callable[[], str]] = {
    "dns": lambda: _("while resolving the name"),
    "connect": lambda: _("while connecting"),
    "tls": lambda: _("during the TLS handshake"),
    "wait": lambda: _("waiting for the response headers"),
    "body": lambda: _("while reading the body"),
}


def _classify(exc: BaseException, url: str, timeout_s: float) -> tuple[FetchFailure, str]:
    """The failure class of an error and its message, the most specific type first."""
    host = URL(url).host or url
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FetchFailure.DNS_ERROR, _("The name %(host)s does not resolve.") % {"host": host}
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return FetchFailure.TLS_ERROR, _("TLS failed: %(error)s") % _err(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _connect_failure(exc, host)
    if isinstance(exc, TimeoutError):
        return FetchFailure.TIMEOUT, _("No answer within %(seconds)s s.") % {"seconds": timeout_s}
    if isinstance(exc, aiohttp.ServerDisconnectedError | ConnectionResetError):
        return FetchFailure.CONNECTION_RESET, _("The server closed the connection.")
    if isinstance(exc, aiohttp.ClientPayloadError) and body_cut_short(exc):
        return FetchFailure.CONNECTION_RESET, _(
            "The connection broke off in the middle of the body."
        )
    if isinstance(exc, aiohttp.ClientOSError) and exc.errno == errno.ECONNRESET:
        return FetchFailure.CONNECTION_RESET, _("The connection was reset.")
    if isinstance(exc, aiohttp.InvalidURL):
        return FetchFailure.INVALID_RESPONSE, _("Invalid address: %(error)s") % _err(exc)
    return FetchFailure.INVALID_RESPONSE, _("Invalid response: %(error)s") % _err(exc)


def body_cut_short(exc: aiohttp.ClientPayloadError) -> bool:
    """True when the connection ended (reset or closed) before the declared body was complete.

    aiohttp raises these two causes only from the parser's end of input, when the connection
    is lost while the Content-Length or the chunked framing still expects bytes; a malformed
    body that did arrive has other causes and stays an invalid response.
    """
    return isinstance(exc.__cause__, ContentLengthError | TransferEncodingError)


def _connect_failure(exc: aiohttp.ClientConnectorError, host: str) -> tuple[FetchFailure, str]:
    code = exc.os_error.errno
    if code == errno.ECONNRESET:
        return FetchFailure.CONNECTION_RESET, _("The connection was reset.")
    if code == errno.ECONNREFUSED:
        return FetchFailure.CONNECTION_REFUSED, _("%(host)s refused the connection.") % {
            "host": f"{host}:{exc.port}"
        }
    return FetchFailure.CONNECTION_REFUSED, _("Cannot connect to %(host)s: %(error)s") % {
        "host": f"{host}:{exc.port}",
        "error": exc.os_error.strerror or exc.os_error,
    }


def _err(exc: BaseException) -> dict[str, str]:
    return {"error": (str(exc) or type(exc).__name__)[:200]}
