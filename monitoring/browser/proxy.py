"""The guard proxy: every connection a browser check's page makes passes the network policy.

Chromium is told to send everything through a local forward proxy of ours (no loopback
bypass); the proxy opens each upstream connection with the same connect-time guard as the
HTTP client (:func:`sitecare.lib.netconnect.open_guarded`), under the allowlist of the
organization whose check runs, after refusing the monitor's blocked hosts.

- One asyncio loop on a background thread serves every session of the process; each session
  gets a listener of its own (127.0.0.1, ephemeral port) bound to its :class:`Policy`, so two
  agencies sharing one browser never share an allowlist.
- ``CONNECT host:port`` (https, wss) is answered 200 and tunnelled once the guard admits an
  address, else 403 (Chromium: ``net::ERR_TUNNEL_CONNECTION_FAILED``).
- An absolute-URI request (``GET http://host/…``, ws upgrades) is forwarded in origin form on
  a connection of its own and the reply marked ``Connection: close``: one request per client
  connection, so a kept-alive connection can never carry a second request to another host. A
  refused one is closed unanswered (``net::ERR_EMPTY_RESPONSE``): a response would read as the
  site's own.
- Each refusal is reported to the session (``on_refused``), each upstream failure too
  (``on_error``), from the proxy's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sitecare.lib.netconnect import (
    ConnectError,
    ConnectFailure,
    join_host_port,
    open_guarded,
    parse_host_port,
)
from sitecare.lib.netpolicy import IPNetwork

logger = logging.getLogger("sitecare.browser")
T = TypeVar("T")

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_S = 30.0
PIPE_CHUNK = 64 * 1024
REASON_POLICY = "policy"
REASON_BLOCKED_HOST = "blocked_host"
# How an exchange ends when one side goes away or talks nonsense: quietly.
_ENDED = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)
# Hop-by-hop headers a forward proxy must not pass on (RFC 9110 §7.6.1), upgrades aside.
_HOP_BY_HOP = {b"proxy-connection", b"proxy-authorization", b"keep-alive", b"connection", b"te"}


@dataclass(frozen=True)
class Refusal:
    """One request the proxy refused: what was asked for and why."""

    url: str
    host: str
    port: int
    reason: str  # REASON_POLICY or REASON_BLOCKED_HOST


@dataclass(frozen=True)
class UpstreamError:
    """One upstream connection that failed for another reason (refused, no DNS, timeout)."""

    host: str
    port: int
    message: str
    # The guard's failure class (a monitoring FailureClass value: dns_error, timeout…).
    failure: str = ""


class DownloadBudget:
    """Bytes one session's pages may download through its listener, all connections together.

    Used on the proxy's own thread only. Past the limit every relay of the session stops and
    ``on_exceeded`` is told once (the session then stops the check: a 50 MB image or an
    endless stream must not tie a runner up for the check's whole timeout).
    """

    def __init__(self, limit: int, on_exceeded: Callable[[int], None]) -> None:
        self.limit = limit
        self.used = 0
        self.on_exceeded = on_exceeded

    def take(self, size: int) -> bool:
        """Count ``size`` more bytes; False once the session is over its limit."""
        over = self.used > self.limit
        self.used += size
        if self.used > self.limit and not over:
            self.on_exceeded(self.limit)
        return self.used <= self.limit


@dataclass(frozen=True)
class Policy:
    """What one listener lets through, and whom it tells."""

    allowlist: tuple[IPNetwork, ...] = ()
    blocked_hosts: tuple[str, ...] = ()
    on_refused: Callable[[Refusal], None] = lambda refusal: None
    on_error: Callable[[UpstreamError], None] = lambda error: None
    connect_timeout_s: float = 10.0
    # The browser-wide default proxy: refuses everything (traffic of no check's context).
    deny_all: bool = False
    # What the session's pages may download, all together (None: no limit).
    download: DownloadBudget | None = None


def host_blocked(host: str, patterns: Sequence[str]) -> bool:
    """True when a host matches a blocked pattern: ``ads.example.net`` exactly, or
    ``*.example.com`` for example.com itself and every name under it (case-insensitive)."""
    name = host.strip("[]").rstrip(".").lower()
    for pattern in patterns:
        wanted = pattern.strip().rstrip(".").lower()
        if wanted.startswith("*."):
            suffix = wanted[2:]
            if name == suffix or name.endswith("." + suffix):
                return True
        elif name == wanted:
            return True
    return False


def shown_url(scheme: str, host: str, port: int) -> str:
    """The URL a refusal is shown with when only host and port are known (CONNECT)."""
    default = 443 if scheme == "https" else 80
    authority = join_host_port(host, port) if port != default else join_host_port(host, 0)[:-2]
    return f"{scheme}://{authority}/"


class Listener:
    """One session's port on the proxy; closing it ends all its connections."""

    def __init__(self, proxy: GuardProxy, server: asyncio.Server, tasks: set[asyncio.Task]):
        self._proxy = proxy
        self._server = server
        self._tasks = tasks
        self.port: int = server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._proxy.call(self._close())

    async def _close(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class GuardProxy:
    """The proxy's loop on a daemon thread, started on first use (one per process)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or not self._loop.is_running():
                loop = asyncio.new_event_loop()
                started = threading.Event()
                thread = threading.Thread(
                    target=self._serve, args=(loop, started), name="guard-proxy", daemon=True
                )
                thread.start()
                started.wait()
                self._loop = loop
            return self._loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        loop.run_forever()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the proxy's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._running_loop()).result(30)

    def open_listener(self, policy: Policy) -> Listener:
        """A new listener on 127.0.0.1 (ephemeral port) applying ``policy``."""
        return self.call(self._open(policy))

    async def _open(self, policy: Policy) -> Listener:
        tasks: set[asyncio.Task] = set()

        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await _serve_client(policy, reader, writer)
            except (*_ENDED, asyncio.CancelledError):
                pass  # cancelled when the session ends: asyncio would log a cancelled task
            except Exception:  # one broken exchange must not take the proxy down
                logger.exception("guard proxy: unexpected error")
            finally:
                tasks.discard(task)
                writer.close()

        server = await asyncio.start_server(accepted, "127.0.0.1", 0, limit=MAX_HEAD_BYTES)
        return Listener(self, server, tasks)


# --- one client connection --------------------------------------------------------------


async def _serve_client(
    policy: Policy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Serve one connection from the browser: one CONNECT tunnel or one forwarded request."""
    async with asyncio.timeout(HEAD_TIMEOUT_S):
        head = await reader.readuntil(b"\r\n\r\n")
    request_line, _, header_block = head.partition(b"\r\n")
    parts = request_line.split(b" ")
    if len(parts) != 3:
        return
    method, target, version = parts
    if method == b"CONNECT":
        await _tunnel(policy, target.decode("latin-1"), reader, writer)
    else:
        await _forward(policy, (method, target, version), header_block, reader, writer)


async def _admit(
    policy: Policy, host: str, port: int, url: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    """An upstream connection the policy admits, or None (the refusal or failure reported).

    1. Refuse everything on the browser-wide default listener.
    2. Refuse a blocked host by name, before any lookup.
    3. Connect through the guard: each resolved address is judged before a socket exists.
    """
    if policy.deny_all:
        policy.on_refused(Refusal(url, host, port, REASON_POLICY))
        return None
    if host_blocked(host, policy.blocked_hosts):
        policy.on_refused(Refusal(url, host, port, REASON_BLOCKED_HOST))
        return None
    try:
        opened = await open_guarded(
            host, port, allowlist=policy.allowlist, timeout_s=policy.connect_timeout_s
        )
    except ConnectError as exc:
        if exc.failure == ConnectFailure.BLOCKED_BY_POLICY:
            policy.on_refused(Refusal(url, host, port, REASON_POLICY))
        else:
            policy.on_error(UpstreamError(host, port, exc.message, str(exc.failure)))
        return None
    return await asyncio.open_connection(sock=opened.sock, limit=MAX_HEAD_BYTES)


async def _tunnel(
    policy: Policy, authority: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        host, port = parse_host_port(authority)
    except ValueError:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        return
    upstream = await _admit(policy, host, port, shown_url("https", host, port))
    if upstream is None:
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        return
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await _pipe_both(reader, writer, *upstream, policy.download)


async def _forward(
    policy: Policy,
    request_line: tuple[bytes, bytes, bytes],
    header_block: bytes,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Forward one absolute-URI request (plain http, ws upgrades) and its reply."""
    method, target, version = request_line
    url = target.decode("latin-1")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "ws") or not parts.hostname:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        return
    try:
        port = parts.port or 80
    except ValueError:
        return
    host = parts.hostname
    upstream = await _admit(policy, host, port, url)
    if upstream is None:
        return  # closed unanswered: the page sees a failed request, not a made-up response
    up_reader, up_writer = upstream
    headers = _headers(header_block)
    upgrade = any(name.lower() == b"upgrade" for name, _ in headers)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [b" ".join((method, path.encode("latin-1"), version))]
    for name, value in headers:
        if name.lower() in _HOP_BY_HOP and not (upgrade and name.lower() == b"connection"):
            continue
        lines.append(name + b": " + value)
    if not upgrade:
        lines.append(b"Connection: close")
    up_writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
    if upgrade:
        await _pipe_both(reader, writer, up_reader, up_writer, policy.download)
        return
    length = _content_length(headers)
    try:
        results = await asyncio.gather(
            _copy_body(reader, up_writer, length),
            _relay_reply(up_reader, writer, policy.download),
            return_exceptions=True,
        )
    finally:
        up_writer.close()
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, _ENDED):
            raise result


def _headers(block: bytes) -> list[tuple[bytes, bytes]]:
    headers = []
    for line in block.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon and name.strip():
            headers.append((name.strip(), value.strip()))
    return headers


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The request body's length; None for a chunked body (copied until the client stops)."""
    for name, _value in headers:
        if name.lower() == b"transfer-encoding":
            return None
    for name, value in headers:
        if name.lower() == b"content-length" and value.isdigit():
            return int(value)
    return 0


async def _copy_body(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, length: int | None
) -> None:
    """Copy exactly the request's body upstream; bytes after it are never sent on."""
    if length is None:
        await _copy(reader, writer)
        return
    while length > 0:
        chunk = await reader.read(min(length, PIPE_CHUNK))
        if not chunk:
            return
        writer.write(chunk)
        await writer.drain()
        length -= len(chunk)


async def _relay_reply(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    download: DownloadBudget | None = None,
) -> None:
    """Copy the reply back with its head marked ``Connection: close`` (1xx heads as they come)."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, _, block = head.partition(b"\r\n")
        status = status_line.split(b" ", 2)[1:2]
        if status and status[0].startswith(b"1") and status[0] != b"101":
            writer.write(head)
            continue
        lines = [status_line]
        lines += [n + b": " + v for n, v in _headers(block) if n.lower() not in _HOP_BY_HOP]
        lines.append(b"Connection: close")
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
        break
    await _copy(reader, writer, download)
    writer.close()


async def _copy(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    download: DownloadBudget | None = None,
) -> None:
    """Copy until the reader ends; a download past its session's budget is cut off."""
    while chunk := await reader.read(PIPE_CHUNK):
        if download is not None and not download.take(len(chunk)):
            writer.close()
            return
        writer.write(chunk)
        await writer.drain()
    if writer.can_write_eof():
        with contextlib.suppress(OSError):
            writer.write_eof()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    download: DownloadBudget | None = None,
) -> None:
    """Copy both ways until both sides are done (a tunnel, an upgraded WebSocket); what
    comes down counts against the session's download budget."""
    try:
        await asyncio.gather(_copy(reader, up_writer), _copy(up_reader, writer, download))
    finally:
        up_writer.close()


_PROXY = GuardProxy()


def guard_proxy() -> GuardProxy:
    """The process's guard proxy."""
    return _PROXY
