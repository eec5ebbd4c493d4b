"""Where the time of an outbound request went: DNS, TCP connect, TLS, first byte, total.

The client (:mod:`sitecare.lib.http_wire`) stamps each moment itself, with
``time.perf_counter``, as it reaches it:

- **DNS**: around the ``getaddrinfo`` call. An IP literal has no DNS phase (None).
- **TCP connect**: from the first socket the guard admits to the connect that succeeds
  (other addresses tried before it included).
- **TLS**: from the connected socket to the end of the handshake
  (``loop.create_connection(sock=…, ssl=…)`` returning). Plain HTTP has none.
- **Time to first byte**: from the start of the whole exchange (redirects included, like
  curl's ``time_starttransfer``) to the first byte of the last response.
- **Total**: the whole exchange, body included.

A request that reuses a pooled keep-alive connection has no DNS, connect or TLS phase: None.
Across redirects, each phase is the sum over the hops that had it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class HopTiming:
    """Moments (``time.perf_counter`` seconds) of one request of a redirect chain.

    ``phase`` is where the hop is now (or stopped): dns, connect, tls, wait or body.
    """

    phase: str = "connect"
    dns_start: float | None = None
    dns_end: float | None = None
    tcp_start: float | None = None
    tcp_end: float | None = None
    tls_end: float | None = None
    first_byte_at: float | None = None

    def dns_s(self) -> float | None:
        if self.dns_start is None or self.dns_end is None:
            return None
        return self.dns_end - self.dns_start

    def connect_s(self) -> float | None:
        if self.tcp_start is None or self.tcp_end is None:
            return None
        return self.tcp_end - self.tcp_start

    def tls_s(self) -> float | None:
        if self.tcp_end is None or self.tls_end is None:
            return None
        return self.tls_end - self.tcp_end


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

    __slots__ = ("hops", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.hops: list[HopTiming] = []

    def new_hop(self) -> HopTiming:
        """Start timing the next request of the chain."""
        hop = HopTiming()
        self.hops.append(hop)
        return hop

    def restart_hop(self) -> HopTiming:
        """Time the current hop afresh (its request is retried on a new connection)."""
        if self.hops:
            self.hops.pop()
        return self.new_hop()

    def phase(self) -> str:
        return self.hops[-1].phase if self.hops else "connect"

    def timing(self, finished: float) -> Timing:
        """The breakdown, with ``finished`` (perf_counter seconds) as the end of the exchange."""
        hops = self.hops
        first_byte = hops[-1].first_byte_at if hops else None
        if len(hops) == 1:  # the usual exchange: no sums to make
            hop = hops[0]
            dns, connect, tls = (
                _ms_or_none(hop.dns_s()),
                _ms_or_none(hop.connect_s()),
                _ms_or_none(hop.tls_s()),
            )
        else:
            dns = _sum_ms([hop.dns_s() for hop in hops])
            connect = _sum_ms([hop.connect_s() for hop in hops])
            tls = _sum_ms([hop.tls_s() for hop in hops])
        return Timing(
            dns_ms=dns,
            connect_ms=connect,
            tls_ms=tls,
            ttfb_ms=None if first_byte is None else _ms(first_byte - self.started),
            total_ms=_ms(finished - self.started),
        )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _ms_or_none(seconds: float | None) -> float | None:
    return None if seconds is None else _ms(seconds)


def _sum_ms(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return _ms(sum(present)) if present else None
