"""An alert delivery, by "send test" or by the alert sender, reaches no address the agency's
network policy refuses: loopback however it is written or named (``127.0.0.1``, ``[::1]``,
IPv4-mapped IPv6, ``localhost``, the names of /etc/hosts), private addresses, and any of them
behind a redirect from a receiver the agency admits.

A tripwire under the guard (:mod:`incidents.tests.tripwire`) records what reaches a socket
and keeps everything on loopback: a refused private address is refused before any connect.
Each refused loopback target has a listener behind it that the same delivery reaches once
the agency admits loopback, so "nothing arrived" is the guard's doing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from incidents import sender
from incidents.channels import send_test
from incidents.models import Channel, EventKind, Notification, NotificationState
from incidents.tests.receivers import TcpListener, UdpListener, WebhookReceiver, point_channel
from incidents.tests.tripwire import SocketLog, install_delivery_tripwire, loopback_names
from monitoring.tests.loopback import needs_ipv6

ADMIT_LOOPBACK = "127.0.0.0/8\n::1/128"
PATHS = ["send test", "sender"]
# A port for targets nothing here can listen on: nothing ever connects to it.
UNREACHED_PORT = 8080


def refused(address: str) -> str:
    return f"Address {address} is not allowed by the network policy."


def refused_name(name: str) -> str:
    return f"The address of {name} is not allowed by the network policy."


@dataclass(frozen=True)
class Target:
    """An address a tenant may name: ``host`` as written in a URL, the ``error`` a delivery
    to it reports, and the loopback address behind it (``listen``, where a listener shows
    what arrives; empty for a private address nothing here can take)."""

    host: str
    error: str
    listen: str = ""


def _param(target: Target, *more: object) -> Any:
    """A test parameter named after the target (skipped without IPv6 loopback where needed)."""
    marks = [needs_ipv6] if ":" in target.listen else []
    return pytest.param(target, *more, id="-".join(map(str, (target.host, *more))), marks=marks)


LOOPBACK = [
    Target("127.0.0.1", refused("127.0.0.1"), "127.0.0.1"),
    Target("localhost", refused_name("localhost"), "127.0.0.1"),
    Target("[::1]", refused("::1"), "::1"),
    # IPv4-mapped IPv6 (Apprise reads it in hex; the socket layer writes it dotted).
    Target("[::ffff:7f00:1]", refused("::ffff:127.0.0.1"), "127.0.0.1"),
    *(Target(name, refused_name(name), address) for name, address in loopback_names()[:3]),
]
PRIVATE = [
    Target("10.11.12.13", refused("10.11.12.13")),
    Target("192.168.1.20", refused("192.168.1.20")),
]
# One URL for each way a delivery leaves: HTTP, SMTP, a TCP stream (IRC) and UDP (syslog).
TRANSPORTS = {
    "http": "json://{host}:{port}/hook",
    "smtp": "mailto://alerts@{host}:{port}?to=ops@example.com&from=sitecare@example.com",
    "tcp": "irc://sitecare@{host}:{port}/#alerts",
    "udp": "rsyslog://{host}:{port}",
}


@pytest.fixture(autouse=True)
def _short_sends(settings) -> None:
    settings.SITECARE_ALERT_SEND_TIMEOUT = 2.0


@pytest.fixture
def tripwire(monkeypatch) -> SocketLog:
    return install_delivery_tripwire(monkeypatch)


@pytest.fixture
def listener(target: Target) -> Iterator[TcpListener | None]:
    """A listener at the target's loopback address; None for a private target."""
    if not target.listen:
        yield None
        return
    found = TcpListener(host=target.listen).start()
    yield found
    found.stop()


def deliver_by(path: str, channel: Channel) -> tuple[bool, str]:
    """One message to the channel, by "send test" or by the alert sender from the outbox;
    (delivered, error)."""
    if path == "send test":
        outcome = send_test(channel, by="engineer")
        return outcome.delivered, outcome.error
    now = timezone.now()
    notification = Notification.objects.create(
        channel=channel,
        event=EventKind.OPENED,
        dedup_key=f"ssrf-{secrets.token_hex(8)}",
        title="Home is down",
        body="HTTP 503",
        created_at=now,
        next_attempt_at=now,
    )
    assert sender.handle_one_notification()
    notification.refresh_from_db()
    return notification.state == NotificationState.DELIVERED, notification.last_error


