"""Test helpers that keep every byte on loopback: a network tripwire and local servers.

``install_tripwire`` (the ``netlog`` fixture) records every outbound connect at the lowest
layer asyncio has (``BaseSelectorEventLoop._sock_connect``, just before ``socket.connect``) and
every name lookup, and refuses any that would leave loopback, so even a broken guard sends
nothing outside.
``arun`` runs a coroutine on asyncio's selector loop (the one the tripwire instruments).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, TypeVar

import pytest
from aiohttp import web

import sitecare.lib.http as outbound_module
from monitoring.tests.pki import Pki

T = TypeVar("T")

LOCAL_NAMES = {"localhost"}


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback here")


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@dataclass
class NetLog:
    """What the code under test did on the network, in order."""

    events: list[tuple[str, str]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)

    def connects(self) -> list[str]:
        return [addr for kind, addr in self.events if kind == "connect"]

    def outside(self) -> list[str]:
        return [addr for addr in self.connects() if not is_loopback(addr)]


def install_tripwire(monkeypatch: pytest.MonkeyPatch) -> NetLog:
    """Record (and confine to loopback) every connect, guard decision and name lookup."""
    log = NetLog()
    selector_loop: Any = asyncio.selector_events.BaseSelectorEventLoop
    real_connect = selector_loop._sock_connect
    real_getaddrinfo = socket.getaddrinfo
    real_admits = outbound_module.ConnectGuard.admits

    def tripwire_connect(self, fut, sock, address):
        log.events.append(("connect", str(address[0])))
        if not is_loopback(str(address[0])):
            fut.set_exception(OSError(101, "tripwire: non-loopback connect refused by the test"))
            return None
        return real_connect(self, fut, sock, address)

    def tripwire_getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        log.lookups.append(name)
        try:
            # Numeric forms (also legacy ones like 0x7f.0.0.1) are parsed locally, never queried.
            literal = is_loopback(socket.inet_ntoa(socket.inet_aton(name)))
        except OSError:
            try:
                literal = is_loopback(name)
            except ValueError:
                literal = False
        if name not in LOCAL_NAMES and not literal:
            raise socket.gaierror(socket.EAI_NONAME, "tripwire: only localhost is resolved")
        return real_getaddrinfo(host, *args, **kwargs)

    def recording_admits(self, address):
        allowed = real_admits(self, address)
        log.events.append(("allow" if allowed else "refuse", address))
        return allowed

    monkeypatch.setattr(selector_loop, "_sock_connect", tripwire_connect)
    monkeypatch.setattr(socket, "getaddrinfo", tripwire_getaddrinfo)
    monkeypatch.setattr(outbound_module.ConnectGuard, "admits", recording_admits)
    return log


def arun(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh selector event loop (the loop the tripwire watches)."""
    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        return runner.run(coro)


# --- servers ------------------------------------------------------------------------------


class _SocketCounter:
    """A socket on loopback read by a thread of its own until the block ends; subclasses say
    what one read is (accept a connection, receive a datagram) and count it."""

    def __init__(self, host: str, kind: socket.SocketKind) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, kind)
        self.sock.bind((host, 0))
        if kind == socket.SOCK_STREAM:
            self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._take_one()
            except TimeoutError:
                continue
            except OSError:
                return

    def _take_one(self) -> None:
        raise NotImplementedError


class CountingListener(_SocketCounter):
    """A plain TCP server on loopback that counts accepted connections and answers 200."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host, socket.SOCK_STREAM)
        self.accepted = 0

    def _take_one(self) -> None:
        conn, _addr = self.sock.accept()
        self.accepted += 1
        with conn:
            conn.settimeout(1)
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            except OSError:
                pass


class UdpCounter(_SocketCounter):
    """A UDP socket on loopback counting the datagrams that reach it (a STUN server that
    never answers)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host, socket.SOCK_DGRAM)
        self.datagrams = 0

    def _take_one(self) -> None:
        self.sock.recv(65536)
        self.datagrams += 1


class ToggleHandler(BaseHTTPRequestHandler):
    server: ToggleServer

    def do_GET(self) -> None:
        self.server.record(self.path)
        status, body = (500, b"broken") if self.server.broken else (200, b"healthy")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ToggleServer(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that answers 200, or 500 once broken; counts hits per path."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ToggleHandler)
        self.broken = False
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})

    def record(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def __enter__(self) -> ToggleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=2)


@asynccontextmanager
async def web_server(
    app: web.Application, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None
):
    """Serve an aiohttp app on a free loopback port; yield its base URL."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if ssl_context else "http"
    shown = f"[{host}]" if ":" in host else host
    try:
        yield f"{scheme}://{shown}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def silent_server(host: str = "127.0.0.1"):
    """A server that accepts connections and never answers; yield its URL."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, host, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}/"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def raw_server(reply: bytes, host: str = "127.0.0.1"):
    """A server that answers every request with these exact bytes, then closes."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, host, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}/"
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def closing_server(host: str = "127.0.0.1"):
    """A server that closes every connection as soon as the request arrives."""

    async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.transport.abort()

    server = await asyncio.start_server(slam, host, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}/"
    finally:
        server.close()
        await server.wait_closed()


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1/localhost."""
    return Pki.create(directory).server_context(self_signed=True)
