"""The delivery guard checks every connect and send a delivering thread makes on a socket,
whatever library makes it, against the agency's network policy; other threads pass."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import tempfile
import threading

import pytest

from incidents.delivery_guard import PolicyRefusal, network_policy
from incidents.tests.receivers import TcpListener, UdpListener, wait_until
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