def reached_port(tripwire: SocketLog, port: int) -> list[tuple[str, int]]:
    return [hop for hop in tripwire.reached if hop[1] == port]


def listening(transport: str, address: str) -> TcpListener | UdpListener:
    """A listener for this transport at a loopback address, started."""
    if transport == "udp":
        return UdpListener(host=address).start()
    return TcpListener(host=address).start()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("target", "transport"),
    [
        *(_param(target, "http") for target in LOOPBACK),
        # Apprise's remote syslog sends over IPv4 only: the targets written in IPv4 or named.
        *(_param(target, "udp") for target in LOOPBACK if not target.host.startswith("[")),
    ],
)
def test_it_refuses_loopback_however_it_is_written_or_named(
    world, tripwire, path, target, transport
):
    listener = listening(transport, target.listen)
    try:
        url = TRANSPORTS[transport].format(host=target.host, port=listener.port)
        channel = point_channel(world, url, allowlist="")
        assert deliver_by(path, channel) == (False, target.error)
        assert reached_port(tripwire, listener.port) == []
        assert not listener.wait_for(1, timeout=0.3)
        # Admitted, the same delivery gets there: what stopped it above was the guard.
        deliver_by(path, point_channel(world, url, allowlist=ADMIT_LOOPBACK))
        assert listener.wait_for(1)
    finally:
        listener.stop()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("target", [_param(target) for target in PRIVATE])
def test_it_refuses_a_private_address_before_any_connect(world, tripwire, path, transport, target):
    # The agency admits loopback (its own receivers), which admits nothing private.
    url = TRANSPORTS[transport].format(host=target.host, port=UNREACHED_PORT)
    channel = point_channel(world, url, allowlist=ADMIT_LOOPBACK)
    assert deliver_by(path, channel) == (False, target.error)
    assert tripwire.reached == []


@pytest.fixture
def redirecting() -> Iterator[WebhookReceiver]:
    """A webhook on 127.0.0.2, the one address the agency admits in these tests."""
    receiver = WebhookReceiver(host="127.0.0.2").start()
    yield receiver
    receiver.stop()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("target", [_param(target) for target in (*LOOPBACK, *PRIVATE)])
def test_it_refuses_a_redirect_from_an_admitted_receiver_to_a_refused_address(
    world, tripwire, listener, redirecting, path, target
):
    port = listener.port if listener else UNREACHED_PORT
    redirecting.location = f"http://{target.host}:{port}/landing"
    redirecting.answer(307)
    channel = point_channel(world, redirecting.url("/hook"), allowlist="127.0.0.2/32")
    assert deliver_by(path, channel) == (False, target.error)
    assert [r.path for r in redirecting.requests] == ["/hook"]  # the admitted hop was made
    assert tripwire.reached == [("127.0.0.2", redirecting.port)]
    if listener is None:
        return
    assert listener.received == []
    # Admitted too, the redirect is followed: the refusal above was the guard's.
    channel = point_channel(world, channel.url, allowlist=f"127.0.0.2/32\n{ADMIT_LOOPBACK}")
    redirecting.answer(307)
    deliver_by(path, channel)
    assert listener.wait_for(1)


@pytest.mark.parametrize("status", [301, 302, 303, 308])
def test_it_refuses_a_redirect_to_loopback_whatever_its_status(
    world, tripwire, redirecting, status
):
    target = TcpListener().start()
    try:
        redirecting.location = f"http://127.0.0.1:{target.port}/landing"
        redirecting.answer(status)
        channel = point_channel(world, redirecting.url("/hook"), allowlist="127.0.0.2/32")
        assert deliver_by("sender", channel) == (False, refused("127.0.0.1"))
        assert reached_port(tripwire, target.port) == []
        assert not target.wait_for(1, timeout=0.3)
    finally:
        target.stop()
