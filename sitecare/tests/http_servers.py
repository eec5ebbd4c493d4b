"""A raw HTTP/1.1 server on loopback for the outbound client's tests.

Each request is answered with exact bytes chosen by its path, so malformed, unusual and
hostile responses are easy to script; the server records what the client did on its side
(connections opened, requests per connection, connections the client hung up).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field


def response(status: str, *fields: str, body: bytes = b"") -> bytes:
    """A response's bytes: status line, header fields, blank line, body."""
    head = "".join([f"HTTP/1.1 {status}\r\n", *(f"{f}\r\n" for f in fields), "\r\n"])
    return head.encode("latin-1") + body


@dataclass
class Route:
    """How the server answers a path.

    ``reply`` is written at once, or piece by piece (a list) with a short pause between;
    ``close`` hangs up after it; ``hang`` never answers (and notices the client leaving);
    ``drop_when_reused`` hangs up without answering a request that is not the first on its
    connection (a keep-alive timeout that hits just as the client reuses the connection).
    """

    reply: bytes | list[bytes] = b""
    close: bool = False
    hang: bool = False
    drop_when_reused: bool = False


@dataclass
class Seen:
    """One request as the server read it."""

    connection: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    raw_head: bytes


@dataclass
class ScriptedServer:
    """Serves ``routes`` on 127.0.0.1 (``async with``); unknown paths get a 404."""

    routes: dict[str, Route]
    connections: int = 0
    open_now: int = 0
    max_open: int = 0
    hung_up_by_client: int = 0
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        for writer in self._writers:
            writer.close()
        self._server.close()
        await self._server.wait_closed()
        with contextlib.suppress(TimeoutError):
            await self.wait_for(lambda: self.open_now == 0, 1.0)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def wait_for(self, condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
        """Wait until ``condition()`` holds (the server's side catches up)."""
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.01)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number, on_this_connection = self.connections, 0
        self.open_now += 1
        self.max_open = max(self.max_open, self.open_now)
        self._writers.append(writer)
        try:
            while True:
                seen = await self._read_request(reader, number)
                self.requests.append(seen)
                on_this_connection += 1
                route = self.routes.get(seen.path.partition("?")[0]) or Route(
                    response("404 Not Found", "Content-Length: 0")
                )
                if route.drop_when_reused and on_this_connection > 1:
                    break
                if route.hang:
                    await reader.read(1)  # returns when the client hangs up
                    self.hung_up_by_client += 1
                    break
                await self._write(writer, route.reply)
                if route.close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            self.hung_up_by_client += 1
        except asyncio.CancelledError:
            pass  # the test's loop is shutting down; a cancelled handler would be logged
        finally:
            self.open_now -= 1
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _read_request(self, reader: asyncio.StreamReader, number: int) -> Seen:
        raw_head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = raw_head.decode("latin-1").split("\r\n")
        method, path, _version = request_line.split(" ", 2)
        headers = {}
        for line in lines:
            if line:
                name, _colon, value = line.partition(":")
                headers[name] = value.strip()
        length = next((int(v) for k, v in headers.items() if k.lower() == "content-length"), 0)
        body = await reader.readexactly(length) if length else b""
        return Seen(number, method, path, headers, body, raw_head)

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, reply: bytes | list[bytes]) -> None:
        pieces = reply if isinstance(reply, list) else [reply]
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(0.02)
            writer.write(piece)
            await writer.drain()
