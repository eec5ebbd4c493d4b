"""Hostile servers for the hostile-target test: they misbehave by path on one loopback address."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from monitoring.tests.pki import Pki
from monitoring.tests.test_tls_check import tls_server

HOST = "127.0.0.2"
TWO_GB = 2 * 1024**3
TRICKLE_LENGTH = 100_000  # declared, and under the body cap: only the pace is hostile
ZEROS = bytes(65_536)


def head(status: str, *fields: str) -> bytes:
    """A response head: status line, header fields, blank line."""
    return "".join([f"HTTP/1.1 {status}\r\n", *(f"{f}\r\n" for f in fields), "\r\n"]).encode()


Route = Callable[[asyncio.StreamWriter], Awaitable[None]]


@dataclass
class HostileServers:
    """Hostile targets on ``HOST``, served from a thread with its own event loop."""

    pki: Pki
    loopback_port: int  # a real listener on 127.0.0.1 that a redirect points to
    http_port: int = 0
    stall_port: int = 0
    tls_ports: dict[str, int] = field(default_factory=dict)
    sent: Counter[str] = field(default_factory=Counter)  # body bytes handed to the socket
    _ready: threading.Event = field(default_factory=threading.Event)
    _loop: asyncio.AbstractEventLoop | None = None
    _stopping: asyncio.Event | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _error: BaseException | None = None

    def __enter__(self) -> HostileServers:
        self._thread = threading.Thread(target=self._main, name="hostile-servers", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None or not self.http_port:
            raise RuntimeError("the hostile servers did not start") from self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.http_port}{path}"

    def _main(self) -> None:
        try:
            with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
                runner.run(self._serve_all())
        except BaseException as exc:  # reported to the test thread by __enter__
            self._error = exc
            self._ready.set()

    async def _serve_all(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        contexts = {
            "expired": self.pki.server_context((HOST,), days_left=-3),
            "self-signed": self.pki.server_context((HOST,), self_signed=True),
            "wrong-host": self.pki.server_context(("shop.example",)),
        }
        async with contextlib.AsyncExitStack() as stack:
            http = await asyncio.start_server(self._answer, HOST, 0)
            stall = await asyncio.start_server(self._hold, HOST, 0)
            for server in (http, stall):
                stack.push_async_callback(server.wait_closed)
                stack.callback(server.close)
            for name, context in contexts.items():
                self.tls_ports[name] = await stack.enter_async_context(tls_server(context, HOST))
            self.http_port = http.sockets[0].getsockname()[1]
            self.stall_port = stall.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stopping.wait()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _hold(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Accept, then say nothing: not one byte of a TLS handshake (or of HTTP)."""
        await self._tracked(writer, self._wait_for_stop(writer))

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def respond() -> None:
            request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ", 2)[1].decode("latin-1").partition("?")[0]
            await self._routes().get(path, self._not_found)(writer)

        await self._tracked(writer, respond())

    async def _tracked(self, writer: asyncio.StreamWriter, work: Awaitable[None]) -> None:
        """Run one connection's work; a client hanging up is the normal end of it."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await work
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, IndexError):
            pass
        except asyncio.CancelledError:
            pass  # stopped at shutdown; a handler task left cancelled would be logged as an error
        finally:
            self._tasks.discard(task)
            writer.close()

    def _routes(self) -> dict[str, Route]:
        return {
            "/ok": self._ok,
            "/silent": self._wait_for_stop,
            "/trickle": self._trickle,
            "/reset": self._reset,
            "/endless": self._endless,
            "/huge": self._huge,
            "/huge-undeclared": self._huge_undeclared,
            "/loop": lambda w: self._redirect(w, "/loop"),
            "/to-private": lambda w: self._redirect(w, "http://10.0.0.1/"),
            "/to-loopback": lambda w: self._redirect(w, f"http://127.0.0.1:{self.loopback_port}/"),
        }

    async def _ok(self, writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", "Content-Length: 2", "Connection: close") + b"ok")
        await writer.drain()
        writer.close()

    async def _not_found(self, writer: asyncio.StreamWriter) -> None:
        writer.write(head("404 Not Found", "Content-Length: 0", "Connection: close"))
        await writer.drain()
        writer.close()

    async def _wait_for_stop(self, writer: asyncio.StreamWriter) -> None:
        assert self._stopping is not None
        await self._stopping.wait()
        writer.close()

    async def _trickle(self, writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", f"Content-Length: {TRICKLE_LENGTH}"))
        for _ in range(TRICKLE_LENGTH):
            writer.write(b".")
            self.sent["/trickle"] += 1
            await writer.drain()
            await asyncio.sleep(1.0)

    async def _reset(self, writer: asyncio.StreamWriter) -> None:
        """Headers and part of the body, then a TCP reset (SO_LINGER 0, then close)."""
        writer.write(head("200 OK", "Content-Length: 100000") + ZEROS[:1000])
        self.sent["/reset"] += 1000
        await writer.drain()
        await asyncio.sleep(0.3)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def _endless(self, writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", "Transfer-Encoding: chunked"))
        chunk = f"{len(ZEROS):x}\r\n".encode() + ZEROS + b"\r\n"
        while True:
            await self._send(writer, "/endless", chunk, len(ZEROS))

    async def _huge(self, writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", f"Content-Length: {TWO_GB}"))
        await self._zeros(writer, "/huge")

    async def _huge_undeclared(self, writer: asyncio.StreamWriter) -> None:
        """2 GB without a Content-Length: the body ends when the connection does."""
        writer.write(head("200 OK", "Connection: close"))
        await self._zeros(writer, "/huge-undeclared")

    async def _zeros(self, writer: asyncio.StreamWriter, path: str) -> None:
        while self.sent[path] < TWO_GB:
            await self._send(writer, path, ZEROS, len(ZEROS))
        writer.close()

    async def _send(self, writer: asyncio.StreamWriter, path: str, data: bytes, body: int) -> None:
        writer.write(data)
        self.sent[path] += body
        await writer.drain()

    async def _redirect(self, writer: asyncio.StreamWriter, location: str) -> None:
        fields = (f"Location: {location}", "Content-Length: 0", "Connection: close")
        writer.write(head("302 Found", *fields))
        await writer.drain()
        writer.close()


# --- the cases ----------------------------------------------------------------------------------
