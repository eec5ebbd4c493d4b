"""The one way out to the network: every outbound HTTP request of sitecare goes through here.

What it enforces, whoever the caller:

- the SSRF guard, at connect time: every resolved IP is checked with
  :func:`sitecare.lib.netpolicy.is_address_allowed` (:class:`ConnectGuard`) before a socket
  exists, so IP literals (which skip the resolver), every address of a host name and every
  redirect hop are checked;
- a timeout for the whole exchange (redirects and body included);
- a cap on the body read (``SITECARE_ENGINE_MAX_BODY_BYTES``), on the decoded size too;
- a cap on redirects (``SITECARE_ENGINE_MAX_REDIRECTS``), followed here hop by hop, with
  credentials (``Authorization``) dropped when a redirect leaves the first URL's origin;
- no cookies, no proxies from the environment, certificates verified unless the caller asks
  otherwise (a custom CA bundle, or no verification) for one request;
- a timing breakdown of every response and failure (:mod:`sitecare.lib.http_timing`).

The HTTP/1.1 client underneath is sitecare's own, on asyncio transports and llhttp
(:mod:`sitecare.lib.http_wire`, :mod:`sitecare.lib.http_connect`): aiohttp's per-request
machinery cost several times the CPU of the exchange itself (docs/architecture.md has the
figures). One keep-alive pool serves the client (:mod:`sitecare.lib.http_pool`); it is keyed
by allowlist, so a connection opened under one organization's policy is never reused under
another's.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from django.conf import settings
from yarl import URL

from sitecare.lib.http_connect import (
    NEVER_RESOLVING_SUFFIX,
    BlockedAddressError,
    ConnectGuard,
    Destination,
    open_connection,
    open_socket,
    shown_address,
)
from sitecare.lib.http_errors import (
    ClosedBeforeResponse,
    FetchError,
    FetchFailure,
    invalid_address,
    timeout_error,
    unexpected_error,
)
from sitecare.lib.http_pool import Connection, ConnectionPool, PoolKey
from sitecare.lib.http_timing import ExchangeTimer, HopTiming, Timing
from sitecare.lib.http_tls import tls_context
from sitecare.lib.http_wire import (
    REDIRECT_STATUSES,
    USER_AGENT,
    Exchange,
    charset_of,
    check_headers,
    check_method,
    encode_request,
)
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import IPNetwork

__all__ = [
    "NEVER_RESOLVING_SUFFIX",
    "USER_AGENT",
    "BlockedAddressError",
    "ConnectGuard",
    "FetchError",
    "FetchFailure",
    "FetchedResponse",
    "OutboundClient",
    "allowlist_key",
    "open_socket",
    "shown_address",
]

CREDENTIAL_HEADERS = frozenset({"authorization"})
# Methods safe to send twice: only these are retried when a pooled connection turns out dead.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


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


def allowlist_key(allowlist: Sequence[IPNetwork]) -> tuple[str, ...]:
    """A canonical key of an allowlist: order and duplicates do not make a new policy."""
    return tuple(sorted({str(net) for net in allowlist}))


@dataclass(frozen=True)
class AllowlistSession:
    """What the connections opened under one allowlist share: its guard and its pool key."""

    key: tuple[str, ...]
    guard: ConnectGuard


@dataclass(frozen=True)
class OutboundRequest:
    """What to send, beyond the URL: the same for every hop except where redirects say."""

    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    follow_redirects: bool
    verify_tls: bool
    ca_pem: str | None

    def tls(self) -> ssl.SSLContext:
        """The TLS context of an https hop (one shared object per setting)."""
        return tls_context(verify=self.verify_tls, ca_pem=self.ca_pem)

    def headers_for(self, first: URL, current: URL) -> tuple[tuple[str, str], ...]:
        """The headers of a hop: credentials only while the chain stays on the first origin."""
        if first is current or same_origin(first, current):
            return self.headers
        return tuple((k, v) for k, v in self.headers if k.lower() not in CREDENTIAL_HEADERS)

    def body_for(self, method: str) -> bytes | None:
        """The body goes with the method it was written for, not to a 303's GET."""
        if method != self.method:
            return None
        if self.body is None and method in BODY_METHODS:
            return b""  # Content-Length: 0, as a request that defines content should say
        return self.body


