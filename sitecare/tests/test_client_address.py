"""The client's address: the peer unless it is a trusted proxy; X-Forwarded-For only from one."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory

from sitecare.lib.client_address import client_address
from sitecare.tests.processes import fresh_env, run_python

LOCAL_PROXY = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))
TWO_PROXIES = (*LOCAL_PROXY, ipaddress.ip_network("10.0.0.0/8"))


def address(peer: str, forwarded: str | None = None, proxies=LOCAL_PROXY) -> str:
    extra: dict[str, Any] = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra), proxies)


def test_it_believes_no_forwarded_header_when_no_proxy_is_trusted(settings):
    settings.SITECARE_TRUSTED_PROXIES = ()
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.9")
    assert client_address(request) == "127.0.0.1"


def trusted_proxies(tmp_path: Path, value: str | None) -> str:
    """``SITECARE_TRUSTED_PROXIES`` as a fresh process reads it (unset when ``value`` is None)."""
    env = fresh_env(tmp_path / "var", SITECARE_TRUSTED_PROXIES=value)
    read = "import sitecare.settings as s; print(','.join(map(str, s.SITECARE_TRUSTED_PROXIES)))"
    return run_python("-c", read, env=env, timeout=60).stdout.strip()


def test_it_trusts_the_local_reverse_proxy_unless_told_otherwise(tmp_path, settings):
    # The documented set-up is a reverse proxy on this machine, and the server listens on
    # loopback: a loopback peer is that proxy (no visitor from elsewhere can appear as one).
    assert trusted_proxies(tmp_path, None) == "127.0.0.0/8,::1/128"
    assert trusted_proxies(tmp_path, "") == ""
    assert trusted_proxies(tmp_path, "10.0.0.5") == "10.0.0.5/32"
    settings.SITECARE_TRUSTED_PROXIES = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1"),
    )
    assert (
        client_address(
            RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.9")
        )
        == "192.0.2.9"
    )
    # Anyone else's header is still theirs to make up.
    assert (
        client_address(
            RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="192.0.2.9")
        )
        == "198.51.100.7"
    )


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        # A peer that is no proxy of ours: its header is whatever it wants to say.
        ("198.51.100.7", "192.0.2.1", LOCAL_PROXY, "198.51.100.7"),
        # Our proxy appended the visitor; the entries the visitor sent are not believed.
        ("127.0.0.1", "192.0.2.1, 203.0.113.9", LOCAL_PROXY, "203.0.113.9"),
        ("::1", "2001:db8::5", LOCAL_PROXY, "2001:db8::5"),
        # Two proxies of ours: the first hop that is not ours is the client.
        ("127.0.0.1", "203.0.113.9, 10.1.2.3", TWO_PROXIES, "203.0.113.9"),
        # A forged trusted-looking entry left of the real one changes nothing.
        ("127.0.0.1", "127.0.0.1, 203.0.113.9", LOCAL_PROXY, "203.0.113.9"),
        # Our proxy without a header (a health check): the proxy itself.
        ("127.0.0.1", None, LOCAL_PROXY, "127.0.0.1"),
        # A malformed hop ends the walk at the last trusted address.
        ("127.0.0.1", "203.0.113.9, unknown", LOCAL_PROXY, "127.0.0.1"),
        # A dual-stack socket's IPv4-mapped peer is the IPv4 address.
        ("::ffff:198.51.100.7", None, LOCAL_PROXY, "198.51.100.7"),
        ("", None, LOCAL_PROXY, "unknown"),
    ],
)
def test_it_finds_the_client_behind_trusted_proxies(peer, forwarded, proxies, expected):
    assert address(peer, forwarded, proxies) == expected
