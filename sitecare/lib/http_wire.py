"""HTTP/1.1 on the wire: the request's bytes, and the response read by llhttp (``httptools``).

One :class:`WireProtocol` per connection; one :class:`Exchange` per request on it, which
is the parser's callback object and resolves a future once the response is in:

- the status line and headers are parsed by llhttp; interim 1xx responses are skipped, a
  protocol switch (101) or anything llhttp refuses is an invalid response; a head section
  over :data:`MAX_HEAD_BYTES` is refused;
- the body is framed by Content-Length, chunked encoding or the end of the connection;
  HEAD, 1xx, 204 and 304 responses have none; a declared length over the cap is refused at
  once, and a body that grows past it stops reading and drops the connection;
- ``gzip`` and ``deflate`` bodies are decoded as they come, the cap applying to the decoded
  size too (a small gzip bomb is too large, not a memory spike);
- a redirect that will be followed, and a HEAD response, end at their headers: the connection
  is kept only if the (empty) body was already complete.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections.abc import Callable, Mapping

import httptools

from sitecare.lib.http_errors import (
    FetchError,
    body_too_large,
    closed_before_response,
    closed_in_headers,
    cut_short,
    invalid_response,
)
from sitecare.lib.http_timing import HopTiming
from sitecare.lib.messages import deferred as _

USER_AGENT = "sitecare-monitor/1.0"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_HEAD_BYTES = 65_536
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Headers the client writes itself: framing cannot come from a caller.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE_VALUE = re.compile(r"[\r\n\x00]")
_UNSAFE_TARGET = re.compile(r"[\x00-\x20\x7f]")
_GZIP_WBITS = 16 + zlib.MAX_WBITS


# --- the request --------------------------------------------------------------------------


def check_headers(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The caller's headers as pairs; ValueError naming the first one that is unsafe.

    A name must be an HTTP token and a value at most 8 KiB, free of CR, LF and NUL (no
    header injection); framing headers (Content-Length, Transfer-Encoding) are the client's.
    """
    pairs = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValueError(_("%(name)r is not a valid header name") % {"name": str(name)[:100]})
        if not isinstance(value, str) or len(value) > 8192 or _UNSAFE_VALUE.search(value):
            raise ValueError(
                _("the value of %(name)s is too long or contains line breaks") % {"name": name}
            )
        if name.lower() in FRAMING_HEADERS:
            raise ValueError(_("the header %(name)s cannot be set") % {"name": name})
        pairs.append((name, value))
    return tuple(pairs)


def check_method(method: str) -> str:
    """The method, if it is an HTTP token; ValueError naming it otherwise."""
    if method not in KNOWN_METHODS and not _TOKEN.fullmatch(method):
        raise ValueError(_("%(method)r is not a valid HTTP method") % {"method": method[:50]})
    return method


def encode_request(
    method: str, target: str, host: str, headers: tuple[tuple[str, str], ...], body: bytes | None
) -> bytes:
    """The bytes of a request: request line, Host, defaults the caller may override, body.

    ``target`` and ``host`` come from a parsed URL; a control character or space in them
    would split the request, so it is refused (ValueError) rather than sent.
    """
    if _UNSAFE_TARGET.search(target) or _UNSAFE_TARGET.search(host):
        raise ValueError(f"unsafe character in {target[:100]!r} or {host[:100]!r}")
    given = {name.lower() for name, _value in headers}
    lines = [f"{method} {target} HTTP/1.1"]
    if "host" not in given:
        lines.append(f"Host: {host}")
    if "user-agent" not in given:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "accept" not in given:
        lines.append("Accept: */*")
    if "accept-encoding" not in given:
        lines.append("Accept-Encoding: gzip, deflate")
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head + body if body else head


# --- the response -------------------------------------------------------------------------


