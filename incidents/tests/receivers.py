"""Real local receivers for alert tests: a webhook server and an SMTP server on loopback,
and :func:`point_channel` to aim client A's channel at one.

The webhook answers each request from a plan (status codes, or "hold" to keep the request open
until released), then with 200; it records every request's path, headers and body. A 3xx
answer sends the client to its ``location``.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from incidents.models import Channel

HOLD = "hold"


def free_port() -> int:
    """A port nothing listens on right now (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def point_channel(world: Any, url: str, allowlist: str | None = None) -> Channel:
    """Client A's channel with this URL, stored as it is (like one saved before today's rules);
    with ``allowlist``, the agency's network allowlist is set to it first."""
    if allowlist is not None:
        world.agency.ssrf_allowlist = allowlist
        world.agency.save(update_fields=["ssrf_allowlist"])
    channel = Channel.objects.get(organization=world.agency, name="A hook")
    channel.url = url
    channel.save()
    return channel


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTP server on an IPv4 loopback address (``host``) recording requests and answering
    from a plan."""

    host: str = "127.0.0.1"
    # Where a 3xx answer sends the client (its Location header).
    location: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    plan: deque[int | str] = field(default_factory=deque)
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver._record(self.path, dict(self.headers.items()), body)
                self._answer(receiver._next_answer())

            def _answer(self, answer: int | str) -> None:
                if answer == HOLD:
                    receiver.arrived.set()
                    receiver.released.wait(30)
                    answer = 200
                try:
                    self.send_response(int(answer))
                    if 300 <= int(answer) < 400:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender was killed while we held its request

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def url(self, path: str = "/hook", scheme: str = "json") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"

    def answer(self, *answers: int | str) -> None:
        """Answer the next requests with these status codes (or HOLD), then with 200."""
        self.plan.extend(answers)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        return wait_until(lambda: len(self.requests) >= count, timeout)

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.requests.append(ReceivedRequest(path=path, headers=headers, body=body))

    def _next_answer(self) -> int | str:
        return self.plan.popleft() if self.plan else 200


class _MailHandler:
    def __init__(self, messages: list[EmailMessage]) -> None:
        self.messages = messages

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@dataclass
class SmtpReceiver:
    """A plain SMTP server (aiosmtpd) on 127.0.0.1 recording each message."""

    messages: list[EmailMessage] = field(default_factory=list)
    port: int = 0
    controller: Controller | None = None

    def start(self) -> SmtpReceiver:
        self.port = free_port()
        self.controller = Controller(
            _MailHandler(self.messages), hostname="127.0.0.1", port=self.port
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def url(self, to: str = "ops@example.com") -> str:
        # mailto:// (not mailtos://) is plain SMTP: Apprise's secure mode "insecure", no TLS.
        return f"mailto://alerts@127.0.0.1:{self.port}?to={to}&from=sitecare@example.com"

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        return wait_until(lambda: len(self.messages) >= count, timeout)


@dataclass
class TcpListener:
    """A bare TCP listener on a loopback address (``host``, IPv4 or IPv6): records what each
    connection sends, then hangs up."""

    host: str = "127.0.0.1"
    received: list[bytes] = field(default_factory=list)
    server: socket.socket | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> TcpListener:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.server = socket.create_server((self.host, 0), family=family)
        self.server.settimeout(0.05)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        assert self.server is not None
        while not self.stopped.is_set():
            try:
                conn, _address = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            with conn:
                conn.settimeout(2.0)
                try:
                    self.received.append(conn.recv(4096))
                except OSError:
                    self.received.append(b"")

    def stop(self) -> None:
        self.stopped.set()
        if self.server is not None:
            self.server.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.getsockname()[1])

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        return wait_until(lambda: len(self.received) >= count, timeout)


@dataclass
class UdpListener:
    """A UDP socket on an IPv4 loopback address (``host``) recording every datagram (a remote
    syslog stand-in)."""

    host: str = "127.0.0.1"
    datagrams: list[bytes] = field(default_factory=list)
    sock: socket.socket | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> UdpListener:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.host, 0))
        self.sock.settimeout(0.05)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        assert self.sock is not None
        while not self.stopped.is_set():
            try:
                data, _address = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            self.datagrams.append(data)

    def stop(self) -> None:
        self.stopped.set()
        if self.sock is not None:
            self.sock.close()

    @property
    def port(self) -> int:
        assert self.sock is not None
        return int(self.sock.getsockname()[1])

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        return wait_until(lambda: len(self.datagrams) >= count, timeout)
