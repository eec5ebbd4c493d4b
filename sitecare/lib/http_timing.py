"""Where the time of an outbound request went: DNS, TCP connect, TLS, first byte, total.

How each phase is measured (aiohttp 3.14, verified in its source):

- **DNS**: the trace hooks ``on_dns_resolvehost_start/end``. A lookup answered from the
  connector's DNS cache counts as 0 ms; an IP literal has no DNS phase (None).
- **TCP connect** and **TLS**: aiohttp does not separate them. ``TCPConnector`` connects the
  socket (``aiohappyeyeballs.start_connection``, through our socket factory), then hands it to
  ``loop.create_connection(sock=…, ssl=…)``, which runs the TLS handshake; both sit inside one
  ``on_connection_create_start/end`` pair. So the TCP phase starts when the socket factory
  admits an address (after DNS) and ends when the TLS layer is set up on the connected socket:
  asyncio's and uvloop's ``SSLProtocol`` both call ``SSLContext.wrap_bio`` then, and
  :class:`TimedSSLContext` marks that moment. TLS is from there to ``on_connection_create_end``.
  For plain HTTP the TCP phase ends at ``on_connection_create_end``.
- **Time to first byte**: from the start of the whole exchange (redirects included, like
  curl's ``time_starttransfer``) to ``on_request_end``, which aiohttp sends once the response
  status line and headers are parsed.
- **Total**: the whole exchange, body included.

A request that reuses a pooled keep-alive connection has no DNS, connect or TLS phase: None.
Across redirects, each phase is the sum over the hops that had it.

The socket factory and ``wrap_bio`` run deep inside aiohttp/asyncio with no trace object at
hand, so the hop being timed is also published in a context variable (tasks that aiohttp
starts for the connect copy the request's context).
"""

from __future__ import annotations

import contextvars
import ssl
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp

_current_hop: contextvars.ContextVar[HopTiming | None] = contextvars.ContextVar(
    "sitecare_http_hop", default=None
)


@dataclass
class HopTiming:
    """Moments (``time.perf_counter`` seconds) of one request of a redirect chain."""

    dns_start: float | None = None
    dns_end: float | None = None
    create_start: float | None = None
    tcp_start: float | None = None
    tls_start: float | None = None
    create_end: float | None = None
    headers_at: float | None = None

    def dns_s(self) -> float | None:
        if self.dns_start is None or self.dns_end is None:
            return None
        return self.dns_end - self.dns_start

    def connect_s(self) -> float | None:
        """TCP connect: from the first admitted socket to TLS setup (or connection ready)."""
        if self.create_end is None:
            return None
        end = self.tls_start if self.tls_start is not None else self.create_end
        begin = next(
            (t for t in (self.tcp_start, self.dns_end, self.create_start) if t is not None), None
        )
        return None if begin is None else end - begin

    def tls_s(self) -> float | None:
        if self.tls_start is None or self.create_end is None:
            return None
        return self.create_end - self.tls_start

    def phase(self) -> str:
        """The phase this hop is in (or stopped in): dns, connect, tls, wait or body."""
        if self.headers_at is not None:
            return "body"
        if self.create_end is not None or self.create_start is None:
            return "wait"
        if self.tls_start is not None:
            return "tls"
        if self.dns_start is not None and self.dns_end is None:
            return "dns"
        return "connect"


@dataclass(frozen=True)
class Timing:
    """The breakdown of one exchange in milliseconds; None where the phase did not happen."""

    dns_ms: float | None
    connect_ms: float | None
    tls_ms: float | None
    ttfb_ms: float | None
    total_ms: float


class ExchangeTimer:
    """Collects the hops of one exchange and sums them up into a :class:`Timing`."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.hops: list[HopTiming] = []
        self._token: contextvars.Token[HopTiming | None] | None = None

    def new_hop(self) -> HopTiming:
        """Start timing the next request of the chain and make it the current hop."""
        hop = HopTiming()
        self.hops.append(hop)
        token = _current_hop.set(hop)
        if self._token is None:
            self._token = token
        return hop

    def close(self) -> None:
        """Stop publishing the current hop (the caller's context is left as it was)."""
        if self._token is not None:
            _current_hop.reset(self._token)
            self._token = None

    def phase(self) -> str:
        return self.hops[-1].phase() if self.hops else "connect"

    def timing(self, finished: float) -> Timing:
        """The breakdown, with ``finished`` (perf_counter seconds) as the end of the exchange."""
        last = self.hops[-1] if self.hops else HopTiming()
        return Timing(
            dns_ms=_sum_ms([hop.dns_s() for hop in self.hops]),
            connect_ms=_sum_ms([hop.connect_s() for hop in self.hops]),
            tls_ms=_sum_ms([hop.tls_s() for hop in self.hops]),
            ttfb_ms=_ms(last.headers_at - self.started) if last.headers_at else None,
            total_ms=_ms(finished - self.started),
        )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _sum_ms(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return _ms(sum(present)) if present else None


def mark_tcp_start() -> None:
    """Called by the socket factory: the first admitted socket of a hop starts its TCP phase."""
    hop = _current_hop.get()
    if hop is not None and hop.tcp_start is None:
        hop.tcp_start = time.perf_counter()


class TimedSSLContext(ssl.SSLContext):
    """An SSL context that marks the start of each TLS handshake on the current hop."""

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        hop = _current_hop.get()
        if hop is not None and not server_side:
            hop.tls_start = time.perf_counter()
        return super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)


def _hop(ctx: SimpleNamespace) -> HopTiming | None:
    hop = ctx.trace_request_ctx
    return hop if isinstance(hop, HopTiming) else None


async def _on_dns_start(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (hop := _hop(ctx)) is not None:
        hop.dns_start = time.perf_counter()


async def _on_dns_end(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (hop := _hop(ctx)) is not None:
        hop.dns_end = time.perf_counter()


async def _on_dns_cache_hit(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    # A cached answer costs (next to) nothing: the phase happened, in 0 ms.
    if (hop := _hop(ctx)) is not None:
        hop.dns_start = hop.dns_end = time.perf_counter()


async def _on_create_start(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (hop := _hop(ctx)) is not None:
        hop.create_start = time.perf_counter()


async def _on_create_end(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (hop := _hop(ctx)) is not None:
        hop.create_end = time.perf_counter()


async def _on_headers(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (hop := _hop(ctx)) is not None:
        hop.headers_at = time.perf_counter()


def timing_trace_config() -> aiohttp.TraceConfig:
    """The trace hooks that fill the :class:`HopTiming` passed as ``trace_request_ctx``."""
    config = aiohttp.TraceConfig()
    config.on_dns_resolvehost_start.append(_on_dns_start)
    config.on_dns_resolvehost_end.append(_on_dns_end)
    config.on_dns_cache_hit.append(_on_dns_cache_hit)
    config.on_connection_create_start.append(_on_create_start)
    config.on_connection_create_end.append(_on_create_end)
    config.on_request_end.append(_on_headers)
    config.freeze()
    return config