class BodyDecoder:
    """Undoes a gzip or deflate Content-Encoding, refusing output past ``cap`` bytes.

    A gzip body may hold several members one after another (RFC 1952; ``cat a.gz b.gz``):
    each is decoded in turn, as browsers do; zero bytes padding the end are ignored.
    """

    __slots__ = ("_gzip", "_pending", "_zobj", "cap", "size")

    def __init__(self, gzip: bool, cap: int) -> None:
        self.cap = cap
        self.size = 0
        self._gzip = gzip
        self._pending = b""
        # deflate is zlib-wrapped by the RFC, raw in practice: decided on the first bytes.
        self._zobj = zlib.decompressobj(_GZIP_WBITS) if gzip else None

    def feed(self, data: bytes) -> bytes:
        """Decoded bytes of ``data``; FetchError when the decoded body exceeds the cap."""
        zobj = self._zobj
        if zobj is None:
            data = self._pending + data
            if len(data) < 2:
                self._pending = data
                return b""
            zlib_header = data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            zobj = self._zobj = zlib.decompressobj(
                zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
            )
        out = [self._decoded(zobj, data)]
        while self._gzip and zobj.eof and zobj.unused_data.strip(b"\x00"):
            rest = zobj.unused_data
            zobj = self._zobj = zlib.decompressobj(_GZIP_WBITS)
            out.append(self._decoded(zobj, rest))
        return b"".join(out)

    def _decoded(self, zobj: zlib._Decompress, data: bytes) -> bytes:
        out: bytes = zobj.decompress(data, self.cap - self.size + 1)
        self.size += len(out)
        if self.size > self.cap:
            raise body_too_large(self.cap)
        return out

    def finish(self) -> bytes:
        """What the decoder still holds at the end of the body."""
        if self._zobj is None:
            return self.feed(b"\x00") if self._pending else b""
        out = self._zobj.flush(self.cap - self.size + 1)
        self.size += len(out)
        if self.size > self.cap:
            raise body_too_large(self.cap)
        return out


class _JunkAfterResponse(Exception):
    """Bytes after a complete response: stops the parser; the connection is not kept."""