@dataclass
class OutboundClient:
    """The guarded HTTP client: one keep-alive pool, keyed by allowlist among others.

    Create and close it inside the event loop that uses it (``async with OutboundClient()``).
    """

    connection_limit: int = 0
    max_body_bytes: int = field(default_factory=lambda: settings.SITECARE_ENGINE_MAX_BODY_BYTES)
    max_redirects: int = field(default_factory=lambda: settings.SITECARE_ENGINE_MAX_REDIRECTS)
    _sessions: dict[tuple[str, ...], AllowlistSession] = field(
        default_factory=dict, init=False, repr=False
    )
    _by_tuple: dict[tuple[IPNetwork, ...], AllowlistSession] = field(
        default_factory=dict, init=False, repr=False
    )
    _pool: ConnectionPool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pool = ConnectionPool(limit=self.connection_limit)

    async def __aenter__(self) -> OutboundClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def pool(self) -> ConnectionPool:
        return self._pool

    def session_for(self, allowlist: Sequence[IPNetwork]) -> AllowlistSession:
        """The guard and pool key of an allowlist (one object per distinct policy)."""
        as_given = tuple(allowlist)
        session = self._by_tuple.get(as_given)  # the usual case: an allowlist seen before
        if session is None:
            key = allowlist_key(as_given)
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = AllowlistSession(key, ConnectGuard(as_given))
            self._by_tuple[as_given] = session
        return session

    async def close(self) -> None:
        """Close the idle connections; the client can be used again (with a fresh pool)."""
        self._pool.close()
        self._pool = ConnectionPool(limit=self.connection_limit)
        await asyncio.sleep(0)  # the transports finish closing on the loop's next turn

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

        Unsafe request headers or method (a line break in a value, say) are the caller's
        mistake: ValueError naming them, before anything is sent.

        1. Check what the caller asks for, and start a timer for this exchange.
        2. Within one deadline for the whole exchange, walk the redirect chain hop by hop
           (each new connection goes through the guard).
        3. Attach the timing so far and the phase it stopped in to any failure.
        """
        request = OutboundRequest(
            method=check_method(method),
            headers=check_headers(headers) if headers else (),
            body=body,
            follow_redirects=follow_redirects,
            verify_tls=verify_tls,
            ca_pem=ca_pem,
        )
        timer = ExchangeTimer(time.perf_counter())
        try:
            async with asyncio.timeout(timeout_s) as deadline:
                return await self._follow(url, allowlist, request, timer, deadline.when() or 0.0)
        except FetchError as exc:
            raise with_timing(exc, timer) from None
        except TimeoutError:
            raise with_timing(timeout_error(timeout_s, timer.phase()), timer) from None
        except (OSError, ValueError) as exc:
            raise with_timing(unexpected_error(exc), timer) from exc

    async def _follow(
        self,
        url: str,
        allowlist: Sequence[IPNetwork],
        request: OutboundRequest,
        timer: ExchangeTimer,
        deadline: float,
    ) -> FetchedResponse:
        """Request hop by hop until a final response; raise when redirects exceed the cap."""
        session = self.session_for(allowlist)
        try:
            first = URL(url)
        except (ValueError, TypeError) as exc:
            raise invalid_address(exc) from None
        current, method = first, request.method
        for hop in range(self.max_redirects + 1):
            exchange = await self._request(
                session,
                current,
                method,
                request.headers_for(first, current),
                request,
                timer,
                deadline,
            )
            target = redirect_target(exchange, current) if request.follow_redirects else None
            if target is None:
                timing = timer.timing(time.perf_counter())
                assert exchange.headers is not None
                return FetchedResponse(
                    status=exchange.status,
                    url=str(current),
                    headers=exchange.headers,
                    body=exchange.body(),
                    charset=charset_of(exchange.content_type),
                    elapsed_ms=timing.total_ms,
                    redirects=hop,
                    timing=timing,
                )
            current, method = target, redirected_method(method, exchange.status)
        raise FetchError(
            FetchFailure.TOO_MANY_REDIRECTS,
            _("More than %(count)d redirects.") % {"count": self.max_redirects},
        )

    async def _request(
        self,
        session: AllowlistSession,
        url: URL,
        method: str,
        headers: tuple[tuple[str, str], ...],
        request: OutboundRequest,
        timer: ExchangeTimer,
        deadline: float,
    ) -> Exchange:
        """One hop: on a pooled connection if one is idle (retried once on a fresh connection
        if it turns out dead before answering), else on a new one."""
        scheme, host = url.scheme, url.raw_host
        if scheme not in ("http", "https") or not host or url.port is None:
            raise invalid_address(url)
        tls = request.tls() if scheme == "https" else None
        key: PoolKey = (scheme, host, url.port, session.key, tls)
        try:
            wire = encode_request(
                method,
                url.raw_path_qs,
                url.host_port_subcomponent or host,
                headers,
                request.body_for(method),
            )
        except ValueError as exc:
            raise invalid_address(exc) from None
        pool, loop = self._pool, asyncio.get_running_loop()
        hop = timer.new_hop()
        conn = pool.take(key, loop.time())
        if conn is not None:
            hop.phase = "wait"
            try:
                return await self._exchange(pool, conn, wire, method, request, hop)
            except ClosedBeforeResponse:
                if method not in IDEMPOTENT_METHODS:
                    raise
                hop = timer.restart_hop()
        await pool.reserve()
        try:
            shown = url.host or host
            # IPv6 literals as written (a zone stays readable), names IDNA-encoded.
            dest = Destination(shown, shown if ":" in shown else host, url.port, tls)
            transport, protocol = await open_connection(dest, session.guard, hop, deadline)
        except BaseException:
            pool.unreserve()
            raise
        conn = Connection(key, transport, protocol)
        return await self._exchange(pool, conn, wire, method, request, hop)

    async def _exchange(
        self,
        pool: ConnectionPool,
        conn: Connection,
        wire: bytes,
        method: str,
        request: OutboundRequest,
        hop: HopTiming,
    ) -> Exchange:
        """Send a request on a connection and read its response; give the connection back
        to the pool when it can carry another request, close it otherwise."""
        protocol = conn.protocol
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        exchange = Exchange(
            protocol,
            waiter,
            hop,
            self.max_body_bytes,
            head_only=method == "HEAD",
            follow_redirects=request.follow_redirects,
        )
        protocol.start(exchange, wire)
        try:
            await waiter
        except BaseException:
            exchange.release()
            pool.drop(conn)
            raise
        exchange.release()
        if exchange.complete and exchange.keep_alive:
            pool.put_back(conn, asyncio.get_running_loop().time())
        else:
            pool.drop(conn, graceful=True)
        return exchange


def same_origin(a: URL, b: URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def with_timing(error: FetchError, timer: ExchangeTimer) -> FetchError:
    """Attach how far the exchange got to a failure (read the clock once, here)."""
    error.timing = timer.timing(time.perf_counter())
    error.phase = error.phase or timer.phase()
    return error


def redirect_target(exchange: Exchange, current: URL) -> URL | None:
    """Where a redirect response points (absolute), or None if this is a final response."""
    location = exchange.location
    if exchange.status not in REDIRECT_STATUSES or not location:
        return None
    try:
        target = current.join(URL(location))
    except (ValueError, TypeError):
        target = None
    if target is None or target.scheme not in ("http", "https") or not target.host:
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
