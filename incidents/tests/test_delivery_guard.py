"""The delivery guard checks every connect and send a delivering thread makes on a socket,
whatever library makes it, against the agency's network policy, in the threads Apprise sends
from too; code outside a policy block passes."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket
import tempfile
import threading

import apprise
import pytest

from incidents.channel_url import judge, read_channel_url
from incidents.delivery_guard import PolicyRefusal, network_policy
from incidents.models import Notification
from incidents.sender import deliver, delivery_arguments
from incidents.tests.receivers import (
    TcpListener,
    UdpListener,
    WebhookReceiver,
    point_channel,
    wait_until,
)
from sitecare.lib.netpolicy import IPNetwork

NOTHING: list[IPNetwork] = []
LOOPBACK: list[IPNetwork] = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]


@pytest.fixture
def tcp():
    listener = TcpListener().start()
    yield listener
    listener.stop()


@pytest.fixture
def udp():
    listener = UdpListener().start()
    yield listener
    listener.stop()


def test_it_refuses_a_tcp_connection_to_loopback_in_this_thread_only(tcp):
    def other_thread() -> None:
        socket.create_connection(("127.0.0.1", tcp.port), timeout=2).close()

    with network_policy(NOTHING) as refused:
        with pytest.raises(PolicyRefusal):
            socket.create_connection(("127.0.0.1", tcp.port), timeout=2)
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", tcp.port)) == errno.EACCES
        assert not tcp.wait_for(1, timeout=0.3)
        # Other threads (the web server's, the engine's) are not held to it.
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert tcp.wait_for(1)
    assert refused.address == "127.0.0.1"
    assert "not allowed by the network policy" in refused.message
    socket.create_connection(("127.0.0.1", tcp.port), timeout=2).close()  # after: unguarded
    assert wait_until(lambda: len(tcp.received) == 2)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "0x7f.1"])
def test_it_refuses_a_datagram_to_loopback_however_the_host_is_written(udp, host):
    with network_policy(NOTHING) as refused, socket.socket(type=socket.SOCK_DGRAM) as sock:
        with pytest.raises(PolicyRefusal):
            sock.sendto(b"tenant text", (host, udp.port))
        with pytest.raises(PolicyRefusal):
            sock.sendto(b"tenant text", 0, (host, udp.port))
        with pytest.raises(PolicyRefusal):
            sock.sendmsg([b"tenant text"], [], 0, (host, udp.port))
        with pytest.raises(PolicyRefusal):
            sock.connect((host, udp.port))
    assert refused.address == "127.0.0.1"
    assert not udp.wait_for(1, timeout=0.3)
    with network_policy(LOOPBACK) as refused, socket.socket(type=socket.SOCK_DGRAM) as sock:
        sock.sendto(b"admitted", (host, udp.port))
    assert refused.address is None
    assert udp.wait_for(1)
    assert udp.datagrams == [b"admitted"]


def test_it_refuses_unix_sockets_such_as_the_local_syslog():
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "log")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
            server.bind(path)
            server.settimeout(0.3)
            with network_policy(NOTHING), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                with pytest.raises(PolicyRefusal):
                    s.sendto(b"tenant text", path)
                with pytest.raises(PolicyRefusal):
                    s.connect(path)
            with pytest.raises(TimeoutError):
                server.recv(100)


def test_it_names_a_refused_host_name_but_logs_its_address(tcp, caplog):
    # create_connection resolves first and connects to the address: the name is still known.
    with network_policy(NOTHING) as refused, pytest.raises(PolicyRefusal) as raised:
        socket.create_connection(("localhost", tcp.port), timeout=2)
    expected = "The address of localhost is not allowed by the network policy."
    assert str(raised.value.strerror) == expected
    assert refused.message == expected
    assert refused.address in ("127.0.0.1", "::1")
    # The address, which the tenant must not learn, is in the server's log.
    assert any(refused.address in r.getMessage() for r in caplog.records)
    assert not tcp.wait_for(1, timeout=0.3)


@pytest.fixture
def hook(settings):
    settings.SITECARE_ALERT_SEND_TIMEOUT = 2.0
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def test_it_holds_the_threads_apprise_sends_from_to_the_policy(hook):
    """Apprise runs ``send()`` on its own executor for async_notify and for several services
    at once, in a copy of the caller's context: the policy goes with it."""
    with network_policy(NOTHING) as refused:
        target = read_channel_url(hook.url("/async"))
        service = judge(target, delivery_arguments(target, "k1"))
        assert service is not None
        assert asyncio.run(service.async_notify(body="async")) is False
        several = apprise.Apprise()
        several.add(hook.url("/one"))
        several.add(hook.url("/two"))
        assert not several.notify(body="pooled")
    assert refused.address == "127.0.0.1"
    assert not hook.wait_for(1, timeout=0.5)
    assert hook.requests == []


def test_it_sends_each_alert_synchronously_in_the_delivering_thread(world, hook, monkeypatch):
    """deliver() uses notify(), which sends where the policy is set; async_notify would hand
    the send to another thread (held to the policy too, but nothing needs it)."""

    async def refused_path(*args: object, **kwargs: object) -> bool:
        raise AssertionError("deliver() must not use async_notify")

    monkeypatch.setattr(apprise.NotifyBase, "async_notify", refused_path)
    monkeypatch.setattr(apprise.Apprise, "async_notify", refused_path)
    channel = point_channel(world, hook.url("/sync"), allowlist="127.0.0.0/8")
    outcome = deliver(Notification(channel=channel, dedup_key="sync-1", title="t", body="b"))
    assert outcome.delivered, outcome.error
    assert [r.path for r in hook.requests] == ["/sync"]