class Exchange:
    """One request's response as it arrives: the parser's callbacks and the outcome.

    ``waiter`` is resolved when the response is complete (or at its headers, for a HEAD and
    a redirect to follow), or set to the FetchError that ended it.
    """

    __slots__ = (
        "body_size",
        "cap",
        "charset",
        "chunks",
        "complete",
        "content_type",
        "decoder",
        "eof_body",
        "failed",
        "follow_redirects",
        "head_bytes",
        "head_only",
        "headers",
        "headers_only",
        "hop",
        "interim",
        "keep_alive",
        "location",
        "parser",
        "protocol",
        "raw_headers",
        "received",
        "status",
        "unparsed_head",
        "waiter",
    )

    def __init__(
        self,
        protocol: WireProtocol,
        waiter: asyncio.Future[None],
        hop: HopTiming,
        cap: int,
        head_only: bool,
        follow_redirects: bool,
    ) -> None:
        self.protocol = protocol
        self.waiter = waiter
        self.hop = hop
        self.cap = cap
        self.head_only = head_only
        self.follow_redirects = follow_redirects
        self.parser: httptools.HttpResponseParser | None = httptools.HttpResponseParser(self)
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.headers: dict[str, str] | None = None
        self.content_type: str | None = None
        self.location: str | None = None
        self.chunks: list[bytes] = []
        self.body_size = 0
        self.decoder: BodyDecoder | None = None
        self.received = 0
        self.head_bytes = 0
        self.unparsed_head = 0
        self.interim = False
        self.headers_only = False
        self.eof_body = False
        self.complete = False
        self.keep_alive = False
        self.failed = False

    # -- fed by the protocol --

    def feed(self, data: bytes) -> None:
        parser = self.parser
        if self.failed or parser is None:
            return
        if not self.received:
            self.hop.first_byte_at = time.perf_counter()
        self.received += len(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.fail(invalid_response("the server switched to another protocol"))
            return
        except httptools.HttpParserError as exc:
            if self.waiter.done():  # junk after a response already handed over
                self.keep_alive = False
            else:
                self.fail(invalid_response(exc))
            return
        if self.headers is None and not self.failed:
            self.unparsed_head += len(data)  # a head still open after this much: refused
            if self.unparsed_head > MAX_HEAD_BYTES:
                self.fail(invalid_response("the response headers are too large"))

    def lost(self, exc: BaseException | None) -> None:
        """The connection ended while this exchange was on it."""
        self.keep_alive = False
        if self.waiter.done():
            return
        if self.headers is None:
            self.fail(closed_before_response(exc) if not self.received else closed_in_headers())
        elif self.eof_body and not isinstance(exc, ConnectionResetError):
            self.complete = True  # a body delimited by the end of the connection: all there
            self._deliver()
        else:
            self.fail(cut_short())

    def fail(self, error: FetchError) -> None:
        self.failed = True
        self.keep_alive = False
        if not self.waiter.done():
            self.waiter.set_exception(error)
        transport = self.protocol.transport
        if transport is not None:
            transport.abort()

    # -- llhttp callbacks --

    def on_message_begin(self) -> None:
        if self.complete:
            raise _JunkAfterResponse

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_bytes += len(name) + len(value)
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        status = self.parser.get_status_code()
        if status < 200:  # interim (100 Continue, 103 Early Hints): the real one follows
            self.interim = True
            self.raw_headers.clear()
            return
        if self.head_bytes > MAX_HEAD_BYTES:
            self.fail(invalid_response("the response headers are too large"))
            return
        self.status = status
        self.hop.phase = "body"
        headers, lowered = join_headers(self.raw_headers)
        self.headers = headers
        self.content_type = lowered.get("content-type")
        self.location = lowered.get("location")
        if self.head_only or (
            self.follow_redirects and status in REDIRECT_STATUSES and self.location
        ):
            self.headers_only = True
            if not self.waiter.done():
                self.waiter.set_result(None)
            return
        length = lowered.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.cap:
            self.fail(body_too_large(self.cap))
            return
        chunked = "chunked" in lowered.get("transfer-encoding", "").lower()
        self.eof_body = length is None and not chunked
        encoding = lowered.get("content-encoding", "").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            self.decoder = BodyDecoder(encoding != "deflate", self.cap)

    def on_body(self, data: bytes) -> None:
        if self.headers_only or self.failed:
            return
        self.body_size += len(data)
        if self.body_size > self.cap:
            self.fail(body_too_large(self.cap))
            return
        if self.decoder is not None:
            try:
                data = self.decoder.feed(data)
            except FetchError as exc:
                self.fail(exc)
                return
            except zlib.error as exc:
                self.fail(invalid_response(f"undecodable body: {exc}"))
                return
        self.chunks.append(data)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        assert self.parser is not None
        self.complete = True
        self.keep_alive = (
            self.parser.should_keep_alive() and self.parser.get_http_version() == "1.1"
        )
        if not self.headers_only and not self.failed:
            self._deliver()

    def _deliver(self) -> None:
        if self.decoder is not None:
            try:
                self.chunks.append(self.decoder.finish())
            except FetchError as exc:
                self.fail(exc)
                return
            except zlib.error as exc:
                self.fail(invalid_response(f"undecodable body: {exc}"))
                return
        if not self.waiter.done():
            self.waiter.set_result(None)

    # -- the outcome --

    def body(self) -> bytes:
        """The (decoded) body; empty for a response that ended at its headers."""
        if self.headers_only:
            return b""
        chunks = self.chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def release(self) -> None:
        """Break the parser's reference cycle (the parser holds our bound methods)."""
        self.parser = None


def join_headers(raw: list[tuple[bytes, bytes]]) -> tuple[dict[str, str], dict[str, str]]:
    """Response headers by name as first written, repeats joined with ", " (RFC 9110 §5.3);
    and the same by lower-case name."""
    headers: dict[str, str] = {}
    lowered: dict[str, str] = {}
    first_name: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1")
        try:
            value = raw_value.decode()
        except UnicodeDecodeError:
            value = raw_value.decode("latin-1")
        low = name.lower()
        known = first_name.get(low)
        if known is None:
            first_name[low] = name
            headers[name] = lowered[low] = value
        else:
            headers[known] = lowered[low] = f"{lowered[low]}, {value}"
    return headers, lowered


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type value, if any."""
    if not content_type or ";" not in content_type:
        return None
    for parameter in content_type.split(";")[1:]:
        key, _eq, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            return value.strip(' "') or None
    return None


class WireProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection: hands the bytes to the exchange in progress.

    A server speaks only when asked: bytes arriving while the connection is idle mean it is
    out of step, so the connection is dropped.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.lost = False
        self.on_idle_lost: Callable[[], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        exchange = self.exchange
        if exchange is None:
            if self.transport is not None:
                self.transport.abort()
            return
        exchange.feed(data)

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost tells the exchange

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = True
        if self.exchange is not None:
            self.exchange.lost(exc)
        elif self.on_idle_lost is not None:
            callback, self.on_idle_lost = self.on_idle_lost, None
            callback()

    def start(self, exchange: Exchange, request: bytes) -> None:
        """Send a request; its response goes to ``exchange``."""
        self.exchange = exchange
        if self.lost or self.transport is None or self.transport.is_closing():
            exchange.lost(None)  # gone before we spoke: the caller may retry elsewhere
            return
        self.transport.write(request)
