"""Fixture sites for the browser runner's tests: pages on loopback.

``PageServer`` serves fixed routes (body, content type, status, extra headers) from one
loopback address. The listeners that count what reaches them (TCP connections, UDP
datagrams) are :mod:`monitoring.tests.loopback`'s ``CountingListener`` and ``UdpCounter``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # Writes the body itself (large or slow bodies); called with the handler's wfile.
    stream: Callable[[Any], None] | None = None
    length: int | None = None


class _Handler(BaseHTTPRequestHandler):
    server: PageServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.server.hits.append(path)
        route = self.server.routes.get(path)
        if route is None:
            route = Route(b"not here", "text/plain", 404)
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        length = route.length if route.stream is not None else len(route.body)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            if route.stream is not None:
                route.stream(self.wfile)
            else:
                self.wfile.write(route.body)
        except OSError:
            pass
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class PageServer(ThreadingHTTPServer):
    """Fixed routes on one loopback address, in a background thread."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", routes: dict[str, Route] | None = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _Handler)
        self.host = host
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
